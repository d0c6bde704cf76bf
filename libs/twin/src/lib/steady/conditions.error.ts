/** Operating conditions the twin cannot evaluate (not a number, unknown device). Not retriable. */
export class ConditionsError extends Error {
  readonly code = 'CONDITIONS_INVALID';
  readonly retriable = false;

  constructor(message: string) {
    super(message);
    this.name = 'ConditionsError';
  }
}
