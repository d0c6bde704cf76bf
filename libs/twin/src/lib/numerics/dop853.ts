import { estimateInitialStep } from './initial-step';
import type { Derivative, IntegrationStats } from './ode.types';

export type Dop853ErrorCode =
  /** The step size fell below 1e-14·max(1, |t|) while the error estimate stayed too large. */
  | 'STEP_UNDERFLOW'
  /** More than `maxSteps` step attempts (accepted and rejected together). */
  | 'MAX_STEPS'
  /** The right-hand side produced NaN or ±∞ at the start, or kept doing so at tiny steps. */
  | 'NOT_FINITE'
  /** A tableau constant is not a finite number, so no step source can be generated (a defect, not an input). */
  | 'TABLEAU_INVALID';

/** Why a DOP853 integration stopped. None is retriable with the same input. */
export class Dop853Error extends Error {
  readonly retriable = false;

  constructor(
    readonly code: Dop853ErrorCode,
    /** Time reached when the integration stopped; NaN when none ran (TABLEAU_INVALID). */
    readonly t: number,
    message: string,
  ) {
    super(message);
    this.name = 'Dop853Error';
  }
}

// DOP853: the explicit Runge–Kutta method of order 8 of Dormand & Prince (Prince & Dormand
// 1981, RK8(7)13M, reworked), with the "5th and 3rd order" combined error estimator of
// Hairer, Nørsett & Wanner, Solving ODEs I (2nd ed., 1993), §II.10 and its code dop853.f.
// Coefficients as set in Hairer's Fortran code dop853.f (subroutine DP86CO), read from the
// copy in MESA (MESAHub/mesa, num/private/mod_dop853.f), and checked, value by value, to be
// the same doubles as in SciPy (scipy/integrate/_ivp/dop853_coefficients.py: C, A, the last
// row of A as B, E3 and E5). The constants below are those 30-digit values rounded to the
// nearest double, written as the shortest decimal that reads back to it. The spec rebuilds
// the tableau from them and checks every order condition (all rooted trees) up to order 8
// for the solution, to order 5 for the embedded solution b − er and to order 3 for bhh.
// 12 stages per step; the last evaluation f(t + h, y_new) is the first of the next step
// (FSAL), so an accepted step costs 12 evaluations. Stages 14–16 of dop853.f serve only its
// dense output, which this class does not offer.
const C2 = 0.05260015195876773,
  C3 = 0.0789002279381516,
  C4 = 0.1183503419072274,
  C5 = 0.2816496580927726;
const C6 = 0.3333333333333333,
  C7 = 0.25,
  C8 = 0.3076923076923077,
  C9 = 0.6512820512820513,
  C10 = 0.6;
const C11 = 0.8571428571428571; // c12 = 1
const A21 = 0.05260015195876773;
const A31 = 0.0197250569845379,
  A32 = 0.0591751709536137;
const A41 = 0.02958758547680685,
  A43 = 0.08876275643042054;
const A51 = 0.2413651341592667,
  A53 = -0.8845494793282861,
  A54 = 0.924834003261792;
const A61 = 0.037037037037037035,
  A64 = 0.17082860872947386,
  A65 = 0.12546768756682242;
const A71 = 0.037109375,
  A74 = 0.17025221101954405,
  A75 = 0.06021653898045596,
  A76 = -0.017578125;
const A81 = 0.03709200011850479,
  A84 = 0.17038392571223998,
  A85 = 0.10726203044637328;
const A86 = -0.015319437748624402,
  A87 = 0.008273789163814023;
const A91 = 0.6241109587160757,
  A94 = -3.3608926294469414,
  A95 = -0.868219346841726,
  A96 = 27.59209969944671;
const A97 = 20.154067550477894,
  A98 = -43.48988418106996;
const A101 = 0.47766253643826434,
  A104 = -2.4881146199716677,
  A105 = -0.590290826836843;
const A106 = 21.230051448181193,
  A107 = 15.279233632882423,
  A108 = -33.28821096898486;
const A109 = -0.020331201708508627;
const A111 = -0.9371424300859873,
  A114 = 5.186372428844064,
  A115 = 1.0914373489967295;
const A116 = -8.149787010746927,
  A117 = -18.52006565999696,
  A118 = 22.739487099350505;
const A119 = 2.4936055526796523,
  A1110 = -3.0467644718982196;
const A121 = 2.273310147516538,
  A124 = -10.53449546673725,
  A125 = -2.0008720582248625;
const A126 = -17.9589318631188,
  A127 = 27.94888452941996,
  A128 = -2.8589982771350235;
const A129 = -8.87285693353063,
  A1210 = 12.360567175794303,
  A1211 = 0.6433927460157636;
// Weights of the order-8 solution (b2 … b5 = 0).
const B1 = 0.054293734116568765,
  B6 = 4.450312892752409,
  B7 = 1.8915178993145003,
  B8 = -5.801203960010585;
const B9 = 0.3111643669578199,
  B10 = -0.1521609496625161,
  B11 = 0.20136540080403034,
  B12 = 0.04471061572777259;
// Order-3 weights (on stages 1, 9, 12): err3 = Σ b_i k_i − Σ bhh_i k_i.
const BHH1 = 0.2440944881889764,
  BHH2 = 0.7338466882816118,
  BHH3 = 0.022058823529411766;
// b − b̂ of the embedded order-5 solution: err5 = Σ er_i k_i.
const ER1 = 0.01312004499419488,
  ER6 = -1.2251564463762044,
  ER7 = -0.4957589496572502,
  ER8 = 1.6643771824549864;
const ER9 = -0.35032884874997366,
  ER10 = 0.3341791187130175,
  ER11 = 0.08192320648511571;
const ER12 = -0.022355307863886294;

/**
 * The DOP853 coefficients above, exactly as the integrator uses them: `a` is the strictly
 * lower triangle (row i lists a_i1 … a_i,i−1, stages numbered from 1), `b` the order-8
 * weights, `bhh` the order-3 weights and `er` the difference b − b̂ to the order-5 weights,
 * all over the 12 stages. Exported so the spec can check the order conditions against the
 * code's constants.
 */
export interface Dop853Tableau {
  readonly order: number;
  readonly c: readonly number[];
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  readonly bhh: readonly number[];
  readonly er: readonly number[];
}

export const DOP853_TABLEAU: Dop853Tableau = {
  order: 8,
  c: [0, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, 1],
  a: [
    [],
    [A21],
    [A31, A32],
    [A41, 0, A43],
    [A51, 0, A53, A54],
    [A61, 0, 0, A64, A65],
    [A71, 0, 0, A74, A75, A76],
    [A81, 0, 0, A84, A85, A86, A87],
    [A91, 0, 0, A94, A95, A96, A97, A98],
    [A101, 0, 0, A104, A105, A106, A107, A108, A109],
    [A111, 0, 0, A114, A115, A116, A117, A118, A119, A1110],
    [A121, 0, 0, A124, A125, A126, A127, A128, A129, A1210, A1211],
  ],
  b: [B1, 0, 0, 0, 0, B6, B7, B8, B9, B10, B11, B12],
  bhh: [BHH1, 0, 0, 0, 0, 0, 0, 0, BHH2, 0, 0, BHH3],
  er: [ER1, 0, 0, 0, 0, ER6, ER7, ER8, ER9, ER10, ER11, ER12],
};

// Step-size control as in dop853.f with its defaults (HNW I, §II.4 and §II.10):
// h_new = h / fac, fac = err^(1/8) / SAFETY limited to [1/MAX_GROWTH, 1/MIN_SHRINK]
// (dop853.f: fac1 = 0.333, fac2 = 6, safe = 0.9, beta = 0: no Lund stabilisation), and no
// growth in the step right after a rejection.
const SAFETY = 0.9;
const MAX_GROWTH = 6;
const MIN_SHRINK = 0.333;
/** Step-size factor when an error estimate is not finite (dop853.f shrinks by fac1 on IERR). */
const NOT_FINITE_SHRINK = 0.333;
const STAGES = 12;

/**
 * Largest dimension for which the step is generated as straight-line code. Measured on
 * Node 20 (V8 11.3): at n = 7 the integrator's own cost per evaluation drops from about
 * 105 ns (loops) to 40 ns, and the gain holds to n = 12; at n = 16 it is gone, and from
 * n ≈ 24 on the generated function is too large for TurboFan and runs interpreted, ten
 * times slower than the loops.
 */
export const MAX_UNROLLED_DIMENSION = 12;

export interface Dop853Options {
  /**
   * Use a step generated for this dimension (every loop over components unrolled, stage
   * values held in locals) when dimension ≤ MAX_UNROLLED_DIMENSION. Default true. It does
   * the same floating-point operations in the same order as the loops, so results are
   * identical to the last bit; only the cost differs.
   */
  unrolled?: boolean;
  /**
   * Only the first `errorComponents` components are under error control and shape the first
   * step; the rest ride along. For quadratures of the others that feed nothing back (a heat
   * duty integrated beside the temperature): they start at 0 with only atol to scale them,
   * which would otherwise force a tiny first step, and their accuracy follows from the
   * components they integrate. @default dimension
   */
  errorComponents?: number;
}

/** The STAGES stage derivatives, as `Dop853.k` holds them. */
type Stages = [
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
  Float64Array,
];

/**
 * One step attempt from (t, y) with f(t, y) in stage 1: stages 2–12, the order-8 solution
 * into yNew and the scaled error estimate as the result (NaN when f was not finite).
 */
type StepAttempt = (
  f: Derivative,
  y: Float64Array,
  t: number,
  h: number,
  rtol: number,
  atol: number,
) => number;

/**
 * Adaptive explicit Runge–Kutta 8(5,3) integrator, DOP853 (Dormand–Prince, in Hairer's
 * formulation), for non-stiff problems at tight tolerances, reusing its buffers across calls.
 *
 * The error of a step is measured, as in dop853.f, from two embedded estimates, err5 (order 5)
 * and err3 (order 3), each the RMS of err_i / (atol + rtol·max(|y_i|, |y_new,i|)):
 *   err = h · err5² / √(err5² + 0.01·err3²),
 * which behaves like O(h⁸) and is accepted when at most 1. The step-size controller uses the
 * exponent 1/8. One accepted step costs 12 evaluations of f (11 new stages and the first
 * stage of the next step); the last step of an integration skips that final evaluation.
 *
 * Compared with DormandPrince (order 5, 6 evaluations a step) it pays off where the
 * tolerance is tight and the solution smooth. It does not where the step is bounded by
 * something other than accuracy: its stability region reaches to −6.4 on the negative
 * real axis (DOPRI5's to −3.3; both per step), so a decay mode λ caps h near 6.4/|λ| whatever
 * the tolerance, and at a kink in the solution (a reactant that a fractional-order rate
 * law consumes in finite time) both methods spend rejected steps locating it.
 *
 * For small dimensions the arithmetic of a step is generated as straight-line JavaScript
 * (`new Function`, the technique of compileRateKernel; only numbers and integer indices reach
 * the source), which removes most of the integrator's own cost per evaluation; see
 * Dop853Options. Allocates only in its constructor; `stats` accumulates over calls.
 */
export class Dop853 {
  readonly stats: IntegrationStats = { accepted: 0, rejected: 0, evaluations: 0 };
  /**
   * First trial step of the next `integrate` call; 0 (default) estimates it (HNW I, §II.4,
   * one extra evaluation). Setting it saves that evaluation and, where the estimate is poor
   * (a component starting at 0 with a large slope and only atol to scale it, such as an
   * integral accumulated along the way), the start-up steps.
   */
  initialStep = 0;
  /** Whether this instance runs the generated straight-line step (see Dop853Options). */
  readonly unrolled: boolean;
  private lastSuggestedStep = 0;
  /** The 12 stage derivatives, stage j in [j·n, (j+1)·n). */
  private readonly stageValues: Float64Array;
  /** Views of stageValues, one per stage, for f to write into. */
  private readonly k: Float64Array[];
  private readonly yStage: Float64Array;
  private readonly yNew: Float64Array;
  private readonly attempt: StepAttempt;
  /** Components under error control (see Dop853Options.errorComponents). */
  readonly errorComponents: number;

  constructor(
    readonly dimension: number,
    options: Dop853Options = {},
  ) {
    this.stageValues = new Float64Array(STAGES * dimension);
    this.k = Array.from({ length: STAGES }, (_, j) =>
      this.stageValues.subarray(j * dimension, (j + 1) * dimension),
    );
    this.yStage = new Float64Array(dimension);
    this.yNew = new Float64Array(dimension);
    this.errorComponents = options.errorComponents ?? dimension;
    if (
      !Number.isInteger(this.errorComponents) ||
      this.errorComponents < 1 ||
      this.errorComponents > dimension
    ) {
      throw new RangeError(
        `errorComponents must be an integer in 1..${dimension}, got ${options.errorComponents}`,
      );
    }
    this.unrolled =
      (options.unrolled ?? true) && dimension >= 1 && dimension <= MAX_UNROLLED_DIMENSION;
    this.attempt = this.unrolled
      ? unrolledAttempt(dimension, this.errorComponents)(
          this.stageValues,
          ...this.k,
          this.yStage,
          this.yNew,
        )
      : this.loopAttempt;
  }

  /** Step size the controller proposed at the end of the last `integrate` call (0 before any). */
  get suggestedStep(): number {
    return this.lastSuggestedStep;
  }

  /**
   * Integrates y from t0 to t1 (t1 > t0; nothing happens otherwise) in place. `onStep(t, y)`
   * runs after each accepted step (not at the start); the last call has t = t1 exactly.
   * Throws a Dop853Error when f is not finite at the start, the step size underflows, or
   * maxSteps step attempts are exceeded.
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
    const { yNew, stats } = this;
    const k1 = this.k[0]!;
    const span = t1 - t0;
    if (!(span > 0)) return;
    f(t0, y, k1);
    stats.evaluations++;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(k1[i]!))
        throw new Dop853Error('NOT_FINITE', t0, `ODE right-hand side not finite at t=${t0}`);
    }
    let t = t0;
    let h =
      this.initialStep > 0
        ? Math.min(this.initialStep, span)
        : this.startingStep(f, y, t0, span, rtol, atol);
    let rejectedLast = false;
    let attempts = 0;
    for (;;) {
      if (++attempts > maxSteps) {
        throw new Dop853Error(
          'MAX_STEPS',
          t,
          `ODE integration exceeded ${maxSteps} steps at t=${t}`,
        );
      }
      // dop853.f: stretch the step to t1 when it would end within 1 % of a step of it.
      const last = t + 1.01 * h >= t1;
      if (last) h = t1 - t;
      const err = this.attempt(f, y, t, h, rtol, atol);
      stats.evaluations += STAGES - 1;
      if (!Number.isFinite(err)) {
        stats.rejected++;
        rejectedLast = true;
        h *= NOT_FINITE_SHRINK;
        this.checkStep(h, t, 'NOT_FINITE');
        continue;
      }
      const fac11 = err ** 0.125;
      if (err <= 1) {
        stats.accepted++;
        let hNew = h / Math.max(1 / MAX_GROWTH, Math.min(1 / MIN_SHRINK, fac11 / SAFETY));
        if (rejectedLast) hNew = Math.min(hNew, h);
        rejectedLast = false;
        for (let i = 0; i < n; i++) y[i] = yNew[i]!;
        if (last) {
          onStep?.(t1, y);
          this.lastSuggestedStep = Math.min(hNew, span);
          return;
        }
        t += h;
        // First stage of the next step (FSAL): stage 1 is free once the step is accepted.
        f(t, y, k1);
        stats.evaluations++;
        onStep?.(t, y);
        h = Math.min(hNew, span);
      } else {
        stats.rejected++;
        rejectedLast = true;
        h /= Math.min(1 / MIN_SHRINK, fac11 / SAFETY);
        this.checkStep(h, t, 'STEP_UNDERFLOW');
      }
    }
  }

  /**
   * The step attempt with loops over components; the generated one must match it exactly:
   * stages 2–12, then the order-8 solution and its error.
   */
  private readonly loopAttempt: StepAttempt = (f, y, t, h, rtol, atol) => {
    this.loopEarlyStages(f, y, t, h);
    this.loopLateStages(f, y, t, h);
    return this.loopSolutionAndError(y, h, rtol, atol);
  };

  /** Stages 2–8 of `loopAttempt`. */
  private loopEarlyStages(f: Derivative, y: Float64Array, t: number, h: number): void {
    const n = this.dimension;
    const [k1, k2, k3, k4, k5, k6, k7, k8] = this.k as Stages;
    const ys = this.yStage;
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A21 * k1[i]!);
    f(t + C2 * h, ys, k2);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A31 * k1[i]! + A32 * k2[i]!);
    f(t + C3 * h, ys, k3);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A41 * k1[i]! + A43 * k3[i]!);
    f(t + C4 * h, ys, k4);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A51 * k1[i]! + A53 * k3[i]! + A54 * k4[i]!);
    f(t + C5 * h, ys, k5);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A61 * k1[i]! + A64 * k4[i]! + A65 * k5[i]!);
    f(t + C6 * h, ys, k6);
    for (let i = 0; i < n; i++)
      ys[i] = y[i]! + h * (A71 * k1[i]! + A74 * k4[i]! + A75 * k5[i]! + A76 * k6[i]!);
    f(t + C7 * h, ys, k7);
    for (let i = 0; i < n; i++) {
      ys[i] =
        y[i]! + h * (A81 * k1[i]! + A84 * k4[i]! + A85 * k5[i]! + A86 * k6[i]! + A87 * k7[i]!);
    }
    f(t + C8 * h, ys, k8);
  }

  /** Stages 9–12 of `loopAttempt`. */
  private loopLateStages(f: Derivative, y: Float64Array, t: number, h: number): void {
    const n = this.dimension;
    const [k1, , , k4, k5, k6, k7, k8, k9, k10, k11, k12] = this.k as Stages;
    const ys = this.yStage;
    for (let i = 0; i < n; i++) {
      ys[i] =
        y[i]! +
        h *
          (A91 * k1[i]! + A94 * k4[i]! + A95 * k5[i]! + A96 * k6[i]! + A97 * k7[i]! + A98 * k8[i]!);
    }
    f(t + C9 * h, ys, k9);
    for (let i = 0; i < n; i++) {
      ys[i] =
        y[i]! +
        h *
          (A101 * k1[i]! +
            A104 * k4[i]! +
            A105 * k5[i]! +
            A106 * k6[i]! +
            A107 * k7[i]! +
            A108 * k8[i]! +
            A109 * k9[i]!);
    }
    f(t + C10 * h, ys, k10);
    for (let i = 0; i < n; i++) {
      ys[i] =
        y[i]! +
        h *
          (A111 * k1[i]! +
            A114 * k4[i]! +
            A115 * k5[i]! +
            A116 * k6[i]! +
            A117 * k7[i]! +
            A118 * k8[i]! +
            A119 * k9[i]! +
            A1110 * k10[i]!);
    }
    f(t + C11 * h, ys, k11);
    for (let i = 0; i < n; i++) {
      ys[i] =
        y[i]! +
        h *
          (A121 * k1[i]! +
            A124 * k4[i]! +
            A125 * k5[i]! +
            A126 * k6[i]! +
            A127 * k7[i]! +
            A128 * k8[i]! +
            A129 * k9[i]! +
            A1210 * k10[i]! +
            A1211 * k11[i]!);
    }
    f(t + h, ys, k12);
  }

  /** The order-8 solution into yNew and both error estimates, in one pass; returns err. */
  private loopSolutionAndError(y: Float64Array, h: number, rtol: number, atol: number): number {
    const n = this.dimension;
    const [k1, , , , , k6, k7, k8, k9, k10, k11, k12] = this.k as Stages;
    const yNew = this.yNew;
    let err5 = 0;
    let err3 = 0;
    const controlled = this.errorComponents;
    for (let i = 0; i < n; i++) {
      const slope =
        B1 * k1[i]! +
        B6 * k6[i]! +
        B7 * k7[i]! +
        B8 * k8[i]! +
        B9 * k9[i]! +
        B10 * k10[i]! +
        B11 * k11[i]! +
        B12 * k12[i]!;
      const yi = y[i]!;
      const next = yi + h * slope;
      yNew[i] = next;
      if (i >= controlled) continue;
      const scale = atol + rtol * Math.max(Math.abs(yi), Math.abs(next));
      const e3 = (slope - BHH1 * k1[i]! - BHH2 * k9[i]! - BHH3 * k12[i]!) / scale;
      const e5 =
        (ER1 * k1[i]! +
          ER6 * k6[i]! +
          ER7 * k7[i]! +
          ER8 * k8[i]! +
          ER9 * k9[i]! +
          ER10 * k10[i]! +
          ER11 * k11[i]! +
          ER12 * k12[i]!) /
        scale;
      err3 += e3 * e3;
      err5 += e5 * e5;
    }
    let denominator = err5 + 0.01 * err3;
    if (denominator <= 0) denominator = 1;
    return (h * err5) / Math.sqrt(controlled * denominator);
  }

  /** HNW I §II.4 for order 8 (the 8th-order solution's error behaves like h^8). */
  private startingStep(
    f: Derivative,
    y: Float64Array,
    t0: number,
    span: number,
    rtol: number,
    atol: number,
  ): number {
    this.stats.evaluations++;
    const f0 = this.k[0]!;
    return estimateInitialStep({
      f,
      y,
      f0,
      probeY: this.yStage,
      probeF: this.k[1]!,
      t0,
      span,
      rtol,
      atol,
      order: 7,
      controlled: this.errorComponents,
    });
  }

  private checkStep(h: number, t: number, code: Dop853ErrorCode): void {
    if (!(h >= 1e-14 * Math.max(1, Math.abs(t)))) {
      const why =
        code === 'NOT_FINITE' ? 'ODE right-hand side not finite' : 'ODE step size underflow';
      throw new Dop853Error(code, t, `${why} at t=${t}`);
    }
  }
}

type AttemptFactory = (stageValues: Float64Array, ...buffers: Float64Array[]) => StepAttempt;
/** Compiled factories by dimension and controlled components: instances share the optimised code. */
const factories = new Map<string, AttemptFactory>();

/**
 * The source of the straight-line step for dimension n: the loops of `loopAttempt` unrolled,
 * with the coefficients as literals (the constants above, written so they read back to the
 * same doubles), y and each stage read into locals once, and every sum in the same order.
 * Exported for inspection and the spec.
 */
export function unrolledStepSource(n: number, errorComponents = n): string {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`dimension must be a positive integer, got ${n}`);
  const { a, b, bhh, er, c } = DOP853_TABLEAU;
  const num = (x: number): string => {
    if (!Number.isFinite(x))
      throw new Dop853Error('TABLEAU_INVALID', Number.NaN, `DOP853: non-finite constant ${x}`);
    const s = String(x);
    return x < 0 ? `(${s})` : s;
  };
  const v = (j: number, i: number) => `s${j}_${i}`;
  const load = (j: number) =>
    Array.from({ length: n }, (_, i) => `const ${v(j, i)} = K[${j * n + i}];`).join(' ');
  const sum = (weights: readonly number[], i: number) =>
    weights
      .map((w, j) => (w === 0 ? '' : `${num(w)} * ${v(j, i)}`))
      .filter(Boolean)
      .join(' + ');
  const lines: string[] = [];
  lines.push('return function dop853Attempt(f, y, t, h, rtol, atol) {');
  lines.push(Array.from({ length: n }, (_, i) => `const y${i} = y[${i}];`).join(' '));
  lines.push(load(0));
  for (let stage = 1; stage < STAGES; stage++) {
    const row = a[stage]!;
    for (let i = 0; i < n; i++) lines.push(`ys[${i}] = y${i} + h * (${sum(row, i)});`);
    lines.push(
      stage === STAGES - 1
        ? `f(t + h, ys, k${stage + 1});`
        : `f(t + ${num(c[stage]!)} * h, ys, k${stage + 1});`,
    );
    lines.push(load(stage));
  }
  lines.push('let err5 = 0; let err3 = 0;');
  for (let i = 0; i < n; i++) {
    const minus = bhh
      .map((w, j) => (w === 0 ? '' : ` - ${num(w)} * ${v(j, i)}`))
      .filter(Boolean)
      .join('');
    if (i >= errorComponents) {
      lines.push(`yNew[${i}] = y${i} + h * (${sum(b, i)});`);
      continue;
    }
    lines.push(
      `{ const slope = ${sum(b, i)}; const next = y${i} + h * slope; yNew[${i}] = next;`,
      `  const scale = atol + rtol * Math.max(Math.abs(y${i}), Math.abs(next));`,
      `  const e3 = (slope${minus}) / scale; const e5 = (${sum(er, i)}) / scale; err3 += e3 * e3; err5 += e5 * e5; }`,
    );
  }
  lines.push('let denominator = err5 + 0.01 * err3; if (denominator <= 0) denominator = 1;');
  lines.push(`return (h * err5) / Math.sqrt(${errorComponents} * denominator);`);
  lines.push('};');
  return lines.join('\n');
}

function unrolledAttempt(n: number, errorComponents: number): AttemptFactory {
  const key = `${n}:${errorComponents}`;
  let factory = factories.get(key);
  if (!factory) {
    const names = ['K', ...Array.from({ length: STAGES }, (_, j) => `k${j + 1}`), 'ys', 'yNew'];
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from numbers only, see unrolledStepSource
    factory = new Function(...names, unrolledStepSource(n, errorComponents)) as AttemptFactory;
    factories.set(key, factory);
  }
  return factory;
}
