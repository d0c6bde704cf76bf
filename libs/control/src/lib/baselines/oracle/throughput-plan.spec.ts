import { loadLpSolver } from './highs-lp';
import type { StepOperatingPoint } from './step-optimum';
import { planThroughputs, type LpSolver, type StepCurve, type TankBand } from './throughput-plan';

/** A seeded generator (mulberry32): the instances are the same every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A step whose product is concave in its throughput, one L of outflow per unit key flow. */
function curve(
  step: number,
  rnd: () => number,
  steps: number,
  fresh: boolean,
): StepCurve & { valueAt: (q: number) => { value: number; key: number } } {
  const yield0 = 0.8 + 0.15 * rnd();
  const fall = 0.1 + 0.3 * rnd();
  const product = (q: number) => q * (yield0 - fall * (q - 0.5) ** 2);
  const points: StepOperatingPoint[] = Array.from({ length: 7 }, (_, i) => {
    const q = 0.5 + i * 0.15;
    return {
      scale: q,
      ratio: 1,
      jacket: 50,
      setpoints: {},
      conversion: 0.97,
      product: product(q),
      keyReactant: q,
      outflow: q,
      draws: step > 0 ? { [step - 1]: q } : {},
    };
  });
  const productPrice = 1 + rnd();
  const keyPrice = productPrice * (0.75 + 0.1 * rnd());
  return {
    points,
    productPrice,
    keyPrice,
    freshBudgetRate: fresh ? 0.9 + 0.2 * rnd() : undefined,
    outletTank: step < steps - 1 ? step : -1,
    // The LP's own model between breakpoints: linear interpolation.
    valueAt(q: number) {
      const i = Math.min(5, Math.floor((q - 0.5) / 0.15));
      const w = (q - points[i]!.scale) / 0.15;
      const p = (1 - w) * points[i]!.product + w * points[i + 1]!.product;
      return { value: productPrice * p - (fresh ? 0 : keyPrice * q), key: q };
    },
  };
}

describe('planThroughputs', () => {
  let lp: LpSolver;
  beforeAll(async () => {
    lp = await loadLpSolver();
  });

  it('matches a brute-force search of the same problem on 20 random three-step chains', () => {
    const rnd = random(20261207);
    for (let instance = 0; instance < 20; instance++) {
      const curves = [0, 1, 2].map((s) => curve(s, rnd, 3, s === 0));
      const horizon = 3600 * (1 + 7 * rnd());
      const tanks: TankBand[] = [0, 1].map(() => ({ level: 1, low: 0.25, high: 1.75 }));
      // Tanks hold about an hour of flow: scale the flows so the bands bind.
      const perSecond = 1 / 3600;
      for (const c of curves)
        for (const p of c.points) {
          p.outflow *= perSecond;
          for (const k of Object.keys(p.draws)) p.draws[Number(k)]! *= perSecond;
        }
      const plan = planThroughputs(curves, tanks, horizon, lp);
      const scales = plan.weights.map((w, s) =>
        w.reduce((sum, x, i) => sum + x * curves[s]!.points[i]!.scale, 0),
      );
      const objective = (q: number[]) => {
        let total = 0;
        q.forEach((x, s) => {
          const c = curves[s]!;
          const { value, key } = c.valueAt(x);
          total += value;
          if (c.freshBudgetRate !== undefined)
            total -= c.keyPrice * Math.max(0, key - c.freshBudgetRate);
        });
        return total * horizon;
      };
      const feasible = (q: number[]) =>
        [0, 1].every((j) => {
          const level = 1 + (q[j]! - q[j + 1]!) * perSecond * horizon;
          return level >= 0.25 - 1e-9 && level <= 1.75 + 1e-9;
        });
      let best = Number.NEGATIVE_INFINITY;
      const grid = Array.from({ length: 61 }, (_, i) => 0.5 + i * 0.015);
      for (const a of grid)
        for (const b of grid)
          for (const c of grid)
            if (feasible([a, b, c])) best = Math.max(best, objective([a, b, c]));
      expect(feasible(scales)).toBe(true);
      // The LP is exact on its piecewise-linear model; a 0.015 grid comes within about 1 % of it.
      expect(objective(scales)).toBeGreaterThanOrEqual(best - 1e-6 * Math.abs(best));
      expect(objective(scales)).toBeLessThanOrEqual(best + 1e-2 * Math.abs(best));
      // Its own value is its model's objective at its solution (concave curves: no gap).
      expect(plan.value).toBeCloseTo(objective(scales), 6);
    }
  });

  /** One fresh-fed step making `perKey` product per unit key at 0.5, 1 and 1.5 × its budget. */
  const freshStep = (perKey: number, overBudgetPrice?: number): StepCurve => {
    const point = (q: number): StepOperatingPoint => ({
      scale: q,
      ratio: 1,
      jacket: 50,
      setpoints: {},
      conversion: 0.97,
      product: perKey * q,
      keyReactant: q,
      outflow: 0,
      draws: {},
    });
    return {
      points: [point(0.5), point(1), point(1.5)],
      productPrice: 1,
      keyPrice: 0.9,
      freshBudgetRate: 1,
      outletTank: -1,
      ...(overBudgetPrice === undefined ? {} : { overBudgetPrice }),
    };
  };

  it('charges fresh feed past the budget: a step that earns less than the key costs stays at it', () => {
    // 0.8 per unit key < the key's 0.9: feed past the budget loses money.
    const plan = planThroughputs([freshStep(0.8)], [], 3600, lp);
    expect(plan.weights[0]![1]).toBeCloseTo(1, 9);
    expect(plan.value).toBeCloseTo(3600 * 0.8, 6);
  });

  it('charges feed past the budget at overBudgetPrice where given: a better yield than the key price does not pay past it', () => {
    // 0.95 per unit key > the key's 0.9: at the key's price, feed past the budget pays.
    expect(planThroughputs([freshStep(0.95)], [], 3600, lp).weights[0]![2]).toBeCloseTo(1, 9);
    const capped = planThroughputs([freshStep(0.95, 0.95)], [], 3600, lp);
    expect(capped.value).toBeCloseTo(3600 * 0.95, 6);
  });
});
