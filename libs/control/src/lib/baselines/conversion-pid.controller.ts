import type { PlantModel } from '@pipac/recipe';
import { Plant } from '@pipac/twin';
import { Pid } from '../pid';
import type { StepController } from '../step/step-controller';
import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';
import { ControlError } from '../control.error';

/** A PI loop's tuning, and the process model it was derived from. */
export interface ConversionPidTuning {
  /** Proportional gain, flow scale per unit of conversion (acting in reverse: conversion up, flow up). */
  kp: number;
  /** Integral time, s. */
  ti: number;
  /** First-order-plus-dead-time model of conversion against the flow scale, analyser included. */
  process: { gain: number; timeConstant: number; deadTime: number };
  /** How it was found. */
  method: string;
}

export interface ConversionPidOptions {
  /** The loop holds the measured conversion at minConversion + margin. @default 0.01 */
  margin?: number;
  /** Lowest flow scale the loop may ask for. @default 0.3, or the pumps' minimum if higher */
  minScale?: number;
}

/**
 * The PID baseline: one PI loop on the measured conversion that moves every pump of the step
 * together (the recipe's ratios kept) to hold conversion just above the step's minimum, capped
 * at the coordinator's throughput target. A classic override: run at the target while the
 * reaction keeps up, slow down as much as it must when it does not (a deactivating catalyst).
 * The jacket stays at its recipe temperature. It acts only on a new analyser result, with dt
 * the time between samples; without good results it holds its output.
 *
 * Anti-windup: conditional integration in `Pid`, with the target as a moving output limit.
 */
export class ConversionPidController implements StepController {
  readonly name = 'pid';
  readonly setpoint: number;
  private readonly pid: Pid;
  private readonly minScale: number;
  private readonly keyPump: string;
  private readonly keyNominal: number;
  private scale = 1;
  private lastSampledAt = Number.NaN;

  constructor(
    private readonly space: StepSpace,
    readonly tuning: ConversionPidTuning,
    options: ConversionPidOptions = {},
  ) {
    if (!space.hasConversion) {
      throw new ControlError(
        'NO_ANALYSER',
        `step ${space.step.id}: the PID baseline needs the step's analyser to report conversion`,
      );
    }
    this.setpoint = space.step.minConversion + (options.margin ?? 0.01);
    const pumps = space.manipulated.filter((m) => m.kind === 'pump');
    this.minScale = Math.max(
      options.minScale ?? 0.3,
      ...pumps.map((m) => m.engineering.low / m.nominal),
    );
    // A pump that carries the key reactant reads the scale back after a transfer.
    const keyInlet = space.step.inlets.find((inlet) => space.keyPumps.has(inlet.pump))!;
    this.keyPump = keyInlet.pump;
    this.keyNominal = keyInlet.nominal;
    this.pid = new Pid({
      kp: tuning.kp,
      ti: tuning.ti,
      outputMin: this.minScale,
      outputMax: Math.max(this.minScale + 1e-6, 1),
      reverse: true,
    });
  }

  decide(readings: StepReadings): Record<string, number> {
    const cap = Math.max(this.minScale + 1e-6, readings.throughputTarget);
    this.pid.setOutputLimits(this.minScale, cap);
    this.scale = Math.min(this.scale, cap);
    const analyser = readings.analyser;
    const conversion = analyser?.values['conversion'];
    if (
      analyser?.quality === 'good' &&
      conversion !== undefined &&
      Number.isFinite(conversion) &&
      !(analyser.sampledAt <= this.lastSampledAt) // a new result (NaN before the first)
    ) {
      const dt = analyser.sampledAt - this.lastSampledAt;
      this.lastSampledAt = analyser.sampledAt;
      // The first result only starts the loop; the output moves from the second on.
      if (Number.isFinite(dt)) this.scale = this.pid.step(this.setpoint, conversion, dt);
      else this.pid.reset(this.scale, this.setpoint, conversion);
    }
    return this.setpointsFor(this.scale);
  }

  reset(readings: StepReadings): void {
    const applied = readings.setpoints[this.keyPump];
    this.scale = applied !== undefined ? applied / this.keyNominal : 1;
    const conversion = readings.analyser?.values['conversion'];
    this.pid.reset(
      this.scale,
      this.setpoint,
      conversion !== undefined && Number.isFinite(conversion) ? conversion : this.setpoint,
    );
    this.lastSampledAt = readings.analyser?.sampledAt ?? Number.NaN;
  }

  private setpointsFor(scale: number): Record<string, number> {
    const setpoints: Record<string, number> = {};
    for (const m of this.space.manipulated) {
      setpoints[m.tag] = m.kind === 'pump' ? m.nominal * scale : m.nominal;
    }
    return setpoints;
  }
}

/**
 * Tunes the PID baseline of a step by the SIMC rules (Skogestad, "Simple analytic rules for
 * model reduction and PID controller tuning", J. Process Control 13 (2003) 291–309) from a
 * step test on the twin:
 *
 * 1. warm the plant up at the recipe's setpoints, then cut the step's flows by 10 %;
 * 2. fit a first-order-plus-dead-time model to the true conversion by the two-point method
 *    (Smith): τ = 1.5·(t63 − t28), θ = t63 − τ, gain = Δconversion / Δscale;
 * 3. add what the loop sees on top: the analyser's dead time and half its cadence (sample
 *    and hold);
 * 4. SIMC PI with τc = θ ("tight but robust"): Kc = τ / (|k|·(τc + θ)), Ti = min(τ, 4·(τc + θ)).
 */
export function tuneConversionPid(model: PlantModel, stepId: string): ConversionPidTuning {
  const plant = new Plant(model, { dt: 1, seed: 1 });
  const unit = plant.units.find((u) => u.step.id === stepId);
  if (!unit) throw new ControlError('UNKNOWN_STEP', `unknown step "${stepId}"`);
  const analyser = unit.step.spec.analyser;
  if (!analyser)
    throw new ControlError('NO_ANALYSER', `step ${stepId} has no analyser to close a loop on`);
  plant.warmUp(3600);
  const before = unit.conversion();
  const change = -0.1;
  for (const inlet of unit.step.inlets) plant.setSetpoint(inlet.pump, inlet.nominal * (1 + change));
  const horizon = 3600;
  const trace = new Float64Array(horizon);
  for (let t = 0; t < horizon; t++) {
    plant.step();
    trace[t] = unit.conversion();
  }
  const after = trace[horizon - 1]!;
  const delta = after - before;
  if (!(Math.abs(delta) > 1e-6))
    throw new ControlError(
      'TUNING_FAILED',
      `step ${stepId}: conversion does not respond to flow (Δ = ${delta})`,
    );
  const crossing = (fraction: number) => {
    const level = before + fraction * delta;
    for (let t = 0; t < horizon; t++) {
      if ((trace[t]! - level) * Math.sign(delta) >= 0) return t + 1;
    }
    return horizon;
  };
  const t28 = crossing(0.283);
  const t63 = crossing(0.632);
  const timeConstant = Math.max(1.5 * (t63 - t28), 1);
  const processDead = Math.max(t63 - timeConstant, 0);
  const deadTime = processDead + analyser.deadTime + analyser.cadence / 2;
  const gain = delta / change;
  const tauC = deadTime;
  const kp = timeConstant / (Math.abs(gain) * (tauC + deadTime));
  const ti = Math.min(timeConstant, 4 * (tauC + deadTime));
  return {
    kp,
    ti,
    process: { gain, timeConstant, deadTime },
    method: `SIMC PI (τc = θ) from a −10 % flow step on the twin: k = ${gain.toFixed(3)}, τ = ${timeConstant.toFixed(0)} s, θ = ${deadTime.toFixed(0)} s (process ${processDead.toFixed(0)} s + analyser ${(analyser.deadTime + analyser.cadence / 2).toFixed(0)} s)`,
  };
}
