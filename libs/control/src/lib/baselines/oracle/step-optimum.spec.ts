import { join } from 'node:path';
import { compilePlant, kelvinToCelsius, loadRecipe } from '@pipac/recipe';
import { solveStepOutlet } from '@pipac/twin';
import { ProcessLimitGuard } from '../../step/process-limit.guard';
import { nominalSteadyState, StepSpace } from '../../step/step-space';
import { goldenSection, StepOptimum, type TrueStep } from './step-optimum';

const model = compilePlant(
  loadRecipe(join(__dirname, '../../../../../../recipes/paracetamol.yaml')),
);
const nominal = nominalSteadyState(model);
const truth: TrueStep = {
  conditions: {
    tankCompositions: Object.fromEntries(
      model.tanks.map((tank) => [tank.id, nominal.steps[tank.fillingStep]!.outlet]),
    ),
  },
  pumpFactor: [1, 1, 1, 1],
  pressureDropFactor: 1,
};

describe('StepOptimum', () => {
  it.each(model.steps.map((s) => [s.id]))(
    '%s: at nominal throughput, within 0.1 %% of a dense grid, in spec, and the shield passes it',
    (id) => {
      const space = new StepSpace(model, id);
      const step = space.step;
      const optimum = new StepOptimum(space);
      const point = optimum.at(truth, 1)!;
      expect(point).toBeDefined();
      expect(point.conversion).toBeGreaterThanOrEqual(step.minConversion + 0.002);
      // The shield's own guard, at its own margins, with the plant at that point.
      const verdict = new ProcessLimitGuard(space).check(
        point.setpoints,
        point.setpoints,
        undefined,
      );
      expect(verdict).toEqual({ safe: true, detail: '' });
      // Brute force: every ratio the optimiser tries, the jacket every 0.25 K, the same
      // in-spec and hot-spot conditions (without the guard: the grid can only do better).
      let best = 0;
      for (const ratio of [0.8, 1, 1.25, 1.5]) {
        const flows = Object.fromEntries(
          step.inlets.map((inlet) => [
            inlet.pump,
            inlet.nominal * (space.keyPumps.has(inlet.pump) ? 1 : ratio),
          ]),
        );
        if (step.inlets.some((inlet) => flows[inlet.pump]! > inlet.max)) continue;
        for (let t = step.thermostat.min; t <= step.thermostat.max; t += 0.25) {
          const s = solveStepOutlet(model, step, {
            ...truth.conditions,
            flows,
            jacketTemperature: t,
          });
          const keyIn = s.inlet.concentrations[step.keyIndex]!;
          const conversion = 1 - s.outlet.concentrations[step.keyIndex]! / keyIn;
          const hot = kelvinToCelsius(s.outlet.maxTemperature);
          if (conversion < step.minConversion + 0.002) continue;
          if (hot >= kelvinToCelsius(step.maxTemperature) - 6) continue;
          const product =
            s.inlet.flow *
            (s.outlet.concentrations[step.productIndex]! -
              s.inlet.concentrations[step.productIndex]!);
          best = Math.max(best, product);
        }
      }
      expect(point.product).toBeGreaterThan(0);
      expect(point.product).toBeGreaterThanOrEqual(best * 0.999);
    },
    30_000,
  );

  it('finds the largest throughput in spec: a little more has no point in spec', () => {
    const space = new StepSpace(model, 'hydrogenation');
    const optimum = new StepOptimum(space);
    const range = optimum.scaleRange(truth);
    const high = optimum.maxScale(truth, range.low, range.high)!;
    expect(high).toBeGreaterThan(1);
    expect(optimum.at(truth, high)).toBeDefined();
    if (high < range.high - 0.01) expect(optimum.at(truth, high + 0.01)).toBeUndefined();
  });

  it('golden section finds the maximum of a unimodal function', () => {
    expect(goldenSection((x) => -((x - 1.3) ** 2), 0, 5, 1e-6)).toBeCloseTo(1.3, 5);
  });
});
