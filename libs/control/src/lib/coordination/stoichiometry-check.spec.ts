import { join } from 'node:path';
import { NORMAL_MOLAR_VOLUME, compilePlant, loadRecipe } from '@pipac/recipe';
import { CoordinationError } from './coordination.error';
import {
  DEFAULT_STOICHIOMETRY_TOLERANCE,
  checkStoichiometry,
  keyReactantMoles,
  keyRequiredMoles,
} from './stoichiometry-check';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));
const hydrogenation = model.steps.find((s) => s.id === 'hydrogenation')!;
const nitration = model.steps.find((s) => s.id === 'nitration')!;

const check = (produced: number, consumed: number, extra: object = {}) =>
  checkStoichiometry({
    step: 'hydrogenation',
    product: '4-aminophenol',
    keyReactant: '4-nitrophenol',
    produced,
    keyRequired: keyRequiredMoles(model, hydrogenation, produced),
    keyConsumed: keyReactantMoles(model, hydrogenation, {
      material: '4-nitrophenol',
      quantity: consumed,
      unit: 'g',
    }),
    ...extra,
  });

describe('checkStoichiometry', () => {
  it('fails the demo’s impossible record: 25.58 g 4-aminophenol from 30.1 g 4-nitrophenol', () => {
    // 30.1 g / 139.110 g/mol × 1 × 109.128 g/mol = 23.61 g at most.
    const result = check(25.58, 30.1);
    expect(result.status).toBe('fail');
    expect(result.maxProduct).toBeCloseTo((30.1 / 139.11) * 109.128, 9);
    expect(result.maxProduct).toBeCloseTo(23.61, 2);
    expect(result.yield).toBeCloseTo(25.58 / 23.613, 3);
    expect(result.reason).toMatch(
      /25\.58 g 4-aminophenol needs .* 4-nitrophenol; .* allows 23\.61 g/,
    );
  });

  it('passes a possible one, and holds the stated tolerance at its edge', () => {
    expect(check(22.4, 30.1)).toMatchObject({ status: 'pass' });
    const max = (30.1 / 139.11) * 109.128;
    const { relative, absolute } = DEFAULT_STOICHIOMETRY_TOLERANCE;
    const edge = max * (1 + relative) + absolute * 109.128;
    expect(check(edge * (1 - 1e-9), 30.1).status).toBe('pass');
    expect(check(edge * (1 + 1e-6), 30.1).status).toBe('fail');
    expect(check(edge, 30.1, {}).allowed).toBeCloseTo((30.1 / 139.11) * 1.03 + 0.001, 12);
  });

  it('passes zero flow: nothing made, nothing consumed', () => {
    expect(check(0, 0)).toMatchObject({ status: 'pass', yield: null, maxProduct: null });
  });

  it('fails product made from nothing, beyond the absolute allowance', () => {
    expect(check(0.05, 0).status).toBe('pass'); // 0.46 mmol < 1 mmol: round-off of a short order
    expect(check(1, 0)).toMatchObject({ status: 'fail', yield: null, maxProduct: 0 });
  });

  it('cannot verify an excess when consumption went unmeasured, and names why', () => {
    const result = check(25.58, 30.1, {
      unmeasured: ['no good AT-101.4-nitrophenol reading', 'no good AT-101.4-nitrophenol reading'],
    });
    expect(result.status).toBe('unverifiable');
    expect(result.reason).toMatch(
      /some consumption unmeasured \(no good AT-101\.4-nitrophenol reading\)$/,
    );
    // Unmeasured consumption does not spoil a record that passes anyway.
    expect(check(20, 30.1, { unmeasured: ['x'] }).status).toBe('pass');
  });

  it('says how much of the consumption was estimated', () => {
    expect(check(20, 30.1, { keyEstimated: 0.05 }).reason).toMatch(
      /50\.0 mmol of the 4-nitrophenol consumed is estimated/,
    );
  });

  it('refuses NaN, infinite and negative figures', () => {
    const base = {
      step: 's',
      product: 'p',
      keyReactant: 'k',
      produced: 1,
      keyRequired: 1,
      keyConsumed: 1,
    };
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.1]) {
      expect(() => checkStoichiometry({ ...base, produced: bad })).toThrow(CoordinationError);
      expect(() => checkStoichiometry({ ...base, keyRequired: bad })).toThrow(/keyRequired/);
      expect(() => checkStoichiometry({ ...base, keyConsumed: bad })).toThrow(/keyConsumed/);
      expect(() => checkStoichiometry({ ...base, keyEstimated: bad })).toThrow(/keyEstimated/);
      expect(() => checkStoichiometry(base, { relative: bad, absolute: 0 })).toThrow(/tolerance/);
      expect(() => keyRequiredMoles(model, hydrogenation, bad)).toThrow(CoordinationError);
      expect(() =>
        keyReactantMoles(model, hydrogenation, {
          material: '4-nitrophenol',
          quantity: bad,
          unit: 'g',
        }),
      ).toThrow(CoordinationError);
    }
  });
});

describe('keyReactantMoles', () => {
  it('reads a feed at its stock concentration, a drawn intermediate by its molar mass', () => {
    // 100 mL of phenol 0.5 mol/L.
    expect(
      keyReactantMoles(model, nitration, {
        material: 'phenol-solution',
        quantity: 100,
        unit: 'mL',
      }),
    ).toBeCloseTo(0.05, 15);
    // Nitric acid carries no phenol; hydrogen carries no 4-nitrophenol.
    expect(
      keyReactantMoles(model, nitration, {
        material: 'nitric-acid-solution',
        quantity: 100,
        unit: 'mL',
      }),
    ).toBe(0);
    expect(
      keyReactantMoles(model, hydrogenation, {
        material: 'hydrogen-gas',
        quantity: 1000,
        unit: 'NmL',
      }),
    ).toBe(0);
    expect(
      keyReactantMoles(model, hydrogenation, {
        material: '4-nitrophenol',
        quantity: 13.911,
        unit: 'g',
      }),
    ).toBeCloseTo(0.1, 12);
    expect(
      keyReactantMoles(model, hydrogenation, { material: '2-nitrophenol', quantity: 5, unit: 'g' }),
    ).toBe(0);
    expect(() =>
      keyReactantMoles(model, hydrogenation, {
        material: '4-nitrophenol',
        quantity: 1,
        unit: 'mL',
      }),
    ).toThrow(CoordinationError);
    expect(NORMAL_MOLAR_VOLUME).toBeGreaterThan(22);
  });

  it('needs the synthesis reaction’s key per product (1:1 for every step of the reference plant)', () => {
    expect(keyRequiredMoles(model, hydrogenation, 109.128)).toBeCloseTo(1, 12);
    expect(keyRequiredMoles(model, hydrogenation, 0)).toBe(0);
  });
});
