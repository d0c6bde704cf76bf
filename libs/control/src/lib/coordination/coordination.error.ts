/**
 * The coordinator cannot decide: a plant it cannot balance (`UNSUPPORTED_PLANT`), or a
 * snapshot it cannot trust (`BAD_SNAPSHOT`: a step or tank missing, a level or scale that is
 * not a number). Not retriable with the same input; the caller keeps the last targets.
 */
export class CoordinationError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: 'UNSUPPORTED_PLANT' | 'BAD_SNAPSHOT',
    message: string,
  ) {
    super(message);
    this.name = 'CoordinationError';
  }
}
