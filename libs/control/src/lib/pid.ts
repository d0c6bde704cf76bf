import { ControlError } from './control.error';

/** Settings of a PID loop. Gains act on the error setpoint − measurement. */
export interface PidSettings {
  /** Proportional gain, output units per measurement unit. */
  kp: number;
  /** Integral time, s (Infinity: no integral action). */
  ti: number;
  /** Derivative time, s. @default 0 */
  td?: number;
  /** Derivative filter: the derivative is low-passed with time constant td / n. @default 10 */
  derivativeFilter?: number;
  /** Output limits (the actuator's range); the integral never winds up beyond them. */
  outputMin: number;
  outputMax: number;
  /** Reverse acting: the output falls when the measurement is below the setpoint. @default false */
  reverse?: boolean;
}

/**
 * A PID controller in position form, ISA ("standard") parameterisation:
 * u = Kp·(e + (1/Ti)∫e dt + Td·d(−y)/dt), stepped at a fixed dt by the caller.
 *
 * - Derivative on the measurement, not the error, so a setpoint step gives no derivative kick;
 *   filtered with time constant Td/N.
 * - Anti-windup by conditional integration: the integral does not grow while the output is
 *   saturated in the direction the error pushes it (Åström & Hägglund, Advanced PID Control,
 *   §3.5), so the loop leaves saturation as soon as the error changes sign.
 * - Bumpless start: `reset(output, measurement)` makes the next output continue from the
 *   actuator's current value (transfer from the agent or the operator).
 */
export class Pid {
  private integral = 0;
  private filteredDerivative = 0;
  private lastMeasurement: number | undefined;
  private outputMin: number;
  private outputMax: number;

  constructor(readonly settings: PidSettings) {
    const { kp, ti, outputMin, outputMax } = settings;
    if (!Number.isFinite(kp))
      throw new ControlError('INVALID_SETTINGS', `PID kp must be finite, got ${kp}`);
    if (!(ti > 0))
      throw new ControlError(
        'INVALID_SETTINGS',
        `PID ti must be positive (Infinity for none), got ${ti}`,
      );
    if (!(outputMin < outputMax))
      throw new ControlError(
        'INVALID_SETTINGS',
        `PID output range ${outputMin}..${outputMax} is empty`,
      );
    if ((settings.td ?? 0) < 0)
      throw new ControlError('INVALID_SETTINGS', `PID td must be ≥ 0, got ${settings.td}`);
    this.outputMin = outputMin;
    this.outputMax = outputMax;
  }

  /**
   * Moves the output limits (an override: a throughput cap that changes). The integral is
   * pulled inside the new range, so the output never winds up beyond it.
   */
  setOutputLimits(outputMin: number, outputMax: number): void {
    if (!(outputMin < outputMax))
      throw new ControlError(
        'INVALID_SETTINGS',
        `PID output range ${outputMin}..${outputMax} is empty`,
      );
    this.outputMin = outputMin;
    this.outputMax = outputMax;
    this.integral = Math.min(outputMax, Math.max(outputMin, this.integral));
  }

  /**
   * Starts from `output` (the actuator's value now) without a bump: the integral takes the
   * part of the output the proportional term does not explain.
   */
  reset(output: number, setpoint: number, measurement: number): void {
    const clamped = Math.min(this.outputMax, Math.max(this.outputMin, output));
    this.integral = clamped - this.gain() * (setpoint - measurement);
    this.filteredDerivative = 0;
    this.lastMeasurement = measurement;
  }

  /** One step of dt seconds; returns the output, within the output limits. */
  step(setpoint: number, measurement: number, dt: number): number {
    if (!(dt > 0)) throw new ControlError('INVALID_INPUT', `PID dt must be positive, got ${dt}`);
    if (!Number.isFinite(setpoint) || !Number.isFinite(measurement)) {
      throw new ControlError(
        'INVALID_INPUT',
        `PID inputs must be finite (setpoint ${setpoint}, measurement ${measurement})`,
      );
    }
    const { outputMin, outputMax } = this;
    const ti = this.settings.ti;
    const td = this.settings.td ?? 0;
    const kp = this.gain();
    const error = setpoint - measurement;
    const last = this.lastMeasurement ?? measurement;
    this.lastMeasurement = measurement;
    if (td > 0) {
      const tf = td / (this.settings.derivativeFilter ?? 10);
      const raw = -(measurement - last) / dt;
      this.filteredDerivative += (dt / (tf + dt)) * (raw - this.filteredDerivative);
    }
    const proportional = kp * error;
    const derivative = kp * td * this.filteredDerivative;
    const unclamped = proportional + this.integral + derivative;
    const increment = Number.isFinite(ti) ? ((kp * dt) / ti) * error : 0;
    // Conditional integration: integrate unless that would push a saturated output further.
    const pushesUp = increment > 0 && unclamped >= outputMax;
    const pushesDown = increment < 0 && unclamped <= outputMin;
    if (!pushesUp && !pushesDown) this.integral += increment;
    const output = proportional + this.integral + derivative;
    return Math.min(outputMax, Math.max(outputMin, output));
  }

  private gain(): number {
    return this.settings.reverse ? -this.settings.kp : this.settings.kp;
  }
}
