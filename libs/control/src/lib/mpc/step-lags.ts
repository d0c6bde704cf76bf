import type { PlantModel } from '@pipac/recipe';
import { Plant, type StepUnit } from '@pipac/twin';
import { ControlError } from '../control.error';
import type { StepSpace } from '../step/step-space';
import type { InputLag } from './input-history';

/** s of the step test: every step settles within it (nitration's slowest, the jacket, ~10 min). */
const WINDOW = 900;
/** The test's moves: every pump +10 % (transport: one lag for all), the jacket +2 °C. */
const FLOW_STEP = 0.1;
const JACKET_STEP = 2;

const identified = new WeakMap<PlantModel, Map<string, InputLag[]>>();

/**
 * The linear block of the MPC's Hammerstein model, identified on the twin: one
 * first-order-plus-dead-time lag per manipulated setpoint (the pumps share the flow's lag, the
 * jacket has its own), from step tests of the true conversion, cached per compiled model.
 *
 * Two-point fit (Smith: τ = 1.5·(t63 − t28), θ = t63 − τ) on the difference from an untouched
 * run with the same seed, over a 900 s window: a packed bed's conversion keeps drifting for hours
 * (its catalyst ages faster at a higher flow), which a fit to the whole hour
 * (`stepResponse`) reads as a 30-minute lag; the estimator's rate parameter follows that drift.
 */
export function identifyStepLags(space: StepSpace): InputLag[] {
  let byStep = identified.get(space.model);
  if (!byStep) identified.set(space.model, (byStep = new Map<string, InputLag[]>()));
  let lags = byStep.get(space.step.id);
  if (!lags) {
    const step = space.step;
    const flow = stepTest(space, (plant) => {
      for (const inlet of step.inlets)
        plant.setSetpoint(inlet.pump, inlet.nominal * (1 + FLOW_STEP));
    });
    const jacket = stepTest(space, (plant) =>
      plant.setSetpoint(step.thermostat.tag, step.thermostat.nominal + JACKET_STEP),
    );
    lags = space.manipulated.map((m) => (m.kind === 'pump' ? flow : jacket));
    byStep.set(step.id, lags);
  }
  return lags;
}

function stepTest(space: StepSpace, apply: (plant: Plant) => void): InputLag {
  const moved = new Plant(space.model, { dt: 1, seed: 1 });
  const reference = new Plant(space.model, { dt: 1, seed: 1 });
  moved.warmUp(3600);
  reference.warmUp(3600);
  apply(moved);
  const unitOf = (plant: Plant): StepUnit => plant.units[space.step.index]!;
  const trace = new Float64Array(WINDOW);
  for (let t = 0; t < WINDOW; t++) {
    moved.step();
    reference.step();
    trace[t] = unitOf(moved).conversion() - unitOf(reference).conversion();
  }
  const final = trace[WINDOW - 1]!;
  if (!(Math.abs(final) > 1e-6))
    throw new ControlError('TUNING_FAILED', `step ${space.step.id}: no response to the step test`);
  const crossing = (fraction: number) => {
    const t = trace.findIndex((v) => v / final >= fraction);
    return t < 0 ? WINDOW : t + 1;
  };
  const t28 = crossing(0.283);
  const t63 = crossing(0.632);
  const timeConstant = Math.max(1.5 * (t63 - t28), 1);
  return { timeConstant, deadTime: Math.max(t63 - timeConstant, 0) };
}
