export type PersistenceErrorCode =
  'NOT_FOUND' | 'CONFLICT' | 'INVALID_TRANSITION' | 'IDEMPOTENCY_MISMATCH' | 'INVALID_ARGUMENT';

/** A refused database operation; the edge (REST, CLI) maps `code` to its own vocabulary. */
export class PersistenceError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: PersistenceErrorCode,
    message: string,
    /** The input field at fault, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PersistenceError';
  }
}
