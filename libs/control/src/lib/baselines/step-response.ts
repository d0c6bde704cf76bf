import type { PlantModel, StepModel } from '@pipac/recipe';
import { Plant, type StepUnit } from '@pipac/twin';
import { ControlError } from '../control.error';

/** First-order-plus-dead-time model of a step's conversion against one input. */
export interface FopdtModel {
  /** Δconversion per unit of the input. */
  gain: number;
  /** s */
  timeConstant: number;
  /** s, the process's own (the analyser's is added by `withAnalyser`). */
  deadTime: number;
}

/** One hour: the plant's warm-up and the test's horizon, long enough for every step to settle. */
const HORIZON = 3600;

/**
 * A step test on the twin: warm the plant up at the recipe's setpoints, move one input by
 * `change` (in the input's units: `apply` writes the new setpoints), and fit a first-order-plus-
 * dead-time model to the true conversion by the two-point method (Smith):
 * τ = 1.5·(t63 − t28), θ = t63 − τ, gain = Δconversion / change.
 */
export function stepResponse(
  model: PlantModel,
  stepId: string,
  change: number,
  apply: (plant: Plant, step: StepModel) => void,
): FopdtModel {
  const plant = new Plant(model, { dt: 1, seed: 1 });
  const unit = plant.units.find((u) => u.step.id === stepId);
  if (!unit) throw new ControlError('UNKNOWN_STEP', `unknown step "${stepId}"`);
  if (!unit.step.spec.analyser)
    throw new ControlError('NO_ANALYSER', `step ${stepId} has no analyser to close a loop on`);
  plant.warmUp(HORIZON);
  const before = unit.conversion();
  apply(plant, unit.step);
  const trace = conversionTrace(plant, unit);
  const delta = trace[HORIZON - 1]! - before;
  if (!(Math.abs(delta) > 1e-6))
    throw new ControlError(
      'TUNING_FAILED',
      `step ${stepId}: conversion does not respond to the test (Δ = ${delta})`,
    );
  const t28 = crossing(trace, before + 0.283 * delta, Math.sign(delta));
  const t63 = crossing(trace, before + 0.632 * delta, Math.sign(delta));
  const timeConstant = Math.max(1.5 * (t63 - t28), 1);
  return { gain: delta / change, timeConstant, deadTime: Math.max(t63 - timeConstant, 0) };
}

function conversionTrace(plant: Plant, unit: StepUnit): Float64Array {
  const trace = new Float64Array(HORIZON);
  for (let t = 0; t < HORIZON; t++) {
    plant.step();
    trace[t] = unit.conversion();
  }
  return trace;
}

/** The first second (1-based) at which the trace reaches `level` going in `direction`. */
function crossing(trace: Float64Array, level: number, direction: number): number {
  for (let t = 0; t < trace.length; t++) {
    if ((trace[t]! - level) * direction >= 0) return t + 1;
  }
  return trace.length;
}

/**
 * What the loop sees on top of the process: the analyser's dead time and half its cadence
 * (sample and hold).
 */
export function analyserDelay(step: StepModel): number {
  const analyser = step.spec.analyser;
  return analyser ? analyser.deadTime + analyser.cadence / 2 : 0;
}

/**
 * SIMC PI with τc = θ, "tight but robust" (Skogestad, J. Process Control 13 (2003) 291–309):
 * Kc = τ / (|k|·(τc + θ)), Ti = min(τ, 4·(τc + θ)); θ is the loop's whole dead time.
 */
export function simcPi(gain: number, timeConstant: number, deadTime: number) {
  const tauC = deadTime;
  return {
    kp: timeConstant / (Math.abs(gain) * (tauC + deadTime)),
    ti: Math.min(timeConstant, 4 * (tauC + deadTime)),
  };
}
