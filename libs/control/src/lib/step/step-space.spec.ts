import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { StepSpace } from './step-space';
import type { StepReadings } from './step-readings';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('StepSpace', () => {
  it.each(model.steps.map((s) => s.id))('derives the spaces of step %s from the recipe', (id) => {
    const space = new StepSpace(model, id);
    const step = space.step;
    expect(space.actionSize).toBe(step.inlets.length + 1);
    expect(space.manipulated.map((m) => m.tag)).toEqual([
      ...step.inlets.map((i) => i.pump),
      step.thermostat.tag,
    ]);
    for (const m of space.manipulated) {
      expect(m.agent.low).toBeGreaterThanOrEqual(m.engineering.low);
      expect(m.agent.high).toBeLessThanOrEqual(m.engineering.high);
      expect(m.agent.low).toBeLessThan(m.nominal);
      expect(m.agent.high).toBeGreaterThan(m.nominal);
    }
    expect(space.features).toHaveLength(space.observationSize);
    expect(space.hasConversion).toBe(true);
  });

  it.each(model.steps.map((s) => s.id))(
    'estimates the key reactant fed by step %s from its pumps, and the nominal yield below 1',
    (id) => {
      const space = new StepSpace(model, id);
      const nominal = space.nominalSetpoints();
      expect(space.nominalKeyFeed).toBeGreaterThan(0);
      expect(space.keyReactantFeed(nominal)).toBeCloseTo(space.nominalKeyFeed, 12);
      const doubled = Object.fromEntries(Object.entries(nominal).map(([t, v]) => [t, 2 * v]));
      expect(space.keyReactantFeed(doubled)).toBeCloseTo(2 * space.nominalKeyFeed, 12);
      const nominalYield = space.nominalProductRate / space.nominalKeyFeed;
      expect(nominalYield).toBeGreaterThan(0.5);
      expect(nominalYield).toBeLessThanOrEqual(1);
    },
  );

  it('maps actions onto the agent range and back, clipping outside −1..1 and refusing NaN', () => {
    const space = new StepSpace(model, 'hydrogenation');
    const low = space.toSetpoints([-1, -1, -1]);
    const high = space.toSetpoints([5, 1, Number.NaN]);
    space.manipulated.forEach((m, i) => {
      expect(low[m.tag]).toBeCloseTo(m.agent.low, 9);
      if (i < 2) expect(high[m.tag]).toBeCloseTo(m.agent.high, 9);
    });
    // NaN is read as the middle of the range, never passed on.
    const jacket = space.manipulated[2]!;
    expect(high[jacket.tag]).toBeCloseTo((jacket.agent.low + jacket.agent.high) / 2, 9);
    const nominal = space.nominalSetpoints();
    const back = space.toSetpoints(space.toAction(nominal));
    for (const m of space.manipulated) expect(back[m.tag]).toBeCloseTo(m.nominal, 4);
    expect(() => space.toSetpoints([0])).toThrow(/takes 3/);
  });

  it('observes the conversion margin, trend, analyser age and the setpoints, bounded', () => {
    const space = new StepSpace(model, 'nitration');
    const readings: StepReadings = {
      time: 600,
      setpoints: space.nominalSetpoints(),
      analyser: {
        values: { conversion: 0.97, 'concentration:4-nitrophenol': 0.35 },
        sampledAt: 420,
        quality: 'good',
      },
      maxTemperature: 35,
      pressure: 3.2,
      throughputTarget: 1.1,
    };
    const o = space.observe(readings, 0.96);
    const at = (name: string) => o[space.features.indexOf(name)]!;
    expect(at('conversion_margin')).toBeCloseTo((0.97 - 0.92) / 0.05, 5);
    expect(at('conversion_change')).toBeCloseTo(0.2, 5);
    expect(at('analyser_age')).toBeCloseTo(180 / 180 - 1, 5);
    expect(at('analyser_good')).toBe(1);
    expect(at('throughput_target')).toBeCloseTo(0.1, 5);
    expect(at('setpoint:P-101')).toBeCloseTo(0, 5);
    const wild = space.observe({
      ...readings,
      analyser: { ...readings.analyser!, values: { conversion: 1e9 } },
      maxTemperature: -1e9,
    });
    for (const value of wild) expect(Math.abs(value)).toBeLessThanOrEqual(4);
    const none = space.observe({ ...readings, analyser: undefined });
    expect(none[space.features.indexOf('analyser_good')]).toBe(0);
    expect(none[space.features.indexOf('conversion_margin')]).toBe(0);
  });
});
