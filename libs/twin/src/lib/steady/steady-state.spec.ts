import { join } from 'node:path';
import {
  compilePlant,
  stepById,
  type PlantModel,
  GAS_CONSTANT,
  celsiusToKelvin,
  loadRecipe,
  type ReactionSpec,
  type Recipe,
} from '@pipac/recipe';
import {
  FIRST_ORDER,
  oneStepRecipe,
  type OneStepOptions,
  SECOND_ORDER,
  EXOTHERMIC,
} from '@pipac/recipe/testing';
import { solvePlantSteadyState, solveStepOutlet, solveStepSteadyState } from './steady-state';
import type { SolverOptions, StepConditions, StepSteadyState } from './steady-state.types';
import { expectClose } from '../testing/expect-close';

const RECIPES = join(__dirname, '../../../../../recipes');
const TIGHT: SolverOptions = { rtol: 1e-11, atol: 1e-14 };

function plant(options: OneStepOptions = {}): PlantModel {
  return compilePlant(oneStepRecipe(options));
}

function solve(
  model: PlantModel,
  conditions: StepConditions = {},
  options: SolverOptions = {},
): StepSteadyState {
  return solveStepSteadyState(model, 'reaction', conditions, options);
}

/** |actual − expected| ≤ rtol·|expected| + atol, with both numbers in the failure message. */

/** Arrhenius rate constant of the fixture reactions (k 0.01 /s at 25 °C, Ea 50 kJ/mol) at T °C. */
function fixtureK(celsius: number): number {
  return (
    0.01 *
    Math.exp((-50_000 / GAS_CONSTANT) * (1 / celsiusToKelvin(celsius) - 1 / celsiusToKelvin(25)))
  );
}

const TAU = 600; // s: 10 mL at 1 mL/min

describe('steady state', () => {
  describe('analytic solutions', () => {
    it.each([1, 2, 5, 20])('first-order plug flow at %s mL/min: X = 1 − exp(−kτ)', (flow) => {
      const tau = (10 / flow) * 60;
      const x = 1 - Math.exp(-0.01 * tau);
      const result = solve(plant({ flow }));
      expect(result.residenceTime).toBeCloseTo(tau, 10);
      expectClose(result.figures.conversion, x, 1e-6);
      const tight = solve(plant({ flow }), {}, TIGHT);
      expectClose(tight.outlet['a']!, 1 - x, 1e-8);
      expectClose(tight.outlet['b']!, x, 1e-8);
    });

    it('second order A + B → C with equal inlet concentrations: X = kC₀τ/(1 + kC₀τ)', () => {
      const da = 0.01 * 1 * TAU;
      const result = solve(plant({ reactions: [SECOND_ORDER], feed: { a: 1, b: 1 } }), {}, TIGHT);
      expectClose(result.figures.conversion, da / (1 + da), 1e-8);
      expectClose(result.outlet['c']!, da / (1 + da), 1e-8);
      expect(result.figures.selectivity).toBeCloseTo(1, 12);
    });

    it('mixes two feeds before the reactor: 2 M A and 2 M B at equal flows give 1 M each', () => {
      const recipe: Recipe = oneStepRecipe({ reactions: [SECOND_ORDER] });
      recipe.feeds = [
        { id: 'feed-a', concentrations: { a: 2 } },
        { id: 'feed-b', concentrations: { b: 2 } },
      ];
      recipe.steps[0]!.inlets = [
        { pump: 'P-1', feed: 'feed-a', flow: { nominal: 0.5, min: 0, max: 10 } },
        { pump: 'P-2', feed: 'feed-b', flow: { nominal: 0.5, min: 0, max: 10 } },
      ];
      const result = solve(compilePlant(recipe), {}, TIGHT);
      expect(result.inlet['a']).toBeCloseTo(1, 14);
      expect(result.inlet['b']).toBeCloseTo(1, 14);
      expect(result.residenceTime).toBeCloseTo(TAU, 10);
      const da = 0.01 * 1 * TAU;
      expectClose(result.figures.conversion, da / (1 + da), 1e-8);
    });

    it('first-order ideal CSTR: X = kτ/(1 + kτ)', () => {
      const model = plant({ reactor: { type: 'cstr' } });
      const kt = 0.01 * TAU;
      expectClose(solve(model).figures.conversion, kt / (1 + kt), 1e-8);
      // A stirred tank is its own cell model.
      expectClose(solve(model, {}, { model: 'cells' }).figures.conversion, kt / (1 + kt), 1e-8);
    });

    it('second-order ideal CSTR: Da(1 − X)² = X', () => {
      const model = plant({
        reactor: { type: 'cstr' },
        reactions: [SECOND_ORDER],
        feed: { a: 1, b: 1 },
      });
      const da = 0.01 * 1 * TAU;
      const x = (2 * da + 1 - Math.sqrt(4 * da + 1)) / (2 * da); // 2/3 at Da = 6
      expect(x).toBeCloseTo(2 / 3, 14);
      expectClose(solve(model).figures.conversion, x, 1e-8);
    });

    it.each([20, 5, 1])('tanks in series with %s cells: X = 1 − (1 + kτ/N)^−N', (cells) => {
      const model = plant({ reactor: { cells } });
      const x = 1 - Math.pow(1 + (0.01 * TAU) / cells, -cells);
      expectClose(solve(model, {}, { model: 'cells' }).figures.conversion, x, 1e-8);
    });

    it('the cell model approaches plug flow as the cells multiply', () => {
      const plug = 1 - Math.exp(-0.01 * TAU);
      const gaps = [5, 20, 80].map(
        (cells) =>
          plug - solve(plant({ reactor: { cells } }), {}, { model: 'cells' }).figures.conversion,
      );
      expect(gaps[0]).toBeGreaterThan(gaps[1]!);
      expect(gaps[1]).toBeGreaterThan(gaps[2]!);
      expect(gaps[2]).toBeGreaterThan(0);
    });

    /** A ⇌ B, k_f 0.01 /s and K = 2 at 25 °C (so k_r = 0.005 /s), ΔH as given. */
    const reversible = (heatOfReaction = 0): ReactionSpec => ({
      ...FIRST_ORDER,
      id: 'a-to-b-reversible',
      rateLaw: {
        ...FIRST_ORDER.rateLaw,
        reverse: { equilibriumConstant: { value: 2, referenceTemperature: 25 } },
      },
      heatOfReaction,
    });

    it.each([1, 5, 20])(
      'reversible first-order plug flow at %s mL/min: X = k_f/(k_f + k_r)·(1 − exp(−(k_f + k_r)τ))',
      (flow) => {
        const tau = (10 / flow) * 60;
        const x = (0.01 / 0.015) * (1 - Math.exp(-0.015 * tau));
        const result = solve(plant({ flow, reactions: [reversible()] }), {}, TIGHT);
        expectClose(result.figures.conversion, x, 1e-8);
        expectClose(result.outlet['b']!, x, 1e-8);
      },
    );

    it('a reversible reaction stops at its equilibrium, K(T) by van ’t Hoff: X → K/(1 + K)', () => {
      // ΔH −40 kJ/mol; at 60 °C K = 2·exp(ΔH/R·(1/T − 1/T_ref)) < 2. Ten residence times of
      // the relaxation and a jacket that holds the coil at 60 °C.
      const hot = celsiusToKelvin(60);
      const K = 2 * Math.exp((40_000 / GAS_CONSTANT) * (1 / hot - 1 / celsiusToKelvin(25)));
      const result = solve(
        plant({
          flow: 0.05,
          temperature: 60,
          reactions: [reversible(-40)],
          reactor: { heatTransfer: 100 },
        }),
        {},
        TIGHT,
      );
      expect(K).toBeLessThan(1.2);
      expectClose(result.figures.conversion, K / (1 + K), 1e-4);
      // The equilibrium is the same from the other side: a feed of B alone ends with A at 1/(1 + K).
      const fromB = solve(
        plant({
          flow: 0.05,
          temperature: 60,
          feed: { b: 1 },
          reactions: [reversible(-40)],
          reactor: { heatTransfer: 100 },
        }),
        {},
        TIGHT,
      );
      expectClose(fromB.outlet['a']!, 1 / (1 + K), 1e-4);
    });

    it.each([1, 5, 20])(
      'single-site Langmuir–Hinshelwood plug flow at %s mL/min: kτ = ln(c₀/c) + K(c₀ − c)',
      (flow) => {
        // r = k·c_A/(1 + K·c_A), k 0.01 /s, K 3 L/mol: inhibited most where A is richest.
        const tau = (10 / flow) * 60;
        const adsorbed: ReactionSpec = {
          ...FIRST_ORDER,
          id: 'a-to-b-adsorbed',
          rateLaw: {
            ...FIRST_ORDER.rateLaw,
            adsorption: { species: { a: { value: 3, referenceTemperature: 25 } } },
          },
        };
        const c = solve(plant({ flow, reactions: [adsorbed] }), {}, TIGHT).outlet['a']!;
        expectClose(Math.log(1 / c) + 3 * (1 - c), 0.01 * tau, 1e-8);
        // Slower than the uninhibited reaction.
        expect(c).toBeGreaterThan(Math.exp(-0.01 * tau));
      },
    );

    it.each([35, 5, 60])(
      'Arrhenius: conversion at %s °C follows k(T) = k_ref·exp(−Ea/R·(1/T − 1/T_ref))',
      (temperature) => {
        const k = fixtureK(temperature);
        const result = solve(plant({ temperature }));
        expectClose(result.figures.conversion, 1 - Math.exp(-k * TAU), 1e-6);
        expect(result.outletTemperature).toBeCloseTo(temperature, 9);
      },
    );

    it('a jacket temperature different from the feed is applied (isothermal once heat exchange dominates)', () => {
      // Feed 25 °C, jacket 35 °C, UA 100 W/K against the flow's 0.33 W/K: the coil is at the
      // jacket temperature within the first percent of its length.
      const result = solve(plant({ flow: 5, reactor: { heatTransfer: 100 } }), {
        jacketTemperature: 35,
      });
      expectClose(result.figures.conversion, 1 - Math.exp(-fixtureK(35) * 120), 1e-3);
      expect(result.outletTemperature).toBeCloseTo(35, 3);
    });
  });

  describe('accuracy on benchmark-5x4 against a tightly solved reference', () => {
    const benchmark = compilePlant(loadRecipe(join(RECIPES, 'benchmark-5x4.yaml')));
    const reference: SolverOptions = { rtol: 1e-12, atol: 1e-15 };
    const compare = (jacketTemperature: number, flow: number) => {
      const conditions = { jacketTemperature, flows: { 'P-101': flow, 'P-102': flow } };
      const fast = solveStepSteadyState(benchmark, 'reaction', conditions);
      const exact = solveStepSteadyState(benchmark, 'reaction', conditions, reference);
      for (const id of benchmark.speciesIds) {
        try {
          expectClose(fast.outlet[id]!, exact.outlet[id]!, 1e-4, 1e-9);
        } catch (error) {
          throw new Error(
            `${id} at ${jacketTemperature} °C, ${flow} mL/min: ${(error as Error).message}`,
          );
        }
      }
      expectClose(fast.outletTemperature, exact.outletTemperature, 0, 1e-4);
      // The hot spot is sampled at accepted steps only: close, not exact.
      expectClose(fast.safety.maxTemperature, exact.safety.maxTemperature, 0, 0.05);
      return { fast, exact };
    };

    it.each([
      [30, 2.5],
      [30, 8],
      [60, 2.5],
      [60, 5],
      [60, 10],
      [90, 8],
      [20, 0.5],
      [45, 4],
    ])(
      'at %s °C and %s mL/min per pump: every species within 1e-4 relative + 1e-9 mol/L',
      (temperature, flow) => {
        compare(temperature, flow);
      },
    );

    it('matches the design notes at nominal: A conversion ≈ 0.96, C selectivity ≈ 0.81, hot spot ≈ 62 °C', () => {
      const { fast } = compare(60, 2.5);
      expect(fast.figures.conversion).toBeCloseTo(0.96, 2);
      expect(fast.figures.selectivity).toBeCloseTo(0.81, 2);
      expect(fast.safety.maxTemperature).toBeGreaterThan(61);
      expect(fast.safety.maxTemperature).toBeLessThan(63);
    });

    it.each([
      [60, 1],
      [60, 0.5],
      [75, 0.5],
    ])(
      'at %s °C and %s mL/min per pump, where A runs out, stays within 1e-9 mol/L and non-negative',
      (temperature, flow) => {
        const { fast } = compare(temperature, flow);
        for (const id of benchmark.speciesIds) expect(fast.outlet[id]).toBeGreaterThanOrEqual(0);
        expect(fast.figures.conversion).toBeLessThanOrEqual(1);
      },
    );
  });

  describe('key figures', () => {
    const benchmark = compilePlant(loadRecipe(join(RECIPES, 'benchmark-5x4.yaml')));

    it('conversion, yield, selectivity, production rate and E-factor follow their definitions', () => {
      const result = solveStepSteadyState(benchmark, 'reaction');
      const { inlet, outlet, figures } = result;
      const q = result.outletFlow / 60_000; // L/s
      expect(result.outletFlow).toBeCloseTo(5, 12);
      expect(inlet['a']).toBeCloseTo(0.6, 14);
      expect(inlet['b']).toBeCloseTo(0.72, 14);
      const conversion = 1 - outlet['a']! / inlet['a']!;
      const yieldFraction = (outlet['c']! - inlet['c']!) / inlet['a']!; // 1 A per C
      expect(figures.conversion).toBeCloseTo(conversion, 14);
      expect(figures.yield).toBeCloseTo(yieldFraction, 14);
      expect(figures.selectivity).toBeCloseTo(yieldFraction / conversion, 14);
      expect(figures.selectivity).toBeLessThan(1);
      const productKgPerS = (q * outlet['c']! * 140) / 1000;
      expectClose(figures.productionRate, productKgPerS * 1000 * 3600, 1e-12);
      expectClose(figures.spaceTimeYield, figures.productionRate / 1000 / 0.025, 1e-12);
      // Both feeds at the default density 1.0 kg/L.
      expectClose(figures.eFactor, (q * 1.0 - productKgPerS) / productKgPerS, 1e-12);
      expect(figures.thermalPower).toBeCloseTo(Math.abs(figures.heatDuty), 12);
    });

    it('the plant figures of a one-step plant equal the step figures', () => {
      const step = solveStepSteadyState(benchmark, 'reaction');
      const whole = solvePlantSteadyState(benchmark);
      expect(whole.steps).toHaveLength(1);
      expectClose(whole.figures.productionRate, step.figures.productionRate, 1e-12);
      expectClose(whole.figures.eFactor, step.figures.eFactor, 1e-12);
      expectClose(whole.figures.overallYield, step.outlet['c']! / step.inlet['a']!, 1e-12);
      expectClose(whole.figures.spaceTimeYield, step.figures.spaceTimeYield, 1e-12);
      expectClose(whole.figures.thermalPower, step.figures.thermalPower, 1e-12);
      expect(whole.violations).toEqual([]);
    });

    it('the yield factor corrects for stoichiometry: 2 A → C', () => {
      const dimerisation: ReactionSpec = {
        id: 'dimer',
        stoichiometry: { a: -2, c: 1 },
        rateLaw: {
          k: { value: 0.01, referenceTemperature: 25 },
          activationEnergy: 50,
          orders: { a: 1 },
        },
      };
      const model = plant({ reactions: [dimerisation] });
      const result = solve(model, {}, TIGHT);
      expectClose(result.figures.yield, (2 * result.outlet['c']!) / result.inlet['a']!, 1e-12);
      expectClose(result.figures.selectivity, 1, 1e-9);
    });

    it('nothing made gives an infinite E-factor and zero yield', () => {
      const result = solve(plant({ feed: { b: 1 } }));
      expect(result.figures.conversion).toBe(0);
      expect(result.figures.yield).toBe(0);
      expect(result.figures.eFactor).toBe(Number.POSITIVE_INFINITY);
    });
  });

  describe('heat', () => {
    it('adiabatic temperature rise is (−ΔH)·C/(ρ·cp)', () => {
      const result = solve(plant({ reactions: [EXOTHERMIC] }));
      expect(result.safety.adiabaticTemperatureRise).toBeCloseTo(25, 12);
      const half = solve(plant({ reactions: [EXOTHERMIC], feed: { a: 0.5 } }));
      expect(half.safety.adiabaticTemperatureRise).toBeCloseTo(12.5, 12);
      // ρ·cp from the recipe fluid: 1.2 kg/L × 2.5 kJ/(kg·K) = 3000 J/(L·K).
      const recipe = oneStepRecipe({ reactions: [EXOTHERMIC] });
      recipe.fluid = { density: 1.2, heatCapacity: 2.5 };
      expect(solve(compilePlant(recipe)).safety.adiabaticTemperatureRise).toBeCloseTo(100 / 3, 12);
    });

    it('a thermoneutral or endothermic reaction has no adiabatic rise', () => {
      expect(solve(plant()).safety.adiabaticTemperatureRise).toBe(0);
      const endo: ReactionSpec = { ...FIRST_ORDER, heatOfReaction: 40 };
      expect(solve(plant({ reactions: [endo] })).safety.adiabaticTemperatureRise).toBe(0);
    });

    it.each(['ideal', 'cells'] as const)(
      'an adiabatic %s reactor ends at T₀ + ΔTad·X and its MTSR is T₀ + ΔTad throughout',
      (model) => {
        const result = solve(
          plant({ reactions: [EXOTHERMIC], reactor: { heatTransfer: 0 } }),
          {},
          { model, rtol: 1e-10, atol: 1e-13 },
        );
        expectClose(result.outletTemperature, 25 + 25 * result.figures.conversion, 0, 1e-6);
        expectClose(result.safety.maxTemperature, result.outletTemperature, 0, 1e-9);
        expectClose(result.safety.mtsr, 50, 0, 1e-6);
        expect(result.figures.heatDuty).toBeCloseTo(0, 12);
      },
    );

    it.each(['ideal', 'cells'] as const)(
      'a cooled %s reactor has a hot spot above the jacket and closes its energy balance',
      (model) => {
        const result = solve(
          plant({ reactions: [EXOTHERMIC] }),
          {},
          { model, rtol: 1e-10, atol: 1e-13 },
        );
        const q = result.outletFlow / 60_000;
        expect(result.safety.maxTemperature).toBeGreaterThan(25 + 1);
        expect(result.safety.maxTemperature).toBeLessThan(25 + 25);
        expect(result.safety.maxTemperature).toBeGreaterThanOrEqual(result.outletTemperature);
        expect(result.safety.mtsr).toBeGreaterThanOrEqual(result.safety.maxTemperature);
        // 0 = released + sensible change + jacket duty.
        const released = 100_000 * q * (result.inlet['a']! - result.outlet['a']!);
        const sensible = 4000 * q * (result.outletTemperature - 25);
        expect(result.figures.heatDuty).toBeLessThan(0);
        expectClose(result.figures.heatDuty, sensible - released, 1e-5);
        expect(result.figures.thermalPower).toBeCloseTo(-result.figures.heatDuty, 12);
      },
    );

    it('a hotter jacket makes a hotter hot spot; a heated thermoneutral coil draws positive duty', () => {
      const model = plant({ reactions: [EXOTHERMIC] });
      expect(solve(model, { jacketTemperature: 35 }).safety.maxTemperature).toBeGreaterThan(
        solve(model).safety.maxTemperature,
      );
      const heated = solve(plant(), { jacketTemperature: 40 });
      expect(heated.figures.heatDuty).toBeGreaterThan(0);
      expect(heated.safety.maxTemperature).toBeLessThanOrEqual(40 + 1e-9);
    });

    it('fouling (less heat transfer) raises the hot spot', () => {
      const model = plant({ reactions: [EXOTHERMIC] });
      const clean = solve(model);
      const fouled = solve(model, { heatTransferFactor: 0.3 });
      expect(fouled.safety.maxTemperature).toBeGreaterThan(clean.safety.maxTemperature + 1);
    });
  });

  describe('pressure', () => {
    it('coil pressure drop is Hagen–Poiseuille, 128·μ·L·Q/(π·d⁴), linear in flow', () => {
      const drops = [0.5, 1, 2, 10].map((flow) => solve(plant({ flow })).safety);
      const d = 1e-3; // m
      const length = 10e-6 / ((Math.PI * d * d) / 4); // m
      const q = 1e-6 / 60; // m³/s at 1 mL/min
      const expected = (128 * 1e-3 * length * q) / (Math.PI * d ** 4) / 1e5; // bar
      expectClose(drops[1]!.pressureDrop, expected, 1e-12);
      expectClose(drops[2]!.pressureDrop, 2 * expected, 1e-12);
      for (let i = 1; i < drops.length; i++)
        expect(drops[i]!.pressureDrop).toBeGreaterThan(drops[i - 1]!.pressureDrop);
      for (const safety of drops) {
        expect(safety.pressureDrop).toBeGreaterThan(0);
        expect(safety.pressure).toBeCloseTo(3 + safety.pressureDrop, 12);
      }
    });

    it('a packed bed drop (Ergun, viscous term) is positive and grows with flow; a stirred tank has none', () => {
      const bed = (flow: number) =>
        solve(
          plant({
            flow,
            reactor: {
              type: 'packed-bed',
              innerDiameter: 5,
              catalyst: { porosity: 0.4, particleDiameter: 100 },
            },
          }),
        );
      const low = bed(1).safety.pressureDrop;
      const high = bed(4).safety.pressureDrop;
      expect(low).toBeGreaterThan(0);
      expectClose(high, 4 * low, 1e-12);
      expect(solve(plant({ reactor: { type: 'cstr' } })).safety.pressureDrop).toBe(0);
    });

    it('the packed-bed hold-up is porosity × volume', () => {
      const result = solve(plant({ reactor: { type: 'packed-bed', catalyst: { porosity: 0.4 } } }));
      expect(result.residenceTime).toBeCloseTo(0.4 * TAU, 10);
    });

    it('back-pressure adds to the inlet pressure', () => {
      const model = plant();
      expect(solve(model, { backPressure: 7 }).safety.pressure).toBeCloseTo(
        7 + solve(model).safety.pressureDrop,
        12,
      );
    });
  });

  describe('limits', () => {
    it('a jacket setpoint above its range is applied, not clipped, and reported', () => {
      const result = solve(plant(), { jacketTemperature: 200 });
      expect(result.outletTemperature).toBeGreaterThan(190);
      const quantities = result.violations.map((v) => v.quantity);
      expect(quantities).toContain('jacket-temperature TC-1');
      expect(quantities).toContain('temperature');
      const jacket = result.violations.find((v) => v.quantity === 'jacket-temperature TC-1')!;
      expect(jacket).toMatchObject({
        step: 'reaction',
        value: 200,
        limit: 150,
        bound: 'upper',
        unit: '°C',
      });
      expect(jacket.message).toContain('200');
      const temperature = result.violations.find((v) => v.quantity === 'temperature')!;
      expect(temperature.value).toBeGreaterThan(120);
      expect(temperature.limit).toBe(120);
    });

    it('a reactor hotter than maxTemperature is reported with the MTSR past the technical limit', () => {
      const hot: ReactionSpec = { ...EXOTHERMIC, heatOfReaction: -500 }; // ΔTad 125 K
      const result = solve(plant({ reactions: [hot], reactor: { heatTransfer: 0 } }));
      expect(result.safety.maxTemperature).toBeGreaterThan(120);
      const quantities = result.violations.map((v) => v.quantity).sort();
      expect(quantities).toEqual(['mtsr', 'temperature']);
    });

    it('a flow above its range is applied and reported', () => {
      const result = solve(plant(), { flows: { 'P-1': 150 } });
      expect(result.residenceTime).toBeCloseTo(4, 10); // 10 mL at 150 mL/min, not at 100
      expect(result.violations).toContainEqual(
        expect.objectContaining({
          quantity: 'flow P-1',
          value: 150,
          limit: 100,
          bound: 'upper',
          unit: 'mL/min',
        }),
      );
    });

    it('a back-pressure beyond its range and the step maxPressure is reported twice', () => {
      const result = solve(plant(), { backPressure: 25 });
      const quantities = result.violations.map((v) => v.quantity);
      expect(quantities).toEqual(expect.arrayContaining(['back-pressure PCV-1', 'pressure']));
    });

    it('nominal conditions violate nothing', () => {
      expect(solve(plant()).violations).toEqual([]);
      expect(
        solvePlantSteadyState(compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml'))))
          .violations,
      ).toEqual([]);
    });
  });

  describe('degenerate inputs', () => {
    it.each(['ideal', 'cells'] as const)('zero flow does not crash (%s)', (model) => {
      const result = solve(plant(), { flows: { 'P-1': 0 } }, { model });
      expect(result.figures.conversion).toBe(0);
      expect(result.residenceTime).toBe(Number.POSITIVE_INFINITY);
      expect(result.safety.pressureDrop).toBe(0);
      expect(result.figures.eFactor).toBe(Number.POSITIVE_INFINITY);
      expect(Number.isFinite(result.outletTemperature)).toBe(true);
    });

    it('zero flow through a stirred tank does not crash', () => {
      const result = solve(plant({ reactor: { type: 'cstr' } }), { flows: { 'P-1': 0 } });
      expect(result.figures.conversion).toBe(0);
    });

    it('a negative flow delivers nothing and is reported below its limit', () => {
      const result = solve(plant(), { flows: { 'P-1': -1 } });
      expect(result.outletFlow).toBe(0);
      expect(result.violations).toContainEqual(
        expect.objectContaining({ quantity: 'flow P-1', value: -1, bound: 'lower' }),
      );
    });

    it('a zero rate multiplier or zero catalyst activity stops the reaction', () => {
      expect(solve(plant(), { rateMultiplier: 0 }).figures.conversion).toBeCloseTo(0, 12);
      const bed = plant({ reactor: { type: 'packed-bed', catalyst: { porosity: 0.5 } } });
      expect(solve(bed, { catalystActivity: 0 }).figures.conversion).toBeCloseTo(0, 12);
      const half = solve(bed, { catalystActivity: 0.5 }, TIGHT).figures.conversion;
      expectClose(half, 1 - Math.exp(-0.5 * 0.01 * 0.5 * TAU), 1e-8);
    });

    it('a NaN flow is refused, not turned into a plausible-looking zero conversion', () => {
      expect(() => solve(plant(), { flows: { 'P-1': Number.NaN } })).toThrow(/P-1/);
    });

    it('names the steps of the recipe when the step is unknown', () => {
      expect(() => solveStepSteadyState(plant(), 'nope')).toThrow(/unknown step "nope".*reaction/);
    });

    it('names an unknown species in a tank composition', () => {
      const recipe = oneStepRecipe();
      recipe.tanks = [{ id: 't1', capacity: 1 }];
      expect(() => solve(compilePlant(recipe), { tankCompositions: { t1: { x: 1 } } })).toThrow(
        /t1\.x/,
      );
    });
  });

  describe('fast path', () => {
    it('solveStepOutlet gives the outlet solveStepSteadyState reports, and reuses its buffers', () => {
      const model = plant({ reactions: [SECOND_ORDER], feed: { a: 1, b: 0.8 } });
      const step = stepById(model, 'reaction');
      const first = solveStepOutlet(model, step, { flows: { 'P-1': 2 } });
      const described = solve(model, { flows: { 'P-1': 2 } });
      expect(first.outlet.concentrations[model.speciesIndex.get('c')!]).toBe(described.outlet['c']);
      const again = solveStepOutlet(model, step, { flows: { 'P-1': 4 } }, {}, first);
      expect(again).toBe(first);
      expect(again.flows[0]).toBe(4);
      expect(again.outlet.concentrations[model.speciesIndex.get('c')!]).toBe(
        solve(model, { flows: { 'P-1': 4 } }).outlet['c'],
      );
    });

    it('repeated solves are reproducible bit for bit', () => {
      const model = compilePlant(loadRecipe(join(RECIPES, 'benchmark-5x4.yaml')));
      const a = solveStepSteadyState(model, 'reaction', { jacketTemperature: 70 });
      solveStepSteadyState(model, 'reaction', { jacketTemperature: 40 });
      const b = solveStepSteadyState(model, 'reaction', { jacketTemperature: 70 });
      expect(b).toStrictEqual(a);
    });
  });

  describe('whole plant', () => {
    const paracetamol = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));

    it('passes each step outlet through its surge tank to the next step', () => {
      const result = solvePlantSteadyState(paracetamol);
      const [nitration, hydrogenation, acetylation] = result.steps;
      // Hydrogen is dosed as gas: it adds moles, not liquid volume.
      for (const id of ['phenol', '4-nitrophenol', '2-nitrophenol', 'water']) {
        expect(hydrogenation!.inlet[id]).toBeCloseTo(nitration!.outlet[id]!, 14);
      }
      expect(hydrogenation!.inlet['hydrogen']).toBeGreaterThan(1);
      expect(acetylation!.inlet['4-aminophenol']).toBeCloseTo(
        (hydrogenation!.outlet['4-aminophenol']! * 7.3) / 7.6,
        12,
      );
      expect(result.tankNetInflow['tank-1']).toBeCloseTo(0, 12);
      expect(result.tankNetInflow['tank-2']).toBeCloseTo(0, 12);
    });

    it('reports the overall yield on phenol and the steady conversions of the design notes', () => {
      const result = solvePlantSteadyState(paracetamol);
      const phenolIn = (6.0 / 7.3) * 0.5 * 7.3; // mmol/min fed to step 1
      const paracetamolOut = acetylation(result).outlet['paracetamol']! * 7.6;
      expectClose(result.figures.overallYield, paracetamolOut / phenolIn, 1e-10);
      expect(result.figures.overallYield).toBeCloseTo(0.77, 1);
      expect(result.figures.productionRate).toBeGreaterThan(19);
      expect(result.figures.productionRate).toBeLessThan(23);
      const cells = solvePlantSteadyState(paracetamol, {}, { model: 'cells' });
      const conversions = cells.steps.map((s) => s.figures.conversion);
      expect(conversions[0]).toBeCloseTo(0.94, 2);
      expect(conversions[1]).toBeCloseTo(0.96, 2);
      expect(conversions[2]).toBeCloseTo(0.96, 2);
    });

    it('a tank drawn faster than it is filled shows a negative net inflow', () => {
      const result = solvePlantSteadyState(paracetamol, {
        steps: { hydrogenation: { flows: { 'P-201': 8.3 } } },
      });
      expect(result.tankNetInflow['tank-1']).toBeCloseTo(-0.06, 12); // 1 mL/min = 0.06 L/h
    });

    it('per-step conditions apply to their step only', () => {
      const hotter = solvePlantSteadyState(paracetamol, {
        steps: { acetylation: { jacketTemperature: 70 } },
      });
      const nominal = solvePlantSteadyState(paracetamol);
      expect(hotter.steps[0]).toStrictEqual(nominal.steps[0]);
      expect(hotter.steps[2]!.figures.conversion).toBeGreaterThan(
        nominal.steps[2]!.figures.conversion,
      );
    });
  });
});

function acetylation(result: { steps: StepSteadyState[] }): StepSteadyState {
  return result.steps.find((s) => s.step === 'acetylation')!;
}

describe('feed concentrations as a condition (a drifted stock)', () => {
  const model = compilePlant(
    loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')),
  );

  it('mixes the given stock instead of the recipe one, and names an unknown feed', () => {
    const nominal = solveStepSteadyState(model, 'nitration');
    const weak = solveStepSteadyState(model, 'nitration', {
      feedConcentrations: { 'phenol-solution': { phenol: 0.4 } },
    });
    expect(weak.inlet['phenol']).toBeCloseTo((nominal.inlet['phenol']! * 0.4) / 0.5, 9);
    expect(weak.figures.productionRate).toBeLessThan(nominal.figures.productionRate);
    expect(() =>
      solveStepSteadyState(model, 'nitration', { feedConcentrations: { nope: { phenol: 1 } } }),
    ).toThrow(/feedConcentrations\.nope: unknown feed/);
  });
});

describe('feed temperature as a condition (a conditioned feed)', () => {
  it('an adiabatic coil runs at the feed temperature it is given: X = 1 − exp(−k(T_feed)·τ)', () => {
    // No heat exchange and a thermoneutral reaction: the coil stays at its inlet temperature.
    const model = plant({ reactor: { heatTransfer: 0 } });
    for (const celsius of [10, 25, 45]) {
      const result = solve(model, { feedTemperatures: { feed: celsius } }, TIGHT);
      expect(result.outletTemperature).toBeCloseTo(celsius, 9);
      expectClose(result.figures.conversion, 1 - Math.exp(-fixtureK(celsius) * TAU), 1e-8);
    }
  });

  it('names an unknown feed and refuses a temperature that is not one', () => {
    expect(() => solve(plant(), { feedTemperatures: { nope: 20 } })).toThrow(
      /feedTemperatures\.nope: unknown feed/,
    );
    expect(() => solve(plant(), { feedTemperatures: { feed: Number.NaN } })).toThrow(
      /feedTemperatures\.feed: NaN °C is not a temperature/,
    );
    expect(() => solve(plant(), { feedTemperatures: { feed: -300 } })).toThrow(/not a temperature/);
  });
});
