/** First-order-plus-dead-time lag from one setpoint to the reactor's response. */
export interface InputLag {
  /** s */
  timeConstant: number;
  /** s */
  deadTime: number;
}

/** Response at `t` seconds after a unit step of an input with this lag (0 before its dead time). */
export function lagResponse(lag: InputLag, t: number): number {
  const elapsed = t - lag.deadTime;
  return elapsed <= 0 ? 0 : 1 - Math.exp(-elapsed / Math.max(lag.timeConstant, 1e-9));
}

/** Lags kept in history for this many time constants past the dead time (e^-10 ≈ 5e-5 left). */
const SETTLED = 10;

/**
 * The setpoints applied over time, and the effective inputs they lead to: each setpoint through
 * its own first-order-plus-dead-time lag, the linear block of the Hammerstein model (the twin's
 * steady state at the effective inputs is the static block). The estimator asks for the inputs
 * in effect when a delayed sample was drawn; the controller asks for the free response, what the
 * inputs already applied will do over its horizon.
 */
export class InputHistory {
  private base: Float64Array;
  private readonly changes: { time: number; values: Float64Array }[] = [];
  /** s a change is kept: past it, it is fully in effect for any time still asked about. */
  private readonly retention: number;

  constructor(
    private readonly lags: readonly InputLag[],
    initial: ArrayLike<number>,
    /** s before now that callers may still ask about (the analyser's dead time and cadence). */
    lookBack = 0,
  ) {
    this.base = Float64Array.from(initial);
    this.retention =
      Math.max(...lags.map((lag) => lag.deadTime + SETTLED * lag.timeConstant)) + lookBack;
  }

  /** Starts over: `values` applied since long ago. */
  restart(values: ArrayLike<number>): void {
    this.base = Float64Array.from(values);
    this.changes.length = 0;
  }

  /** The setpoints applied from `time` on (times never decrease). */
  record(time: number, values: ArrayLike<number>): void {
    const last = this.applied();
    let changed = false;
    for (let i = 0; i < last.length; i++) changed ||= values[i] !== last[i];
    if (changed) this.changes.push({ time, values: Float64Array.from(values) });
    // Fold changes that are fully in effect into the base.
    while (this.changes.length > 0 && this.changes[0]!.time < time - this.retention) {
      this.base = this.changes.shift()!.values;
    }
  }

  /** The setpoints applied last. */
  applied(): Float64Array {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1]!.values : this.base;
  }

  /** The effective inputs at `time` (later than the last change: the free response). */
  effective(time: number, into = new Float64Array(this.base.length)): Float64Array {
    for (let i = 0; i < this.base.length; i++) {
      let value = this.base[i]!;
      let previous = value;
      for (const change of this.changes) {
        const step = change.values[i]! - previous;
        previous = change.values[i]!;
        if (step !== 0) value += step * lagResponse(this.lags[i]!, time - change.time);
      }
      into[i] = value;
    }
    return into;
  }
}
