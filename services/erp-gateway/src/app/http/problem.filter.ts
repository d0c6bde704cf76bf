import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { PersistenceError, type PersistenceErrorCode } from '@pipac/persistence';
import type { Response } from 'express';
import type { Problem } from './problem';

const STATUS: Record<PersistenceErrorCode, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  IDEMPOTENCY_MISMATCH: 422,
  INVALID_ARGUMENT: 400,
};

const TITLES: Record<number, string> = {
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

/**
 * Every error leaves as problem details. The domain's typed errors map to their 4xx here, at
 * the edge (STYLE: typed errors, mapped only at the edge); anything unexpected is a 500 whose
 * detail says nothing internal.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly log: (error: unknown) => void = () => undefined) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const problem = toProblem(error);
    if (problem.status >= 500) this.log(error);
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}

export function toProblem(error: unknown): Problem {
  if (error instanceof PersistenceError) {
    const status = STATUS[error.code];
    return {
      type: 'about:blank',
      title: TITLES[status] ?? 'Error',
      status,
      detail: error.message,
      ...(error.field ? { errors: [{ field: error.field, reason: error.message }] } : {}),
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    if (typeof body === 'object' && body !== null && 'detail' in body) return body as Problem;
    const message = typeof body === 'string' ? body : (nestMessage(body) ?? error.message);
    return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail: message };
  }
  return {
    type: 'about:blank',
    title: TITLES[500]!,
    status: 500,
    detail: 'internal error; see the gateway log',
  };
}

/** Nest's own exceptions carry `message` as a string or a list of strings. */
function nestMessage(body: object): string | undefined {
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}
