import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import {
  solvePlantSteadyState,
  solveStepOutlet,
  solveStepSteadyState,
} from '../steady/steady-state';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { Plant } from './plant';

const paracetamol = () =>
  compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('Plant, at the edges of its operating range', () => {
  it('doses no gas into a step whose liquid has stopped, and stays finite', () => {
    const model = paracetamol();
    const steady = solveStepSteadyState(model, 'hydrogenation', { flows: { 'P-201': 0 } });
    expect(steady.inlet['hydrogen']).toBe(0);
    expect(steady.outletFlow).toBe(0);

    const plant = new Plant(model, { dt: 1 });
    plant.warmUp(1800);
    const fedBefore = plant.speciesFed[model.speciesIndex.get('hydrogen')!]!;
    plant.setSetpoint('P-201', 0);
    plant.run(3600);
    const unit = plant.units[1]!;
    expect(unit.flow[0]).toBe(0); // the pump lag arrives exactly
    expect(unit.supply[1]).toBe(0); // the mass-flow controller doses nothing
    expect(plant.speciesFed[model.speciesIndex.get('hydrogen')!]).toBeLessThan(fedBefore + 1);
    expect(Number.isFinite(unit.maxTemperature)).toBe(true);
    expect(Array.from(unit.c).every(Number.isFinite)).toBe(true);
  });

  it('refuses a jacket setpoint at or below absolute zero', () => {
    const model = compilePlant(oneStepRecipe());
    expect(() => new Plant(model).setSetpoint('TC-1', -300)).toThrow(/absolute zero/);
    expect(() => solveStepSteadyState(model, 'reaction', { jacketTemperature: -273.15 })).toThrow(
      /absolute zero/,
    );
  });

  it('starts a warmed-up run with fresh catalyst and tanks at their steady composition', () => {
    const model = paracetamol();
    const plant = new Plant(model, { dt: 1 });
    plant.warmUp(3600);
    expect(plant.units[1]!.activity).toBe(model.steps[1]!.catalyst!.initialActivity);
    const steady = solvePlantSteadyState(model, {}, { model: 'cells' });
    const nitrophenol = model.speciesIndex.get('4-nitrophenol')!;
    const inTank = plant.tank('tank-1').concentrations[nitrophenol]!;
    expect(Math.abs(inTank / steady.steps[0]!.outlet['4-nitrophenol']! - 1)).toBeLessThan(1e-9);
  });

  it('samples on the analyser cadence grid even when dt does not divide it', () => {
    const recipe = oneStepRecipe({
      analyser: {
        tag: 'AT-1',
        technique: 'uv',
        measures: [{ quantity: 'conversion' }],
        cadence: 30,
        deadTime: 0,
      },
    });
    const plant = new Plant(compilePlant(recipe), { dt: 7 });
    const sampled = new Set<number>();
    plant.run(3003, (p) => sampled.add(p.units[0]!.analyser!.latestSampledAt));
    sampled.delete(Number.NaN);
    // 3003 s / 30 s: 100 samples, not 3003 / 35 = 85 as with t + cadence.
    expect(sampled.size).toBe(100);
  });
});

describe('steady state, at the edges', () => {
  it('resizes a reused solution buffer for a step with more pumps', () => {
    const model = paracetamol();
    const [nitration, , acetylation] = model.steps;
    const buffer = solveStepOutlet(model, nitration!, {});
    const reused = solveStepOutlet(
      model,
      acetylation!,
      { flows: { 'P-301': 7.3, 'P-302': 0.3 } },
      {},
      buffer,
    );
    const fresh = solveStepOutlet(model, acetylation!, { flows: { 'P-301': 7.3, 'P-302': 0.3 } });
    expect(Array.from(reused.flows)).toEqual(Array.from(fresh.flows));
    expect(Array.from(reused.outlet.concentrations)).toEqual(
      Array.from(fresh.outlet.concentrations),
    );
  });

  it('counts a negative pump setpoint as no flow in the tank balance', () => {
    const model = paracetamol();
    const negative = solvePlantSteadyState(model, {
      steps: { hydrogenation: { flows: { 'P-201': -5 } } },
    });
    const stopped = solvePlantSteadyState(model, {
      steps: { hydrogenation: { flows: { 'P-201': 0 } } },
    });
    expect(negative.tankNetInflow['tank-1']).toBeCloseTo(stopped.tankNetInflow['tank-1']!, 12);
  });
});
