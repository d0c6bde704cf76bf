import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { ProcessLimitGuard } from './process-limit.guard';
import { StepSpace } from './step-space';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));
const space = new StepSpace(model, 'hydrogenation');
const guard = new ProcessLimitGuard(space);
const nominal: Record<string, number> = { ...space.nominalSetpoints(), 'PCV-201': 5 };
const top = Object.fromEntries(space.manipulated.map((m) => [m.tag, m.engineering.high]));

describe('ProcessLimitGuard', () => {
  it('passes the recipe point and refuses the top of the engineering ranges (hot spot past 95 − 5 °C)', () => {
    expect(guard.check(nominal, nominal, undefined)).toEqual({ safe: true, detail: '' });
    const verdict = guard.check(top, nominal, undefined);
    expect(verdict.safe).toBe(false);
    expect(verdict.detail).toMatch(
      /hydrogenation hot spot [\d.]+ °C expected, within 5 °C of its limit 95 °C/,
    );
  });

  it('adds what the plant measures above the model, never what it measures below', () => {
    const now = guard.predict(nominal, nominal);
    const hotter = { maxTemperature: now.maxTemperature + 30, pressure: now.pressure };
    expect(guard.check(nominal, nominal, hotter).safe).toBe(false);
    const cooler = { maxTemperature: now.maxTemperature - 30, pressure: now.pressure - 1 };
    expect(guard.check(nominal, nominal, cooler).safe).toBe(true);
    const unknown = guard.check(nominal, nominal, { maxTemperature: Number.NaN, pressure: 5 });
    expect(unknown.safe).toBe(false);
    expect(unknown.detail).toMatch(/not measured/);
  });

  it('solves a trickle and stopped feeds (a pump ramping to 0 passes 4e-16)', () => {
    const trickle = { 'P-201': 4.440892098500626e-16, 'MFC-201': 0, 'TC-201': 50 };
    expect(guard.check(trickle, nominal, undefined).safe).toBe(true);
    expect(guard.predict({ 'P-201': 0, 'MFC-201': 0, 'TC-201': 50 }, nominal)).toEqual({
      maxTemperature: 50,
      mtsr: 50,
      pressure: 5,
    });
  });

  it('moves to the safe side: every feed down at the same ratio, none by more than its move, the jacket down one move', () => {
    const safe = guard.safeSide(nominal);
    const [pump, gas, jacket] = space.manipulated;
    expect(safe[jacket!.tag]).toBeCloseTo(nominal[jacket!.tag]! - jacket!.maxMove, 12);
    expect(safe[pump!.tag]! / safe[gas!.tag]!).toBeCloseTo(
      nominal[pump!.tag]! / nominal[gas!.tag]!,
      12,
    );
    for (const m of [pump!, gas!]) {
      expect(nominal[m.tag]! - safe[m.tag]!).toBeLessThanOrEqual(m.maxMove + 1e-12);
      expect(safe[m.tag]).toBeLessThan(nominal[m.tag]!);
    }
  });
});
