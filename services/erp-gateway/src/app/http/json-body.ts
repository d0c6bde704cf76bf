import type { NextFunction, Request, Response } from 'express';
import { oneLineTextProblem } from '@pipac/persistence';
import { InvalidInputException, type FieldProblem } from './problem';

/** The largest body the API takes: an order is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Deepest nesting a body may have; the deepest DTO (a setpoint request) has 1 level. */
export const BODY_MAX_DEPTH = 32;

/**
 * Keys that name JavaScript's prototype machinery. JSON.parse makes them own properties, and
 * class-transformer then drops them without a word, so they would pass as "no unknown field"
 * although unknown fields are documented as refused; they are never a field of any DTO.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** At most this many faults are listed: a 64 kB body could otherwise fill a page with them. */
const MAX_PROBLEMS = 20;

type Middleware = (request: Request, response: Response, next: NextFunction) => void;

/**
 * Before the JSON parser: a request with a body must say it is JSON in UTF-8 (RFC 8259 §8.1),
 * or it is refused with 415 naming the type it sent. Without this check a text, form or XML
 * body would be skipped by the parser and answer 400 listing every field as missing.
 */
export function jsonBodiesOnly(): Middleware {
  return (request, _response, next) => {
    if (!hasBody(request)) return next();
    const header = request.headers['content-type'] ?? '';
    const [mediaType = '', ...parameters] = header.split(';').map((p) => p.trim().toLowerCase());
    const charset = parameters
      .map((p) => /^charset\s*=\s*"?([^";]*)"?$/.exec(p)?.[1])
      .find((c) => c !== undefined);
    if (mediaType !== 'application/json') {
      return next(unsupported(`the body must be application/json, not ${mediaType || 'untyped'}`));
    }
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return next(unsupported(`JSON must be UTF-8 (RFC 8259), not charset ${charset}`));
    }
    next();
  };
}

/**
 * After the JSON parser: refuses a body nested deeper than BODY_MAX_DEPTH (30 KB of `[` used
 * to overflow the validator's stack, a 500), fields named like the prototype machinery, and
 * any string (value or key) that is not acceptable free text, each named by its path.
 */
export function jsonBodyShape(): Middleware {
  return (request, _response, next) => {
    const body: unknown = request.body;
    if (typeof body !== 'object' || body === null) return next();
    const problems: FieldProblem[] = [];
    inspect(body, '', 1, problems);
    next(
      problems.length > 0 ? new InvalidInputException(problems.slice(0, MAX_PROBLEMS)) : undefined,
    );
  };
}

// Recursion is bounded by BODY_MAX_DEPTH, so it cannot overflow the stack.
function inspect(value: unknown, path: string, depth: number, problems: FieldProblem[]): void {
  if (problems.length >= MAX_PROBLEMS) return;
  if (typeof value === 'string') {
    const reason = oneLineTextProblem(value);
    if (reason) problems.push({ field: path || 'body', reason });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > BODY_MAX_DEPTH) {
    problems.push({
      field: path || 'body',
      reason: `nested deeper than ${BODY_MAX_DEPTH} levels`,
    });
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key;
    if (PROTOTYPE_KEYS.has(key)) {
      problems.push({ field, reason: `property ${key} should not exist` });
      continue;
    }
    const keyProblem = oneLineTextProblem(key);
    if (keyProblem) {
      problems.push({ field, reason: `field name ${keyProblem}` });
      continue;
    }
    inspect(child, field, depth + 1, problems);
  }
}

/** RFC 9110 §6.4.1: a request has content when it has Content-Length > 0 or is chunked. */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

function unsupported(reason: string): InvalidInputException {
  return new InvalidInputException([{ field: 'Content-Type', reason }], 415);
}
