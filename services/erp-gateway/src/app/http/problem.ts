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

/** A 4xx naming the fields at fault. */
export class InvalidInputException extends HttpException {
  constructor(errors: FieldProblem[], status = 400) {
    super(
      {
        type: 'about:blank',
        title:
          status === 422 ? 'Unprocessable Content' : status === 404 ? 'Not Found' : 'Bad Request',
        status,
        detail: errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
        errors,
      } satisfies Problem,
      status,
    );
  }
}
