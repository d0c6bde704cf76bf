/** The dynamic twin cannot go on (a state that is no longer a finite number). Not retriable. */
export class SimulationError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: 'NOT_FINITE',
    message: string,
  ) {
    super(message);
    this.name = 'SimulationError';
  }
}
