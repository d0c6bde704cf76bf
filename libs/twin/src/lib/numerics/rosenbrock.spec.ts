import { DormandPrince } from '../testing/dormand-prince';
import type { Derivative } from './ode.types';
import { RODAS4_TABLEAU, Rosenbrock, RosenbrockError, type Jacobian } from './rosenbrock';

/** Fresh copy of the stats, to difference before and after a call. */
function snapshot(integrator: Rosenbrock) {
  return { ...integrator.stats };
}

describe('RODAS4 tableau', () => {
  // Rebuild the classical coefficients α_ij, γ_ij, b_i from the transformed ones the code
  // uses (HW II, §IV.7): Γ⁻¹ = diag(1/γ) − C, α = A·Γ, b = m·Γ.
  const s = 6;
  const g = RODAS4_TABLEAU.gamma;
  const square = () => Array.from({ length: s }, () => new Array<number>(s).fill(0));
  const gammaInverse = square();
  for (let i = 0; i < s; i++) {
    gammaInverse[i]![i] = 1 / g;
    RODAS4_TABLEAU.c[i]!.forEach((c, j) => (gammaInverse[i]![j] = -c));
  }
  const gammaMatrix = square(); // inverse of the lower triangular Γ⁻¹
  for (let i = 0; i < s; i++) {
    gammaMatrix[i]![i] = 1 / gammaInverse[i]![i]!;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += gammaInverse[i]![k]! * gammaMatrix[k]![j]!;
      gammaMatrix[i]![j] = -sum / gammaInverse[i]![i]!;
    }
  }
  const alpha = square();
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < s; j++) {
      let sum = 0;
      RODAS4_TABLEAU.a[i]!.forEach((a, k) => (sum += a * gammaMatrix[k]![j]!));
      alpha[i]![j] = sum;
    }
  }
  const weights = (m: readonly number[]) =>
    Array.from({ length: s }, (_, j) =>
      m.reduce((sum, mi, i) => sum + mi * gammaMatrix[i]![j]!, 0),
    );
  const beta = square(); // β_ij = α_ij + γ_ij, j < i
  for (let i = 0; i < s; i++)
    for (let j = 0; j < i; j++) beta[i]![j] = alpha[i]![j]! + gammaMatrix[i]![j]!;
  const rowSums = (matrix: number[][]) => matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const a = rowSums(alpha);
  const bp = rowSums(beta);
  const sum = (body: (i: number) => number) => {
    let total = 0;
    for (let i = 0; i < s; i++) total += body(i);
    return total;
  };

  /** Residuals of the Rosenbrock order conditions of orders 1–4, HW II, §IV.7. */
  function orderResiduals(b: number[]): number[] {
    return [
      sum((i) => b[i]!) - 1,
      sum((i) => b[i]! * bp[i]!) - (0.5 - g),
      sum((i) => b[i]! * a[i]! ** 2) - 1 / 3,
      sum((i) => b[i]! * sum((j) => beta[i]![j]! * bp[j]!)) - (1 / 6 - g + g * g),
      sum((i) => b[i]! * a[i]! ** 3) - 1 / 4,
      sum((i) => b[i]! * a[i]! * sum((j) => alpha[i]![j]! * bp[j]!)) - (1 / 8 - g / 3),
      sum((i) => b[i]! * sum((j) => beta[i]![j]! * a[j]! ** 2)) - (1 / 12 - g / 3),
      sum((i) => b[i]! * sum((j) => beta[i]![j]! * sum((k) => beta[j]![k]! * bp[k]!))) -
        (1 / 24 - g / 2 + 1.5 * g * g - g ** 3),
    ];
  }

  /** R(∞) = 1 − bᵀ B⁻¹ 1 with B = α + Γ, the stability function at infinity (HW II, §IV.7). */
  function stabilityAtInfinity(b: number[]): number {
    const x = new Array<number>(s).fill(0);
    for (let i = 0; i < s; i++) {
      let rhs = 1;
      for (let j = 0; j < i; j++) rhs -= (alpha[i]![j]! + gammaMatrix[i]![j]!) * x[j]!;
      x[i] = rhs / gammaMatrix[i]![i]!;
    }
    return 1 - sum((i) => b[i]! * x[i]!);
  }

  it('has nodes and γ_i consistent with the row sums of α and Γ', () => {
    a.forEach((value, i) => expect(value).toBeCloseTo(RODAS4_TABLEAU.alpha[i]!, 12));
    rowSums(gammaMatrix).forEach((value, i) =>
      expect(value).toBeCloseTo(RODAS4_TABLEAU.gammaSums[i]!, 12),
    );
  });

  it('satisfies all order conditions up to order 4; the embedded solution up to order 3', () => {
    for (const residual of orderResiduals(weights(RODAS4_TABLEAU.m)))
      expect(Math.abs(residual)).toBeLessThan(1e-12);
    const embedded = orderResiduals(weights(RODAS4_TABLEAU.mHat));
    for (const residual of embedded.slice(0, 4)) expect(Math.abs(residual)).toBeLessThan(1e-12);
    // …and really is only order 3, so the difference estimates the error.
    expect(Math.max(...embedded.slice(4).map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('is L-stable: R(∞) = 0 for the solution and the embedded solution', () => {
    expect(Math.abs(stabilityAtInfinity(weights(RODAS4_TABLEAU.m)))).toBeLessThan(1e-12);
    expect(Math.abs(stabilityAtInfinity(weights(RODAS4_TABLEAU.mHat)))).toBeLessThan(1e-12);
  });
});

describe('Rosenbrock (RODAS4)', () => {
  const decay: Derivative = (_t, y, dy) => {
    dy[0] = -y[0]!;
  };
  const decayJacobian: Jacobian = (_t, _y, dfdy) => {
    dfdy[0] = -1;
  };

  it('solves y′ = −y to the requested accuracy, with an analytic or a finite-difference Jacobian', () => {
    for (const jacobian of [decayJacobian, null]) {
      const integrator = new Rosenbrock(1);
      const y = Float64Array.from([1]);
      integrator.integrate(decay, jacobian, y, 0, 5, 1e-8, 1e-12);
      expect(Math.abs(y[0]! / Math.exp(-5) - 1)).toBeLessThan(1e-6);
      expect(integrator.stats.jacobians).toBe(integrator.stats.accepted);
    }
  });

  it('solves a stiff linear system (eigenvalues −1 and −1e4) like the matrix exponential, in few steps', () => {
    // A = V·diag(−1, −1e4)·V⁻¹ with V = [[1, 1], [1, −1]]; y(0) = [2, 0] = v1 + v2, so
    // y(t) = e^{−t}·[1, 1] + e^{−1e4·t}·[1, −1].
    const f: Derivative = (_t, y, dy) => {
      dy[0] = -5000.5 * y[0]! + 4999.5 * y[1]!;
      dy[1] = 4999.5 * y[0]! - 5000.5 * y[1]!;
    };
    const jacobian: Jacobian = (_t, _y, dfdy) => {
      dfdy[0] = -5000.5;
      dfdy[1] = 4999.5;
      dfdy[2] = 4999.5;
      dfdy[3] = -5000.5;
    };
    const exact = (t: number) => [
      Math.exp(-t) + Math.exp(-1e4 * t),
      Math.exp(-t) - Math.exp(-1e4 * t),
    ];
    const integrator = new Rosenbrock(2);
    const y = Float64Array.from([2, 0]);
    let worst = 0;
    integrator.integrate(f, jacobian, y, 0, 10, 1e-6, 1e-12, (t, state) => {
      const reference = exact(t);
      for (let i = 0; i < 2; i++) {
        worst = Math.max(
          worst,
          Math.abs(state[i]! - reference[i]!) / (1e-10 + Math.abs(reference[i]!)),
        );
      }
    });
    expect(worst).toBeLessThan(2e-5);
    const end = exact(10);
    expect(y[0]! / end[0]! - 1).toBeCloseTo(0, 5);
    // An explicit method would need h < 3.3e-4 here: 30,000 steps.
    expect(integrator.stats.accepted).toBeLessThan(200);
  });

  // Robertson's chemical kinetics (Robertson 1966) as in Hairer & Wanner, Solving ODEs II,
  // §IV.1. Values at t = 40 (Hairer & Wanner; the same to 10 digits from independent codes,
  // Radau5, BDF and LSODA, at tight tolerances): 0.7158270687, 9.185534764e-6, 0.2841637457.
  const robertson: Derivative = (_t, y, dy) => {
    const [a, b, c] = [y[0]!, y[1]!, y[2]!];
    dy[0] = -0.04 * a + 1e4 * b * c;
    dy[1] = 0.04 * a - 1e4 * b * c - 3e7 * b * b;
    dy[2] = 3e7 * b * b;
  };
  const robertsonJacobian: Jacobian = (_t, y, J) => {
    const [b, c] = [y[1]!, y[2]!];
    J[0] = -0.04;
    J[1] = 1e4 * c;
    J[2] = 1e4 * b;
    J[3] = 0.04;
    J[4] = -1e4 * c - 6e7 * b;
    J[5] = -1e4 * b;
    J[6] = 0;
    J[7] = 6e7 * b;
    J[8] = 0;
  };

  it("reproduces Robertson's problem at t = 40 (Hairer & Wanner) with either Jacobian", () => {
    for (const jacobian of [robertsonJacobian, null]) {
      const integrator = new Rosenbrock(3);
      const y = Float64Array.from([1, 0, 0]);
      integrator.integrate(robertson, jacobian, y, 0, 40, 1e-7, 1e-12);
      expect(y[0]!).toBeCloseTo(0.7158270687, 6);
      expect(y[1]! / 9.185534764e-6).toBeCloseTo(1, 5);
      expect(y[2]!).toBeCloseTo(0.2841637457, 6);
      expect(y[0]! + y[1]! + y[2]!).toBeCloseTo(1, 12); // linear invariant, kept by the method
      expect(integrator.stats.accepted).toBeLessThan(300);
    }
  });

  it('costs n extra evaluations per Jacobian when differencing', () => {
    const analytic = new Rosenbrock(3);
    const differenced = new Rosenbrock(3);
    const y = Float64Array.from([1, 0, 0]);
    analytic.integrate(robertson, robertsonJacobian, y, 0, 1, 1e-6, 1e-10);
    y.set([1, 0, 0]);
    differenced.integrate(robertson, null, y, 0, 1, 1e-6, 1e-10);
    const { stats } = differenced;
    // 6 per step, 5 per rejected retry (f(t, y) kept), 3 per difference Jacobian, 1 for the
    // starting step, minus the f(t1, y) that is never needed.
    expect(stats.evaluations).toBe(
      6 * stats.accepted + 5 * stats.rejected + 3 * stats.jacobians + 1,
    );
    expect(analytic.stats.evaluations).toBe(
      6 * analytic.stats.accepted + 5 * analytic.stats.rejected + 1,
    );
  });

  it('integrates van der Pol with μ = 1000 (stiff) in a reasonable number of steps', () => {
    const mu = 1000;
    const f: Derivative = (_t, y, dy) => {
      dy[0] = y[1]!;
      dy[1] = mu * (1 - y[0]! * y[0]!) * y[1]! - y[0]!;
    };
    const jacobian: Jacobian = (_t, y, J) => {
      J[0] = 0;
      J[1] = 1;
      J[2] = -2 * mu * y[0]! * y[1]! - 1;
      J[3] = mu * (1 - y[0]! * y[0]!);
    };
    const integrator = new Rosenbrock(2);
    const y = Float64Array.from([2, 0]);
    integrator.integrate(f, jacobian, y, 0, 1000, 1e-6, 1e-8);
    // Reference from this integrator at rtol 1e-12 (132,000 steps), which agrees to 1e-12
    // with published Radau5 values: y(1000) = (−1.8636462548081643, 7.535430865435212e-4).
    expect(y[0]!).toBeCloseTo(-1.8636462548, 5);
    expect(y[1]! / 7.535430865435e-4).toBeCloseTo(1, 4);
    // One relaxation jump (near t = 807); an explicit method needs millions of steps.
    expect(integrator.stats.accepted).toBeLessThan(1000);
    expect(integrator.stats.rejected).toBeLessThan(50);
  });

  it('has order 4 with fixed steps, also on a non-autonomous problem', () => {
    // Logistic growth y′ = y(1 − y), y(0) = 0.1: y(t) = 1 / (1 + 9e^{−t}).
    const logistic: Derivative = (_t, y, dy) => {
      dy[0] = y[0]! * (1 - y[0]!);
    };
    const logisticJacobian: Jacobian = (_t, y, J) => {
      J[0] = 1 - 2 * y[0]!;
    };
    // y′ = −y + t, y(0) = 1: y(t) = t − 1 + 2e^{−t}; needs ∂f/∂t.
    const forced: Derivative = (t, y, dy) => {
      dy[0] = -y[0]! + t;
    };
    const cases = [
      {
        f: logistic,
        jacobian: logisticJacobian,
        y0: 0.1,
        exact: 1 / (1 + 9 * Math.exp(-4)),
        timeDependent: false,
      },
      {
        f: forced,
        jacobian: decayJacobian,
        y0: 1,
        exact: 3 + 2 * Math.exp(-4),
        timeDependent: true,
      },
    ];
    for (const problem of cases) {
      const errors = [10, 20, 40, 80].map((steps) => {
        const integrator = new Rosenbrock(1, { timeDependent: problem.timeDependent });
        const y = Float64Array.from([problem.y0]);
        integrator.integrateFixed(problem.f, problem.jacobian, y, 0, 4, steps);
        return Math.abs(y[0]! - problem.exact);
      });
      for (let k = 1; k < errors.length; k++) {
        const order = Math.log2(errors[k - 1]! / errors[k]!);
        expect(order).toBeGreaterThan(3.7);
        expect(order).toBeLessThan(4.5);
      }
    }
  });

  it('needs the timeDependent option when f depends on t explicitly', () => {
    const forced: Derivative = (t, y, dy) => {
      dy[0] = -y[0]! + t;
    };
    const exact = 3 + 2 * Math.exp(-4);
    const run = (timeDependent: boolean) => {
      const integrator = new Rosenbrock(1, { timeDependent });
      const y = Float64Array.from([1]);
      integrator.integrate(forced, decayJacobian, y, 0, 4, 1e-6, 1e-12);
      return { error: Math.abs(y[0]! - exact) / exact, steps: integrator.stats.accepted };
    };
    const told = run(true);
    expect(told.error).toBeLessThan(1e-6);
    expect(told.steps).toBeLessThan(50);
    // Without ∂f/∂t the method drops to order 1: the controller compensates, expensively.
    expect(run(false).steps).toBeGreaterThan(10 * told.steps);
  });

  // The regime of the steady-state reactor solver: eigenvalues up to about 1/s over a span
  // of 1000 s. Consecutive first-order reactions A → B → C, k1 = 0.01/s and k2 = 1/s or
  // 10/s; the explicit method's step is limited by stability (h·k2 ≲ 3.3), this one's by
  // the accuracy of the slow mode only.
  it.each([
    [1, 2.5],
    [10, 20],
  ])(
    'needs fewer steps and evaluations than DOPRI5 on a mildly stiff 3×3 problem (k2 = %p/s)',
    (k2, factor) => {
      const k1 = 0.01;
      const f: Derivative = (_t, y, dy) => {
        dy[0] = -k1 * y[0]!;
        dy[1] = k1 * y[0]! - k2 * y[1]!;
        dy[2] = k2 * y[1]!;
      };
      const jacobian: Jacobian = (_t, _y, J) => {
        J.fill(0);
        J[0] = -k1;
        J[3] = k1;
        J[4] = -k2;
        J[7] = k2;
      };
      const t1 = 1000;
      const a = Math.exp(-k1 * t1);
      const b = (k1 / (k2 - k1)) * (Math.exp(-k1 * t1) - Math.exp(-k2 * t1));
      const exact = [a, b, 1 - a - b];
      const relativeError = (y: Float64Array) =>
        Math.max(...exact.map((value, i) => Math.abs(y[i]! - value) / Math.abs(value)));

      const rosenbrock = new Rosenbrock(3);
      const y = Float64Array.from([1, 0, 0]);
      rosenbrock.integrate(f, jacobian, y, 0, t1, 1e-6, 1e-11);
      const dopri = new DormandPrince(3);
      const z = Float64Array.from([1, 0, 0]);
      dopri.integrate(f, z, 0, t1, 1e-6, 1e-11);

      // At least as accurate (it is ~2e-6 against DOPRI5's 6e-6 and 3e-5)…
      expect(relativeError(y)).toBeLessThan(3e-6);
      expect(relativeError(y)).toBeLessThan(relativeError(z));
      // …for 2.6× (k2 = 1) and 24× (k2 = 10) fewer steps and evaluations of f.
      expect(rosenbrock.stats.accepted * factor).toBeLessThan(dopri.stats.accepted);
      expect(rosenbrock.stats.evaluations * factor).toBeLessThan(dopri.stats.evaluations);
    },
  );

  it('reports each accepted step in order, ends exactly at t1 and is reusable', () => {
    const integrator = new Rosenbrock(3);
    const times: number[] = [];
    const y = Float64Array.from([1, 0, 0]);
    integrator.integrate(robertson, robertsonJacobian, y, 0, 40, 1e-6, 1e-10, (t) => times.push(t));
    expect(times.length).toBe(integrator.stats.accepted);
    for (let k = 1; k < times.length; k++) expect(times[k]!).toBeGreaterThan(times[k - 1]!);
    expect(times[times.length - 1]).toBe(40);
    const first = Float64Array.from(y);
    const before = snapshot(integrator);
    y.set([1, 0, 0]);
    integrator.integrate(robertson, robertsonJacobian, y, 0, 40, 1e-6, 1e-10);
    expect(Array.from(y)).toEqual(Array.from(first));
    expect(integrator.stats.accepted).toBe(2 * before.accepted);
  });

  it('starts from a given first step and reports the step it would take next', () => {
    const cold = new Rosenbrock(3);
    const y = Float64Array.from([1, 0, 0]);
    cold.integrate(robertson, robertsonJacobian, y, 0, 0.01, 1e-6, 1e-10);
    expect(cold.suggestedStep).toBeGreaterThan(0);
    const warm = new Rosenbrock(3);
    warm.initialStep = 1e-4;
    y.set([1, 0, 0]);
    warm.integrate(robertson, robertsonJacobian, y, 0, 0.01, 1e-6, 1e-10);
    expect(warm.stats.accepted).toBeLessThan(cold.stats.accepted);
    expect(y[0]!).toBeCloseTo(0.9996, 4);
  });

  it('does nothing for an empty or reversed span', () => {
    const integrator = new Rosenbrock(1);
    const y = Float64Array.from([1]);
    integrator.integrate(decay, decayJacobian, y, 1, 1, 1e-6, 1e-9);
    integrator.integrate(decay, decayJacobian, y, 1, 0, 1e-6, 1e-9);
    expect(y[0]).toBe(1);
    expect(integrator.stats.evaluations).toBe(0);
  });

  it('throws typed errors: step limit, non-finite right-hand side, singular matrix', () => {
    /** The RosenbrockError a call throws (fails the test if it throws anything else). */
    const thrown = (body: () => void): RosenbrockError | undefined => {
      try {
        body();
      } catch (error) {
        expect(error).toBeInstanceOf(RosenbrockError);
        return error as RosenbrockError;
      }
      return undefined;
    };
    const y = Float64Array.from([1, 0, 0]);
    const limited = thrown(() =>
      new Rosenbrock(3).integrate(
        robertson,
        robertsonJacobian,
        y,
        0,
        40,
        1e-10,
        1e-14,
        undefined,
        20,
      ),
    );
    expect(limited?.code).toBe('MAX_STEPS');
    expect(limited?.retriable).toBe(false);
    expect(limited?.t).toBeGreaterThan(0);

    const poisoned: Derivative = (t, state, dy) => {
      dy[0] = t > 0.5 ? Number.NaN : -state[0]!;
    };
    expect(
      thrown(() =>
        new Rosenbrock(1).integrate(
          poisoned,
          decayJacobian,
          Float64Array.from([1]),
          0,
          1,
          1e-6,
          1e-9,
        ),
      )?.code,
    ).toBe('NOT_FINITE');
    const poisonedAtStart: Derivative = (_t, _state, dy) => {
      dy[0] = Number.POSITIVE_INFINITY;
    };
    expect(
      thrown(() =>
        new Rosenbrock(1).integrate(
          poisonedAtStart,
          decayJacobian,
          Float64Array.from([1]),
          0,
          1,
          1e-6,
          1e-9,
        ),
      )?.code,
    ).toBe('NOT_FINITE');

    const brokenJacobian: Jacobian = (_t, _y, J) => {
      J[0] = Number.NaN;
    };
    expect(
      thrown(() =>
        new Rosenbrock(1).integrate(
          decay,
          brokenJacobian,
          Float64Array.from([1]),
          0,
          1,
          1e-6,
          1e-9,
        ),
      )?.code,
    ).toBe('SINGULAR_MATRIX');
  });
});
