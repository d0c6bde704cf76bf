import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { SeededRandom } from '@pipac/twin';
import { StepSpace } from '../step/step-space';
import { defaultEstimatorOptions } from './step-mpc.controller';
import { StepMpcEstimator } from './step-mpc.estimator';
import { NOMINAL_PARAMETERS, StepMpcModel, type MpcParameters } from './step-mpc.model';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

/** Analyser results as the twin's analyser makes them: truth × (1 + bias) plus seeded noise. */
function sampler(space: StepSpace, truth: MpcParameters, seed: number) {
  const stepModel = new StepMpcModel(space);
  const noise = space.step.spec.analyser!.noise!;
  const random = new SeededRandom(seed);
  return (inputs: ArrayLike<number>) =>
    Array.from(
      stepModel.predict(inputs, truth).analyser,
      (v) =>
        v * (1 + truth.bias) +
        Math.abs(v) * (noise.relative ?? 0) * random.normal() +
        (noise.absolute ?? 0) * random.normal(),
    );
}

/** Nominal setpoints with the jacket stepped ±2 °C every 10 samples (an excitation a plant sees). */
function excited(space: StepSpace, k: number): Float64Array {
  return Float64Array.from(space.manipulated, (m) =>
    m.kind === 'thermostat' ? m.nominal + (Math.floor(k / 10) % 2 === 0 ? 2 : -2) : m.nominal,
  );
}

describe('StepMpcEstimator', () => {
  it.each([
    // step, the change, samples, tolerance of each parameter. The rate's random walk lets the
    // estimate wander by about ±0.05 (its drift over the filter's memory); 0.1 is twice that.
    ['hydrogenation', { rate: -0.3, bias: 0.02 }, 60, { rate: 0.1, bias: 0.01 }],
    ['acetylation', { rate: -0.2, bias: -0.02 }, 60, { rate: 0.1, bias: 0.01 }],
    // Nitration's bias is not estimated (confounded with the phenol stock's strength).
    ['nitration', { rate: -0.2, strength: -0.1 }, 120, { rate: 0.1, strength: 0.02 }],
  ] as const)('recovers a step change in %s: %j', (id, change, n, tolerance) => {
    const space = new StepSpace(model, id);
    const stepModel = new StepMpcModel(space);
    const estimator = new StepMpcEstimator(stepModel, defaultEstimatorOptions(space));
    const truth = { ...NOMINAL_PARAMETERS, ...change };
    const sample = sampler(space, truth, 11);
    const cadence = space.step.spec.analyser!.cadence;
    const random = new SeededRandom(5);
    for (let k = 0; k < n; k++) {
      const inputs = excited(space, k);
      estimator.updateAnalyser(k * cadence, inputs, sample(inputs));
      // The bed's hot spot, read to 0.3 K, pins its heat transfer (where estimated).
      const hotSpot = stepModel.predict(inputs, truth).maxTemperature + 0.3 * random.normal();
      estimator.updateHotSpot(k * cadence, inputs, hotSpot);
    }
    const estimate = estimator.parameters();
    for (const [name, tol] of Object.entries(tolerance) as [keyof MpcParameters, number][]) {
      expect(Math.abs(estimate[name] - truth[name])).toBeLessThan(tol);
    }
  });

  it('skips values that are not numbers and learns nothing from none', () => {
    const space = new StepSpace(model, 'acetylation');
    const estimator = new StepMpcEstimator(new StepMpcModel(space), defaultEstimatorOptions(space));
    const inputs = space.manipulated.map((m) => m.nominal);
    estimator.updateAnalyser(30, inputs, [Number.NaN, Number.NaN, Number.NaN]);
    expect(estimator.parameters()).toEqual(NOMINAL_PARAMETERS);
    estimator.updateAnalyser(60, inputs, [Number.NaN, Number.POSITIVE_INFINITY, 0.9]);
    expect(Object.values(estimator.parameters()).every(Number.isFinite)).toBe(true);
  });

  it('grows its covariance while no result comes (an outage), by the random walk', () => {
    const space = new StepSpace(model, 'hydrogenation');
    const options = defaultEstimatorOptions(space);
    const estimator = new StepMpcEstimator(new StepMpcModel(space), options);
    const inputs = space.manipulated.map((m) => m.nominal);
    estimator.updateAnalyser(0, inputs, sampler(space, NOMINAL_PARAMETERS, 3)(inputs));
    const before = estimator.covarianceAt(0).get(0, 0);
    const after = estimator.covarianceAt(3600).get(0, 0);
    // Variance of ln rate grows by drift² per hour.
    expect(after - before).toBeCloseTo(options.drift.rate ** 2, 10);
    const conversion = (p: MpcParameters) => new StepMpcModel(space).predict(inputs, p).conversion;
    expect(estimator.sigmaOf(3600, conversion)).toBeGreaterThan(estimator.sigmaOf(0, conversion));
  });
});
