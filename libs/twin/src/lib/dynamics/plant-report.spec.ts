import { join } from 'node:path';
import { compilePlant, type PlantModel, loadRecipe } from '@pipac/recipe';
import { solvePlantSteadyState } from '../steady/steady-state';
import {
  EXOTHERMIC,
  SECOND_ORDER,
  oneStepRecipe,
  twoStepRecipe,
  type TwoStepOptions,
} from '@pipac/recipe/testing';
import { Plant } from './plant';
import { samplePlant, summariseRun } from './plant-report';
import { expectClose } from '../testing/expect-close';

const RECIPES = join(__dirname, '../../../../../recipes');

/** Warms a plant up to its steady state, then runs it for `seconds` more. */
function settledRun(
  model: PlantModel,
  warmUp: number,
  seconds: number,
): { plant: Plant; initial: Float64Array } {
  const plant = new Plant(model);
  plant.warmUp(warmUp);
  const initial = plant.holdup();
  plant.run(seconds);
  return { plant, initial };
}

/** A → B (exothermic, 10 cells) into a 5 mL surge tank, then A + B → C at 40 °C: a tank that settles fast. */
const REPORT_PLANT: TwoStepOptions = {
  first: { reactions: [EXOTHERMIC], reactor: { cells: 10 } },
  tank: { capacity: 0.05, initialLevel: 0.005, minLevel: 0, maxLevel: 0.05 },
  coupling: { ...SECOND_ORDER, heatOfReaction: -50 }, // exothermic, so thermal power counts
  second: {
    thermostat: { tag: 'TC-2', setpoint: { nominal: 40, min: -20, max: 150 }, timeConstant: 30 },
    keyReactant: 'b',
    minConversion: 0.5,
  },
};

describe('summariseRun', () => {
  describe('after a long nominal run of a one-step plant', () => {
    const model = compilePlant(oneStepRecipe({ reactions: [EXOTHERMIC] }));
    const { plant, initial } = settledRun(model, 14 * 600, 3600);
    const summary = summariseRun(plant, initial);
    const steady = solvePlantSteadyState(model, {}, { model: 'cells', rtol: 1e-10, atol: 1e-14 });
    const step = summary.steps[0]!;
    const steadyStep = steady.steps[0]!.figures;

    it('reports the step figures of the cell-model steady state', () => {
      expect(summary.duration).toBe(3600);
      expect(step.step).toBe('reaction');
      expectClose(step.conversion, steadyStep.conversion, 1e-6);
      expectClose(step.yield, steadyStep.yield, 1e-6);
      expectClose(step.selectivity, 1, 1e-9);
      expectClose(step.productionRate, steadyStep.productionRate, 1e-6);
      expectClose(step.spaceTimeYield, steadyStep.spaceTimeYield, 1e-6);
      expectClose(step.eFactor, steadyStep.eFactor, 1e-6);
      expectClose(step.heatDuty, steadyStep.heatDuty, 1e-6);
      expectClose(step.thermalPower, steadyStep.thermalPower, 1e-6);
      expect(step.inSpecFraction).toBe(1);
    });

    it('reports the plant figures of the steady state', () => {
      expectClose(summary.plant.overallYield, steady.figures.overallYield, 1e-6);
      expectClose(summary.plant.productionRate, steady.figures.productionRate, 1e-6);
      expectClose(summary.plant.spaceTimeYield, steady.figures.spaceTimeYield, 1e-6);
      expectClose(summary.plant.eFactor, steady.figures.eFactor, 1e-6);
      expectClose(summary.plant.thermalPower, steady.figures.thermalPower, 1e-6);
    });

    it('counts the product collected, all of it in spec, and closes the mass balance', () => {
      const grams = plant.speciesCollected[1]! * 100;
      expect(summary.plant.productCollected).toBe(grams);
      expectClose(summary.plant.productInSpec, grams, 1e-12);
      expectClose(summary.plant.productionRate, grams, 1e-12); // one hour
      expect(Math.abs(summary.plant.massBalanceError)).toBeLessThan(1e-9 * grams);
    });

    it('the figures are internally consistent: selectivity = yield/conversion, E-factor from the masses', () => {
      expectClose(step.selectivity, step.yield / step.conversion, 1e-12);
      const productKg = summary.plant.productCollected / 1000;
      expectClose(summary.plant.eFactor, (plant.freshMass - productKg) / productKg, 1e-12);
    });
  });

  it('after a long nominal run of a plant with a surge tank, matches the plant steady state', () => {
    const model = compilePlant(twoStepRecipe(REPORT_PLANT));
    const { plant, initial } = settledRun(model, 5400, 1800);
    const summary = summariseRun(plant, initial);
    const steady = solvePlantSteadyState(model, {}, { model: 'cells', rtol: 1e-10, atol: 1e-14 });
    expect(summary.steps.map((s) => s.step)).toEqual(['reaction', 'coupling']);
    summary.steps.forEach((s, i) => {
      const expected = steady.steps[i]!.figures;
      expectClose(s.conversion, expected.conversion, 1e-6);
      expectClose(s.yield, expected.yield, 1e-6);
      expectClose(s.productionRate, expected.productionRate, 1e-6);
    });
    expectClose(summary.plant.overallYield, steady.figures.overallYield, 1e-6);
    expectClose(summary.plant.productionRate, steady.figures.productionRate, 1e-6);
    expectClose(summary.plant.eFactor, steady.figures.eFactor, 1e-6);
    expectClose(summary.plant.thermalPower, steady.figures.thermalPower, 1e-6);
    expect(Math.abs(summary.plant.massBalanceError)).toBeLessThan(
      1e-9 * summary.plant.productCollected,
    );
  });

  it('closes the mass balance of the reference plant to round-off', () => {
    const { plant, initial } = settledRun(
      compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml'))),
      600,
      1200,
    );
    const summary = summariseRun(plant, initial);
    let fedGrams = 0;
    plant.speciesFed.forEach((moles, i) => (fedGrams += moles * plant.model.molarMass[i]!));
    expect(fedGrams).toBeGreaterThan(1);
    expect(Math.abs(summary.plant.massBalanceError)).toBeLessThan(1e-9 * fedGrams);
  });

  it('counts product made below minConversion as off spec', () => {
    const recipe = oneStepRecipe();
    recipe.steps[0]!.minConversion = 0.999; // the coil makes 99.5 %
    const { plant } = settledRun(compilePlant(recipe), 14 * 600, 600);
    const summary = summariseRun(plant);
    expect(summary.steps[0]!.inSpecFraction).toBe(0);
    expect(summary.plant.productInSpec).toBe(0);
    expect(summary.plant.productCollected).toBeGreaterThan(0);
  });

  it('does not count product made from off-spec intermediate as in spec', () => {
    const recipe = twoStepRecipe(REPORT_PLANT);
    recipe.steps[0]!.minConversion = 0.99999; // the first step is off spec all along
    const plant = new Plant(compilePlant(recipe));
    plant.warmUp(600);
    expect(plant.tank('t1').inSpecFraction).toBe(1); // the run starts from released intermediate
    plant.run(1800);
    const summary = summariseRun(plant);
    const [first, second] = plant.units;
    expect(first!.totals.productGood).toBe(0);
    expect(plant.tank('t1').inSpecFraction).toBeGreaterThan(0);
    expect(plant.tank('t1').inSpecFraction).toBeLessThan(0.9);
    // The second step is in spec, but what it makes is good only in the tank's in-spec share.
    expect(summary.steps[1]!.inSpecFraction).toBe(1);
    expect(second!.totals.productGood).toBeGreaterThan(0);
    expect(second!.totals.productGood).toBeLessThan(0.95 * second!.totals.productInSpec);
    expectClose(
      summary.plant.productInSpec,
      second!.totals.productGood * plant.model.molarMass[plant.model.productIndex]!,
      1e-12,
    );
  });

  it('a run of zero length reports zeros, not NaN', () => {
    const summary = summariseRun(new Plant(compilePlant(oneStepRecipe())));
    expect(summary.duration).toBe(0);
    expect(summary.plant.productionRate).toBe(0);
    expect(summary.plant.overallYield).toBe(0);
    expect(summary.plant.eFactor).toBe(Number.POSITIVE_INFINITY);
    expect(summary.steps[0]!.conversion).toBe(0);
    expect(summary.steps[0]!.inSpecFraction).toBe(0);
    expect(summary.plant.massBalanceError).toBe(0);
  });
});

describe('samplePlant', () => {
  it('has one column per step quantity, pump, analyser measurement and tank', () => {
    const plant = new Plant(compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml'))));
    const row = samplePlant(plant);
    expect(Object.keys(row)).toEqual(
      expect.arrayContaining([
        't',
        'nitration.conversion',
        'nitration.product',
        'nitration.temperature_max',
        'nitration.jacket',
        'nitration.pressure',
        'nitration.activity',
        'nitration.P-101',
        'nitration.P-102',
        'nitration.AT-101.concentration:4-nitrophenol',
        'nitration.AT-101.conversion',
        'hydrogenation.MFC-201',
        'acetylation.AT-301.concentration:paracetamol',
        'tank-1.level',
        'tank-2.level',
      ]),
    );
    expect(Object.keys(row)).toHaveLength(36); // t, 3 × 6 step columns, 6 pumps, 9 analyser measurements, 2 tanks
    expect(row['t']).toBe(0);
    expect(Number.isNaN(row['nitration.AT-101.conversion'])).toBe(true); // no result yet
    expect(row['tank-1.level']).toBe(1);
  });

  it('reports the state in recipe units', () => {
    const plant = new Plant(compilePlant(oneStepRecipe({ reactions: [EXOTHERMIC] })));
    plant.setSetpoint('TC-1', 30);
    plant.run(600);
    const row = samplePlant(plant);
    const unit = plant.units[0]!;
    expect(row['t']).toBe(600);
    expect(row['reaction.conversion']).toBe(unit.conversion());
    expect(row['reaction.product']).toBe(unit.outlet()[1]);
    expect(row['reaction.jacket']).toBeCloseTo(30, 6);
    expect(row['reaction.temperature_max']).toBeCloseTo(unit.maxTemperature - 273.15, 12);
    expect(row['reaction.temperature_max']).toBeGreaterThan(30);
    expect(row['reaction.pressure']).toBeGreaterThan(3);
    expect(row['reaction.P-1']).toBeCloseTo(1, 12);
    expect(row['reaction.activity']).toBe(1);
  });
});
