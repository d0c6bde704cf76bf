import { join } from 'node:path';
import { ManualClock } from '../clock/manual-clock';
import { compilePlant, type PlantModel, type ReactionSpec, loadRecipe } from '@pipac/recipe';
import { solveStepSteadyState } from '../steady/steady-state';
import type { StepConditions } from '../steady/steady-state.types';
import {
  EXOTHERMIC,
  SECOND_ORDER,
  oneStepRecipe,
  twoStepRecipe,
  type OneStepOptions,
} from '@pipac/recipe/testing';
import { buildScenario, type Disturbance, type Scenario } from './disturbances';
import { MAX_PENDING_EVENTS, Plant, type PlantEvent, type PlantOptions } from './plant';
import { samplePlant, summariseRun } from './plant-report';
import { expectClose } from '../testing/expect-close';

const RECIPES = join(__dirname, '../../../../../recipes');

const TAU = 600; // s: the fixture's 10 mL at 1 mL/min

function model(options: OneStepOptions = {}): PlantModel {
  return compilePlant(oneStepRecipe(options));
}

function scenario(...disturbances: Disturbance[]): Scenario {
  return { name: 'test', seed: 1, duration: 10_000, disturbances };
}

/** Σ_i M_i·(fed − collected − spilled − Δholdup), g, and Σ M·fed for scale. */
function massBalance(plant: Plant, initialHoldup: Float64Array): { error: number; fed: number } {
  const holdup = plant.holdup();
  let error = 0;
  let fed = 0;
  plant.model.molarMass.forEach((molarMass, i) => {
    error +=
      molarMass *
      (plant.speciesFed[i]! -
        plant.speciesCollected[i]! -
        plant.speciesSpilled[i]! -
        (holdup[i]! - initialHoldup[i]!));
    fed += molarMass * plant.speciesFed[i]!;
  });
  return { error, fed };
}

function ofKind(events: PlantEvent[], kind: PlantEvent['kind']): PlantEvent[] {
  return events.filter((e) => e.kind === kind);
}

/** Cumulative distribution of an N-cell tanks-in-series residence time at θ = t/τ (Erlang). */
function tanksInSeriesStep(theta: number, cells: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < cells; k++) {
    term *= (cells * theta) / k;
    sum += term;
  }
  return 1 - Math.exp(-cells * theta) * sum;
}

/** A + B ⇌ C, exothermic (−60 kJ/mol), K 5 L/mol at 25 °C: its equilibrium shifts as it heats. */
const REVERSIBLE: ReactionSpec = {
  ...SECOND_ORDER,
  id: 'a-plus-b-reversible',
  rateLaw: {
    ...SECOND_ORDER.rateLaw,
    reverse: { equilibriumConstant: { value: 5, referenceTemperature: 25 } },
  },
  heatOfReaction: -60,
};

/** A → B on a catalyst, inhibited by adsorbed A (K 3 L/mol at 25 °C, ΔH_ads −20 kJ/mol). */
const ADSORBED: ReactionSpec = {
  ...EXOTHERMIC,
  id: 'a-to-b-adsorbed',
  rateLaw: {
    ...EXOTHERMIC.rateLaw,
    adsorption: { species: { a: { value: 3, referenceTemperature: 25, enthalpy: -20 } } },
  },
};

describe('Plant', () => {
  describe('steady state', () => {
    it.each<[string, OneStepOptions, StepConditions, PlantOptions]>([
      ['first order in a coil', {}, {}, {}],
      ['first order with dt = 5 s', {}, {}, { dt: 5 }],
      ['A + B → C', { reactions: [SECOND_ORDER], feed: { a: 1, b: 0.8 } }, {}, {}],
      ['an exothermic reaction with a hot spot', { reactions: [EXOTHERMIC] }, {}, {}],
      [
        'a reversible exothermic reaction',
        { reactions: [REVERSIBLE], feed: { a: 1, b: 1, c: 0.2 } },
        {},
        {},
      ],
      ['a stirred tank', { reactor: { type: 'cstr' } }, {}, {}],
      ['a packed bed', { reactor: { type: 'packed-bed', catalyst: { porosity: 0.5 } } }, {}, {}],
      [
        'a packed bed with adsorption (Langmuir–Hinshelwood), exothermic',
        { reactions: [ADSORBED], reactor: { type: 'packed-bed', catalyst: { porosity: 0.5 } } },
        {},
        {},
      ],
    ])(
      'at constant setpoints converges to the cell-model steady state: %s',
      (_name, options, conditions, plantOptions) => {
        const m = model(options);
        const expected = solveStepSteadyState(m, 'reaction', conditions, {
          model: 'cells',
          rtol: 1e-10,
          atol: 1e-14,
        });
        const plant = new Plant(m, plantOptions);
        plant.run(14 * TAU);
        const unit = plant.units[0]!;
        const outlet = unit.outlet();
        m.speciesIds.forEach((id, i) => expectClose(outlet[i]!, expected.outlet[id]!, 1e-6, 1e-12));
        expectClose(unit.conversion(), expected.figures.conversion, 1e-6);
        expectClose(
          unit.temperature[unit.cells - 1]! - 273.15,
          expected.outletTemperature,
          0,
          1e-6,
        );
        expectClose(unit.maxTemperature - 273.15, expected.safety.maxTemperature, 0, 1e-6);
        expectClose(unit.pressure, expected.safety.pressure, 1e-12);
        expect(unit.positivityFloors).toBe(0);
      },
    );

    it('runs a conditioned feed to the steady state at that feed temperature', () => {
      const m = model({ reactions: [EXOTHERMIC] });
      const expected = solveStepSteadyState(
        m,
        'reaction',
        { feedTemperatures: { feed: 5 } },
        { model: 'cells', rtol: 1e-10, atol: 1e-14 },
      );
      const plant = new Plant(m);
      plant.setFeedTemperature('feed', 5);
      plant.run(14 * TAU);
      expectClose(plant.units[0]!.conversion(), expected.figures.conversion, 1e-6);
      expect(() => plant.setFeedTemperature('nope', 5)).toThrow(/unknown feed "nope"/);
      expect(() => plant.setFeedTemperature('feed', Number.NaN)).toThrow(/not a temperature/);
    });

    it('runs off-nominal setpoints to their steady state', () => {
      const m = model({ reactions: [EXOTHERMIC] });
      const expected = solveStepSteadyState(
        m,
        'reaction',
        { flows: { 'P-1': 2 }, jacketTemperature: 30 },
        { model: 'cells', rtol: 1e-10, atol: 1e-14 },
      );
      const plant = new Plant(m);
      plant.setSetpoint('P-1', 2);
      plant.setSetpoint('TC-1', 30);
      plant.run(20 * 300);
      expectClose(plant.units[0]!.conversion(), expected.figures.conversion, 1e-6);
    });
  });

  describe('mass balance', () => {
    it.each<[string, OneStepOptions]>([
      ['A → B', {}],
      ['A + B → C', { reactions: [SECOND_ORDER], feed: { a: 1, b: 1 } }],
      ['A + B ⇌ C', { reactions: [REVERSIBLE], feed: { a: 1, b: 1, c: 0.2 }, temperature: 60 }],
      [
        'A + B → C with B in excess, hot',
        { reactions: [SECOND_ORDER], feed: { a: 0.5, b: 1 }, temperature: 60 },
      ],
    ])('closes to round-off for %s', (_name, options) => {
      const plant = new Plant(model(options));
      const initial = plant.holdup();
      plant.run(1000);
      plant.setSetpoint('P-1', 3);
      plant.run(1000);
      const { error, fed } = massBalance(plant, initial);
      expect(fed).toBeGreaterThan(0);
      expect(Math.abs(error)).toBeLessThan(1e-9 * fed);
      expect(Math.abs(summariseRun(plant, initial).plant.massBalanceError)).toBeLessThan(
        1e-9 * fed,
      );
    });

    it('closes through a surge tank that fills, overflows, drains and runs empty', () => {
      const plant = new Plant(compilePlant(twoStepRecipe()));
      const initial = plant.holdup();
      plant.run(600);
      plant.setSetpoint('P-2', 0); // tank t1 fills and spills
      plant.run(1800);
      expect(plant.speciesSpilled[1]).toBeGreaterThan(0);
      plant.setSetpoint('P-1', 0);
      plant.setSetpoint('P-2', 3); // and runs empty
      plant.run(1200);
      const { error, fed } = massBalance(plant, initial);
      expect(Math.abs(error)).toBeLessThan(1e-9 * fed);
      expect(plant.speciesCollected[2]).toBeGreaterThan(0);
    });
  });

  describe('determinism', () => {
    const paracetamol = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
    const traces = new Map<string, Record<string, number>[]>();
    /** samplePlant every 30 s over 30 min of the combined scenario (memoised unless fresh). */
    const trace = (seed: number, scenarioSeed = seed, fresh = false): Record<string, number>[] => {
      const key = `${seed}/${scenarioSeed}`;
      const known = traces.get(key);
      if (known && !fresh) return known;
      const plant = new Plant(paracetamol, {
        seed,
        scenario: buildScenario('combined', paracetamol, scenarioSeed, 1800),
      });
      const rows: Record<string, number>[] = [];
      plant.run(1800, (p) => {
        if (p.time % 30 === 0) rows.push(samplePlant(p));
      });
      traces.set(key, rows);
      return rows;
    };

    it("two runs with the same seed and scenario 'combined' give bit-identical traces", () => {
      const first = trace(7);
      const second = trace(7, 7, true);
      expect(second).not.toBe(first);
      expect(second).toStrictEqual(first);
      // Bit for bit, not merely close (toStrictEqual compares numbers with Object.is).
      first.forEach((row, r) =>
        Object.entries(row).forEach(([key, value]) =>
          expect(Object.is(second[r]![key], value)).toBe(true),
        ),
      );
      expect(first.length).toBe(60);
      // The scenario acted within the window: one nitration pump delivers 7–12 % off its setpoint.
      const last = first.at(-1)!;
      const pumpErrors = [
        Math.abs(last['nitration.P-101']! / 6 - 1),
        Math.abs(last['nitration.P-102']! / 1.3 - 1),
      ];
      expect(Math.max(...pumpErrors)).toBeGreaterThan(0.06);
    });

    it('a different seed gives a different run', () => {
      expect(trace(8)).not.toStrictEqual(trace(7));
    });

    it('the plant seed drives only the analyser noise: same scenario, different seed, same true state', () => {
      const a = trace(7, 7).at(-1)!;
      const b = trace(8, 7).at(-1)!;
      for (const key of Object.keys(a)) {
        if (key.includes('.AT-')) continue;
        expect(b[key]).toBe(a[key]);
      }
      expect(
        Object.keys(a).filter((key) => key.includes('.AT-') && a[key] !== b[key]).length,
      ).toBeGreaterThan(0);
    });
  });

  describe('transport and lags', () => {
    it('a step in feed concentration reaches the outlet after about τ, spread like N tanks in series', () => {
      const start = 600;
      const plant = new Plant(model(), {
        scenario: scenario({ kind: 'feed-drift', feed: 'feed', start, duration: 0, factor: 2 }),
      });
      plant.warmUp(10 * TAU);
      const unit = plant.units[0]!;
      const tracer: number[] = [];
      plant.run(start + 3 * TAU, (p) => tracer.push(p.units[0]!.outlet()[unit.tracer]!));
      const rise = (t: number) => tracer[Math.round(t) - 1]! - 1; // unreacted key, 1 → 2 mol/L
      expect(rise(start)).toBeCloseTo(0, 12);
      expect(rise(start + 5)).toBeLessThan(1e-12); // not instantly
      expect(rise(start + 0.3 * TAU)).toBeLessThan(1e-4);
      for (const theta of [0.5, 0.8, 1, 1.2, 1.5, 2]) {
        expectClose(rise(start + theta * TAU), tanksInSeriesStep(theta, 20), 0, 0.01);
      }
      expect(rise(start + 3 * TAU)).toBeCloseTo(1, 6);
    });

    it('the jacket follows a setpoint step as a first-order lag with the thermostat time constant', () => {
      const plant = new Plant(model()); // thermostat time constant 30 s
      plant.setSetpoint('TC-1', 45);
      const unit = plant.units[0]!;
      for (const n of [1, 10, 30, 90]) {
        plant.run(n - plant.time);
        expectClose(unit.jacketTemperature - 273.15, 45 - 20 * Math.exp(-n / 30), 0, 1e-9);
      }
      // The reactor lags behind its jacket.
      expect(unit.temperature[0]! - 273.15).toBeLessThan(unit.jacketTemperature - 273.15);
      expect(plant.getSetpoint('TC-1')).toBeCloseTo(45, 12);
    });

    it('a pump follows its setpoint with its own time constant', () => {
      const plant = new Plant(model()); // pump time constant 2 s (default)
      plant.setSetpoint('P-1', 3);
      const unit = plant.units[0]!;
      for (const n of [1, 2, 6]) {
        plant.run(n - plant.time);
        expectClose(unit.flow[0]!, 3 - 2 * Math.exp(-n / 2), 1e-12);
      }
    });

    it('the injected clock follows the plant time', () => {
      const clock = new ManualClock(1000);
      const plant = new Plant(model(), { clock, dt: 0.5 });
      plant.run(10);
      expect(plant.time).toBe(10);
      expect(clock.now()).toBe(1010);
    });

    it('refuses a non-positive or NaN dt', () => {
      expect(() => new Plant(model(), { dt: 0 })).toThrow(/dt must be positive/);
      expect(() => new Plant(model(), { dt: Number.NaN })).toThrow(/dt must be positive/);
    });
  });

  describe('disturbances', () => {
    it('catalyst deactivation lowers activity and conversion', () => {
      const start = 600;
      const plant = new Plant(model(), {
        scenario: scenario({ kind: 'catalyst-deactivation', step: 'reaction', start, rate: 0.5 }),
      });
      plant.warmUp(10 * TAU);
      const unit = plant.units[0]!;
      const before = unit.conversion();
      plant.run(start);
      expect(unit.activity).toBe(1);
      plant.run(3600);
      expectClose(unit.activity, Math.exp(-0.5), 1e-9); // 0.5 /h for one hour
      expect(unit.conversion()).toBeLessThan(before - 0.005);
      expect(samplePlant(plant)['reaction.activity']).toBe(unit.activity);
    });

    it('a packed bed loses activity by its own deactivation law, exp(−k_d·t) when isothermal', () => {
      const m = model({
        reactor: {
          type: 'packed-bed',
          catalyst: {
            deactivation: { rate: { value: 1e-4, referenceTemperature: 25 }, activationEnergy: 40 },
          },
        },
      });
      const plant = new Plant(m);
      plant.run(1000);
      expectClose(plant.units[0]!.activity, Math.exp(-0.1), 1e-9);
    });

    it('a catalyst with an onset temperature keeps its activity below it and loses it above', () => {
      const bed = (temperature: number) =>
        model({
          temperature,
          reactor: {
            type: 'packed-bed',
            heatTransfer: 100,
            catalyst: {
              deactivation: {
                rate: { value: 1e-4, referenceTemperature: 60 },
                activationEnergy: 80,
                onsetTemperature: 50,
              },
            },
          },
        });
      const cool = new Plant(bed(45));
      cool.run(1000);
      expect(cool.units[0]!.activity).toBe(1);
      // Isothermal at 60 °C (the jacket holds the bed): exp(−k_d(60 °C)·t).
      const hot = new Plant(bed(60));
      hot.run(1000);
      expectClose(hot.units[0]!.activity, Math.exp(-0.1), 1e-6);
    });

    it('feed drift lowers the feed and inlet concentration along its ramp', () => {
      const plant = new Plant(model(), {
        scenario: scenario({
          kind: 'feed-drift',
          feed: 'feed',
          start: 100,
          duration: 1000,
          factor: 0.9,
        }),
      });
      const unit = plant.units[0]!;
      plant.run(101);
      expect(unit.inlet.concentrations[0]).toBe(1); // fed during [100, 101], drift not yet begun
      plant.run(499); // at t = 600: half way
      expectClose(plant.feedConcentrations[0]![0]!, 0.95, 1e-12);
      plant.run(1000);
      expectClose(plant.feedConcentrations[0]![0]!, 0.9, 1e-12);
      expectClose(unit.inlet.concentrations[0]!, 0.9, 1e-12);
      // The recipe's feed is not touched.
      expect(plant.model.feeds[0]!.concentrations[0]).toBe(1);
      const fed = plant.speciesFed[0]!;
      plant.run(600);
      expectClose(plant.speciesFed[0]! - fed, (0.9 * 600) / 60_000, 1e-9);
    });

    it('fouling lowers heat transfer (hotter hot spot) and raises the pressure drop', () => {
      const m = model({ reactions: [EXOTHERMIC] });
      const plant = new Plant(m, {
        scenario: scenario({
          kind: 'fouling',
          step: 'reaction',
          start: 0,
          duration: 600,
          heatTransferFactor: 0.3,
          pressureDropFactor: 2,
        }),
      });
      plant.warmUp(10 * TAU);
      const unit = plant.units[0]!;
      const clean = {
        hotSpot: unit.maxTemperature,
        drop: unit.pressure - unit.backPressure,
        duty: unit.totals.heatDuty,
      };
      plant.run(12 * TAU);
      expectClose(unit.pressure - unit.backPressure, 2 * clean.drop, 1e-12);
      expect(unit.maxTemperature).toBeGreaterThan(clean.hotSpot + 1);
      const expected = solveStepSteadyState(
        m,
        'reaction',
        { heatTransferFactor: 0.3 },
        { model: 'cells', rtol: 1e-10, atol: 1e-14 },
      );
      expectClose(unit.maxTemperature - 273.15, expected.safety.maxTemperature, 0, 1e-6);
      expect(clean.duty).toBe(0); // totals were reset by the warm-up
    });

    it('a pump calibration error changes the delivered flow but not the setpoint', () => {
      const plant = new Plant(model(), {
        scenario: scenario({ kind: 'pump-calibration', pump: 'P-1', start: 100, factor: 0.9 }),
      });
      const unit = plant.units[0]!;
      plant.run(100);
      expectClose(unit.flow[0]!, 1, 1e-12);
      plant.run(100);
      expectClose(unit.flow[0]!, 0.9, 1e-12);
      expectClose(unit.inlet.flow, 0.9 / 60_000, 1e-12);
      expect(plant.getSetpoint('P-1')).toBe(1);
      expectClose(samplePlant(plant)['reaction.P-1']!, 0.9, 1e-12);
    });

    it('analyser drift biases the results by ratePerHour × hours', () => {
      const analyser = {
        tag: 'AT-1',
        technique: 'uv' as const,
        measures: [{ quantity: 'conversion' as const }],
        cadence: 60,
        deadTime: 0,
      };
      const plant = new Plant(model({ analyser }), {
        scenario: scenario({
          kind: 'analyser-drift',
          analyser: 'AT-1',
          start: 0,
          ratePerHour: 0.1,
        }),
      });
      plant.warmUp(10 * TAU);
      plant.run(3600);
      const an = plant.units[0]!.analyser!;
      const truth = plant.units[0]!.conversion();
      const sampledAt = an.latestSampledAt;
      expect(sampledAt).toBeGreaterThan(3500);
      // A reading at t carries the bias in force at t.
      expectClose(an.latest[0]! / truth - 1, (0.1 * sampledAt) / 3600, 1e-6);
    });

    it('an analyser outage stops results, and raises analyser-fault and analyser-recovered once each', () => {
      const analyser = {
        tag: 'AT-1',
        technique: 'uv' as const,
        measures: [{ quantity: 'conversion' as const }],
        cadence: 30,
        deadTime: 45,
      };
      const plant = new Plant(model({ analyser }), {
        scenario: scenario({
          kind: 'analyser-outage',
          analyser: 'AT-1',
          start: 300,
          duration: 600,
        }),
      });
      const an = plant.units[0]!.analyser!;
      const sampled: number[] = [];
      let last = Number.NaN;
      const events: PlantEvent[] = [];
      plant.run(1500, (p) => {
        events.push(...p.drainEvents());
        if (!Object.is(an.latestSampledAt, last)) sampled.push((last = an.latestSampledAt));
      });
      expect(ofKind(events, 'analyser-fault')).toEqual([
        expect.objectContaining({ t: 300, step: 'reaction' }),
      ]);
      expect(ofKind(events, 'analyser-recovered')).toEqual([
        expect.objectContaining({ t: 900, step: 'reaction' }),
      ]);
      expect(sampled.filter((t) => t >= 300 && t < 900)).toEqual([]);
      expect(sampled.filter((t) => t < 300).length).toBeGreaterThan(5);
      expect(sampled.filter((t) => t >= 900).length).toBeGreaterThan(5);
      expect(events.filter((e) => e.kind === 'violation')).toEqual([]);
    });

    it('a kinetic mismatch scales the rates: the plant settles where the steady state with that multiplier is', () => {
      const m = model();
      const plant = new Plant(m, {
        scenario: scenario({ kind: 'kinetic-mismatch', step: 'reaction', factor: 0.5 }),
      });
      plant.run(14 * TAU);
      const expected = solveStepSteadyState(
        m,
        'reaction',
        { rateMultiplier: 0.5 },
        { model: 'cells', rtol: 1e-10, atol: 1e-14 },
      );
      expectClose(plant.units[0]!.conversion(), expected.figures.conversion, 1e-6);
    });

    it.each<[string, Disturbance, RegExp]>([
      [
        'feed',
        { kind: 'feed-drift', feed: 'nope', start: 0, duration: 1, factor: 1 },
        /unknown feed "nope"/,
      ],
      [
        'pump',
        { kind: 'pump-calibration', pump: 'TC-1', start: 0, factor: 1 },
        /unknown pump "TC-1"/,
      ],
      [
        'analyser',
        { kind: 'analyser-outage', analyser: 'AT-9', start: 0, duration: 1 },
        /unknown analyser "AT-9"/,
      ],
      [
        'step',
        {
          kind: 'fouling',
          step: 'nope',
          start: 0,
          duration: 1,
          heatTransferFactor: 1,
          pressureDropFactor: 1,
        },
        /unknown step "nope"/,
      ],
    ])('refuses a disturbance of an unknown %s', (_what, disturbance, message) => {
      expect(() => new Plant(model(), { scenario: scenario(disturbance) })).toThrow(message);
    });
  });

  describe('setpoints and limits', () => {
    it('a jacket setpoint above its range is applied, reported once, and cleared once', () => {
      const plant = new Plant(model());
      plant.setSetpoint('TC-1', 160);
      expect(plant.getSetpoint('TC-1')).toBeCloseTo(160, 12);
      plant.run(600);
      const unit = plant.units[0]!;
      expect(unit.jacketTemperature - 273.15).toBeGreaterThan(150); // not clipped at max 150
      let events = plant.drainEvents();
      const jacket = events.filter((e) => e.violation?.quantity === 'jacket-temperature TC-1');
      expect(jacket).toHaveLength(1);
      expect(jacket[0]).toMatchObject({ t: 1, kind: 'violation', step: 'reaction' });
      expect(jacket[0]!.violation).toMatchObject({
        value: 160,
        limit: 150,
        bound: 'upper',
        unit: '°C',
      });
      // The reactor follows the jacket past its own maxTemperature (120 °C): one more event.
      expect(
        events.filter((e) => e.kind === 'violation' && e.violation?.quantity === 'temperature'),
      ).toHaveLength(1);
      plant.setSetpoint('TC-1', 25);
      plant.run(1200);
      events = plant.drainEvents();
      expect(ofKind(events, 'violation')).toEqual([]);
      const cleared = ofKind(events, 'violation-cleared');
      // The jacket clears at once; the reactor temperature and its MTSR (also past the
      // technical limit, 120 °C) as the reactor cools.
      expect(cleared.map((e) => e.message)).toEqual([
        'reaction jacket-temperature TC-1 back within limits',
        'reaction temperature back within limits',
        'reaction mtsr back within limits',
      ]);
      expect(cleared[0]!.t).toBe(601);
      expect(cleared[1]!.t).toBeGreaterThan(601);
      expect(plant.drainEvents()).toEqual([]);
    });

    it('a flow setpoint beyond its range is delivered and reported', () => {
      const plant = new Plant(model());
      plant.setSetpoint('P-1', 150);
      plant.run(60);
      expectClose(plant.units[0]!.flow[0]!, 150, 1e-9);
      const flow = plant.drainEvents().filter((e) => e.violation?.quantity === 'flow P-1');
      expect(flow).toHaveLength(1);
      expect(flow[0]).toMatchObject({
        kind: 'violation',
        violation: { value: 150, limit: 100, bound: 'upper', unit: 'mL/min' },
      });
    });

    it('a back-pressure setpoint below its range is reported as a lower violation', () => {
      const plant = new Plant(model());
      plant.setSetpoint('PCV-1', 0.5);
      plant.step();
      expect(plant.units[0]!.backPressure).toBe(0.5);
      const events = plant.drainEvents();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        kind: 'violation',
        violation: { quantity: 'back-pressure PCV-1', bound: 'lower', value: 0.5, limit: 1 },
      });
    });

    it('lists its setpoint tags and refuses unknown tags and non-finite values', () => {
      const plant = new Plant(model());
      expect(plant.setpointTags.sort()).toEqual(['P-1', 'PCV-1', 'TC-1']);
      expect(() => plant.setSetpoint('TC-9', 30)).toThrow(
        /unknown setpoint tag "TC-9"; known: P-1, TC-1, PCV-1/,
      );
      expect(() => plant.setSetpoint('TC-1', Number.NaN)).toThrow(/finite/);
      expect(() => plant.setSetpoint('P-1', Number.POSITIVE_INFINITY)).toThrow(/finite/);
      expect(() => plant.getSetpoint('nope')).toThrow(/unknown setpoint tag/);
    });

    it('starts at nominal without any event', () => {
      const plant = new Plant(compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml'))));
      plant.run(600);
      expect(plant.drainEvents()).toEqual([]);
    });
  });

  describe('tanks and feeds', () => {
    it('a tank that is not drawn reports its high level, overflows once and spills', () => {
      const plant = new Plant(compilePlant(twoStepRecipe()));
      plant.setSetpoint('P-2', 0);
      plant.run(1500); // +1 mL/min from 10 mL: maxLevel 25 mL at 900 s, capacity 30 mL at 1200 s
      const events = plant.drainEvents();
      const high = events.filter((e) => e.tank === 't1' && e.kind === 'violation');
      expect(high).toHaveLength(1);
      expect(high[0]!.t).toBeGreaterThanOrEqual(899);
      expect(high[0]!.t).toBeLessThanOrEqual(902);
      expect(high[0]!.violation).toMatchObject({
        quantity: 'level',
        bound: 'upper',
        limit: 0.025,
        unit: 'L',
      });
      const overflow = ofKind(events, 'tank-overflow');
      expect(overflow).toHaveLength(1);
      expect(overflow[0]).toMatchObject({ tank: 't1' });
      expect(overflow[0]!.t).toBeGreaterThanOrEqual(1199);
      expect(overflow[0]!.t).toBeLessThanOrEqual(1202);
      expect(plant.tank('t1').level).toBe(0.03);
      // About 300 s of 1 mL/min spilled, of a stream diluted by the solvent the tank and
      // reactor started with: between none and 5 mmol.
      const spilled = plant.speciesSpilled.reduce((sum, x) => sum + x, 0);
      expect(spilled).toBeGreaterThan(0.001);
      expect(spilled).toBeLessThan(0.005);
    });

    it('a tank drawn dry reports its low level, runs empty, starves its pump and refills', () => {
      const plant = new Plant(compilePlant(twoStepRecipe()));
      plant.setSetpoint('P-1', 0);
      plant.run(700); // −1 mL/min from 10 mL: minLevel 5 mL at about 300 s, empty at about 600 s
      let events = plant.drainEvents();
      const low = events.filter((e) => e.tank === 't1' && e.kind === 'violation');
      expect(low).toHaveLength(1);
      expect(low[0]!.violation).toMatchObject({ quantity: 'level', bound: 'lower', limit: 0.005 });
      const empty = ofKind(events, 'tank-empty');
      expect(empty).toHaveLength(1);
      expect(empty[0]!.t).toBeGreaterThan(590);
      expect(empty[0]!.t).toBeLessThan(620);
      expect(plant.tank('t1').level).toBe(0);
      // Starved: the pump still runs at 1 mL/min but delivers (next to) nothing.
      expect(plant.units[1]!.flow[0]).toBeCloseTo(1, 9);
      expect(samplePlant(plant)['coupling.P-2']).toBeLessThan(1e-12);
      plant.setSetpoint('P-1', 2);
      plant.run(60);
      events = plant.drainEvents();
      expect(ofKind(events, 'tank-refilled')).toEqual([expect.objectContaining({ tank: 't1' })]);
      expect(plant.tank('t1').level).toBeGreaterThan(0);
    });

    it('a surge tank takes on the composition of what fills it', () => {
      const plant = new Plant(compilePlant(twoStepRecipe({ tank: { initialLevel: 0.001 } })));
      plant.setSetpoint('P-2', 0);
      plant.warmUp(10 * TAU);
      plant.run(600);
      const { concentrations } = plant.tank('t1');
      // Mostly the step-1 outlet by now: B with a little A left, and a trace of the solvent
      // the reactor and tank started with.
      expect(concentrations[1]).toBeGreaterThan(0.9);
      expect(concentrations[0]! + concentrations[1]!).toBeCloseTo(1, 2);
      expect(concentrations[2]).toBe(0);
    });

    it('warms up with a conditioned feed: the tank fills at the steady state of that feed temperature', () => {
      const m = compilePlant(twoStepRecipe({ first: { reactions: [EXOTHERMIC] } }));
      const plant = new Plant(m);
      plant.setFeedTemperature('feed', 5);
      plant.warmUp(60);
      const expected = solveStepSteadyState(
        m,
        'reaction',
        { feedTemperatures: { feed: 5 } },
        { model: 'cells' },
      );
      const b = plant.tank('t1').concentrations[m.speciesIndex.get('b')!]!;
      expectClose(b, expected.outlet['b']!, 1e-6);
      const atRecipe = solveStepSteadyState(m, 'reaction', {}, { model: 'cells' }).outlet['b']!;
      expect(Math.abs(b - atRecipe)).toBeGreaterThan(1e-3);
    });

    it('an empty feed vessel raises feed-exhausted once and stops delivering', () => {
      const recipe = oneStepRecipe();
      recipe.feeds[0]!.inventory = 0.005; // L: 300 s at 1 mL/min
      const plant = new Plant(compilePlant(recipe));
      plant.run(1000);
      const events = ofKind(plant.drainEvents(), 'feed-exhausted');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ feed: 'feed', message: 'feed feed is empty' });
      expect(events[0]!.t).toBeGreaterThanOrEqual(299);
      expect(events[0]!.t).toBeLessThanOrEqual(302);
      expectClose(plant.speciesFed[0]!, 0.005, 1e-9);
      expect(plant.feedInventory[0]).toBe(0);
      expect(plant.units[0]!.inlet.flow).toBe(0);
      expect(samplePlant(plant)['reaction.P-1']).toBe(0);
    });

    it('draws a gas feed by normal volume', () => {
      const paracetamol = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
      const plant = new Plant(paracetamol);
      const hydrogen = paracetamol.feeds.findIndex((f) => f.id === 'hydrogen-gas');
      const before = plant.feedInventory[hydrogen]!;
      plant.run(600);
      // 270 NmL/min for 10 min, less the first seconds of the 1 s pump lag.
      expect(before - plant.feedInventory[hydrogen]!).toBeCloseTo(2.7, 2);
    });
  });

  describe('warm-up', () => {
    it('resets time, totals, inventories and events but keeps the reactor state', () => {
      const clock = new ManualClock(1000);
      const recipe = oneStepRecipe({
        analyser: {
          tag: 'AT-1',
          technique: 'uv',
          measures: [{ quantity: 'conversion' }],
          cadence: 30,
          deadTime: 45,
        },
      });
      recipe.feeds[0]!.inventory = 0.5;
      const plant = new Plant(compilePlant(recipe), {
        clock,
        scenario: scenario({ kind: 'pump-calibration', pump: 'P-1', start: 60, factor: 0.5 }),
      });
      plant.setSetpoint('PCV-1', 0.5); // a violation that lasts: reported again at the new t = 0
      plant.warmUp(10 * TAU);
      const unit = plant.units[0]!;
      expect(plant.time).toBe(0);
      expect(clock.now()).toBe(1000);
      expect(Object.values(unit.totals).every((v) => v === 0)).toBe(true);
      expect(Array.from(plant.speciesFed)).toEqual([0, 0, 0, 0]);
      expect(Array.from(plant.speciesCollected)).toEqual([0, 0, 0, 0]);
      expect(plant.freshMass).toBe(0);
      expect(plant.collectedVolume).toBe(0);
      expect(plant.feedInventory[0]).toBe(0.5);
      expect(plant.drainEvents()).toEqual([
        expect.objectContaining({
          t: 0,
          kind: 'violation',
          message: 'reaction back-pressure PCV-1 0.5 bar is below 1 bar',
        }),
      ]);
      // Warmed up without the disturbance, which starts at the new time zero.
      expectClose(unit.conversion(), 1 - Math.pow(1.3, -20), 1e-6);
      expectClose(unit.flow[0]!, 1, 1e-12);
      // The analyser's schedule moved with the clock.
      expect(unit.analyser!.latestSampledAt).toBeLessThan(0);
      plant.run(120);
      expectClose(unit.flow[0]!, 0.5, 1e-12);
      expect(unit.analyser!.latestSampledAt).toBeGreaterThan(0);
      expect(unit.analyser!.latestAvailableAt - unit.analyser!.latestSampledAt).toBe(45);
      expect(clock.now()).toBe(1120);
    });

    it('warms up without a disturbance that is in force at t = 0', () => {
      const plant = new Plant(model(), {
        scenario: scenario({ kind: 'pump-calibration', pump: 'P-1', start: 0, factor: 0.5 }),
      });
      plant.warmUp(10 * TAU);
      const unit = plant.units[0]!;
      expectClose(unit.flow[0]!, 1, 1e-9);
      expectClose(unit.conversion(), 1 - Math.pow(1.3, -20), 1e-6);
    });

    it('restores tank levels', () => {
      const plant = new Plant(compilePlant(twoStepRecipe()));
      plant.setSetpoint('P-2', 0.5);
      plant.warmUp(600);
      expect(plant.tank('t1').level).toBe(0.01);
      plant.run(600);
      expect(plant.tank('t1').level).toBeGreaterThan(0.01);
    });

    it('a run after warm-up closes its mass balance from the warmed-up hold-up', () => {
      const plant = new Plant(model({ reactions: [SECOND_ORDER], feed: { a: 1, b: 1 } }));
      plant.warmUp(1200);
      const initial = plant.holdup();
      plant.run(1200);
      const { error, fed } = massBalance(plant, initial);
      expect(Math.abs(error)).toBeLessThan(1e-9 * fed);
    });
  });

  it('keeps at most MAX_PENDING_EVENTS undrained events, dropping the oldest and counting them', () => {
    const plant = new Plant(compilePlant(oneStepRecipe()), { dt: 1 });
    // Each step flips the jacket setpoint across its 150 °C limit: one event per step.
    const steps = MAX_PENDING_EVENTS + 2_000;
    for (let i = 0; i < steps; i++) {
      plant.setSetpoint('TC-1', i % 2 === 0 ? 200 : 25);
      plant.step();
    }
    const events = plant.drainEvents();
    expect(events.length).toBeLessThanOrEqual(MAX_PENDING_EVENTS);
    expect(plant.droppedEvents + events.length).toBe(steps);
    expect(events.at(-1)!.t).toBe(steps);
  });
});
