/**
 * - `INVALID_SETTINGS`: a controller, shield or step space set up with values it cannot work
 *   with (a PID gain that is not finite, an empty output range, a limit outside its
 *   engineering range, a flow range that does not bracket the nominal point);
 * - `INVALID_INPUT`: a value handed to a controller at run time that it cannot use (a
 *   non-finite setpoint or measurement, dt ≤ 0, an action of the wrong length);
 * - `UNKNOWN_STEP`: the plant has no such step;
 * - `NO_ANALYSER`: the step's analyser does not report the conversion a loop closes on;
 * - `TUNING_FAILED`: the step test found no response to tune from (a numeric failure);
 * - `PLAN_FAILED`: the oracle's throughput plan has no solution (the LP solver's status).
 */
export type ControlErrorCode =
  | 'INVALID_SETTINGS'
  | 'INVALID_INPUT'
  | 'UNKNOWN_STEP'
  | 'NO_ANALYSER'
  | 'TUNING_FAILED'
  | 'PLAN_FAILED';

/**
 * A controller that cannot be built or cannot act on what it was given. Not retriable with
 * the same input: the settings, the recipe or the caller must change.
 */
export class ControlError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: ControlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlError';
  }
}
