import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { CalibrationError } from './calibration.error';

/**
 * Nonlinear least squares, min Σ (y_i − f_i(θ))², by Levenberg–Marquardt from
 * ml-levenberg-marquardt, driven one iteration at a time.
 *
 * Why not one call with `maxIterations`: in version 4.1.3 the library
 *  - stops only when the SSR falls below an absolute `errorTolerance` (no test on the step or
 *    the relative decrease), so a fit to noisy data always runs every iteration;
 *  - applies weights inconsistently (the error uses r²·w², the step J·w⁻²), so residuals are
 *    weighted by the caller and the library sees unit weights;
 *  - reports no progress.
 * So each outer iteration asks the library for one damped Gauss–Newton step (its `step` and
 * finite-difference Jacobian) at our damping λ; a step that lowers the SSR is accepted and λ
 * shrinks, otherwise λ grows and the step is retried, as in Marquardt (1963). The library
 * keeps the better of start and trial, so `parameterValues` tells us which happened.
 */
export interface LeastSquaresProblem {
  /** Observations y, already weighted (divided by their σ). */
  observed: Float64Array;
  /** Model f(θ), weighted like `observed`; NaN where it cannot be evaluated. Must not keep θ. */
  model: (theta: readonly number[]) => Float64Array;
  initial: readonly number[];
  lower: readonly number[];
  upper: readonly number[];
  /** Forward-difference step for the Jacobian, per parameter (θ should be scaled to order 1). */
  differenceStep: readonly number[];
}

export interface LeastSquaresOptions {
  /** Accepted steps at most. @default 100 */
  maxIterations?: number;
  /** Stop when an accepted step lowers the SSR by less than this fraction. @default 1e-10 */
  ftol?: number;
  /** Stop when an accepted step moves no parameter by more than this (scaled units). @default 1e-10 */
  xtol?: number;
  /** Called with the SSR at the start (iteration 0) and after each accepted step. */
  onProgress?: (iteration: number, ssr: number) => void;
}

export type StopReason =
  'exact-fit' | 'ssr-converged' | 'step-converged' | 'no-improvement' | 'max-iterations';

export interface LeastSquaresResult {
  theta: number[];
  ssr: number;
  initialSsr: number;
  /** Accepted steps. */
  iterations: number;
  /** Distinct parameter vectors the model was evaluated at. */
  evaluations: number;
  converged: boolean;
  stopReason: StopReason;
}

const INITIAL_DAMPING = 1e-3;
const DAMPING_DOWN = 9;
const DAMPING_UP = 11;
/** Past this damping the step is pure, tiny gradient descent: we are at a minimum to the model's precision. */
const MAX_DAMPING = 1e10;

export function leastSquares(
  problem: LeastSquaresProblem,
  options: LeastSquaresOptions = {},
): LeastSquaresResult {
  const m = problem.observed.length;
  const p = problem.initial.length;
  if (m < 2 || m <= p) {
    throw new CalibrationError(
      'TOO_FEW_MEASUREMENTS',
      `${m} measurements cannot determine ${p} parameters; at least ${Math.max(2, p + 1)} are needed`,
    );
  }
  const model = new CachedModel(problem.model, 4 * p + 8);
  const theta = [...problem.initial];
  const initialSsr = sumOfSquares(problem.observed, model.evaluate(theta));
  if (!Number.isFinite(initialSsr)) {
    throw new CalibrationError(
      'MODEL_FAILED',
      'the twin cannot be solved at the initial parameter values (check them, and the experiment conditions)',
    );
  }
  options.onProgress?.(0, initialSsr);
  const run = marquardtIterations(problem, model, theta, initialSsr, options);
  return {
    theta: run.theta,
    ssr: run.ssr,
    initialSsr,
    iterations: run.iterations,
    evaluations: model.evaluations,
    converged: run.stopReason !== 'max-iterations',
    stopReason: run.stopReason,
  };
}

/**
 * The model with its last few evaluations kept: the library asks for f(θ) once per data point,
 * so each θ is evaluated once (a whole twin solve), and the trial point and the Jacobian
 * columns come back on a retry.
 */
class CachedModel {
  /** Distinct parameter vectors evaluated. */
  evaluations = 0;
  private readonly cache = new Map<string, Float64Array>();

  constructor(
    private readonly model: (theta: readonly number[]) => Float64Array,
    private readonly size: number,
  ) {}

  evaluate(theta: readonly number[]): Float64Array {
    const key = theta.join(',');
    let values = this.cache.get(key);
    if (!values) {
      values = this.model(theta);
      this.evaluations++;
      this.cache.set(key, values);
      if (this.cache.size > this.size) this.cache.delete(this.cache.keys().next().value as string);
    }
    return values;
  }
}

function sumOfSquares(observed: Float64Array, f: Float64Array): number {
  let ssr = 0;
  for (let i = 0; i < observed.length; i++) ssr += (observed[i]! - f[i]!) ** 2;
  return ssr;
}

/**
 * Marquardt's outer loop from θ with its SSR: one damped step of the library at a time,
 * accepted (λ shrinks) when it lowers the SSR, else retried with a larger λ; stops on an exact
 * fit, a converged SSR or step, a damping past MAX_DAMPING, or the iteration budget.
 */
function marquardtIterations(
  problem: LeastSquaresProblem,
  model: CachedModel,
  start: number[],
  startSsr: number,
  options: LeastSquaresOptions,
): { theta: number[]; ssr: number; iterations: number; stopReason: StopReason } {
  const maxIterations = options.maxIterations ?? 100;
  const ftol = options.ftol ?? 1e-10;
  const xtol = options.xtol ?? 1e-10;
  const m = problem.observed.length;
  const data = { x: Array.from({ length: m }, (_, i) => i), y: Array.from(problem.observed) };
  const parameterized = (theta: number[]) => {
    const f = model.evaluate(theta);
    return (i: number) => f[i]!;
  };
  let theta = start;
  let ssr = startSsr;
  let damping = INITIAL_DAMPING;
  let iterations = 0;
  let stopReason: StopReason = 'max-iterations';
  // Rejected trials cost one evaluation each; bound them too, so a pathological model cannot spin.
  let trials = 0;
  while (iterations < maxIterations && trials < 20 * maxIterations) {
    if (ssr <= 1e-28 * m) {
      stopReason = 'exact-fit';
      break;
    }
    trials++;
    const step = dampedStep(problem, data, parameterized, theta, damping);
    if (step.parameterError < ssr) {
      iterations++;
      const moved = Math.max(...step.parameterValues.map((v, k) => Math.abs(v - theta[k]!)));
      const scale = Math.max(1, ...theta.map(Math.abs));
      const decrease = (ssr - step.parameterError) / ssr;
      theta = step.parameterValues;
      ssr = step.parameterError;
      damping = Math.max(damping / DAMPING_DOWN, 1e-12);
      options.onProgress?.(iterations, ssr);
      if (decrease < ftol) {
        stopReason = 'ssr-converged';
        break;
      }
      if (moved < xtol * scale) {
        stopReason = 'step-converged';
        break;
      }
    } else {
      damping *= DAMPING_UP;
      if (damping > MAX_DAMPING) {
        stopReason = 'no-improvement';
        break;
      }
    }
  }
  return { theta, ssr, iterations, stopReason };
}

/** One damped Gauss–Newton step of the library at damping λ; it keeps the better of θ and the trial. */
function dampedStep(
  problem: LeastSquaresProblem,
  data: { x: number[]; y: number[] },
  parameterized: (theta: number[]) => (i: number) => number,
  theta: readonly number[],
  damping: number,
): { parameterValues: number[]; parameterError: number } {
  return levenbergMarquardt(data, parameterized, {
    // The library writes into this array: pass a copy.
    initialValues: [...theta],
    damping,
    maxIterations: 1,
    errorTolerance: 0,
    gradientDifference: [...problem.differenceStep],
    minValues: [...problem.lower],
    maxValues: [...problem.upper],
  });
}
