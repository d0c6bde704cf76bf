export type SimulationErrorCode =
  /** A state of the dynamic twin is no longer a finite number: the run cannot go on. */
  | 'NOT_FINITE'
  /** A plant option is out of range (a step size that is not positive). */
  | 'OPTIONS_INVALID'
  /** A scenario that does not exist, or a disturbance that names a step, feed, pump or analyser the plant lacks. */
  | 'SCENARIO_INVALID'
  /** A surge tank the plant lacks was asked for. */
  | 'UNKNOWN_TANK'
  /** An analyser was built for a step whose recipe has none. */
  | 'NO_ANALYSER';

/** The dynamic twin cannot start or go on. Not retriable: the input must change. */
export class SimulationError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: SimulationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SimulationError';
  }
}
