import { DormandPrince } from '../testing/dormand-prince';
import type { Derivative } from './ode.types';
import {
  DOP853_TABLEAU,
  Dop853,
  Dop853Error,
  MAX_UNROLLED_DIMENSION,
  unrolledStepSource,
} from './dop853';
import { expectClose } from '../testing/expect-close';
import { decay, linear, oscillator } from '../testing/ode-problems';

// The restricted three-body problem with the Arenstorf orbit, HNW I, §II.0 (eq. 0.1) and the
// classic test of dop853.f: after one period the satellite is back where it started. Period
// 17.0652165601579625588917206249 and initial velocity −2.00158510637908252240537862224
// (HNW I, eq. 0.2), here rounded to the nearest double.
const MU = 0.012277471;
const MU1 = 1 - MU;
const ARENSTORF_PERIOD = 17.065216560157964;
const arenstorf: Derivative = (_t, y, dydt) => {
  const y1 = y[0]!;
  const y2 = y[1]!;
  const d1 = Math.hypot(y1 + MU, y2) ** 3;
  const d2 = Math.hypot(y1 - MU1, y2) ** 3;
  dydt[0] = y[2]!;
  dydt[1] = y[3]!;
  dydt[2] = y1 + 2 * y[3]! - (MU1 * (y1 + MU)) / d1 - (MU * (y1 - MU1)) / d2;
  dydt[3] = y2 - 2 * y[2]! - (MU1 * y2) / d1 - (MU * y2) / d2;
};
const arenstorfStart = (): Float64Array => Float64Array.of(0.994, 0, 0, -2.0015851063790824);

/** Distance from the start after one Arenstorf period, and the solver's stats. */
function arenstorfReturn(solver: Dop853 | DormandPrince, tol: number): number {
  const y = arenstorfStart();
  solver.integrate(arenstorf, y, 0, ARENSTORF_PERIOD, tol, tol);
  return Math.hypot(y[0]! - 0.994, y[1]!);
}

// ---------------------------------------------------------------------------------------
// Order conditions over rooted trees (HNW I, §II.2): for every tree t of order ≤ p,
// Σ_i b_i Φ_i(t) = 1/γ(t), with Φ_i(•) = 1 and, for t = [t1, …, tm], Φ_i(t) = Π_k Σ_j a_ij Φ_j(tk);
// γ(t) = |t| · Π_k γ(tk).

interface RootedTree {
  order: number;
  gamma: number;
  /** Φ_i(t), i over the stages. */
  phi: number[];
  /** Σ_j a_ij Φ_j(t). */
  aPhi: number[];
}

function rootedTrees(maxOrder: number, a: readonly (readonly number[])[]): RootedTree[] {
  const stages = a.length;
  const make = (order: number, children: RootedTree[]): RootedTree => {
    const phi = Array.from({ length: stages }, (_, i) =>
      children.reduce((p, child) => p * child.aPhi[i]!, 1),
    );
    const aPhi = Array.from({ length: stages }, (_, i) =>
      a[i]!.reduce((s, aij, j) => s + aij * phi[j]!, 0),
    );
    const gamma = order * children.reduce((g, child) => g * child.gamma, 1);
    return { order, gamma, phi, aPhi };
  };
  const trees: RootedTree[] = [make(1, [])];
  for (let order = 2; order <= maxOrder; order++) {
    const known = trees.length; // trees of lower orders only
    // Children as a multiset: non-decreasing indices into the trees known so far.
    const build = (remaining: number, from: number, children: RootedTree[]) => {
      if (remaining === 0) {
        trees.push(make(order, children));
        return;
      }
      for (let index = from; index < known; index++) {
        const child = trees[index]!;
        if (child.order > remaining) continue;
        children.push(child);
        build(remaining - child.order, index, children);
        children.pop();
      }
    };
    build(order - 1, 0, []);
  }
  return trees;
}

/** Worst |Σ w_i Φ_i(t) − 1/γ(t)| over the trees of each order (index = order). */
function worstResiduals(
  trees: RootedTree[],
  weights: readonly number[],
  maxOrder: number,
): number[] {
  const worst = new Array<number>(maxOrder + 1).fill(0);
  for (const tree of trees) {
    const value = weights.reduce((s, w, i) => s + w * tree.phi[i]!, 0);
    worst[tree.order] = Math.max(worst[tree.order]!, Math.abs(value - 1 / tree.gamma));
  }
  return worst;
}

describe('DOP853 coefficients', () => {
  const { a, b, bhh, er, c } = DOP853_TABLEAU;
  const trees = rootedTrees(9, a);

  it('enumerates the 1, 1, 2, 4, 9, 20, 48, 115, 286 rooted trees of orders 1 to 9', () => {
    const counts = Array.from(
      { length: 9 },
      (_, k) => trees.filter((t) => t.order === k + 1).length,
    );
    expect(counts).toEqual([1, 1, 2, 4, 9, 20, 48, 115, 286]);
  });

  it('has nodes equal to the row sums of a', () => {
    a.forEach((row, i) => {
      const sum = row.reduce((s, x) => s + x, 0);
      expect(Math.abs(sum - c[i]!)).toBeLessThan(1e-14);
    });
  });

  it('satisfies all 200 order conditions up to order 8, and not those of order 9', () => {
    const worst = worstResiduals(trees, b, 9);
    for (let order = 1; order <= 8; order++) expect(worst[order]).toBeLessThan(1e-14);
    expect(worst[9]).toBeGreaterThan(1e-6);
  });

  it('embeds an order-5 solution b − er (its error estimate err5), not of order 6', () => {
    const worst = worstResiduals(
      trees,
      b.map((x, i) => x - er[i]!),
      9,
    );
    for (let order = 1; order <= 5; order++) expect(worst[order]).toBeLessThan(1e-13);
    expect(worst[6]).toBeGreaterThan(1e-5);
  });

  it('embeds an order-3 solution bhh (its error estimate err3), not of order 4', () => {
    const worst = worstResiduals(trees, bhh, 9);
    for (let order = 1; order <= 3; order++) expect(worst[order]).toBeLessThan(1e-14);
    expect(worst[4]).toBeGreaterThan(1e-3);
  });
});

describe('Dop853', () => {
  it("integrates y' = −y to e^(−t) within the tolerance", () => {
    const solver = new Dop853(1);
    const y = Float64Array.of(1);
    solver.integrate(decay, y, 0, 5, 1e-12, 1e-16);
    expectClose(y[0]!, Math.exp(-5), 1e-10);
    expect(solver.stats.accepted).toBeGreaterThan(3);
  });

  it.each([-0.3, -2, -50, 0.5, 2])("integrates y' = λy with λ = %s to exp(λt)", (lambda) => {
    const span = Math.min(3, 5 / Math.abs(lambda));
    const solver = new Dop853(1);
    const y = Float64Array.of(2);
    solver.integrate(linear(lambda), y, 0, span, 1e-11, 1e-15);
    expectClose(y[0]!, 2 * Math.exp(lambda * span), 1e-9);
  });

  it('a harmonic oscillator keeps amplitude and phase over ten periods', () => {
    const omega = 2 * Math.PI;
    const solver = new Dop853(2);
    const y = Float64Array.of(1, 0);
    solver.integrate(oscillator(omega), y, 0, 10, 1e-11, 1e-13);
    expect(Math.abs(y[0]! - 1)).toBeLessThan(1e-8);
    expect(Math.abs(y[1]!)).toBeLessThan(1e-8 * omega);
    const energy = y[0]! ** 2 + (y[1]! / omega) ** 2;
    expect(Math.abs(energy - 1)).toBeLessThan(1e-8);
  });

  it('a harmonic oscillator matches cos and sin at odd times', () => {
    const omega = 3;
    for (const t of [Math.PI / 6, (2 * Math.PI) / 9, 7.1]) {
      const solver = new Dop853(2);
      const y = Float64Array.of(1, 0);
      solver.integrate(oscillator(omega), y, 0, t, 1e-12, 1e-14);
      expect(Math.abs(y[0]! - Math.cos(omega * t))).toBeLessThan(1e-10);
      expect(Math.abs(y[1]! + omega * Math.sin(omega * t))).toBeLessThan(1e-10 * omega);
    }
  });

  it('brings the Arenstorf orbit back to its start after one period', () => {
    // SciPy 1.17's DOP853 (same method and error estimator, a slightly different controller)
    // takes 66, 106, 176 and 298 accepted steps at rtol = atol = 1e-6, 1e-8, 1e-10, 1e-12
    // and returns to within 4.6e-5, 5.5e-7, 8.3e-9, 1.1e-11. This implementation took 65,
    // 106, 176, 298 steps and came within 4.6e-5, 5.5e-7, 5.5e-9, 7.6e-12 when written.
    const expected: [number, number, number][] = [
      [1e-6, 66, 1e-4],
      [1e-8, 106, 1e-6],
      [1e-10, 176, 2e-8],
      [1e-12, 298, 3e-11],
    ];
    for (const [tol, steps, distance] of expected) {
      const solver = new Dop853(4);
      expect(arenstorfReturn(solver, tol)).toBeLessThan(distance);
      expect(solver.stats.accepted).toBeGreaterThanOrEqual(Math.floor(0.9 * steps));
      expect(solver.stats.accepted).toBeLessThanOrEqual(Math.ceil(1.1 * steps));
    }
  });

  it('converges with order 8 in the step size (equal steps, no error control)', () => {
    // One step per call: an initial step over the whole span and a tolerance nothing fails.
    const f: Derivative = (t, y, dydt) => {
      dydt[0] = y[0]! * Math.cos(t);
    };
    const errors = [4, 8, 16].map((steps) => {
      const solver = new Dop853(1);
      const y = Float64Array.of(1);
      for (let k = 0; k < steps; k++) {
        solver.initialStep = 1e9;
        solver.integrate(f, y, (4 * k) / steps, (4 * (k + 1)) / steps, 1e10, 1e10);
      }
      expect(solver.stats.accepted).toBe(steps);
      return Math.abs(y[0]! - Math.exp(Math.sin(4)));
    });
    for (let k = 1; k < errors.length; k++) {
      const order = Math.log2(errors[k - 1]! / errors[k]!);
      expect(order).toBeGreaterThan(7.5);
      expect(order).toBeLessThan(9);
    }
  });

  it('tighter tolerances give smaller errors with more steps', () => {
    const errors: number[] = [];
    const steps: number[] = [];
    for (const rtol of [1e-4, 1e-7, 1e-10]) {
      const solver = new Dop853(2);
      const y = Float64Array.of(1, 0);
      solver.integrate(oscillator(1), y, 0, 20, rtol, rtol * 1e-3);
      errors.push(Math.abs(y[0]! - Math.cos(20)));
      steps.push(solver.stats.accepted);
    }
    expect(errors[1]).toBeLessThan(errors[0]!);
    expect(errors[2]).toBeLessThan(errors[1]!);
    expect(steps[1]).toBeGreaterThan(steps[0]!);
    expect(steps[2]).toBeGreaterThan(steps[1]!);
  });

  it('needs far fewer steps and evaluations than DOPRI5 at tight tolerances', () => {
    for (const tol of [1e-10, 1e-12]) {
      const dop853 = new Dop853(4);
      const dopri5 = new DormandPrince(4);
      const error853 = arenstorfReturn(dop853, tol);
      const error5 = arenstorfReturn(dopri5, tol);
      expect(error853).toBeLessThan(error5);
      expect(dop853.stats.accepted).toBeLessThan(dopri5.stats.accepted / 4);
      expect(dop853.stats.evaluations).toBeLessThan(0.6 * dopri5.stats.evaluations);
    }
    const smooth853 = new Dop853(2);
    const smooth5 = new DormandPrince(2);
    smooth853.integrate(oscillator(1), Float64Array.of(1, 0), 0, 50, 1e-12, 1e-14);
    smooth5.integrate(oscillator(1), Float64Array.of(1, 0), 0, 50, 1e-12, 1e-14);
    expect(smooth853.stats.evaluations).toBeLessThan(smooth5.stats.evaluations / 3);
  });

  it('counts 12 evaluations per accepted step: 11 stages, the next first stage, none after the last', () => {
    const solver = new Dop853(2);
    solver.integrate(oscillator(2), Float64Array.of(1, 0), 0, 10, 1e-9, 1e-12);
    const { accepted, rejected, evaluations } = solver.stats;
    // f(t0), the initial-step probe, 11 per attempt, 1 per accepted step but the last.
    expect(evaluations).toBe(1 + 1 + 11 * (accepted + rejected) + (accepted - 1));
    const warm = new Dop853(2);
    warm.initialStep = solver.suggestedStep;
    warm.integrate(oscillator(2), Float64Array.of(1, 0), 0, 10, 1e-9, 1e-12);
    const s = warm.stats;
    expect(s.evaluations).toBe(1 + 11 * (s.accepted + s.rejected) + (s.accepted - 1));
    expect(solver.suggestedStep).toBeGreaterThan(0);
  });

  it('reaches the exact end time, and calls onStep after each accepted step', () => {
    const solver = new Dop853(1);
    const y = Float64Array.of(1);
    const times: number[] = [];
    solver.integrate(decay, y, 1, 4.25, 1e-9, 1e-13, (t, state) => {
      times.push(t);
      expectClose(state[0]!, Math.exp(-(t - 1)), 1e-8);
    });
    expect(times.length).toBe(solver.stats.accepted);
    expect(times[times.length - 1]).toBe(4.25);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
  });

  it('reuses its buffers: a second integration on the same solver is identical', () => {
    const solver = new Dop853(4);
    const first = arenstorfStart();
    solver.integrate(arenstorf, first, 0, 3, 1e-9, 1e-9);
    const second = arenstorfStart();
    solver.integrate(arenstorf, second, 0, 3, 1e-9, 1e-9);
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it('an empty or backward span leaves y alone', () => {
    const solver = new Dop853(1);
    const y = Float64Array.of(3);
    solver.integrate(decay, y, 2, 2, 1e-8, 1e-12);
    solver.integrate(decay, y, 2, 1, 1e-8, 1e-12);
    expect(y[0]).toBe(3);
    expect(solver.stats.evaluations).toBe(0);
  });

  it('a constant solution stays put', () => {
    const solver = new Dop853(2);
    const y = Float64Array.of(0, 5);
    solver.integrate((_t, _s, ds) => ds.fill(0), y, 0, 100, 1e-8, 1e-12);
    expect(Array.from(y)).toEqual([0, 5]);
  });

  describe('the generated straight-line step', () => {
    it('gives results identical to the loops, bit for bit', () => {
      for (const tol of [1e-6, 1e-11]) {
        const results = [true, false].map((unrolled) => {
          const solver = new Dop853(4, { unrolled });
          expect(solver.unrolled).toBe(unrolled);
          const y = arenstorfStart();
          solver.integrate(arenstorf, y, 0, ARENSTORF_PERIOD, tol, tol);
          return { y: Array.from(y), stats: { ...solver.stats } };
        });
        expect(results[0]).toEqual(results[1]);
      }
    });

    it('is used up to MAX_UNROLLED_DIMENSION only; larger systems run the loops', () => {
      expect(new Dop853(MAX_UNROLLED_DIMENSION).unrolled).toBe(true);
      const n = MAX_UNROLLED_DIMENSION + 8;
      const solver = new Dop853(n);
      expect(solver.unrolled).toBe(false);
      const y = Float64Array.from({ length: n }, () => 1);
      solver.integrate(
        (_t, s, ds) => {
          for (let i = 0; i < n; i++) ds[i] = -(i + 1) * 0.1 * s[i]!;
        },
        y,
        0,
        2,
        1e-11,
        1e-15,
      );
      for (let i = 0; i < n; i++) expectClose(y[i]!, Math.exp(-(i + 1) * 0.2), 1e-9);
    });

    it('carries only numbers and integer indices in its source', () => {
      const source = unrolledStepSource(3);
      expect(source).toContain('ys[2] = y2 + h * (');
      expect(source).toContain('Math.sqrt(3 * denominator)');
      expect(
        source.replace(/\b(const|let|return|function|if|Math|sqrt|max|abs|dop853Attempt)\b/g, ''),
      ).not.toMatch(/[^\w\s.,;:()[\]{}=+\-*/<>!]/);
      expect(() => unrolledStepSource(0)).toThrow(RangeError);
    });
  });

  describe('errors', () => {
    function caught(run: () => void): Dop853Error {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(Dop853Error);
        return error as Dop853Error;
      }
      throw new Error('expected a Dop853Error');
    }

    it('a right-hand side not finite at the start: NOT_FINITE at t0', () => {
      const error = caught(() =>
        new Dop853(1).integrate(
          (_t, _s, ds) => (ds[0] = Number.NaN),
          Float64Array.of(1),
          0.5,
          1,
          1e-8,
          1e-12,
        ),
      );
      expect(error.code).toBe('NOT_FINITE');
      expect(error.t).toBe(0.5);
      expect(error.retriable).toBe(false);
      expect(error.message).toMatch(/not finite at t=0.5/);
    });

    it('a right-hand side that turns NaN during the integration: NOT_FINITE where it does', () => {
      const f: Derivative = (t, s, ds) => {
        ds[0] = t > 1 ? Number.NaN : -s[0]!;
      };
      const error = caught(() => new Dop853(1).integrate(f, Float64Array.of(1), 0, 3, 1e-8, 1e-12));
      expect(error.code).toBe('NOT_FINITE');
      expect(error.t).toBeGreaterThan(0.9);
      expect(error.t).toBeLessThanOrEqual(1);
    });

    it('a step whose stages leave the domain of f is retried smaller and the integration goes on', () => {
      // y' = −√y, y(0) = 1: y = (1 − t/2)². A first step over the whole span takes late
      // stages below zero, where √y is NaN.
      const f: Derivative = (_t, s, ds) => {
        ds[0] = -Math.sqrt(s[0]!);
      };
      const solver = new Dop853(1);
      solver.initialStep = 1.5;
      const y = Float64Array.of(1);
      solver.integrate(f, y, 0, 1.5, 1e-10, 1e-14);
      expect(solver.stats.rejected).toBeGreaterThan(0);
      expectClose(y[0]!, 0.0625, 1e-8);
    });

    it('throws MAX_STEPS when the step budget is exceeded', () => {
      const error = caught(() =>
        new Dop853(2).integrate(
          oscillator(50),
          Float64Array.of(1, 0),
          0,
          100,
          1e-12,
          1e-14,
          undefined,
          20,
        ),
      );
      expect(error.code).toBe('MAX_STEPS');
      expect(error.message).toMatch(/exceeded 20 steps/);
    });

    it('throws STEP_UNDERFLOW at a singularity', () => {
      // y' = y², y(0) = 1: y = 1/(1 − t) blows up at t = 1.
      const f: Derivative = (_t, s, ds) => {
        ds[0] = s[0]! * s[0]!;
      };
      const error = caught(() => new Dop853(1).integrate(f, Float64Array.of(1), 0, 2, 1e-8, 1e-12));
      expect(['STEP_UNDERFLOW', 'NOT_FINITE']).toContain(error.code);
      expect(Math.abs(error.t - 1)).toBeLessThan(1e-3);
    });
  });
});
