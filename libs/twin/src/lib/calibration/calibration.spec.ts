import type { ReactionSpec, Recipe } from '@pipac/recipe';
import { FIRST_ORDER, oneStepRecipe } from '@pipac/recipe/testing';
import { calibrate } from './calibration';
import { CalibrationError } from './calibration.error';
import { compareWithTruth } from './calibration-report';
import type { CalibrationResult } from './calibration.types';
import type { ExperimentTable } from './experiment.types';
import { syntheticExperiments, type SyntheticOptions } from './synthetic-experiments';

const FIRST_K = 'reactions.a-to-b.k';
const FIRST_EA = 'reactions.a-to-b.activationEnergy';
/** Truth differs from the fixture's k = 0.01 /s, Ea = 50 kJ/mol, which are the starting values. */
const FIRST_TRUTH = { [FIRST_K]: 0.013, [FIRST_EA]: 62 };
/** Residence times 75–600 s and 5–35 °C keep conversions between about 20% and 99.9%. */
const FIRST_DESIGN = { flows: { 'P-1': [1, 3, 8] }, jacketTemperatures: [5, 15, 25, 35] };
/** Six experiments: enough for two parameters, cheap enough to repeat. */
const SMALL_DESIGN = { flows: { 'P-1': [2, 6] }, jacketTemperatures: [5, 20, 35] };
/** One seed for the single-data-set tests; the coverage test shows the intervals hold across seeds. */
const SEED = 11;

const SECOND_ORDER: ReactionSpec = {
  id: 'ab-to-c',
  stoichiometry: { a: -1, b: -1, c: 1 },
  rateLaw: {
    k: { value: 0.02, referenceTemperature: 25 },
    activationEnergy: 45,
    orders: { a: 1, b: 1 },
  },
  heatOfReaction: 0,
};
const SECOND_K = 'reactions.ab-to-c.k';
const SECOND_EA = 'reactions.ab-to-c.activationEnergy';
const SECOND_TRUTH = { [SECOND_K]: 0.03, [SECOND_EA]: 55 };
const SECOND_DESIGN = { flows: { 'P-1': [1, 3, 8] }, jacketTemperatures: [10, 25, 40] };

function firstOrder(): Recipe {
  return oneStepRecipe();
}

function secondOrder(): Recipe {
  return oneStepRecipe({ reactions: [SECOND_ORDER], feed: { a: 0.5, b: 0.6 } });
}

function synthetic(recipe: Recipe, options: SyntheticOptions): ExperimentTable {
  return { source: 'synthetic.csv', ...syntheticExperiments(recipe, options) };
}

function expectRecovered(
  recipe: Recipe,
  result: CalibrationResult,
  truth: Record<string, number>,
  relativeTolerance: number,
): void {
  const comparison = compareWithTruth(recipe, result.parameters, truth);
  expect(comparison).toHaveLength(Object.keys(truth).length);
  for (const c of comparison) {
    expect({ path: c.path, within: c.withinInterval }).toEqual({ path: c.path, within: true });
    expect(Math.abs(c.relativeError)).toBeLessThan(relativeTolerance);
  }
}

describe('calibrate', () => {
  describe('a first-order reaction with 2% noise', () => {
    const recipe = firstOrder();
    const table = synthetic(recipe, {
      truth: FIRST_TRUTH,
      design: FIRST_DESIGN,
      noise: { relative: 0.02 },
      seed: SEED,
    });
    const progress: [number, number][] = [];
    let result: CalibrationResult;
    beforeAll(() => {
      result = calibrate(recipe, table, {
        parameters: [FIRST_K, FIRST_EA],
        onProgress: (i, ssr) => progress.push([i, ssr]),
      });
    });

    it('recovers k and Ea within their 95% intervals', () => {
      expectRecovered(recipe, result, FIRST_TRUTH, 0.02);
      expect(result.fit.converged).toBe(true);
      expect(result.fit.measurements).toBe(24);
      expect(result.fit.degreesOfFreedom).toBe(22);
      // With relative weighting, s estimates the relative noise (2%).
      expect(result.fit.residualStandardError).toBeGreaterThan(0.012);
      expect(result.fit.residualStandardError).toBeLessThan(0.03);
      expect(result.fit.rSquared).toBeGreaterThan(0.99);
      expect(result.fit.tQuantile).toBeCloseTo(2.0739, 4); // t(0.975, 22)
    });

    it('reports progress from the initial SSR downwards', () => {
      expect(progress[0]).toEqual([0, result.fit.initialSsr]);
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]![1]).toBeLessThan(progress[i - 1]![1]);
      expect(progress.at(-1)).toEqual([result.fit.iterations, result.fit.ssr]);
    });

    it('gives k an asymmetric interval from log space and Ea a symmetric one', () => {
      const [k, ea] = result.parameters;
      expect(k?.intervalScale).toBe('log');
      const [kLow, kHigh] = k!.confidenceInterval;
      // Symmetric in ln k: value = √(lower · upper), so the upper arm is the longer.
      expect(Math.sqrt(kLow * kHigh)).toBeCloseTo(k!.value, 12);
      expect(kHigh - k!.value).toBeGreaterThan(k!.value - kLow);
      expect(k!.standardError).toBeCloseTo(
        (k!.value * Math.log(kHigh / k!.value)) / result.fit.tQuantile,
        12,
      );
      expect(ea?.intervalScale).toBe('linear');
      expect((ea!.confidenceInterval[0] + ea!.confidenceInterval[1]) / 2).toBeCloseTo(ea!.value, 9);
      expect(ea!.unit).toBe('kJ/mol');
      expect(k!.unit).toBe('1/s at 25 °C');
      expect(result.correlation[0]![0]).toBe(1);
      expect(result.correlation[0]![1]).toBe(result.correlation[1]![0]);
    });

    it('writes the fitted values and a provenance into the returned recipe, leaving the input alone', () => {
      expect(recipe.reactions[0]?.rateLaw.k.value).toBe(0.01);
      const reaction = result.recipe.reactions[0]!;
      expect(reaction.rateLaw.k.value).toBe(result.parameters[0]?.value);
      expect(reaction.rateLaw.activationEnergy).toBe(result.parameters[1]?.value);
      expect(reaction.provenance?.source).toMatch(
        /^calibrated by pipac calibrate from synthetic\.csv \(12 experiments, 24 measurements\): k = [\d.]+ 1\/s at 25 °C, 95% CI \[[\d.]+, [\d.]+\] \(interval from ln k\); activationEnergy = [\d.]+ kJ\/mol, 95% CI \[[\d.]+, [\d.]+\]$/,
      );
    });

    it('lists every measurement with its prediction and weighted residual', () => {
      expect(result.points).toHaveLength(24);
      const point = result.points[0]!;
      expect(point).toMatchObject({ experiment: 'S1', row: 1, step: 'reaction', quantity: 'c:a' });
      expect(point.weightedResidual).toBeCloseTo(
        (point.measured - point.predicted) / point.sigma,
        12,
      );
      const ssr = result.points.reduce((sum, p) => sum + p.weightedResidual ** 2, 0);
      expect(ssr).toBeCloseTo(result.fit.ssr, 12);
    });
  });

  it('recovers k and Ea of a second-order reaction A + B → C from noisy concentrations and conversion', () => {
    const recipe = secondOrder();
    const noise = { relative: 0.02, absolute: 0.002 };
    const table = synthetic(recipe, {
      truth: SECOND_TRUTH,
      design: SECOND_DESIGN,
      noise,
      seed: 5,
      measure: ['c:a', 'c:c', 'conversion'],
    });
    const result = calibrate(recipe, table, {
      parameters: [SECOND_K, SECOND_EA],
      sigma: { '*': noise },
    });

    expectRecovered(recipe, result, SECOND_TRUTH, 0.05);
    expect(result.parameters[0]?.unit).toBe('L/(mol·s) at 25 °C');
    expect(result.fit.byQuantity.map((q) => q.quantity)).toEqual(['c:a', 'c:c', 'conversion']);
    // σ matches the noise that was added, so s² is a reduced χ² near 1.
    expect(result.fit.residualVariance).toBeGreaterThan(0.4);
    expect(result.fit.residualVariance).toBeLessThan(2);
    expect(result.warnings).toEqual([]);
  });

  it('recovers a side reaction from measured yields, selectivities and E-factors alone', () => {
    // A → B (the product) beside A → D: only the figures are measured, no concentration.
    const side: ReactionSpec = {
      id: 'a-to-d',
      stoichiometry: { a: -1, d: 1 },
      rateLaw: {
        k: { value: 0.002, referenceTemperature: 25 },
        activationEnergy: 80,
        orders: { a: 1 },
      },
      heatOfReaction: 0,
    };
    const recipe = oneStepRecipe({ reactions: [FIRST_ORDER, side] });
    const truth = { 'reactions.a-to-d.k': 0.003, 'reactions.a-to-d.activationEnergy': 70 };
    const table = synthetic(recipe, {
      truth,
      design: FIRST_DESIGN,
      noise: { relative: 0.01 },
      seed: 3,
      measure: ['yield', 'selectivity', 'eFactor'],
    });
    expect(Object.keys(table.experiments[0]!.measurements)).toEqual([
      'yield',
      'selectivity',
      'eFactor',
    ]);
    const result = calibrate(recipe, table, { parameters: Object.keys(truth) });
    expectRecovered(recipe, result, truth, 0.1);
    expect(result.fit.byQuantity.map((q) => q.quantity)).toEqual([
      'yield',
      'selectivity',
      'eFactor',
    ]);
  });

  it('fits each catalyst its own kinetics from experiments that name the catalyst they ran', () => {
    // One step, two catalysts: each brings its own A → B. The table's choice:catalyst column
    // says which ran; the experiments on each inform only that catalyst's k.
    const onPt: ReactionSpec = { ...FIRST_ORDER, id: 'a-to-b-pt' };
    const recipe = oneStepRecipe({ reactions: [FIRST_ORDER, onPt] });
    recipe.steps[0]!.reactions = [];
    recipe.steps[0]!.choices = {
      catalyst: {
        default: 'pd',
        options: { pd: { reactions: ['a-to-b'] }, pt: { reactions: ['a-to-b-pt'] } },
      },
    };
    const truth = { 'reactions.a-to-b.k': 0.008, 'reactions.a-to-b-pt.k': 0.02 };
    const runOn = (option: string) => {
      const ran = structuredClone(recipe);
      ran.steps[0]!.choices!['catalyst']!.default = option;
      return synthetic(ran, { truth, design: SMALL_DESIGN }).experiments.map((e) => ({
        ...e,
        id: `${option} ${e.id}`,
        choices: { catalyst: option },
      }));
    };
    const experiments = [...runOn('pd'), ...runOn('pt')].map((e, i) => ({ ...e, row: i + 1 }));
    const table: ExperimentTable = { source: 'two-catalysts.csv', experiments };
    const result = calibrate(recipe, table, { parameters: Object.keys(truth) });
    for (const c of compareWithTruth(recipe, result.parameters, truth))
      expect(Math.abs(c.relativeError)).toBeLessThan(1e-6);
    // Without the column every row would run the default catalyst, and pt's k could not be fitted.
    const unlabelled = { ...table, experiments: experiments.map(({ choices: _, ...e }) => e) };
    expect(() => calibrate(recipe, unlabelled, { parameters: Object.keys(truth) })).toThrow(
      /reaction "a-to-b-pt" runs in step reaction, and no experiment in the table is on it with an option that brings it/,
    );
  });

  it('recovers a reaction order along with k and Ea', () => {
    const recipe = secondOrder();
    const order = 'reactions.ab-to-c.orders.b';
    const truth = { ...SECOND_TRUTH, [order]: 0.8 };
    const table = synthetic(recipe, {
      truth,
      design: SECOND_DESIGN,
      noise: { relative: 0.01 },
      seed: 1,
    });
    const result = calibrate(recipe, table, { parameters: [SECOND_K, SECOND_EA, order] });
    expectRecovered(recipe, result, truth, 0.05);
    expect(result.parameters[2]?.initial).toBe(1);
  });

  it('recovers the truth to 1e-6 (relative) from noise-free data', () => {
    for (const [recipe, truth, parameters] of [
      [firstOrder(), FIRST_TRUTH, [FIRST_K, FIRST_EA]],
      [secondOrder(), SECOND_TRUTH, [SECOND_K, SECOND_EA]],
    ] as const) {
      const table = synthetic(recipe, { truth, design: SMALL_DESIGN });
      const result = calibrate(recipe, table, { parameters });
      for (const c of compareWithTruth(recipe, result.parameters, truth))
        expect(Math.abs(c.relativeError)).toBeLessThan(1e-6);
      expect(result.fit.converged).toBe(true);
    }
  });

  it('covers the truth in about 95% of repeated noisy experiments', () => {
    // Eight independent data sets: a correct 95% interval pair misses the truth with probability
    // about 0.1, so 6 or more hits out of 8 happen with probability 0.96 (0.994 at 0.05 per pair).
    const recipe = firstOrder();
    let hits = 0;
    for (let seed = 101; seed <= 108; seed++) {
      const table = synthetic(recipe, {
        truth: FIRST_TRUTH,
        design: SMALL_DESIGN,
        noise: { relative: 0.03 },
        seed,
      });
      const result = calibrate(recipe, table, { parameters: [FIRST_K, FIRST_EA] });
      if (compareWithTruth(recipe, result.parameters, FIRST_TRUTH).every((c) => c.withinInterval))
        hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(6);
  });

  it('starts from given initial values and still finds the optimum', () => {
    const recipe = firstOrder();
    const table = synthetic(recipe, { truth: FIRST_TRUTH, design: SMALL_DESIGN });
    const result = calibrate(recipe, table, {
      parameters: [FIRST_K, 'reactions.a-to-b.Ea'],
      initial: { [FIRST_K]: 0.1, [FIRST_EA]: 20 },
    });
    expect(result.parameters.map((p) => p.initial)).toEqual([0.1, 20]);
    expect(result.parameters[0]?.value).toBeCloseTo(0.013, 8);
    expect(result.parameters[1]?.value).toBeCloseTo(62, 5);
  });

  it('warns when k and Ea are strongly correlated because k is referred far from the experiments', () => {
    const recipe = firstOrder();
    const reaction = {
      ...recipe.reactions[0]!,
      rateLaw: { ...recipe.reactions[0]!.rateLaw, k: { value: 8, referenceTemperature: 150 } },
    };
    const farReference = { ...recipe, reactions: [reaction] };
    const table = synthetic(farReference, {
      design: FIRST_DESIGN,
      noise: { relative: 0.02 },
      seed: 4,
    });
    const result = calibrate(farReference, table, { parameters: [FIRST_K, FIRST_EA] });
    expect(Math.abs(result.correlation[0]![1]!)).toBeGreaterThan(0.95);
    expect(result.warnings.join('\n')).toMatch(
      /strongly correlated .* a referenceTemperature near 20 °C would decorrelate them/,
    );
  });

  describe('refuses', () => {
    const recipe = firstOrder();
    const table = synthetic(recipe, {
      truth: FIRST_TRUTH,
      design: FIRST_DESIGN,
      noise: { relative: 0.02 },
      seed: 1,
    });

    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(CalibrationError);
        return (error as CalibrationError).code;
      }
      return undefined;
    };

    it('an activation energy from experiments at a single temperature', () => {
      const oneTemperature = synthetic(recipe, {
        design: { flows: { 'P-1': [1, 2, 4] }, jacketTemperatures: [25] },
      });
      expect(() => calibrate(recipe, oneTemperature, { parameters: [FIRST_K, FIRST_EA] })).toThrow(
        /activationEnergy: every experiment on its step ran at about 25\.0 °C/,
      );
    });

    it('unknown parameters, duplicates and starting values for parameters not fitted', () => {
      expect(codeOf(() => calibrate(recipe, table, { parameters: ['reactions.nope.k'] }))).toBe(
        'PARAMETER_INVALID',
      );
      expect(codeOf(() => calibrate(recipe, table, { parameters: [FIRST_K, FIRST_K] }))).toBe(
        'PARAMETER_INVALID',
      );
      expect(codeOf(() => calibrate(recipe, table, { parameters: [] }))).toBe('PARAMETER_INVALID');
      expect(
        codeOf(() =>
          calibrate(recipe, table, { parameters: [FIRST_K], initial: { [FIRST_EA]: 40 } }),
        ),
      ).toBe('OPTIONS_INVALID');
      expect(
        codeOf(() =>
          calibrate(recipe, table, { parameters: [FIRST_K], initial: { [FIRST_K]: -1 } }),
        ),
      ).toBe('PARAMETER_INVALID');
      expect(
        codeOf(() => calibrate(recipe, table, { parameters: [FIRST_K], confidenceLevel: 95 })),
      ).toBe('OPTIONS_INVALID');
    });

    it('fewer measurements than parameters plus one', () => {
      const tiny: ExperimentTable = {
        experiments: table.experiments
          .slice(0, 1)
          .map((e) => ({ ...e, measurements: { 'c:a': 0.5, 'c:b': 0.5 } })),
      };
      expect(codeOf(() => calibrate(recipe, tiny, { parameters: [FIRST_K, FIRST_EA] }))).toBe(
        'TOO_FEW_MEASUREMENTS',
      );
    });

    it('a parameter that no measurement depends on, before fitting', () => {
      // D → B never runs: D is not fed. Its rate constant changes nothing.
      const sideReaction: ReactionSpec = {
        ...FIRST_ORDER,
        id: 'd-to-b',
        stoichiometry: { d: -1, b: 1 },
        rateLaw: { ...FIRST_ORDER.rateLaw, orders: { d: 1 } },
      };
      const withSide = oneStepRecipe({ reactions: [FIRST_ORDER, sideReaction] });
      expect(() =>
        calibrate(withSide, table, { parameters: [FIRST_K, 'reactions.d-to-b.k'] }),
      ).toThrow(/reactions\.d-to-b\.k does not change any measured value/);
    });

    it('a reaction in no step the experiments ran', () => {
      const idle: Recipe = { ...recipe, steps: [{ ...recipe.steps[0]!, reactions: [] }] };
      expect(() => calibrate(idle, table, { parameters: [FIRST_K] })).toThrow(
        /reaction "a-to-b" runs in no step, and no experiment in the table is on it/,
      );
    });
  });
});
