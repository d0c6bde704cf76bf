import type { Derivative } from './ode.types';

/** What the starting-step estimate needs; buffers are the caller's, so nothing is allocated. */
export interface InitialStepProblem {
  f: Derivative;
  y: Float64Array;
  /** f(t0, y), already evaluated. */
  f0: Float64Array;
  /** Scratch for the Euler probe's state and derivative. */
  probeY: Float64Array;
  probeF: Float64Array;
  t0: number;
  span: number;
  rtol: number;
  atol: number;
  /** Order q of the method's error estimate: the step scales as (0.01 / ‖f″‖)^(1/(q+1)). */
  order: number;
  /** Components under error control (the leading ones). @default y.length */
  controlled?: number;
}

/**
 * Starting step of an adaptive integrator: Hairer, Nørsett & Wanner, Solving ODEs I, §II.4
 * (hinit in dopri5.f/dop853.f), with RMS norms over the error-controlled components and one
 * explicit Euler probe for the second derivative. Costs one evaluation of f. A non-finite
 * probe (f blows up just past t0) gives 1e-6 of the span: the controller takes it from there.
 */
export function estimateInitialStep(problem: InitialStepProblem): number {
  const { f, y, f0, probeY, probeF, t0, span, rtol, atol } = problem;
  const n = y.length;
  const m = problem.controlled ?? n;
  let d0 = 0;
  let d1 = 0;
  for (let i = 0; i < m; i++) {
    const scale = atol + rtol * Math.abs(y[i]!);
    d0 += (y[i]! / scale) ** 2;
    d1 += (f0[i]! / scale) ** 2;
  }
  d0 = Math.sqrt(d0 / m);
  d1 = Math.sqrt(d1 / m);
  const h0 = Math.min(span, d0 < 1e-5 || d1 < 1e-5 ? 1e-6 * span : (0.01 * d0) / d1);
  for (let i = 0; i < n; i++) probeY[i] = y[i]! + h0 * f0[i]!;
  f(t0 + h0, probeY, probeF);
  let d2 = 0;
  for (let i = 0; i < m; i++) {
    const scale = atol + rtol * Math.abs(y[i]!);
    d2 += ((probeF[i]! - f0[i]!) / scale) ** 2;
  }
  d2 = Math.sqrt(d2 / m) / h0;
  const largest = Math.max(d1, d2);
  const h1 =
    largest <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / largest) ** (1 / (problem.order + 1));
  const h = Math.min(100 * h0, h1, span);
  return h > 0 ? h : 1e-6 * span;
}
