import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { nominalSteadyState, StepSpace } from '../step/step-space';
import type { StepReadings } from '../step/step-readings';
import { ConversionPidController } from './conversion-pid.controller';
import { analyserMargin, operatingPointPid } from './operating-point-pid';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

function readings(
  space: StepSpace,
  sampledAt: number,
  conversion: number,
  setpoints = space.nominalSetpoints(),
): StepReadings {
  return {
    time: sampledAt + 100,
    setpoints,
    analyser: { values: { conversion }, sampledAt, quality: 'good' },
    maxTemperature: 50,
    pressure: 3,
    throughputTarget: 1,
  };
}

describe('operatingPointPid', () => {
  const tunings = Object.fromEntries(model.steps.map((s) => [s.id, operatingPointPid(model, s.id)]));

  it.each(model.steps.map((s) => s.id))(
    'holds %s at its nominal conversion, never below minConversion + the analyser margin',
    (id) => {
      const step = model.steps.find((s) => s.id === id)!;
      const tuning = tunings[id]!;
      const nominal = nominalSteadyState(model).steps[step.index]!.figures.conversion;
      const floor = step.minConversion + analyserMargin(step, tuning);
      expect(analyserMargin(step, tuning)).toBeGreaterThan(0);
      expect(tuning.setpoint).toBeCloseTo(Math.max(nominal, floor), 12);
      expect(tuning.setpoint).toBeLessThan(1);
    },
  );

  it.each(model.steps.map((s) => s.id))(
    'gives %s a jacket range above the recipe, inside the agent range, with a positive gain',
    (id) => {
      const step = model.steps.find((s) => s.id === id)!;
      const { jacket } = tunings[id]!;
      const nominal = step.spec.thermostat.setpoint.nominal;
      expect(jacket!.ceiling).toBeGreaterThanOrEqual(nominal);
      expect(jacket!.ceiling).toBeLessThanOrEqual(nominal + 15);
      expect(jacket!.process.gain).toBeGreaterThan(0);
      expect(jacket!.width).toBeGreaterThanOrEqual(0);
    },
  );

  it('raises the jacket before it cuts the flow, and comes back bumplessly', () => {
    const space = new StepSpace(model, 'hydrogenation');
    const tuning = tunings['hydrogenation']!;
    const pid = new ConversionPidController(space, tuning);
    expect(pid.setpoint).toBe(tuning.setpoint);
    pid.reset(readings(space, 0, pid.setpoint));
    // A little short: the jacket warms, the flow stays at the target.
    let out = pid.decide(readings(space, 30, pid.setpoint - 0.005));
    out = pid.decide(readings(space, 60, pid.setpoint - 0.005));
    expect(out['TC-201']).toBeGreaterThan(50);
    expect(out['P-201']).toBeCloseTo(7.3, 9);
    // Far short for long: the jacket reaches its ceiling, then the flow falls.
    for (let k = 3; k <= 300; k++) out = pid.decide(readings(space, 30 * k, 0.8));
    expect(out['TC-201']).toBeCloseTo(tuning.jacket!.ceiling, 9);
    expect(out['P-201']).toBeLessThan(7.3);
    // A transfer from these setpoints continues from them.
    const again = new ConversionPidController(space, tuning);
    again.reset(readings(space, 0, pid.setpoint, out));
    const next = again.decide(readings(space, 0, pid.setpoint, out));
    expect(next['TC-201']).toBeCloseTo(out['TC-201']!, 9);
    expect(next['P-201']).toBeCloseTo(out['P-201']!, 9);
  });
});
