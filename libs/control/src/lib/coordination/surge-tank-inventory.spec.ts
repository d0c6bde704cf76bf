import { CoordinationError } from './coordination.error';
import { SurgeTankInventory } from './surge-tank-inventory';

/** in − out + reconciled = held, to round-off. */
function expectBalance(tank: SurgeTankInventory): void {
  const t = tank.totals;
  expect(t.filledGrams - t.drawnGrams + t.reconciledGrams).toBeCloseTo(tank.grams, 9);
  expect(t.filledVolume - t.drawnVolume + t.reconciledVolume).toBeCloseTo(tank.volume, 12);
}

describe('SurgeTankInventory', () => {
  it('draws at its own mean concentration, not at what flows in now', () => {
    const tank = new SurgeTankInventory('tank-1');
    tank.fill('opening', 1, 40); // 1 L at 40 g/L
    // The filler steps up to 60 g/L; 0.1 L goes in, 0.1 L is drawn.
    tank.fill('lot-A', 0.1, 6);
    const out = tank.draw(0.1);
    expect(out.grams).toBeCloseTo((0.1 * 46) / 1.1, 12);
    expect(out.grams).toBeLessThan(0.1 * 60);
    // Each lot in proportion to its share of the volume.
    expect(out.portions.map((p) => [p.lot, p.volume])).toEqual([
      ['opening', expect.closeTo(0.1 / 1.1, 12)],
      ['lot-A', expect.closeTo(0.01 / 1.1, 12)],
    ]);
    expect(tank.concentration).toBeCloseTo(46 / 1.1, 12);
    expectBalance(tank);
  });

  it('follows a step change of the filler as a mixed tank does', () => {
    // Fill and draw 1 % of the volume per step: after n steps the tank has moved 1 − 0.99^n
    // of the way (first-order mixing), the draws with it.
    const tank = new SurgeTankInventory('tank-1');
    tank.fill('opening', 1, 40);
    let drawn = 0;
    for (let n = 0; n < 100; n++) {
      tank.fill('lot-A', 0.01, 0.01 * 20);
      drawn += tank.draw(0.01).grams;
    }
    const exact = 20 + (40 - 20) * (1 / 1.01) ** 100;
    expect(tank.concentration).toBeCloseTo(exact, 9);
    expect(drawn).toBeGreaterThan(100 * 0.01 * 20); // older, richer material went out first
    expectBalance(tank);
  });

  it('drains to empty: draws only what it holds and says how much was short', () => {
    const tank = new SurgeTankInventory('tank-2');
    tank.fill('lot-A', 0.2, 10, 2);
    const out = tank.draw(0.5);
    expect(out.requested).toBe(0.5);
    expect(out.short).toBeCloseTo(0.3, 12);
    expect(out.volume).toBeCloseTo(0.2, 12);
    expect(out.grams).toBeCloseTo(10, 12);
    expect(out.estimatedGrams).toBeCloseTo(2, 12);
    expect(tank.volume).toBe(0);
    expect(tank.concentration).toBeNaN();
    const again = tank.draw(0.1);
    expect(again).toMatchObject({ volume: 0, grams: 0, short: 0.1, portions: [] });
    expectBalance(tank);
  });

  it('books nothing for zero flow', () => {
    const tank = new SurgeTankInventory('tank-1');
    tank.fill('opening', 1, 40);
    tank.fill('lot-A', 0, 0);
    expect(tank.draw(0)).toMatchObject({ volume: 0, grams: 0, short: 0, portions: [] });
    expect(tank.contents()).toEqual([{ lot: 'opening', volume: 1, grams: 40, estimatedGrams: 0 }]);
  });

  it('matches the level reading, keeping the concentration; an unexpected level is estimated', () => {
    const tank = new SurgeTankInventory('tank-1');
    tank.fill('lot-A', 1, 40);
    const change = tank.reconcile(1.02);
    expect(change.volume).toBeCloseTo(0.02, 12);
    expect(change.grams).toBeCloseTo(0.8, 12);
    expect(tank.concentration).toBeCloseTo(40, 12);
    expectBalance(tank);
    const empty = new SurgeTankInventory('tank-2');
    expect(empty.reconcile(0.5)).toEqual({ volume: 0, grams: 0, estimatedGrams: 0 });
    expect(empty.reconcile(0.5, { lot: 'opening', concentration: 30 })).toEqual({
      volume: 0.5,
      grams: 15,
      estimatedGrams: 15,
    });
    expect(empty.contents()).toEqual([
      { lot: 'opening', volume: 0.5, grams: 15, estimatedGrams: 15 },
    ]);
    expectBalance(empty);
    expect(empty.reconcile(0).volume).toBeCloseTo(-0.5, 12);
    expect(empty.volume).toBe(0);
  });

  it('relabels everything as one lot (an order’s opening inventory), keeping what was estimated', () => {
    const tank = new SurgeTankInventory('tank-1');
    tank.fill('lot-A', 0.5, 20, 5);
    tank.fill('lot-B', 0.5, 25);
    tank.relabel('PO-2.tank-1.opening');
    expect(tank.contents()).toEqual([
      { lot: 'PO-2.tank-1.opening', volume: 1, grams: 45, estimatedGrams: 5 },
    ]);
  });

  it('refuses NaN, infinite and negative figures', () => {
    const tank = new SurgeTankInventory('tank-1');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expect(() => tank.fill('lot-A', bad, 1)).toThrow(CoordinationError);
      expect(() => tank.fill('lot-A', 1, bad)).toThrow(/not a finite number/);
      expect(() => tank.draw(bad)).toThrow(CoordinationError);
      expect(() => tank.reconcile(bad)).toThrow(CoordinationError);
    }
    expect(() => tank.fill('lot-A', 1, 1, 2)).toThrow(/estimated/);
    expect(() => tank.reconcile(1, { lot: 'x', concentration: Number.NaN })).toThrow(
      CoordinationError,
    );
    expect(tank.volume).toBe(0);
  });
});
