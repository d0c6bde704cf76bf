import type { Dop853ErrorCode } from '../numerics/dop853';
import type { Derivative, IntegrationStats } from '../numerics/ode.types';

/** Why a DOPRI5 integration stopped: the same codes as DOP853's. None is retriable. */
export class DormandPrinceError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: Dop853ErrorCode,
    /** Time reached when the integration stopped. */
    readonly t: number,
    message: string,
  ) {
    super(message);
    this.name = 'DormandPrinceError';
  }
}

// Dormand & Prince (1980), RK5(4)7M, coefficients as in Hairer, Nørsett & Wanner,
// Solving ODEs I, table 5.2, with the FSAL property.
const C2 = 1 / 5,
  C3 = 3 / 10,
  C4 = 4 / 5,
  C5 = 8 / 9;
const A21 = 1 / 5;
const A31 = 3 / 40,
  A32 = 9 / 40;
const A41 = 44 / 45,
  A42 = -56 / 15,
  A43 = 32 / 9;
const A51 = 19372 / 6561,
  A52 = -25360 / 2187,
  A53 = 64448 / 6561,
  A54 = -212 / 729;
const A61 = 9017 / 3168,
  A62 = -355 / 33,
  A63 = 46732 / 5247,
  A64 = 49 / 176,
  A65 = -5103 / 18656;
const A71 = 35 / 384,
  A73 = 500 / 1113,
  A74 = 125 / 192,
  A75 = -2187 / 6784,
  A76 = 11 / 84;
const E1 = 71 / 57600,
  E3 = -71 / 16695,
  E4 = 71 / 1920,
  E5 = -17253 / 339200,
  E6 = 22 / 525,
  E7 = -1 / 40;

/**
 * Adaptive explicit Runge–Kutta 5(4) integrator (Dormand–Prince) with a PI step-size
 * controller, reusing its buffers across calls.
 *
 * Test-only: the twin solves with Dop853 and Rosenbrock; their specs measure their step and
 * evaluation counts against this classic DOPRI5, so it lives with the test helpers. It
 * allocates only in its constructor. Verified against analytic solutions in its spec.
 */
export class DormandPrince {
  readonly stats: IntegrationStats = { accepted: 0, rejected: 0, evaluations: 0 };
  private readonly k1: Float64Array;
  private readonly k2: Float64Array;
  private readonly k3: Float64Array;
  private readonly k4: Float64Array;
  private readonly k5: Float64Array;
  private readonly k6: Float64Array;
  private readonly k7: Float64Array;
  private readonly yStage: Float64Array;
  private readonly yNew: Float64Array;

  constructor(readonly dimension: number) {
    this.k1 = new Float64Array(dimension);
    this.k2 = new Float64Array(dimension);
    this.k3 = new Float64Array(dimension);
    this.k4 = new Float64Array(dimension);
    this.k5 = new Float64Array(dimension);
    this.k6 = new Float64Array(dimension);
    this.k7 = new Float64Array(dimension);
    this.yStage = new Float64Array(dimension);
    this.yNew = new Float64Array(dimension);
  }

  /**
   * Integrates y from t0 to t1 in place. `onStep(t, y)` runs after each accepted step
   * (not at the start). Throws when the step size underflows or maxSteps is exceeded.
   */
  integrate(
    f: Derivative,
    y: Float64Array,
    t0: number,
    t1: number,
    rtol: number,
    atol: number,
    onStep?: (t: number, y: Float64Array) => void,
    maxSteps = 100_000,
  ): void {
    const n = this.dimension;
    const { k1, k2, k3, k4, k5, k6, k7, yStage: ys, yNew } = this;
    const span = t1 - t0;
    if (span <= 0) return;
    f(t0, y, k1);
    this.stats.evaluations++;
    let t = t0;
    let h = this.initialStep(y, k1, span, rtol, atol);
    if (!Number.isFinite(h))
      throw new DormandPrinceError('NOT_FINITE', t0, `ODE right-hand side not finite at t=${t0}`);
    let previousError = 1e-4;
    let steps = 0;
    while (t < t1) {
      if (++steps > maxSteps)
        throw new DormandPrinceError(
          'MAX_STEPS',
          t,
          `ODE integration exceeded ${maxSteps} steps at t=${t}`,
        );
      if (t + h > t1) h = t1 - t;
      for (let i = 0; i < n; i++) ys[i] = y[i]! + h * A21 * k1[i]!;
      f(t + C2 * h, ys, k2);
      for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A31 * k1[i]! + A32 * k2[i]!);
      f(t + C3 * h, ys, k3);
      for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A41 * k1[i]! + A42 * k2[i]! + A43 * k3[i]!);
      f(t + C4 * h, ys, k4);
      for (let i = 0; i < n; i++) {
        ys[i] = y[i]! + h * (A51 * k1[i]! + A52 * k2[i]! + A53 * k3[i]! + A54 * k4[i]!);
      }
      f(t + C5 * h, ys, k5);
      for (let i = 0; i < n; i++) {
        ys[i] =
          y[i]! + h * (A61 * k1[i]! + A62 * k2[i]! + A63 * k3[i]! + A64 * k4[i]! + A65 * k5[i]!);
      }
      f(t + h, ys, k6);
      for (let i = 0; i < n; i++) {
        yNew[i] =
          y[i]! + h * (A71 * k1[i]! + A73 * k3[i]! + A74 * k4[i]! + A75 * k5[i]! + A76 * k6[i]!);
      }
      f(t + h, yNew, k7);
      this.stats.evaluations += 6;

      let err = 0;
      for (let i = 0; i < n; i++) {
        const e =
          h * (E1 * k1[i]! + E3 * k3[i]! + E4 * k4[i]! + E5 * k5[i]! + E6 * k6[i]! + E7 * k7[i]!);
        const scale = atol + rtol * Math.max(Math.abs(y[i]!), Math.abs(yNew[i]!));
        const q = e / scale;
        err += q * q;
      }
      err = Math.sqrt(err / n);
      if (!Number.isFinite(err)) {
        if (h < 1e-14 * Math.max(1, Math.abs(t)))
          throw new DormandPrinceError('NOT_FINITE', t, `ODE right-hand side not finite at t=${t}`);
        h *= 0.25;
        this.stats.rejected++;
        continue;
      }
      if (err <= 1) {
        t += h;
        y.set(yNew);
        k1.set(k7);
        this.stats.accepted++;
        onStep?.(t, y);
        // PI controller (Hairer & Wanner II, §IV.2): β = 0.04, α = 0.2 − 0.75β.
        const factor =
          err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * err ** -0.17 * previousError ** 0.04));
        previousError = Math.max(err, 1e-4);
        h *= factor;
      } else {
        this.stats.rejected++;
        h *= Math.max(0.2, 0.9 * err ** -0.2);
      }
      if (!(h >= 1e-14 * Math.max(1, Math.abs(t))))
        throw new DormandPrinceError('STEP_UNDERFLOW', t, `ODE step size underflow at t=${t}`);
    }
  }

  /** Starting step size, Hairer, Nørsett & Wanner I, §II.4. */
  private initialStep(
    y: Float64Array,
    dy: Float64Array,
    span: number,
    rtol: number,
    atol: number,
  ): number {
    let d0 = 0;
    let d1 = 0;
    for (let i = 0; i < this.dimension; i++) {
      const scale = atol + rtol * Math.abs(y[i]!);
      d0 += (y[i]! / scale) ** 2;
      d1 += (dy[i]! / scale) ** 2;
    }
    d0 = Math.sqrt(d0 / this.dimension);
    d1 = Math.sqrt(d1 / this.dimension);
    const h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 * span : (0.01 * d0) / d1;
    return Math.min(h, span);
  }
}
