import { estimateInitialStep } from './initial-step';
import { RosenbrockStepControl } from './rosenbrock-step-control';
import type { Derivative, IntegrationStats } from './ode.types';

/**
 * Jacobian ∂f/∂y of a right-hand side at (t, y), written row-major into `dfdy`
 * (dfdy[i·n + j] = ∂f_i/∂y_j; every entry must be written, zeros included).
 * Must not keep references to y or dfdy.
 */
export type Jacobian = (t: number, y: Float64Array, dfdy: Float64Array) => void;

export interface RosenbrockStats extends IntegrationStats {
  /** Jacobian evaluations (analytic calls, or forward-difference approximations). */
  jacobians: number;
  /** LU decompositions of I/(γh) − J: one per attempted step. */
  decompositions: number;
}

export interface RosenbrockOptions {
  /**
   * The right-hand side depends on t explicitly. The method then needs ∂f/∂t, which is
   * estimated by a forward difference in t: one more evaluation of f per accepted step.
   * Default false: f is taken as autonomous and t is only passed through.
   */
  timeDependent?: boolean;
}

export type RosenbrockErrorCode =
  /** The step size fell below 1e-14·max(1, |t|) while the error estimate stayed too large. */
  | 'STEP_UNDERFLOW'
  /** More than `maxSteps` step attempts (accepted and rejected together). */
  | 'MAX_STEPS'
  /** The right-hand side or Jacobian kept producing NaN or ±∞, even at tiny steps. */
  | 'NOT_FINITE'
  /** I/(γh) − J was singular five times in a row, halving h each time. */
  | 'SINGULAR_MATRIX';

/** Why a Rosenbrock integration stopped. None is retriable with the same input. */
export class RosenbrockError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: RosenbrockErrorCode,
    /** Time reached when the integration stopped. */
    readonly t: number,
    message: string,
  ) {
    super(message);
    this.name = 'RosenbrockError';
  }
}

// RODAS4: the method RODAS of Hairer & Wanner, Solving ODEs II (2nd ed., 1996), §VI.4,
// with the Rosenbrock formulation of §IV.7. Coefficients as set in Hairer's Fortran code
// rodas.f (version of 18 September 1995, subroutine ROCOE, METH = 1), read from the copy
// distributed with KPP, the Kinetic PreProcessor (A. Sandu et al.), and found identical,
// digit for digit, in SciML OrdinaryDiffEq.jl (src/tableaus/rosenbrock_tableaus.jl,
// Rodas4Tableau). The values are for the transformed stage variables u_i = Σ_j γ_ij k_j of
// that code (§IV.7), for which each stage reads
//   (I/(γh) − J) u_i = f(t + α_i h, y + Σ_j a_ij u_j) + Σ_j (c_ij/h) u_j + γ_i h ∂f/∂t.
// The spec rebuilds α_ij and γ_ij from them and checks the eight order conditions up to
// order 4 (§IV.7, table of order conditions), order 3 for the embedded solution and
// R(∞) = 0 for both.
// Order 4 with an embedded order-3 solution, 6 stages, each with a new evaluation of f.
// Stiffly accurate (the last two stages carry the solution), so both the solution and
// its error estimate are L-stable: y1 = Y6 + u6 and the error estimate is u6 itself.
const GAMMA = 0.25;
const A21 = 1.544;
const A31 = 0.9466785280815826,
  A32 = 0.2557011698983284;
const A41 = 3.314825187068521,
  A42 = 2.896124015972201,
  A43 = 0.9986419139977817;
const A51 = 1.221224509226641,
  A52 = 6.019134481288629,
  A53 = 12.53708332932087,
  A54 = -0.687886036105895;
// Stage 6 evaluates at Y5 + u5 (a6j = a5j for j ≤ 4, a65 = 1); y1 = Y6 + u6, so the weights
// m_i are a51…a54, 1, 1 and the embedded solution (order 3) is Y6, i.e. it drops u6.
const C21 = -5.6688;
const C31 = -2.430093356833875,
  C32 = -0.2063599157091915;
const C41 = -0.1073529058151375,
  C42 = -9.594562251023355,
  C43 = -20.47028614809616;
const C51 = 7.496443313967647,
  C52 = -10.24680431464352,
  C53 = -33.99990352819905,
  C54 = 11.7089089320616;
const C61 = 8.083246795921522,
  C62 = -7.981132988064893,
  C63 = -31.52159432874371,
  C64 = 16.31930543123136;
const C65 = -6.058818238834054;
// Nodes α_i = Σ_j α_ij (stages 5 and 6 at t + h) and γ_i = Σ_j γ_ij (γ5 = γ6 = 0).
const ALPHA2 = 0.386,
  ALPHA3 = 0.21,
  ALPHA4 = 0.63;
const D1 = 0.25,
  D2 = -0.1043,
  D3 = 0.1035,
  D4 = -0.0362;

/**
 * The RODAS4 coefficients above, exactly as the integrator uses them, in the transformed
 * form of rodas.f: `a` and `c` are the strictly lower triangles (row i lists j < i), `m`
 * the solution weights, `mHat` the embedded weights, `alpha`/`gammaSums` the nodes α_i
 * and γ_i. Exported so the order conditions can be checked against the code's constants.
 */
export const RODAS4_TABLEAU = {
  order: 4,
  embeddedOrder: 3,
  gamma: GAMMA,
  a: [[], [A21], [A31, A32], [A41, A42, A43], [A51, A52, A53, A54], [A51, A52, A53, A54, 1]],
  c: [[], [C21], [C31, C32], [C41, C42, C43], [C51, C52, C53, C54], [C61, C62, C63, C64, C65]],
  m: [A51, A52, A53, A54, 1, 1],
  mHat: [A51, A52, A53, A54, 1, 0],
  alpha: [0, ALPHA2, ALPHA3, ALPHA4, 1, 1],
  gammaSums: [D1, D2, D3, D4, 0, 0],
} as const;

const MAX_SINGULAR = 5;
/** Unit round-off for the forward-difference increments. */
const UROUND = 2.220446049250313e-16;

/**
 * Adaptive, L-stable Rosenbrock (linearly implicit Runge–Kutta) integrator of order 4(3),
 * method RODAS4, for stiff and mildly stiff systems, reusing its buffers across calls.
 *
 * Each step evaluates the Jacobian J once, LU-decomposes I/(γh) − J once (partial
 * pivoting, in place; written here because the matrices are tiny and a library would
 * allocate) and reuses the factors for all six stages: per accepted step 6 evaluations of
 * f, 1 Jacobian, 1 decomposition and 6 pairs of triangular solves. Unlike an explicit
 * method its step is limited by accuracy, not by the stiffest eigenvalue. A rejected step
 * keeps J and f(t, y) and only redoes the decomposition with the smaller h.
 *
 * Without an analytic Jacobian (pass `null`), J is approximated by forward differences
 * from f(t, y) (increments √(u·max(1e-5, |y_j|)) as in Hairer's rodas.f and radau5.f): n extra
 * evaluations of f per accepted step, so an analytic Jacobian pays off for n above 2–3.
 * Rosenbrock methods need the exact Jacobian for their order; forward differences are
 * accurate to about √u relative, which is ample at tolerances down to about 1e-8.
 *
 * Allocates only in its constructor. `stats` accumulates over all calls.
 */
export class Rosenbrock {
  readonly stats: RosenbrockStats = {
    accepted: 0,
    rejected: 0,
    evaluations: 0,
    jacobians: 0,
    decompositions: 0,
  };
  /**
   * First trial step of the next `integrate` call; 0 (default) estimates it. Setting it to
   * the `suggestedStep` of a similar solve saves the start-up steps on repeated solves.
   */
  initialStep = 0;
  private lastSuggestedStep = 0;
  private readonly timeDependent: boolean;
  private readonly f0: Float64Array;
  private readonly ft: Float64Array;
  private readonly rhs: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly u3: Float64Array;
  private readonly u4: Float64Array;
  private readonly u5: Float64Array;
  private readonly u6: Float64Array;
  private readonly yStage: Float64Array;
  private readonly yNew: Float64Array;
  /** ∂f/∂y, row-major n×n. */
  private readonly dfdy: Float64Array;
  /** LU factors of I/(γh) − J, row-major: unit lower triangle implicit, U's diagonal inverted. */
  private readonly lu: Float64Array;
  /** Row permutation of the decomposition: row i of LU is row rows[i] of the matrix. */
  private readonly rows: Int32Array;
  private readonly control = new RosenbrockStepControl();

  constructor(
    readonly dimension: number,
    options: RosenbrockOptions = {},
  ) {
    this.timeDependent = options.timeDependent ?? false;
    this.f0 = new Float64Array(dimension);
    this.ft = new Float64Array(dimension);
    this.rhs = new Float64Array(dimension);
    this.u1 = new Float64Array(dimension);
    this.u2 = new Float64Array(dimension);
    this.u3 = new Float64Array(dimension);
    this.u4 = new Float64Array(dimension);
    this.u5 = new Float64Array(dimension);
    this.u6 = new Float64Array(dimension);
    this.yStage = new Float64Array(dimension);
    this.yNew = new Float64Array(dimension);
    this.dfdy = new Float64Array(dimension * dimension);
    this.lu = new Float64Array(dimension * dimension);
    this.rows = new Int32Array(dimension);
  }

  /** Step size the controller proposed at the end of the last `integrate` call (0 before any). */
  get suggestedStep(): number {
    return this.lastSuggestedStep;
  }

  /**
   * Integrates y from t0 to t1 (t1 > t0; nothing happens otherwise) in place, with the
   * error of each step, measured as the RMS of err_i / (atol + rtol·max(|y_i|, |y_new,i|)),
   * kept below 1. `jacobian` null: forward differences (see the class comment).
   * `onStep(t, y)` runs after each accepted step (not at the start). Throws a
   * RosenbrockError when the step size underflows, the matrix stays singular, f stays
   * non-finite, or maxSteps step attempts are exceeded.
   */
  integrate(
    f: Derivative,
    jacobian: Jacobian | null,
    y: Float64Array,
    t0: number,
    t1: number,
    rtol: number,
    atol: number,
    onStep?: (t: number, y: Float64Array) => void,
    maxSteps = 100_000,
  ): void {
    const span = t1 - t0;
    if (span <= 0) return;
    const { stats, control } = this;
    let h = this.firstStep(f, y, t0, span, rtol, atol);
    control.reset();
    let t = t0;
    let needJacobian = true;
    let singular = 0;
    let attempts = 0;
    while (t < t1) {
      if (++attempts > maxSteps) throw maxStepsError(maxSteps, t);
      // Stretch the step to t1 when it would end within 1e-10·h of it.
      const last = t + h * (1 + 1e-10) >= t1;
      if (last) h = t1 - t;
      if (needJacobian) {
        this.evaluateJacobian(f, jacobian, t, y);
        needJacobian = false;
      }
      if (!this.decompose(h)) {
        if (++singular >= MAX_SINGULAR) throw singularMatrixError(t);
        h *= 0.5;
        stats.rejected++;
        control.abandoned();
        this.checkStep(h, t, 'STEP_UNDERFLOW');
        continue;
      }
      singular = 0;
      this.stages(f, t, h, y);
      const err = this.errorNorm(y, rtol, atol);
      if (!Number.isFinite(err)) {
        h *= 0.25;
        stats.rejected++;
        control.abandoned();
        this.checkStep(h, t, 'NOT_FINITE');
        continue;
      }
      if (err <= 1) {
        stats.accepted++;
        const hNew = control.accepted(h, err);
        t = last ? t1 : t + h;
        y.set(this.yNew);
        onStep?.(t, y);
        h = hNew;
        if (t < t1) {
          f(t, y, this.f0);
          stats.evaluations++;
          needJacobian = true;
        }
      } else {
        stats.rejected++;
        h = control.rejected(h, err);
        this.checkStep(h, t, 'STEP_UNDERFLOW');
      }
    }
    this.lastSuggestedStep = h;
  }

  /** Evaluates f0 = f(t0, y), refuses a non-finite one, and returns the first trial step. */
  private firstStep(
    f: Derivative,
    y: Float64Array,
    t0: number,
    span: number,
    rtol: number,
    atol: number,
  ): number {
    const f0 = this.f0;
    f(t0, y, f0);
    this.stats.evaluations++;
    for (let i = 0; i < this.dimension; i++) {
      if (!Number.isFinite(f0[i]!)) {
        throw new RosenbrockError('NOT_FINITE', t0, `ODE right-hand side not finite at t=${t0}`);
      }
    }
    const h =
      this.initialStep > 0
        ? Math.min(this.initialStep, span)
        : this.startingStep(f, y, t0, span, rtol, atol);
    return h > 0 ? h : 1e-6 * span; // not > 0: the Euler probe of the estimate was not finite
  }

  /** RMS of the error estimate u6 scaled by atol + rtol·max(|y_i|, |y_new,i|). */
  private errorNorm(y: Float64Array, rtol: number, atol: number): number {
    const n = this.dimension;
    const { yNew, u6 } = this;
    let err = 0;
    for (let i = 0; i < n; i++) {
      const scale = atol + rtol * Math.max(Math.abs(y[i]!), Math.abs(yNew[i]!));
      const q = u6[i]! / scale;
      err += q * q;
    }
    return Math.sqrt(err / n);
  }

  /**
   * Integrates y from t0 to t1 in place in `steps` equal steps without error control
   * (a fixed-step, L-stable order-4 scheme: one Jacobian, decomposition and six
   * evaluations per step). `onStep` as in `integrate`. Throws when the matrix is singular
   * or the solution stops being finite.
   */
  integrateFixed(
    f: Derivative,
    jacobian: Jacobian | null,
    y: Float64Array,
    t0: number,
    t1: number,
    steps: number,
    onStep?: (t: number, y: Float64Array) => void,
  ): void {
    const { f0, yNew } = this;
    const h = (t1 - t0) / steps;
    if (!(h > 0)) return;
    for (let step = 0; step < steps; step++) {
      const t = t0 + step * h;
      f(t, y, f0);
      this.stats.evaluations++;
      this.evaluateJacobian(f, jacobian, t, y);
      if (!this.decompose(h)) throw singularMatrixError(t);
      this.stages(f, t, h, y);
      for (let i = 0; i < this.dimension; i++) {
        if (!Number.isFinite(yNew[i]!))
          throw new RosenbrockError('NOT_FINITE', t, `ODE solution not finite at t=${t}`);
      }
      this.stats.accepted++;
      y.set(yNew);
      onStep?.(step === steps - 1 ? t1 : t + h, y);
    }
  }

  /**
   * The six stages of one RODAS4 step from (t, y) with f0 = f(t, y) and the factors of
   * I/(γh) − J in place: the solution into yNew, the error estimate into u6.
   */
  private stages(f: Derivative, t: number, h: number, y: Float64Array): void {
    const n = this.dimension;
    const { f0, ft, rhs, u1, u2, u3, u4, u5, u6, yStage: ys, yNew } = this;
    const timeDependent = this.timeDependent;
    const inverseH = 1 / h;

    if (timeDependent) {
      for (let i = 0; i < n; i++) rhs[i] = f0[i]! + h * D1 * ft[i]!;
      this.solve(rhs, u1);
    } else {
      this.solve(f0, u1);
    }

    for (let i = 0; i < n; i++) ys[i] = y[i]! + A21 * u1[i]!;
    f(t + ALPHA2 * h, ys, rhs);
    for (let i = 0; i < n; i++) rhs[i] = rhs[i]! + inverseH * C21 * u1[i]!;
    if (timeDependent) for (let i = 0; i < n; i++) rhs[i] = rhs[i]! + h * D2 * ft[i]!;
    this.solve(rhs, u2);

    for (let i = 0; i < n; i++) ys[i] = y[i]! + A31 * u1[i]! + A32 * u2[i]!;
    f(t + ALPHA3 * h, ys, rhs);
    for (let i = 0; i < n; i++) rhs[i] = rhs[i]! + inverseH * (C31 * u1[i]! + C32 * u2[i]!);
    if (timeDependent) for (let i = 0; i < n; i++) rhs[i] = rhs[i]! + h * D3 * ft[i]!;
    this.solve(rhs, u3);

    for (let i = 0; i < n; i++) ys[i] = y[i]! + A41 * u1[i]! + A42 * u2[i]! + A43 * u3[i]!;
    f(t + ALPHA4 * h, ys, rhs);
    for (let i = 0; i < n; i++)
      rhs[i] = rhs[i]! + inverseH * (C41 * u1[i]! + C42 * u2[i]! + C43 * u3[i]!);
    if (timeDependent) for (let i = 0; i < n; i++) rhs[i] = rhs[i]! + h * D4 * ft[i]!;
    this.solve(rhs, u4);

    for (let i = 0; i < n; i++)
      ys[i] = y[i]! + A51 * u1[i]! + A52 * u2[i]! + A53 * u3[i]! + A54 * u4[i]!;
    f(t + h, ys, rhs);
    for (let i = 0; i < n; i++) {
      rhs[i] = rhs[i]! + inverseH * (C51 * u1[i]! + C52 * u2[i]! + C53 * u3[i]! + C54 * u4[i]!);
    }
    this.solve(rhs, u5);

    for (let i = 0; i < n; i++) ys[i] = ys[i]! + u5[i]!;
    f(t + h, ys, rhs);
    for (let i = 0; i < n; i++) {
      rhs[i] =
        rhs[i]! +
        inverseH * (C61 * u1[i]! + C62 * u2[i]! + C63 * u3[i]! + C64 * u4[i]! + C65 * u5[i]!);
    }
    this.solve(rhs, u6);
    this.stats.evaluations += 5;

    for (let i = 0; i < n; i++) yNew[i] = ys[i]! + u6[i]!;
  }

  /** J = ∂f/∂y at (t, y), analytic or by forward differences from f0 = f(t, y); ∂f/∂t if needed. */
  private evaluateJacobian(
    f: Derivative,
    jacobian: Jacobian | null,
    t: number,
    y: Float64Array,
  ): void {
    const n = this.dimension;
    const { dfdy, f0, rhs: probe } = this;
    this.stats.jacobians++;
    if (jacobian) {
      jacobian(t, y, dfdy);
    } else {
      // Column j from one perturbed evaluation; y is restored exactly afterwards.
      for (let j = 0; j < n; j++) {
        const saved = y[j]!;
        const delta = Math.sqrt(UROUND * Math.max(1e-5, Math.abs(saved)));
        y[j] = saved + delta;
        const actual = y[j]! - saved; // the increment as represented
        f(t, y, probe);
        y[j] = saved;
        for (let i = 0; i < n; i++) dfdy[i * n + j] = (probe[i]! - f0[i]!) / actual;
      }
      this.stats.evaluations += n;
    }
    if (this.timeDependent) {
      const delta = Math.sqrt(UROUND * Math.max(1e-5, Math.abs(t)));
      f(t + delta, y, probe);
      this.stats.evaluations++;
      const ft = this.ft;
      for (let i = 0; i < n; i++) ft[i] = (probe[i]! - f0[i]!) / delta;
    }
  }

  /**
   * LU decomposition with partial pivoting of I/(γh) − J into `lu` and `rows` (Doolittle,
   * row-major, right-looking; the diagonal of U is stored inverted, for the solves).
   * False when a pivot is zero or not finite.
   */
  private decompose(h: number): boolean {
    const n = this.dimension;
    const { dfdy, lu, rows } = this;
    this.stats.decompositions++;
    const diagonal = 1 / (GAMMA * h);
    for (let k = 0; k < n * n; k++) lu[k] = -dfdy[k]!;
    for (let i = 0; i < n; i++) {
      lu[i * n + i] = lu[i * n + i]! + diagonal;
      rows[i] = i;
    }
    for (let k = 0; k < n; k++) {
      const kk = k * n;
      let p = k;
      let largest = Math.abs(lu[kk + k]!);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(lu[i * n + k]!);
        if (v > largest) {
          largest = v;
          p = i;
        }
      }
      if (!(largest > 0) || largest === Infinity) return false;
      if (p !== k) {
        const pp = p * n;
        for (let j = 0; j < n; j++) {
          const swap = lu[kk + j]!;
          lu[kk + j] = lu[pp + j]!;
          lu[pp + j] = swap;
        }
        const row = rows[k]!;
        rows[k] = rows[p]!;
        rows[p] = row;
      }
      const inversePivot = 1 / lu[kk + k]!;
      lu[kk + k] = inversePivot;
      for (let i = k + 1; i < n; i++) {
        const ii = i * n;
        const factor = lu[ii + k]! * inversePivot;
        lu[ii + k] = factor;
        if (factor !== 0) {
          for (let j = k + 1; j < n; j++) lu[ii + j] = lu[ii + j]! - factor * lu[kk + j]!;
        }
      }
    }
    return true;
  }

  /** x = (I/(γh) − J)⁻¹ b from the factors; b and x must be different arrays. */
  private solve(b: Float64Array, x: Float64Array): void {
    const n = this.dimension;
    const { lu, rows } = this;
    for (let i = 0; i < n; i++) {
      const ii = i * n;
      let sum = b[rows[i]!]!;
      for (let j = 0; j < i; j++) sum -= lu[ii + j]! * x[j]!;
      x[i] = sum;
    }
    for (let i = n - 1; i >= 0; i--) {
      const ii = i * n;
      let sum = x[i]!;
      for (let j = i + 1; j < n; j++) sum -= lu[ii + j]! * x[j]!;
      x[i] = sum * lu[ii + i]!;
    }
  }

  /** Starting step, HNW I §II.4, for the order-4 solution; needs f0 = f(t0, y). */
  private startingStep(
    f: Derivative,
    y: Float64Array,
    t0: number,
    span: number,
    rtol: number,
    atol: number,
  ): number {
    this.stats.evaluations++;
    return estimateInitialStep({
      f,
      y,
      f0: this.f0,
      probeY: this.yStage,
      probeF: this.rhs,
      t0,
      span,
      rtol,
      atol,
      order: 4,
    });
  }

  private checkStep(h: number, t: number, code: RosenbrockErrorCode): void {
    if (!(h >= 1e-14 * Math.max(1, Math.abs(t)))) {
      const why =
        code === 'NOT_FINITE' ? 'ODE right-hand side not finite' : 'ODE step size underflow';
      throw new RosenbrockError(code, t, `${why} at t=${t}`);
    }
  }
}

function maxStepsError(maxSteps: number, t: number): RosenbrockError {
  return new RosenbrockError(
    'MAX_STEPS',
    t,
    `Rosenbrock integration exceeded ${maxSteps} steps at t=${t}`,
  );
}

function singularMatrixError(t: number): RosenbrockError {
  return new RosenbrockError(
    'SINGULAR_MATRIX',
    t,
    `Rosenbrock iteration matrix singular at t=${t}`,
  );
}
