import { join } from 'node:path';
import {
  compilePlant,
  type StepModel,
  celsiusToKelvin,
  loadRecipe,
  type ReactionSpec,
} from '@pipac/recipe';
import { SeededRandom } from '../random/seeded-random';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { compileRateKernel } from './rate-kernel';
import { StepKinetics } from './step-kinetics';
import { expectClose } from '../testing/expect-close';

const RECIPES = join(__dirname, '../../../../../recipes');

/** Reactions with every order the kernel special-cases, and one it does not. */
const ORDERS: ReactionSpec[] = [0.5, 1, 1.5, 2, 2.5, 3, 0.7].map((order, j) => ({
  id: `r${j}`,
  stoichiometry: { a: -1, b: -1, c: 1 },
  rateLaw: {
    k: { value: 0.01 * (j + 1), referenceTemperature: 30 + j },
    activationEnergy: 40 + 5 * j,
    orders: { a: order, b: 1 },
  },
  heatOfReaction: -20 * j,
}));

/** Reversible reactions: elementary (A + B ⇌ C) and with reverse orders of their own (A ⇌ D). */
const REVERSIBLE: ReactionSpec[] = [
  {
    id: 'ab-c',
    stoichiometry: { a: -1, b: -1, c: 1 },
    rateLaw: {
      k: { value: 0.02, referenceTemperature: 30 },
      activationEnergy: 50,
      orders: { a: 1, b: 1 },
      reverse: { equilibriumConstant: { value: 3, referenceTemperature: 50 } },
    },
    heatOfReaction: -60,
  },
  {
    id: 'a-d',
    stoichiometry: { a: -1, d: 1 },
    rateLaw: {
      k: { value: 0.005, referenceTemperature: 40 },
      activationEnergy: 70,
      orders: { a: 1 },
      reverse: {
        equilibriumConstant: { value: 0.5, referenceTemperature: 40 },
        orders: { d: 1.5 },
      },
    },
    heatOfReaction: 25,
  },
];

/**
 * Catalytic rates inhibited by adsorption: dual-site (exponent 2) with two adsorbing species,
 * reversible and single-site, and a fractional exponent.
 */
const ADSORBED: ReactionSpec[] = [
  {
    id: 'lh-dual',
    stoichiometry: { a: -1, b: -1, c: 1 },
    rateLaw: {
      k: { value: 0.05, referenceTemperature: 50 },
      activationEnergy: 80,
      orders: { a: 1, b: 1 },
      adsorption: {
        species: {
          a: { value: 2, referenceTemperature: 50, enthalpy: -30 },
          b: { value: 0.5, referenceTemperature: 70, enthalpy: -10 },
        },
        exponent: 2,
      },
    },
    heatOfReaction: -90,
  },
  {
    id: 'lh-reversible',
    stoichiometry: { a: -1, d: 1 },
    rateLaw: {
      k: { value: 0.01, referenceTemperature: 40 },
      activationEnergy: 60,
      orders: { a: 1 },
      reverse: { equilibriumConstant: { value: 4, referenceTemperature: 40 } },
      adsorption: { species: { d: { value: 1.5, referenceTemperature: 40, enthalpy: -20 } } },
    },
    heatOfReaction: -15,
  },
  {
    id: 'lh-fractional',
    stoichiometry: { b: -1, d: 1 },
    rateLaw: {
      k: { value: 0.02, referenceTemperature: 60 },
      activationEnergy: 45,
      orders: { b: 0.7 },
      adsorption: { species: { c: { value: 0.8, referenceTemperature: 60 } }, exponent: 1.5 },
    },
  },
];

const steps: [string, StepModel][] = [
  ['every special-cased order', compilePlant(oneStepRecipe({ reactions: ORDERS })).steps[0]!],
  ['reversible reactions', compilePlant(oneStepRecipe({ reactions: REVERSIBLE })).steps[0]!],
  [
    'adsorption (Langmuir–Hinshelwood)',
    compilePlant(oneStepRecipe({ reactions: ADSORBED })).steps[0]!,
  ],
  ['benchmark-5x4', compilePlant(loadRecipe(join(RECIPES, 'benchmark-5x4.yaml'))).steps[0]!],
  ...compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml'))).steps.map(
    (s): [string, StepModel] => [`paracetamol ${s.id}`, s],
  ),
];

/** The documented consumption frequency, max_i Σ_j max(−ν_ij, 0)·r_j / c_i, from given rates. */
function consumptionFrequency(step: StepModel, rates: Float64Array, c: Float64Array): number {
  const consumption = new Map<number, number>();
  step.reactions.forEach((reaction, j) => {
    reaction.stoichSpecies.forEach((i, p) => {
      const nu = reaction.stoich[p]!;
      if (nu < 0) consumption.set(i, (consumption.get(i) ?? 0) - nu * rates[j]!);
    });
  });
  let worst = 0;
  for (const [i, rate] of consumption) if (c[i]! > 0) worst = Math.max(worst, rate / c[i]!);
  return worst;
}

/** Random concentrations in [0, 2) mol/L, with some exactly zero. */
function randomState(random: SeededRandom, n: number): Float64Array {
  return Float64Array.from({ length: n }, () =>
    random.uniform() < 0.15 ? 0 : 2 * random.uniform(),
  );
}

describe('compileRateKernel', () => {
  describe.each(steps)('for %s', (_name, step) => {
    const n =
      step.reactions.reduce((max, r) => Math.max(max, ...r.stoichSpecies, ...r.orderSpecies), 0) +
      1;
    const kinetics = new StepKinetics(step);
    const kernel = compileRateKernel(step.reactions);

    it('agrees with the table-driven StepKinetics on rates and heat, and sums consumption over reactions', () => {
      const random = new SeededRandom(17);
      for (let trial = 0; trial < 200; trial++) {
        const c = randomState(random, n);
        const T = celsiusToKelvin(10 + 100 * random.uniform());
        const multiplier = random.uniform();
        const scale = 0.1 + random.uniform();
        const expected = new Float64Array(n);
        const heat = kinetics.evaluate(c, 0, T, multiplier);
        kinetics.accumulate(expected, 0, scale);
        // Reversible reactions also consume their products (StepKinetics documents how).
        const frequency = step.reactions.some((r) => r.reverse)
          ? kinetics.maxConsumptionFrequency(c, 0)
          : consumptionFrequency(step, kinetics.rates, c);
        const out = new Float64Array(n);
        kernel.apply(c, 0, T, multiplier, out, 0, scale);
        expectClose(kernel.result[0]!, heat, 1e-12, 1e-300);
        expectClose(kernel.result[1]!, frequency, 1e-12, 1e-300);
        for (let i = 0; i < n; i++) expectClose(out[i]!, expected[i]!, 1e-12, 1e-18);
      }
    });

    it('reads and writes at offsets, and may update the state in place', () => {
      const random = new SeededRandom(5);
      const c = randomState(random, n);
      const T = celsiusToKelvin(45);
      const separate = new Float64Array(n);
      kernel.apply(c, 0, T, 1, separate, 0, 0.5);
      const padded = new Float64Array(3 + n);
      padded.set(c, 3);
      kernel.apply(padded, 3, T, 1, padded, 3, 0.5);
      for (let i = 0; i < n; i++) expectClose(padded[3 + i]!, c[i]! + separate[i]!, 1e-14, 1e-18);
      expect(Array.from(padded.subarray(0, 3))).toEqual([0, 0, 0]);
    });

    it('its Jacobian matches central finite differences', () => {
      const random = new SeededRandom(23);
      const ld = n + 1;
      for (let trial = 0; trial < 10; trial++) {
        // Strictly positive concentrations: the clamp at zero has no derivative.
        const c = Float64Array.from({ length: n }, () => 0.05 + random.uniform());
        const T = celsiusToKelvin(20 + 60 * random.uniform());
        const J = new Float64Array(ld * ld);
        kernel.jacobian(c, 0, T, 0.8, J, ld, n);
        const evaluate = (state: Float64Array, temperature: number): Float64Array => {
          const out = new Float64Array(ld);
          kernel.apply(state, 0, temperature, 0.8, out, 0, 1);
          out[n] = kernel.result[0]!;
          return out;
        };
        for (let l = 0; l <= n; l++) {
          const h = l < n ? 1e-6 * c[l]! : 1e-4;
          const plus = Float64Array.from(c);
          const minus = Float64Array.from(c);
          let tPlus = T;
          let tMinus = T;
          if (l < n) {
            plus[l]! += h;
            minus[l]! -= h;
          } else {
            tPlus += h;
            tMinus -= h;
          }
          const fPlus = evaluate(plus, tPlus);
          const fMinus = evaluate(minus, tMinus);
          for (let i = 0; i <= n; i++) {
            const numeric = (fPlus[i]! - fMinus[i]!) / (2 * h);
            const scaleOfRow = Math.max(
              ...Array.from({ length: ld }, (_, k) => Math.abs(J[i * ld + k]!)),
              1e-12,
            );
            expectClose(J[i * ld + l]!, numeric, 1e-5, 1e-7 * scaleOfRow);
          }
        }
      }
    });
  });

  it('gives zero rates at zero or negative concentrations, for every order', () => {
    const step = steps[0]![1];
    const kernel = compileRateKernel(step.reactions);
    for (const a of [0, -1e-9, -1]) {
      const out = new Float64Array(4);
      kernel.apply(Float64Array.from([a, 1, 0, 0]), 0, celsiusToKelvin(50), 1, out, 0, 1);
      expect(Array.from(out)).toEqual([0, 0, 0, 0]);
      expect(kernel.result[0]).toBe(0);
      expect(kernel.result[1]).toBe(0);
    }
  });

  it('follows the temperature after caching k(T)', () => {
    const step = compilePlant(oneStepRecipe()).steps[0]!;
    const kernel = compileRateKernel(step.reactions);
    const kinetics = new StepKinetics(step);
    const c = Float64Array.from([1, 0, 0, 0]);
    for (const celsius of [25, 60, 25, 0]) {
      const T = celsiusToKelvin(celsius);
      const out = new Float64Array(4);
      kernel.apply(c, 0, T, 1, out, 0, 1);
      expectClose(-out[0]!, kinetics.rateConstant(0, T), 1e-12);
    }
  });

  it('a zero rate constant compiles to a zero rate', () => {
    const none: ReactionSpec = {
      ...ORDERS[1]!,
      rateLaw: { ...ORDERS[1]!.rateLaw, k: { value: 0, referenceTemperature: 25 } },
    };
    const kernel = compileRateKernel(
      compilePlant(oneStepRecipe({ reactions: [none] })).steps[0]!.reactions,
    );
    const out = new Float64Array(4);
    kernel.apply(Float64Array.from([1, 1, 0, 0]), 0, celsiusToKelvin(80), 1, out, 0, 1);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
  });

  it('puts only numbers from the model into its source', () => {
    const kernel = compileRateKernel(steps[1]![1].reactions);
    expect(kernel.source).not.toMatch(/[a-z]+-[a-z]+/); // no recipe ids such as species or reaction names
    expect(kernel.source).toContain('Math.sqrt');
  });
});
