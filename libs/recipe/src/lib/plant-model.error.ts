export type PlantModelErrorCode =
  /** A step id the compiled plant lacks. */
  'UNKNOWN_STEP';

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
