export type PlantModelErrorCode =
  /** A step id the compiled plant lacks. */
  | 'UNKNOWN_STEP'
  /** A choice of a step (or an option of it) the recipe does not declare. */
  | 'UNKNOWN_CHOICE';

/** A compiled plant was asked for something it does not have. Not retriable: the input must change. */
export class PlantModelError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: PlantModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PlantModelError';
  }
}
