import { stepById, type PlantModel } from '@pipac/recipe';
import { Pid } from '../pid';
import type { StepController } from '../step/step-controller';
import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';
import { ControlError } from '../control.error';
import { analyserDelay, simcPi, stepResponse } from './step-response';

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
  /** The conversion the loop holds. @default minConversion + ConversionPidOptions.margin */
  setpoint?: number;
  /** A split range onto the jacket, first in line before the flow (none: the jacket stays). */
  jacket?: JacketSplitRange;
}

/**
 * The upper part of the loop's output moves the jacket: between the throughput cap and
 * cap + `width` the flow stays at the cap and the jacket runs from `ceiling` (at the cap) down
 * to its recipe temperature (at the top); below the cap the jacket stays at `ceiling` and the
 * flow falls. `width` is the jacket's span in flow-scale units of equal effect on conversion,
 * so one PI tuning serves both ranges.
 */
export interface JacketSplitRange {
  /** °C, the hottest the loop may ask for. */
  ceiling: number;
  /** Width of the jacket's part of the output, flow-scale units. */
  width: number;
  /** The jacket's own step response (gain per °C). */
  process: { gain: number; timeConstant: number; deadTime: number };
}

export interface ConversionPidOptions {
  /** The loop holds the measured conversion at minConversion + margin. @default 0.01 */
  margin?: number;
  /** Lowest flow scale the loop may ask for. @default 0.3, or the pumps' minimum if higher */
  minScale?: number;
}

/**
 * The PID baseline: one PI loop on the measured conversion that moves every pump of the step
 * together (the recipe's ratios kept) to hold conversion at its setpoint, capped at the
 * coordinator's throughput target. A classic override: run at the target while the reaction
 * keeps up, slow down as much as it must when it does not (a deactivating catalyst). It acts
 * only on a new analyser result, with dt the time between samples; without good results it
 * holds its output.
 *
 * Set up by `tuneConversionPid` (the step agent's fallback): the setpoint is minConversion +
 * margin and the jacket stays at its recipe temperature. Set up by `operatingPointPid` (the
 * evaluation's "pid" baseline): the setpoint is the step's nominal conversion, and a split
 * range raises the jacket before the flow is cut (`JacketSplitRange`).
 *
 * Anti-windup: conditional integration in `Pid`, with the target (plus the jacket's range)
 * as a moving output limit.
 */
export class ConversionPidController implements StepController {
  readonly name = 'pid';
  readonly setpoint: number;
  private readonly pid: Pid;
  private readonly minScale: number;
  private readonly keyPump: string;
  private readonly keyNominal: number;
  private readonly jacketTag: string;
  private readonly jacketNominal: number;
  private readonly jacketWidth: number;
  /** The loop's output: the flow scale, plus the jacket's part above the cap. */
  private output = 1;
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
    this.setpoint = tuning.setpoint ?? space.step.minConversion + (options.margin ?? 0.01);
    const pumps = space.manipulated.filter((m) => m.kind === 'pump');
    this.minScale = Math.max(
      options.minScale ?? 0.3,
      ...pumps.map((m) => m.engineering.low / m.nominal),
    );
    // A pump that carries the key reactant reads the scale back after a transfer.
    const keyInlet = space.step.inlets.find((inlet) => space.keyPumps.has(inlet.pump))!;
    this.keyPump = keyInlet.pump;
    this.keyNominal = keyInlet.nominal;
    const jacket = space.manipulated.find((m) => m.kind === 'thermostat')!;
    this.jacketTag = jacket.tag;
    this.jacketNominal = jacket.nominal;
    this.jacketWidth = tuning.jacket?.width ?? 0;
    this.pid = new Pid({
      kp: tuning.kp,
      ti: tuning.ti,
      outputMin: this.minScale,
      outputMax: Math.max(this.minScale + 1e-6, 1) + this.jacketWidth,
      reverse: true,
    });
  }

  decide(readings: StepReadings): Record<string, number> {
    const cap = this.capOf(readings);
    this.pid.setOutputLimits(this.minScale, cap + this.jacketWidth);
    this.output = Math.min(this.output, cap + this.jacketWidth);
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
      if (Number.isFinite(dt)) this.output = this.pid.step(this.setpoint, conversion, dt);
      else this.pid.reset(this.output, this.setpoint, conversion);
    }
    return this.setpointsFor(this.output, cap);
  }

  reset(readings: StepReadings): void {
    this.output = this.outputOf(readings);
    const conversion = readings.analyser?.values['conversion'];
    this.pid.reset(
      this.output,
      this.setpoint,
      conversion !== undefined && Number.isFinite(conversion) ? conversion : this.setpoint,
    );
    this.lastSampledAt = readings.analyser?.sampledAt ?? Number.NaN;
  }

  private capOf(readings: StepReadings): number {
    return Math.max(this.minScale + 1e-6, readings.throughputTarget);
  }

  /** The output that gives the applied setpoints back (a bumpless transfer). */
  private outputOf(readings: StepReadings): number {
    const applied = readings.setpoints[this.keyPump];
    const scale = applied !== undefined ? applied / this.keyNominal : 1;
    const jacket = this.tuning.jacket;
    const cap = this.capOf(readings);
    if (!jacket || scale < cap) return scale;
    const temperature = readings.setpoints[this.jacketTag] ?? this.jacketNominal;
    const raised = (temperature - this.jacketNominal) / (jacket.ceiling - this.jacketNominal);
    return cap + this.jacketWidth * (1 - Math.min(1, Math.max(0, raised)));
  }

  /** Split range: below the cap the flow, above it the jacket (cooler as the output rises). */
  private setpointsFor(output: number, cap: number): Record<string, number> {
    const scale = Math.min(output, cap);
    let jacket = this.jacketNominal;
    if (this.tuning.jacket) {
      const raised = (cap + this.jacketWidth - Math.max(output, cap)) / this.jacketWidth;
      jacket += raised * (this.tuning.jacket.ceiling - this.jacketNominal);
    }
    const setpoints: Record<string, number> = {};
    for (const m of this.space.manipulated) {
      setpoints[m.tag] = m.kind === 'pump' ? m.nominal * scale : m.nominal;
    }
    setpoints[this.jacketTag] = jacket;
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
  const change = -0.1;
  const flow = stepResponse(model, stepId, change, (plant, step) => {
    for (const inlet of step.inlets) plant.setSetpoint(inlet.pump, inlet.nominal * (1 + change));
  });
  const analyser = analyserDelay(stepById(model, stepId));
  const deadTime = flow.deadTime + analyser;
  const { kp, ti } = simcPi(flow.gain, flow.timeConstant, deadTime);
  return {
    kp,
    ti,
    process: { gain: flow.gain, timeConstant: flow.timeConstant, deadTime },
    method: `SIMC PI (τc = θ) from a −10 % flow step on the twin: k = ${flow.gain.toFixed(3)}, τ = ${flow.timeConstant.toFixed(0)} s, θ = ${deadTime.toFixed(0)} s (process ${flow.deadTime.toFixed(0)} s + analyser ${analyser.toFixed(0)} s)`,
  };
}
