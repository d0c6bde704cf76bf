import { join } from 'node:path';
import { compilePlant, type PlantModel, loadRecipe } from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { SCENARIO_NAMES, buildScenario, ramp, type Disturbance } from './disturbances';
import { Plant } from './plant';

const RECIPES = join(__dirname, '../../../../../recipes');
const DURATION = 8 * 3600;

const paracetamol = compilePlant(loadRecipe(join(RECIPES, 'paracetamol.yaml')));
const oneStep = compilePlant(oneStepRecipe());
const oneStepWithAnalyser = compilePlant(
  oneStepRecipe({
    analyser: {
      tag: 'AT-1',
      technique: 'ir',
      measures: [{ quantity: 'conversion' }],
      cadence: 30,
      deadTime: 30,
    },
  }),
);
const plants: [string, PlantModel][] = [
  ['paracetamol', paracetamol],
  ['a one-step fixture', oneStep],
  ['a one-step fixture with an analyser', oneStepWithAnalyser],
];

function ofKind<K extends Disturbance['kind']>(
  disturbances: Disturbance[],
  kind: K,
): Extract<Disturbance, { kind: K }>[] {
  return disturbances.filter((d): d is Extract<Disturbance, { kind: K }> => d.kind === kind);
}

describe('buildScenario', () => {
  it('is deterministic per seed', () => {
    for (const name of SCENARIO_NAMES) {
      expect(buildScenario(name, paracetamol, 42, DURATION)).toStrictEqual(
        buildScenario(name, paracetamol, 42, DURATION),
      );
    }
  });

  it('goes beyond the realistic ranges by a severity: offsets × severity, factors ^ severity', () => {
    for (const seed of [1, 2, 3]) {
      const base = buildScenario('combined', paracetamol, seed, DURATION);
      expect(buildScenario('combined', paracetamol, seed, DURATION, { severity: 1 })).toEqual(base);
      const severe = buildScenario('combined', paracetamol, seed, DURATION, { severity: 1.5 });
      expect(severe.disturbances).toHaveLength(base.disturbances.length);
      severe.disturbances.forEach((d, i) => {
        const b = base.disturbances[i]!;
        expect(d.kind).toBe(b.kind);
        if ('start' in d && 'start' in b) expect(d.start).toBe(b.start); // onsets as drawn
        if (d.kind === 'feed-drift' && b.kind === d.kind)
          expect(d.factor).toBeCloseTo(b.factor ** 1.5, 12);
        if (d.kind === 'fouling' && b.kind === d.kind) {
          expect(d.heatTransferFactor).toBeCloseTo(b.heatTransferFactor ** 1.5, 12);
          expect(d.pressureDropFactor).toBeCloseTo(b.pressureDropFactor ** 1.5, 12);
        }
        if (d.kind === 'pump-calibration' && b.kind === d.kind)
          expect(d.factor - 1).toBeCloseTo(1.5 * (b.factor - 1), 12);
        if (d.kind === 'analyser-drift' && b.kind === d.kind)
          expect(d.ratePerHour).toBeCloseTo(1.5 * b.ratePerHour, 12);
        if (d.kind === 'analyser-outage' && b.kind === d.kind)
          expect(d.duration).toBeCloseTo(1.5 * b.duration, 6);
        if (d.kind === 'catalyst-deactivation' && b.kind === d.kind)
          expect(d.rate).toBeCloseTo(1.5 * b.rate, 12); // −ln(a^1.5) = 1.5 · −ln a
      });
    }
    expect(() => buildScenario('nominal', paracetamol, 1, DURATION, { severity: 0 })).toThrow(
      'severity must be positive, got 0',
    );
  });

  it('draws different magnitudes and onsets for another seed', () => {
    const a = buildScenario('combined', paracetamol, 1, DURATION);
    const b = buildScenario('combined', paracetamol, 2, DURATION);
    expect(b.disturbances.map((d) => d.kind)).toEqual(a.disturbances.map((d) => d.kind));
    expect(b.disturbances).not.toStrictEqual(a.disturbances);
    expect(a.seed).toBe(1);
    expect(b.seed).toBe(2);
  });

  it('fouls every step, in combined as alone', () => {
    const alone = buildScenario('fouling', paracetamol, 5, DURATION).disturbances;
    const combined = buildScenario('combined', paracetamol, 5, DURATION).disturbances;
    expect(alone.map((d) => d.kind)).toEqual(['fouling', 'fouling', 'fouling']);
    expect(ofKind(combined, 'fouling')).toHaveLength(3);
  });

  it('refuses an unknown name, listing the known ones', () => {
    expect(() => buildScenario('earthquake', paracetamol, 1, DURATION)).toThrow(
      /unknown scenario "earthquake"/,
    );
    try {
      buildScenario('earthquake', paracetamol, 1, DURATION);
    } catch (error) {
      for (const name of SCENARIO_NAMES) expect((error as Error).message).toContain(name);
    }
  });

  it('nominal has no disturbances', () => {
    expect(buildScenario('nominal', paracetamol, 1, DURATION)).toStrictEqual({
      name: 'nominal',
      seed: 1,
      duration: DURATION,
      disturbances: [],
    });
  });

  describe.each(plants)('for %s', (_name, model) => {
    it.each(SCENARIO_NAMES.map((name) => [name]))('%s builds, and a plant runs it', (name) => {
      const scenario = buildScenario(name, model, 3, 600);
      expect(scenario.name).toBe(name);
      expect(scenario.duration).toBe(600);
      const plant = new Plant(model, { scenario });
      plant.run(600);
      for (const unit of plant.units) {
        expect(Number.isFinite(unit.conversion())).toBe(true);
        expect(unit.activity).toBeGreaterThan(0);
      }
    });

    it('combined is the union of the single scenarios', () => {
      const combined = buildScenario('combined', model, 9, DURATION).disturbances;
      const kinds = new Set(combined.map((d) => d.kind));
      for (const name of SCENARIO_NAMES) {
        if (name === 'nominal' || name === 'combined') continue;
        const single = buildScenario(name, model, 9, DURATION).disturbances;
        if (single.length > 0) expect(kinds.has(single[0]!.kind)).toBe(true);
      }
    });
  });

  it('targets the packed bed for catalyst deactivation, or the first step where there is none', () => {
    const bed = ofKind(
      buildScenario('catalyst-deactivation', paracetamol, 1, DURATION).disturbances,
      'catalyst-deactivation',
    );
    expect(bed.map((d) => d.step)).toEqual(['hydrogenation']);
    const coil = ofKind(
      buildScenario('catalyst-deactivation', oneStep, 1, DURATION).disturbances,
      'catalyst-deactivation',
    );
    expect(coil.map((d) => d.step)).toEqual(['reaction']);
  });

  it('draws magnitudes and onsets within the stated ranges', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const all = buildScenario('combined', paracetamol, seed, DURATION).disturbances;
      for (const d of all) {
        if ('start' in d) {
          expect(d.start).toBeGreaterThanOrEqual(0.1 * DURATION);
          expect(d.start).toBeLessThan(0.3 * DURATION);
        }
      }
      for (const d of ofKind(all, 'catalyst-deactivation')) {
        // Activity falls to 35–60 % by the end of the run: exp(−rate·hours left).
        const remaining = Math.exp((-d.rate * (DURATION - d.start)) / 3600);
        expect(remaining).toBeGreaterThanOrEqual(0.35 - 1e-12);
        expect(remaining).toBeLessThanOrEqual(0.6 + 1e-12);
      }
      const drift = ofKind(all, 'feed-drift');
      expect(drift).toHaveLength(1);
      expect(drift[0]!.feed).toBe('phenol-solution'); // the feed that carries the first key reactant
      expect(drift[0]!.factor).toBeGreaterThanOrEqual(0.85);
      expect(drift[0]!.factor).toBeLessThan(0.92);
      expect(drift[0]!.duration).toBe(DURATION / 2);
      const fouling = ofKind(all, 'fouling');
      expect(fouling.map((d) => d.step)).toEqual(['nitration', 'hydrogenation', 'acetylation']);
      for (const d of fouling) {
        expect(d.heatTransferFactor).toBeGreaterThanOrEqual(0.3);
        expect(d.heatTransferFactor).toBeLessThan(0.5);
        expect(d.pressureDropFactor).toBeGreaterThanOrEqual(1.5);
        expect(d.pressureDropFactor).toBeLessThan(3);
      }
      const pump = ofKind(all, 'pump-calibration');
      expect(pump).toHaveLength(1);
      expect(['P-101', 'P-102']).toContain(pump[0]!.pump);
      expect(Math.abs(pump[0]!.factor - 1)).toBeGreaterThanOrEqual(0.07);
      expect(Math.abs(pump[0]!.factor - 1)).toBeLessThan(0.12);
      const drifts = ofKind(all, 'analyser-drift');
      expect(drifts.map((d) => d.analyser)).toEqual(['AT-101', 'AT-201', 'AT-301']);
      for (const d of drifts) {
        expect(Math.abs(d.ratePerHour)).toBeGreaterThanOrEqual(0.01);
        expect(Math.abs(d.ratePerHour)).toBeLessThan(0.03);
      }
      const outage = ofKind(all, 'analyser-outage');
      expect(outage.map((d) => d.analyser)).toEqual(['AT-101']);
      expect(outage[0]!.duration).toBeGreaterThanOrEqual(0.1 * DURATION);
      expect(outage[0]!.duration).toBeLessThan(0.2 * DURATION);
    }
  });

  it('has no analyser disturbances for a plant without analysers', () => {
    expect(buildScenario('analyser-drift', oneStep, 1, DURATION).disturbances).toEqual([]);
    expect(buildScenario('analyser-outage', oneStep, 1, DURATION).disturbances).toEqual([]);
  });

  it('both pump directions occur over seeds', () => {
    const factors = Array.from(
      { length: 30 },
      (_, seed) =>
        ofKind(
          buildScenario('pump-calibration', paracetamol, seed, DURATION).disturbances,
          'pump-calibration',
        )[0]!.factor,
    );
    expect(factors.some((f) => f > 1)).toBe(true);
    expect(factors.some((f) => f < 1)).toBe(true);
  });
});

describe('ramp', () => {
  it('rises linearly from 0 at start to 1 after duration', () => {
    expect(ramp(0, 10, 20)).toBe(0);
    expect(ramp(10, 10, 20)).toBe(0);
    expect(ramp(15, 10, 20)).toBe(0.25);
    expect(ramp(30, 10, 20)).toBe(1);
    expect(ramp(1000, 10, 20)).toBe(1);
  });

  it('is a step for a zero duration', () => {
    expect(ramp(10, 10, 0)).toBe(0);
    expect(ramp(10.001, 10, 0)).toBe(1);
  });
});
