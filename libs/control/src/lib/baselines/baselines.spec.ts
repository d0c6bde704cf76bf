import { join } from 'node:path';
import { compilePlant, loadRecipe, type Recipe } from '@pipac/recipe';
import { StepSpace } from '../step/step-space';
import type { StepReadings } from '../step/step-readings';
import { ConversionPidController, tuneConversionPid } from './conversion-pid.controller';
import { FixedRecipeController } from './fixed-recipe.controller';

const recipe = loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml'));
const model = compilePlant(recipe);

function readings(
  space: StepSpace,
  sampledAt: number,
  conversion: number,
  target = 1,
): StepReadings {
  return {
    time: sampledAt + 100,
    setpoints: space.nominalSetpoints(),
    analyser: { values: { conversion }, sampledAt, quality: 'good' },
    maxTemperature: 50,
    pressure: 3,
    throughputTarget: target,
  };
}

describe('baselines', () => {
  it('the fixed recipe scales its flows with the throughput target and keeps the jacket', () => {
    const space = new StepSpace(model, 'nitration');
    const out = new FixedRecipeController(space).decide(readings(space, 0, 0.9, 0.8));
    expect(out['P-101']).toBeCloseTo(6 * 0.8, 9);
    expect(out['P-102']).toBeCloseTo(1.3 * 0.8, 9);
    expect(out['TC-101']).toBe(30);
  });

  describe('PID on conversion', () => {
    it.each(model.steps.map((s) => s.id))(
      'tunes step %s by SIMC from a step test on the twin',
      (id) => {
        const tuning = tuneConversionPid(model, id);
        // More flow, less residence time, less conversion.
        expect(tuning.process.gain).toBeLessThan(0);
        expect(tuning.process.timeConstant).toBeGreaterThan(1);
        const analyser = model.steps.find((s) => s.id === id)!.spec.analyser!;
        expect(tuning.process.deadTime).toBeGreaterThanOrEqual(
          analyser.deadTime + analyser.cadence / 2,
        );
        // SIMC with τc = θ.
        const { gain, timeConstant, deadTime } = tuning.process;
        expect(tuning.kp).toBeCloseTo(timeConstant / (Math.abs(gain) * 2 * deadTime), 9);
        expect(tuning.ti).toBeCloseTo(Math.min(timeConstant, 8 * deadTime), 9);
      },
    );

    it('slows the step down when conversion is short, holds without a new result, and never exceeds the target', () => {
      const space = new StepSpace(model, 'hydrogenation');
      const pid = new ConversionPidController(space, tuneConversionPid(model, 'hydrogenation'));
      pid.reset(readings(space, 0, pid.setpoint));
      let flow = 0;
      for (let k = 1; k <= 10; k++) flow = pid.decide(readings(space, 30 * k, 0.9))['P-201']!;
      expect(flow).toBeLessThan(7.3 * 0.95);
      // The same result again: no integration, the output holds.
      expect(pid.decide(readings(space, 300, 0.9))['P-201']).toBeCloseTo(flow, 12);
      // Conversion well above the setpoint: flow rises to the target and stops there.
      for (let k = 11; k <= 200; k++) flow = pid.decide(readings(space, 30 * k, 1, 0.8))['P-201']!;
      expect(flow).toBeCloseTo(7.3 * 0.8, 9);
      // Anti-windup: the first results below the setpoint bring the flow down at once.
      const after = pid.decide(readings(space, 30 * 201, 0.9, 0.8))['P-201']!;
      expect(after).toBeLessThan(flow);
      expect(pid.decide(readings(space, 30 * 202, 0.9))['TC-201']).toBe(50);
    });

    it('refuses a step whose analyser does not report conversion', () => {
      const edited: Recipe = structuredClone(recipe);
      edited.steps[2]!.analyser!.measures = edited.steps[2]!.analyser!.measures.filter(
        (m) => m.quantity !== 'conversion',
      );
      const space = new StepSpace(compilePlant(edited), 'acetylation');
      expect(
        () => new ConversionPidController(space, tuneConversionPid(model, 'acetylation')),
      ).toThrow(/needs the step's analyser to report conversion/);
    });
  });
});
