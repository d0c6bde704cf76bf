import { HttpException } from '@nestjs/common';

/** One input at fault: the field's path (`quantity`, `Idempotency-Key`) and why. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * An error answer as RFC 9457 problem details (`application/problem+json`): status, title,
 * a detail sentence, and for bad input every field at fault with its reason.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
}

/** RFC 9110's reason phrases of the statuses the API answers. */
export const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A 4xx naming the fields at fault. */
export class InvalidInputException extends HttpException {
  constructor(errors: FieldProblem[], status = 400) {
    super(
      {
        type: 'about:blank',
        title: STATUS_TITLES[status] ?? 'Error',
        status,
        detail: errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
        errors,
      } satisfies Problem,
      status,
    );
  }
}
