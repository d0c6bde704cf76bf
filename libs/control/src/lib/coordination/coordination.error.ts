/**
 * The coordinator cannot decide: a plant it cannot balance (`UNSUPPORTED_PLANT`), or a
 * snapshot it cannot trust (`BAD_SNAPSHOT`: a step or tank missing, a level or scale that is
 * not a number), or a quantity it cannot book (`BAD_QUANTITY`: a volume, mass or mole figure
 * that is negative, NaN or infinite). Not retriable with the same input; the caller keeps the last targets.
 */
export class CoordinationError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: 'UNSUPPORTED_PLANT' | 'BAD_SNAPSHOT' | 'BAD_QUANTITY',
    message: string,
  ) {
    super(message);
    this.name = 'CoordinationError';
  }
}
