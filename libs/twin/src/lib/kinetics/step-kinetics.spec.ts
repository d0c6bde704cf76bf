import {
  compilePlant,
  type StepModel,
  GAS_CONSTANT,
  celsiusToKelvin,
  type ReactionSpec,
} from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { StepKinetics } from './step-kinetics';
import { expectClose } from '../testing/expect-close';

/** Species order of the fixture: a, b, c, d. */
const A = 0;
const B = 1;
const C = 2;

function reaction(
  id: string,
  orders: Record<string, number>,
  k = 0.02,
  ea = 60,
  heat = 0,
): ReactionSpec {
  return {
    id,
    stoichiometry: { a: -1, b: -1, c: 1 },
    rateLaw: { k: { value: k, referenceTemperature: 40 }, activationEnergy: ea, orders },
    heatOfReaction: heat,
  };
}

function stepWith(reactions: ReactionSpec[]): StepModel {
  return compilePlant(oneStepRecipe({ reactions })).steps[0]!;
}

function concentrations(a: number, b: number, c = 0, d = 0): Float64Array {
  return Float64Array.from([a, b, c, d]);
}

const T_REF = celsiusToKelvin(40);

describe('StepKinetics', () => {
  describe('Arrhenius rate constant', () => {
    const kinetics = new StepKinetics(stepWith([reaction('r', { a: 1 }, 0.02, 60)]));

    it('is k_ref at the reference temperature', () => {
      expectClose(kinetics.rateConstant(0, T_REF), 0.02, 1e-15);
    });

    it.each([
      [20, 40],
      [40, 80],
      [60, 25],
      [-10, 150],
    ])('k(%s °C)/k(%s °C) = exp(−Ea/R·(1/T₁ − 1/T₂))', (t1, t2) => {
      const T1 = celsiusToKelvin(t1);
      const T2 = celsiusToKelvin(t2);
      const ratio = kinetics.rateConstant(0, T1) / kinetics.rateConstant(0, T2);
      expectClose(ratio, Math.exp((-60_000 / GAS_CONSTANT) * (1 / T1 - 1 / T2)), 1e-12);
    });

    it('the rate evaluation uses the same k(T) as rateConstant', () => {
      const c = concentrations(1, 1);
      for (const celsius of [0, 25, 40, 77.7, 120]) {
        const T = celsiusToKelvin(celsius);
        kinetics.evaluate(c, 0, T, 1);
        expectClose(kinetics.rates[0]!, kinetics.rateConstant(0, T), 1e-12);
      }
    });

    it('follows a temperature change after caching k(T), and back', () => {
      const c = concentrations(0.5, 1);
      const cold = celsiusToKelvin(20);
      const hot = celsiusToKelvin(80);
      kinetics.evaluate(c, 0, cold, 1);
      const first = kinetics.rates[0]!;
      kinetics.evaluate(c, 0, hot, 1);
      expectClose(kinetics.rates[0]!, 0.5 * kinetics.rateConstant(0, hot), 1e-12);
      kinetics.evaluate(c, 0, cold, 1);
      expect(kinetics.rates[0]).toBe(first);
    });

    it('a zero activation energy makes k independent of temperature', () => {
      const flat = new StepKinetics(stepWith([reaction('r', { a: 1 }, 0.02, 0)]));
      expectClose(flat.rateConstant(0, celsiusToKelvin(150)), 0.02, 1e-15);
    });

    it('a zero rate constant gives zero rates at any temperature', () => {
      const none = new StepKinetics(stepWith([reaction('r', { a: 1 }, 0, 60)]));
      none.evaluate(concentrations(1, 1), 0, celsiusToKelvin(100), 1);
      expect(none.rates[0]).toBe(0);
    });
  });

  describe('power-law rates', () => {
    it.each([0.5, 1, 1.5, 2, 0.7, 2.3, 3])('order %s in A equals k·Math.pow(c, n)', (order) => {
      const kinetics = new StepKinetics(stepWith([reaction('r', { a: order })]));
      for (const a of [1e-9, 0.003, 0.25, 1, 1.7, 12]) {
        kinetics.evaluate(concentrations(a, 1), 0, T_REF, 1);
        expectClose(kinetics.rates[0]!, 0.02 * Math.pow(a, order), 1e-13);
      }
    });

    it('mixed orders multiply: k·a^0.5·b^1.5 and k·a^0.7·b', () => {
      const kinetics = new StepKinetics(
        stepWith([reaction('r1', { a: 0.5, b: 1.5 }), reaction('r2', { a: 0.7, b: 1 }, 0.005)]),
      );
      kinetics.evaluate(concentrations(0.3, 0.8), 0, T_REF, 1);
      expectClose(kinetics.rates[0]!, 0.02 * Math.pow(0.3, 0.5) * Math.pow(0.8, 1.5), 1e-13);
      expectClose(kinetics.rates[1]!, 0.005 * Math.pow(0.3, 0.7) * 0.8, 1e-13);
    });

    it.each([0.5, 1, 1.5, 2, 0.7])(
      'order %s gives a zero rate at zero or negative concentration',
      (order) => {
        const kinetics = new StepKinetics(stepWith([reaction('r', { a: order, b: 1 })]));
        for (const a of [0, -0, -1e-12, -0.5]) {
          kinetics.evaluate(concentrations(a, 1), 0, T_REF, 1);
          expect(kinetics.rates[0]).toBe(0);
          expect(Number.isNaN(kinetics.rates[0])).toBe(false);
        }
        // The other factor being negative also stops the reaction.
        kinetics.evaluate(concentrations(1, -0.1), 0, T_REF, 1);
        expect(kinetics.rates[0]).toBe(0);
      },
    );

    it('a zero order leaves the rate independent of that species', () => {
      const kinetics = new StepKinetics(stepWith([reaction('r', { a: 1, b: 0 })]));
      kinetics.evaluate(concentrations(0.4, 0), 0, T_REF, 1);
      expectClose(kinetics.rates[0]!, 0.02 * 0.4, 1e-15);
    });

    it('the multiplier (activity × mismatch) scales every rate', () => {
      const kinetics = new StepKinetics(
        stepWith([reaction('r1', { a: 1 }), reaction('r2', { b: 2 })]),
      );
      kinetics.evaluate(concentrations(0.6, 0.9), 0, T_REF, 1);
      const base = Array.from(kinetics.rates);
      kinetics.evaluate(concentrations(0.6, 0.9), 0, T_REF, 0.25);
      expectClose(kinetics.rates[0]!, 0.25 * base[0]!, 1e-15);
      expectClose(kinetics.rates[1]!, 0.25 * base[1]!, 1e-15);
    });

    it('reads the concentrations at an offset (one cell of many)', () => {
      const kinetics = new StepKinetics(stepWith([reaction('r', { a: 1, b: 1 })]));
      const cells = Float64Array.from([9, 9, 9, 9, 9, 0.2, 0.5, 0, 0]);
      kinetics.evaluate(cells, 5, T_REF, 1);
      expectClose(kinetics.rates[0]!, 0.02 * 0.2 * 0.5, 1e-15);
    });
  });

  describe('heat and stoichiometry', () => {
    it('returns the heat released, Σ(−ΔH)·r, in W/L', () => {
      const kinetics = new StepKinetics(
        stepWith([
          reaction('r1', { a: 1 }, 0.02, 60, -100),
          reaction('r2', { b: 1 }, 0.01, 60, 30),
        ]),
      );
      const heat = kinetics.evaluate(concentrations(0.5, 0.4), 0, T_REF, 1);
      expectClose(heat, 100_000 * 0.02 * 0.5 - 30_000 * 0.01 * 0.4, 1e-13);
    });

    it('accumulates scale × Σ ν·r into the derivative', () => {
      const kinetics = new StepKinetics(stepWith([reaction('r', { a: 1, b: 1 })]));
      kinetics.evaluate(concentrations(0.5, 0.4), 0, T_REF, 1);
      const r = 0.02 * 0.5 * 0.4;
      const out = Float64Array.from([1, 1, 1, 1]);
      kinetics.accumulate(out, 0, 2);
      expectClose(out[A]!, 1 - 2 * r, 1e-15);
      expectClose(out[B]!, 1 - 2 * r, 1e-15);
      expectClose(out[C]!, 1 + 2 * r, 1e-15);
      expect(out[3]).toBe(1);
    });

    it('the fastest consumption frequency is max ν·r/c over consumed species', () => {
      const kinetics = new StepKinetics(stepWith([reaction('r', { a: 1, b: 1 })]));
      kinetics.evaluate(concentrations(0.5, 0.1), 0, T_REF, 1);
      const r = 0.02 * 0.5 * 0.1;
      expectClose(kinetics.maxConsumptionFrequency(concentrations(0.5, 0.1), 0), r / 0.1, 1e-14);
      kinetics.evaluate(concentrations(0, 0.1), 0, T_REF, 1);
      expect(kinetics.maxConsumptionFrequency(concentrations(0, 0.1), 0)).toBe(0);
    });

    it('sums the consumption of a species over every reaction that consumes it', () => {
      const kinetics = new StepKinetics(
        stepWith([reaction('r1', { a: 1 }), reaction('r2', { a: 1 })]),
      );
      const c = concentrations(0.5, 1);
      kinetics.evaluate(c, 0, T_REF, 1);
      // Each reaction consumes A at 0.02·0.5 mol/(L·s): together 2 × 0.02 /s.
      expectClose(kinetics.maxConsumptionFrequency(c, 0), 0.04, 1e-12);
    });
  });

  describe('reversible reactions', () => {
    // A + B ⇌ C: k 0.02 L/(mol·s) at 40 °C, Ea 60 kJ/mol; K 4 L/mol at 60 °C, ΔH −50 kJ/mol.
    const spec: ReactionSpec = {
      ...reaction('r', { a: 1, b: 1 }, 0.02, 60, -50),
      rateLaw: {
        ...reaction('r', { a: 1, b: 1 }, 0.02, 60).rateLaw,
        reverse: { equilibriumConstant: { value: 4, referenceTemperature: 60 } },
      },
    };
    const kinetics = new StepKinetics(stepWith([spec]));
    /** K(T) by van 't Hoff from 4 L/mol at 60 °C with ΔH −50 kJ/mol. */
    const equilibrium = (T: number) =>
      4 * Math.exp((50_000 / GAS_CONSTANT) * (1 / T - 1 / celsiusToKelvin(60)));

    it.each([20, 60, 95])('r = k(T)·(c_a·c_b − c_c/K(T)) at %s °C', (celsius) => {
      const T = celsiusToKelvin(celsius);
      kinetics.evaluate(concentrations(0.8, 0.5, 0.3), 0, T, 0.9);
      const expected = 0.9 * kinetics.rateConstant(0, T) * (0.8 * 0.5 - 0.3 / equilibrium(T));
      expectClose(kinetics.rates[0]!, expected, 1e-12);
    });

    it('stands still at equilibrium and runs backwards beyond it', () => {
      const T = celsiusToKelvin(75);
      const c = 0.6 * 0.4 * equilibrium(T);
      kinetics.evaluate(concentrations(0.6, 0.4, c), 0, T, 1);
      expect(Math.abs(kinetics.rates[0]!)).toBeLessThan(1e-15);
      kinetics.evaluate(concentrations(0.6, 0.4, 2 * c), 0, T, 1);
      expect(kinetics.rates[0]!).toBeLessThan(0);
    });

    it('counts the product consumed by the reverse rate in the consumption frequency', () => {
      const T = celsiusToKelvin(40);
      // No A: nothing goes forward, and C decomposes at k/K·c_c, a frequency of k/K.
      kinetics.evaluate(concentrations(0, 0.5, 0.3), 0, T, 1);
      const frequency = kinetics.maxConsumptionFrequency(concentrations(0, 0.5, 0.3), 0);
      expectClose(frequency, kinetics.rateConstant(0, T) / equilibrium(T), 1e-12);
    });
  });

  describe('adsorption (Langmuir–Hinshelwood)', () => {
    // Dual site: r = k·c_a·c_b/(1 + K_a(T)·c_a + K_b(T)·c_b)²; K_a 2 L/mol at 40 °C with
    // ΔH_ads −30 kJ/mol, K_b 0.5 L/mol at 80 °C with none.
    const base = reaction('r', { a: 1, b: 1 }, 0.02, 60);
    const kinetics = new StepKinetics(
      stepWith([
        {
          ...base,
          rateLaw: {
            ...base.rateLaw,
            adsorption: {
              species: {
                a: { value: 2, referenceTemperature: 40, enthalpy: -30 },
                b: { value: 0.5, referenceTemperature: 80 },
              },
              exponent: 2,
            },
          },
        },
      ]),
    );

    it.each([20, 40, 90])('r = k·c_a·c_b/(1 + K_a(T)·c_a + K_b·c_b)² at %s °C', (celsius) => {
      const T = celsiusToKelvin(celsius);
      const Ka = 2 * Math.exp((30_000 / GAS_CONSTANT) * (1 / T - 1 / celsiusToKelvin(40)));
      kinetics.evaluate(concentrations(0.8, 0.5, 0.3), 0, T, 1);
      const expected = (kinetics.rateConstant(0, T) * 0.8 * 0.5) / (1 + Ka * 0.8 + 0.5 * 0.5) ** 2;
      expectClose(kinetics.rates[0]!, expected, 1e-12);
    });
  });
});
