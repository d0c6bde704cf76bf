import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { StepSpace } from '../step/step-space';
import type { StepReadings } from '../step/step-readings';
import { capacityFromConversion, StepCapacityEstimator } from './step-capacity';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

/** Conversion of an isothermal first-order plug-flow reactor whose Damköhler number at scale 1 is `da`. */
const firstOrder = (da: number, scale: number) => 1 - Math.exp(-da / scale);

describe('capacityFromConversion', () => {
  it('reproduces the first-order plug-flow capacity from any operating point', () => {
    // −ln(1 − X)·u = Da: the capacity for X* is Da / −ln(1 − X*), wherever X was measured.
    const da = 3.2;
    const exact = da / -Math.log(1 - 0.95);
    for (const scale of [0.5, 0.8, 1, 1.3]) {
      expect(capacityFromConversion(firstOrder(da, scale), scale, 0.95)).toBeCloseTo(exact, 12);
    }
    // At the required conversion itself the capacity is the scale.
    expect(capacityFromConversion(0.95, 0.9, 0.95)).toBeCloseTo(0.9, 14);
  });

  it('propagates NaN and takes the edges explicitly', () => {
    expect(capacityFromConversion(Number.NaN, 1, 0.95)).toBeNaN();
    expect(capacityFromConversion(0.9, Number.NaN, 0.95)).toBeNaN();
    expect(capacityFromConversion(0.9, 0, 0.95)).toBeNaN();
    expect(capacityFromConversion(-0.1, 1, 0.95)).toBe(0);
    expect(capacityFromConversion(1, 1, 0.95)).toBe(Number.POSITIVE_INFINITY);
    expect(() => capacityFromConversion(0.9, 1, 1)).toThrow(RangeError);
    expect(() => capacityFromConversion(0.9, 1, 0)).toThrow(RangeError);
  });
});

describe('StepCapacityEstimator', () => {
  const space = new StepSpace(model, 'hydrogenation');
  const step = space.step;
  // Nominal residence time of the liquid: 10 mL at 7.3 mL/min.
  const tau = step.liquidVolume / (7.3 / 60_000);
  const setpoints = (scale: number) =>
    Object.fromEntries(step.inlets.map((inlet) => [inlet.pump, inlet.nominal * scale]));
  const readings = (
    time: number,
    scale: number,
    result?: { sampledAt: number; conversion: number; quality?: 'good' | 'bad' },
  ): Pick<StepReadings, 'time' | 'setpoints' | 'analyser'> => ({
    time,
    setpoints: setpoints(scale),
    analyser: result && {
      values: { conversion: result.conversion },
      sampledAt: result.sampledAt,
      quality: result.quality ?? 'good',
    },
  });

  it('bounds itself to the pumps’ agent range and aims at minConversion by default', () => {
    const estimator = new StepCapacityEstimator(space);
    expect(estimator.range[0]).toBeCloseTo(0.5, 12);
    expect(estimator.range[1]).toBeCloseTo(1.5, 12);
    expect(estimator.required).toBe(step.minConversion);
    expect(estimator.estimate.status).toBe('unknown');
    expect(estimator.estimate.scale).toBeNaN();
  });

  it('charges a result to the mean scale over its residence window (plug flow)', () => {
    const estimator = new StepCapacityEstimator(space);
    estimator.update(readings(0, 1));
    estimator.update(readings(1000, 0.8));
    // Sampled 40 s after the change: 40 s at 0.8 (32 s at scale 1), then 50.2 s at 1.
    const window = estimator.windowScale(1040);
    const duration = 40 + (tau - 32);
    expect('scale' in window && window.scale).toBeCloseTo(tau / duration, 12);
    // Later the whole window lies at 0.8.
    const later = estimator.windowScale(1000 + tau / 0.8 + 1);
    expect('scale' in later && later.scale).toBeCloseTo(0.8, 12);
    // Before the history reaches back over a window it cannot say.
    const early = estimator.windowScale(30);
    expect('reason' in early && early.reason).toMatch(/does not reach/);
  });

  it('converges on the analytic capacity of a first-order step through a change of pace', () => {
    const da = 3.0;
    // Plug flow: the liquid sampled at s spent τ_element in the reactor, with
    // ∫ scale dt = τ over [s − τ_element, s]; the pace drops from 1 to 0.9 at 900 s.
    const conversionAt = (s: number) => {
      const after = Math.max(0, s - 900);
      const element = 0.9 * after >= tau ? tau / 0.9 : after + (tau - 0.9 * after);
      return 1 - Math.exp((-da * element) / tau);
    };
    const estimator = new StepCapacityEstimator(space);
    let t = 0;
    for (let k = 0; k < 60; k++, t += 30) {
      const scale = t < 900 ? 1 : 0.9;
      estimator.update(readings(t, scale, { sampledAt: t - 10, conversion: conversionAt(t - 10) }));
    }
    expect(estimator.estimate.status).toBe('fresh');
    expect(estimator.estimate.scale).toBeCloseTo(da / -Math.log(1 - step.minConversion), 9);

    const fast = new StepCapacityEstimator(space);
    for (let k = 0, t2 = 0; k < 20; k++, t2 += 30) {
      fast.update(readings(t2, 1, { sampledAt: t2 - 10, conversion: firstOrder(20, 1) }));
    }
    expect(fast.estimate.scale).toBe(1.5);
    expect(fast.estimate.unbounded).toBeCloseTo(1.5, 12);
  });

  it('filters noise in time', () => {
    const estimator = new StepCapacityEstimator(space, { filterTime: 600 });
    const da = 3.0;
    const exact = da / -Math.log(1 - step.minConversion);
    let t = 0;
    for (let k = 0; k < 400; k++, t += 30) {
      // ± 1.5 % of conversion, alternating: the estimate must not follow it.
      const x = firstOrder(da, 1) + (k % 2 === 0 ? 0.015 : -0.015);
      estimator.update(readings(t, 1, { sampledAt: t - 10, conversion: x }));
    }
    expect(Math.abs(estimator.estimate.scale - exact) / exact).toBeLessThan(0.03);
  });

  it('holds on NaN, repeats, bad quality and transients, and goes stale after maxAge', () => {
    const estimator = new StepCapacityEstimator(space, { maxAge: 300 });
    let t = 0;
    for (; t <= 600; t += 30) {
      estimator.update(readings(t, 1, { sampledAt: t - 10, conversion: 0.96 }));
    }
    const value = estimator.estimate.scale;
    expect(estimator.estimate.status).toBe('fresh');
    const nan = estimator.update(readings(t, 1, { sampledAt: t - 10, conversion: Number.NaN }));
    expect(nan).toMatchObject({ status: 'held', scale: value });
    expect(nan.reason).toMatch(/no conversion/);
    expect(
      estimator.update(readings(t + 5, 1, { sampledAt: t - 10, conversion: 0.5 })).reason,
    ).toMatch(/no new result/);
    const bad = estimator.update(
      readings(t + 30, 1, { sampledAt: t + 20, conversion: 0.5, quality: 'bad' }),
    );
    expect(bad).toMatchObject({ status: 'held', scale: value });
    expect(bad.reason).toMatch(/out of service/);
    // A jump of the scale inside the window: the result is not charged to either pace.
    estimator.update(readings(t + 60, 0.6));
    expect(
      estimator.update(readings(t + 90, 0.6, { sampledAt: t + 80, conversion: 0.99 })).reason,
    ).toMatch(/moved/);
    expect(estimator.estimate.scale).toBe(value);
    // Nothing usable for longer than maxAge: stale, the last value kept.
    expect(estimator.update(readings(t + 400, 0.6)).status).toBe('stale');
    expect(estimator.estimate.scale).toBe(value);
  });

  it('skips results whose liquid stood still in the reactor (a stop)', () => {
    const estimator = new StepCapacityEstimator(space);
    estimator.update(readings(0, 1));
    estimator.update(readings(600, 0));
    estimator.update(readings(1200, 1));
    const estimate = estimator.update(readings(1230, 1, { sampledAt: 1220, conversion: 0.999 }));
    expect(estimate.status).toBe('unknown');
    expect(estimate.reason).toMatch(/stood still/);
  });
});
