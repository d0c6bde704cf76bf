import { compilePlant, type ReactionSpec } from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { eFactor, stepFigures, type StepFlows } from './key-figures';

/** 2 A → C: two moles of key reactant per mole of product (yield factor 2). */
const DIMERISATION: ReactionSpec = {
  id: 'dimer',
  stoichiometry: { a: -2, c: 1 },
  rateLaw: { k: { value: 0.01, referenceTemperature: 25 }, activationEnergy: 50, orders: { a: 1 } },
};

const model = compilePlant(oneStepRecipe()); // A → B, product b (100 g/mol), 10 mL reactor
const step = model.steps[0]!;

function flows(overrides: Partial<StepFlows> = {}): StepFlows {
  // Per second: 1 mmol/s of A in, 0.2 out; 0.8 mmol/s of B made; 0.1 kg/s of solution.
  return {
    keyIn: 1e-3,
    keyOut: 2e-4,
    productIn: 0,
    productOut: 8e-4,
    massIn: 0.1,
    heatDuty: -5,
    thermalPower: 5,
    ...overrides,
  };
}

describe('stepFigures', () => {
  it('computes conversion, yield and selectivity from molar flows', () => {
    const figures = stepFigures(model, step, flows({ productOut: 7e-4 }));
    expect(figures.conversion).toBeCloseTo(0.8, 14);
    expect(figures.yield).toBeCloseTo(0.7, 14);
    expect(figures.selectivity).toBeCloseTo(0.7 / 0.8, 14);
  });

  it('counts only the product made in the step, not what entered with the feed', () => {
    const figures = stepFigures(model, step, flows({ productIn: 1e-4, productOut: 9e-4 }));
    expect(figures.yield).toBeCloseTo(0.8, 14);
    expect(figures.productionRate).toBeCloseTo(8e-4 * 100 * 3600, 9); // g/h
  });

  it('production rate in g/h and space-time yield in kg/(L·h)', () => {
    const figures = stepFigures(model, step, flows());
    const gramsPerHour = 8e-4 * 100 * 3600; // 288 g/h
    expect(figures.productionRate).toBeCloseTo(gramsPerHour, 9);
    expect(figures.spaceTimeYield).toBeCloseTo(gramsPerHour / 1000 / 0.01, 9);
  });

  it('E-factor is (mass in − product mass)/product mass', () => {
    const figures = stepFigures(model, step, flows());
    const product = (8e-4 * 100) / 1000; // kg/s
    expect(figures.eFactor).toBeCloseTo((0.1 - product) / product, 12);
  });

  it('turns totals over a period into rates', () => {
    const perSecond = stepFigures(model, step, flows());
    const totals = flows();
    const hour = stepFigures(
      model,
      step,
      Object.fromEntries(
        Object.entries(totals).map(([key, value]) => [key, value * 3600]),
      ) as unknown as StepFlows,
      3600,
    );
    expect(hour.productionRate).toBeCloseTo(perSecond.productionRate, 9);
    expect(hour.heatDuty).toBeCloseTo(perSecond.heatDuty, 12);
    expect(hour.thermalPower).toBeCloseTo(perSecond.thermalPower, 12);
    expect(hour.conversion).toBeCloseTo(perSecond.conversion, 14);
    expect(hour.eFactor).toBeCloseTo(perSecond.eFactor, 12);
  });

  it('corrects the yield for stoichiometry: 2 A → C', () => {
    const dimer = compilePlant(oneStepRecipe({ reactions: [DIMERISATION] }));
    const dimerStep = dimer.steps[0]!;
    expect(dimerStep.yieldFactor).toBe(2);
    const figures = stepFigures(dimer, dimerStep, flows({ keyOut: 0, productOut: 5e-4 }));
    expect(figures.conversion).toBe(1);
    expect(figures.yield).toBeCloseTo(1, 14);
    expect(figures.selectivity).toBeCloseTo(1, 14);
    expect(figures.productionRate).toBeCloseTo(5e-4 * 200 * 3600, 9);
  });

  it('nothing fed gives zeros; nothing made gives an infinite E-factor', () => {
    const none = stepFigures(model, step, flows({ keyIn: 0, keyOut: 0, productOut: 0 }));
    expect(none.conversion).toBe(0);
    expect(none.yield).toBe(0);
    expect(none.selectivity).toBe(0);
    expect(none.eFactor).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('eFactor', () => {
  it('is waste per product', () => {
    expect(eFactor(10, 2)).toBe(4);
    expect(eFactor(2, 2)).toBe(0);
  });

  it('is infinite without product and never negative', () => {
    expect(eFactor(1, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(eFactor(1, -1)).toBe(Number.POSITIVE_INFINITY);
    expect(eFactor(1, 2)).toBe(0);
  });
});
