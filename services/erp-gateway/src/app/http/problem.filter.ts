import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { PersistenceError, type PersistenceErrorCode } from '@pipac/persistence';
import type { Response } from 'express';
import { BODY_LIMIT_BYTES } from './json-body';
import { STATUS_TITLES as TITLES, type Problem } from './problem';

const STATUS: Record<PersistenceErrorCode, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  IDEMPOTENCY_MISMATCH: 422,
  INVALID_ARGUMENT: 400,
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
  const parser = bodyParserProblem(error);
  if (parser) return parser;
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

/**
 * Express's body parser fails with http-errors that carry a status and a `type` (body-parser's
 * README, "Errors"); Nest maps only its SyntaxError (to a 400), the rest would be a 500. Each known one
 * gets its status and a fixed sentence (the parser's own messages are not meant for callers).
 */
const BODY_PARSER_ERRORS: Record<string, { status: number; field: string; reason: string }> = {
  'entity.too.large': {
    status: 413,
    field: 'body',
    reason: `larger than the ${BODY_LIMIT_BYTES / 1024} kB the API takes`,
  },
  'charset.unsupported': {
    status: 415,
    field: 'Content-Type',
    reason: 'JSON must be UTF-8 (RFC 8259)',
  },
  'encoding.unsupported': {
    status: 415,
    field: 'Content-Encoding',
    reason: 'the body must not be compressed',
  },
  'request.size.invalid': {
    status: 400,
    field: 'Content-Length',
    reason: 'does not match the body received',
  },
  'entity.verify.failed': { status: 400, field: 'body', reason: 'was refused' },
};

function bodyParserProblem(error: unknown): Problem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = (error as { type?: unknown }).type;
  const known = typeof type === 'string' ? BODY_PARSER_ERRORS[type] : undefined;
  if (!known) return undefined;
  return {
    type: 'about:blank',
    title: TITLES[known.status] ?? 'Error',
    status: known.status,
    detail: `${known.field}: ${known.reason}`,
    errors: [{ field: known.field, reason: known.reason }],
  };
}

/** Nest's own exceptions carry `message` as a string or a list of strings. */
function nestMessage(body: object): string | undefined {
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}
