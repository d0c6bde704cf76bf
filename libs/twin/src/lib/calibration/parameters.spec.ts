import type { Recipe } from '@pipac/recipe';
import { FIRST_ORDER, oneStepRecipe } from '@pipac/recipe/testing';
import { CalibrationError } from './calibration.error';
import {
  getParameter,
  parameterUnit,
  parseParameterPath,
  parseParameterPaths,
  withParameters,
} from './parameters';

describe('parameter paths', () => {
  const recipe = oneStepRecipe();

  it('parses k, activationEnergy (alias Ea) and orders into canonical paths', () => {
    expect(parseParameterPath('reactions.a-to-b.k', recipe)).toEqual({
      path: 'reactions.a-to-b.k',
      reaction: 'a-to-b',
      kind: 'k',
    });
    expect(parseParameterPath(' reactions.a-to-b.Ea ', recipe)).toEqual({
      path: 'reactions.a-to-b.activationEnergy',
      reaction: 'a-to-b',
      kind: 'activationEnergy',
    });
    expect(parseParameterPath('reactions.a-to-b.orders.a', recipe)).toMatchObject({
      kind: 'order',
      species: 'a',
    });
  });

  it('finds reaction ids that contain dots', () => {
    const dotted: Recipe = { ...recipe, reactions: [{ ...FIRST_ORDER, id: 'step1.main' }] };
    expect(parseParameterPath('reactions.step1.main.k', dotted)).toMatchObject({
      reaction: 'step1.main',
      kind: 'k',
    });
  });

  it.each([
    ['k', 'expected reactions.<id>.k'],
    ['reactions.nope.k', 'unknown reaction "nope"; the recipe has a-to-b'],
    [
      'reactions.a-to-b.heatOfReaction',
      '"heatOfReaction" is not a fittable field of reaction "a-to-b"',
    ],
    ['reactions.a-to-b.orders.zz', 'unknown species "zz"'],
  ])('refuses %s with a reason', (path, reason) => {
    expect(() => parseParameterPath(path, recipe)).toThrow(reason);
    try {
      parseParameterPath(path, recipe);
    } catch (error) {
      expect((error as CalibrationError).code).toBe('PARAMETER_INVALID');
    }
  });

  it('refuses an empty list and duplicates (also through an alias)', () => {
    expect(() => parseParameterPaths([], recipe)).toThrow('choose at least one parameter');
    expect(() =>
      parseParameterPaths(['reactions.a-to-b.Ea', 'reactions.a-to-b.activationEnergy'], recipe),
    ).toThrow('listed twice');
  });
});

describe('getParameter / withParameters', () => {
  const recipe = oneStepRecipe();
  const refs = parseParameterPaths(
    ['reactions.a-to-b.k', 'reactions.a-to-b.activationEnergy', 'reactions.a-to-b.orders.b'],
    recipe,
  );

  it('reads the recipe values; an order the rate law omits is 0', () => {
    expect(refs.map((ref) => getParameter(recipe, ref))).toEqual([0.01, 50, 0]);
  });

  it('sets values on a copy, sharing what it does not touch', () => {
    const before = JSON.stringify(recipe);
    const changed = withParameters(recipe, refs, [0.02, 60, 0.5]);
    expect(JSON.stringify(recipe)).toBe(before);
    expect(refs.map((ref) => getParameter(changed, ref))).toEqual([0.02, 60, 0.5]);
    expect(changed.reactions[0]?.rateLaw.orders).toEqual({ a: 1, b: 0.5 });
    expect(changed.steps).toBe(recipe.steps);
    expect(() => withParameters(recipe, refs, [1])).toThrow(
      'no value for parameter reactions.a-to-b.activationEnergy',
    );
  });

  it('gives k the unit its total order implies, at the reference temperature', () => {
    const k = refs[0]!;
    const withOrders = (orders: Record<string, number>) => ({
      ...recipe,
      reactions: [{ ...FIRST_ORDER, rateLaw: { ...FIRST_ORDER.rateLaw, orders } }],
    });
    expect(parameterUnit(recipe, k)).toBe('1/s at 25 °C');
    expect(parameterUnit(withOrders({ a: 1, b: 1 }), k)).toBe('L/(mol·s) at 25 °C');
    expect(parameterUnit(withOrders({}), k)).toBe('mol/(L·s) at 25 °C');
    expect(parameterUnit(withOrders({ a: 1.5 }), k)).toBe('(mol/L)^-0.5/s at 25 °C');
    expect(parameterUnit(recipe, refs[1]!)).toBe('kJ/mol');
    expect(parameterUnit(recipe, refs[2]!)).toBe('-');
  });
});
