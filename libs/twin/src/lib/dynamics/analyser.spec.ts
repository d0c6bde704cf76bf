import { compilePlant, type AnalyserSpec } from '@pipac/recipe';
import { oneStepRecipe } from '@pipac/recipe/testing';
import { Plant } from './plant';

function analyserPlant(spec: Partial<AnalyserSpec> = {}, seed = 1): Plant {
  const analyser: AnalyserSpec = {
    tag: 'AT-1',
    technique: 'uv',
    measures: [{ quantity: 'conversion' }, { quantity: 'concentration', species: 'b' }],
    cadence: 30,
    deadTime: 45,
    ...spec,
  };
  return new Plant(compilePlant(oneStepRecipe({ analyser })), { seed });
}

interface Published {
  at: number;
  sampledAt: number;
  availableAt: number;
  values: number[];
}

/** Runs the plant, recording the truth at every step and each result as it is published. */
function record(
  plant: Plant,
  seconds: number,
): { truth: Map<number, [number, number]>; published: Published[] } {
  const truth = new Map<number, [number, number]>();
  const published: Published[] = [];
  const unit = plant.units[0]!;
  const analyser = unit.analyser!;
  let last = Number.NaN;
  plant.run(seconds, (p) => {
    truth.set(p.time, [unit.conversion(), unit.outlet()[1]!]);
    if (!Object.is(analyser.latestAvailableAt, last)) {
      last = analyser.latestAvailableAt;
      published.push({
        at: p.time,
        sampledAt: analyser.latestSampledAt,
        availableAt: last,
        values: Array.from(analyser.latest),
      });
    }
  });
  return { truth, published };
}

function mean(values: number[]): number {
  return values.reduce((sum, x) => sum + x, 0) / values.length;
}

function standardDeviation(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, x) => sum + (x - m) ** 2, 0) / (values.length - 1));
}

describe('Analyser', () => {
  it('reads truth × (1 + its calibration error) when the plant has one (the reality gap)', () => {
    const analyser: AnalyserSpec = {
      tag: 'AT-1',
      technique: 'uv',
      measures: [{ quantity: 'concentration', species: 'b' }],
      cadence: 30,
      deadTime: 0,
    };
    const model = compilePlant(oneStepRecipe({ analyser }));
    const off = { ...model, steps: [{ ...model.steps[0]!, analyserCalibration: 0.05 }] };
    const readings = (plant: Plant) => record(plant, 600).published.map((p) => p.values[0]!);
    const exact = readings(new Plant(model, { seed: 1 }));
    const biased = readings(new Plant(off, { seed: 1 }));
    expect(biased).toHaveLength(exact.length);
    biased.forEach((value, i) => expect(value).toBeCloseTo(exact[i]! * 1.05, 12));
  });

  it('publishes nothing before its first result', () => {
    const plant = analyserPlant();
    const analyser = plant.units[0]!.analyser!;
    expect(analyser.results()).toEqual([]);
    plant.run(74); // first sample at the cadence, 30 s, published 45 s later
    expect(analyser.results()).toEqual([]);
    expect(Number.isNaN(analyser.latest[0])).toBe(true);
    plant.step();
    expect(analyser.results()).toHaveLength(2);
  });

  it('samples every cadence seconds and publishes each result deadTime seconds later', () => {
    const plant = analyserPlant();
    const { published } = record(plant, 600);
    // Samples on the grid 30, 60, … 540 s are out by 600 s (570 + 45 > 600).
    expect(published.map((p) => p.sampledAt)).toEqual(
      Array.from({ length: 18 }, (_, i) => 30 * (i + 1)),
    );
    for (const p of published) {
      expect(p.availableAt - p.sampledAt).toBe(45);
      expect(p.at).toBe(p.availableAt);
    }
  });

  it('without noise reports the true outlet at the moment of sampling, not of publishing', () => {
    const plant = analyserPlant();
    const { truth, published } = record(plant, 1200);
    // During start-up the outlet changes fast, so the dead time matters.
    const rising = published.filter((p) => p.sampledAt > 400 && p.sampledAt < 900);
    expect(rising.length).toBeGreaterThan(10);
    for (const p of published) {
      const [conversion, b] = truth.get(p.sampledAt)!;
      expect(p.values[0]).toBe(conversion);
      expect(p.values[1]).toBe(b);
    }
    expect(rising.some((p) => truth.get(p.at)![1] !== p.values[1])).toBe(true);
  });

  it('publishes records with tag, step, quantity and both times', () => {
    const plant = analyserPlant();
    plant.run(100);
    const results = plant.units[0]!.analyser!.results();
    expect(results.map((r) => r.quantity)).toEqual(['conversion', 'concentration:b']);
    for (const result of results) {
      expect(result).toMatchObject({
        tag: 'AT-1',
        step: 'reaction',
        sampledAt: 30,
        availableAt: 75,
      });
    }
  });

  it('relative noise has the stated standard deviation and no bias', () => {
    const plant = analyserPlant({ cadence: 1, deadTime: 0, noise: { relative: 0.02 } }, 11);
    plant.warmUp(6000);
    const { truth, published } = record(plant, 3000);
    const residuals = published.map((p) => p.values[1]! / truth.get(p.sampledAt)![1] - 1);
    expect(residuals.length).toBe(3000);
    expect(standardDeviation(residuals)).toBeGreaterThan(0.02 * 0.93);
    expect(standardDeviation(residuals)).toBeLessThan(0.02 * 1.07);
    expect(Math.abs(mean(residuals))).toBeLessThan((4 * 0.02) / Math.sqrt(3000));
  });

  it('absolute noise adds in quadrature with relative noise', () => {
    const plant = analyserPlant(
      { cadence: 1, deadTime: 0, noise: { relative: 0.02, absolute: 0.01 } },
      12,
    );
    plant.warmUp(6000);
    const { truth, published } = record(plant, 3000);
    const errors = published.map((p) => p.values[1]! - truth.get(p.sampledAt)![1]);
    const b = truth.get(3000)![1];
    const sigma = Math.hypot(0.02 * b, 0.01);
    expect(standardDeviation(errors)).toBeGreaterThan(sigma * 0.93);
    expect(standardDeviation(errors)).toBeLessThan(sigma * 1.07);
    const conversionErrors = published.map((p) => p.values[0]! - truth.get(p.sampledAt)![0]);
    const x = truth.get(3000)![0];
    const conversionSigma = Math.hypot(0.02 * x, 0.01);
    expect(standardDeviation(conversionErrors)).toBeGreaterThan(conversionSigma * 0.93);
    expect(standardDeviation(conversionErrors)).toBeLessThan(conversionSigma * 1.07);
  });

  it('the noise comes from the seed: same seed same readings, another seed others', () => {
    const readings = (seed: number) =>
      record(analyserPlant({ noise: { relative: 0.05 } }, seed), 600).published.map(
        (p) => p.values[1],
      );
    expect(readings(3)).toEqual(readings(3));
    expect(readings(4)).not.toEqual(readings(3));
  });
});
