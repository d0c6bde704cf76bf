import { compilePlant } from '@pipac/recipe';
import { solveStepSteadyState } from '../steady/steady-state';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { CalibrationError } from './calibration.error';
import { syntheticExperiments } from './synthetic-experiments';

describe('syntheticExperiments', () => {
  const recipe = oneStepRecipe({ flow: 2, temperature: 30 });
  const design = { flows: { 'P-1': [1, 4] }, jacketTemperatures: [20, 40] };

  it('solves the true model on a full-factorial grid', () => {
    const table = syntheticExperiments(recipe, { design, truth: { 'reactions.a-to-b.k': 0.02 } });
    expect(
      table.experiments.map((e) => [e.conditions.flows?.['P-1'], e.conditions.jacketTemperature]),
    ).toEqual([
      [1, 20],
      [1, 40],
      [4, 20],
      [4, 40],
    ]);
    expect(table.experiments.map((e) => e.id)).toEqual(['S1', 'S2', 'S3', 'S4']);
    expect(table.truth).toEqual({
      'reactions.a-to-b.k': 0.02,
      'reactions.a-to-b.activationEnergy': 50,
    });
    const trueRecipe = {
      ...recipe,
      reactions: [
        {
          ...recipe.reactions[0]!,
          rateLaw: {
            ...recipe.reactions[0]!.rateLaw,
            k: { value: 0.02, referenceTemperature: 25 },
          },
        },
      ],
    };
    const expected = solveStepSteadyState(
      compilePlant(trueRecipe),
      'reaction',
      { flows: { 'P-1': 4 }, jacketTemperature: 20 },
      { rtol: 1e-10, atol: 1e-13 },
    );
    expect(table.experiments[2]?.measurements['c:a']).toBeCloseTo(expected.outlet['a']!, 12);
    expect(table.experiments[2]?.measurements['c:b']).toBeCloseTo(expected.outlet['b']!, 12);
  });

  it('is deterministic by seed, and different seeds give different noise', () => {
    const options = { design, noise: { relative: 0.02 }, measure: ['c:a', 'conversion'] as const };
    const one = syntheticExperiments(recipe, {
      ...options,
      measure: [...options.measure],
      seed: 1,
    });
    const again = syntheticExperiments(recipe, {
      ...options,
      measure: [...options.measure],
      seed: 1,
    });
    const other = syntheticExperiments(recipe, {
      ...options,
      measure: [...options.measure],
      seed: 2,
    });
    expect(again).toEqual(one);
    expect(other.experiments[0]?.measurements['c:a']).not.toBe(
      one.experiments[0]?.measurements['c:a'],
    );
    expect(Object.keys(one.experiments[0]?.measurements ?? {})).toEqual(['c:a', 'conversion']);
  });

  it('adds noise of the stated size', () => {
    const clean = syntheticExperiments(recipe, { design: { ...design, replicates: 25 } });
    const noisy = syntheticExperiments(recipe, {
      design: { ...design, replicates: 25 },
      noise: { relative: 0.05 },
      seed: 9,
    });
    const relative = noisy.experiments.map(
      (e, i) => e.measurements['c:b']! / clean.experiments[i]!.measurements['c:b']! - 1,
    );
    const sd = Math.sqrt(relative.reduce((sum, r) => sum + r * r, 0) / relative.length);
    expect(noisy.experiments).toHaveLength(100);
    expect(sd).toBeGreaterThan(0.04);
    expect(sd).toBeLessThan(0.06);
  });

  it('defaults to 0.5×, 1×, 2× nominal flow and nominal −10..+20 K, and records the recipe kinetics as truth', () => {
    const table = syntheticExperiments(recipe);
    const flows = [...new Set(table.experiments.map((e) => e.conditions.flows?.['P-1']))];
    const temperatures = [...new Set(table.experiments.map((e) => e.conditions.jacketTemperature))];
    expect(flows).toEqual([1, 2, 4]);
    expect(temperatures).toEqual([20, 30, 40, 50]);
    expect(table.truth).toEqual({
      'reactions.a-to-b.k': 0.01,
      'reactions.a-to-b.activationEnergy': 50,
    });
  });

  it.each([
    [{ design: { flows: { 'P-9': [1] } } }, 'pump "P-9" is not an inlet of step "reaction"'],
    [{ measure: ['c:zz' as const] }, 'cannot measure "c:zz"'],
    [{ design: { replicates: 0 } }, 'replicates must be a positive integer'],
    [{ design: { flows: { 'P-1': [-1] } } }, 'flow -1 of P-1 must be a non-negative number'],
    [{ step: 'nope' }, 'unknown step "nope"'],
    [{ truth: { 'reactions.a-to-b.k': Number.NaN } }, 'is not a finite number'],
  ])('refuses bad options: %j', (options, message) => {
    expect(() => syntheticExperiments(recipe, options)).toThrow(CalibrationError);
    expect(() => syntheticExperiments(recipe, options)).toThrow(message);
  });
});
