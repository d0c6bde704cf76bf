import { Matrix, solve } from 'ml-matrix';

/** A one-sided quadratic penalty `weight · max(0, a·z − b)²`: a soft constraint a·z ≤ b. */
export interface SoftConstraint {
  a: Float64Array;
  b: number;
  weight: number;
}

/**
 * minimise ½ zᵀHz + cᵀz + Σ soft penalties, subject to lower ≤ z ≤ upper.
 * H must be positive definite (the MPC's move penalty makes it so).
 */
export interface BoxQp {
  hessian: Matrix;
  linear: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  soft: SoftConstraint[];
}

export interface BoxQpResult {
  z: Float64Array;
  value: number;
  iterations: number;
  /** ‖P(z − ∇f) − z‖∞ at the end: 0 at the optimum. */
  residual: number;
}

/**
 * Projected Newton (Bertsekas 1982) for a convex, piecewise-quadratic objective on a box: at each
 * iterate, the penalties that are active and the bounds that hold the gradient fix the quadratic
 * piece; a Newton step on the free variables, projected onto the box, with a backtracking line
 * search. On the MPC's 6–12 variables it ends in 3–8 iterations (a piece is exact once its
 * active set settles), well under a millisecond, so no QP library is needed.
 */
export function solveBoxQp(
  problem: BoxQp,
  start?: ArrayLike<number>,
  maxIterations = 50,
): BoxQpResult {
  const n = problem.linear.length;
  const z = Float64Array.from({ length: n }, (_, i) =>
    clamp(start?.[i] ?? 0, problem.lower[i]!, problem.upper[i]!),
  );
  let value = objective(problem, z);
  let residual = Number.POSITIVE_INFINITY;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const { gradient, hessian } = piece(problem, z);
    residual = projectedResidual(problem, z, gradient);
    if (residual < 1e-9) break;
    const direction = newtonDirection(problem, z, gradient, hessian);
    let step = 1;
    let accepted = false;
    for (let k = 0; k < 30 && !accepted; k++, step /= 2) {
      const trial = z.map((v, i) =>
        clamp(v + step * direction[i]!, problem.lower[i]!, problem.upper[i]!),
      );
      const trialValue = objective(problem, trial);
      if (trialValue <= value - 1e-12 * Math.abs(value) || trialValue < value) {
        z.set(trial);
        value = trialValue;
        accepted = true;
      }
    }
    if (!accepted) break;
  }
  return { z, value, iterations, residual };
}

function objective(problem: BoxQp, z: Float64Array): number {
  const hz = problem.hessian.mmul(Matrix.columnVector(Array.from(z)));
  let value = 0;
  for (let i = 0; i < z.length; i++) value += z[i]! * (0.5 * hz.get(i, 0) + problem.linear[i]!);
  for (const soft of problem.soft) {
    const excess = dot(soft.a, z) - soft.b;
    if (excess > 0) value += soft.weight * excess * excess;
  }
  return value;
}

/** Gradient and Hessian of the quadratic piece that holds at z. */
function piece(problem: BoxQp, z: Float64Array): { gradient: Float64Array; hessian: Matrix } {
  const hessian = problem.hessian.clone();
  const hz = problem.hessian.mmul(Matrix.columnVector(Array.from(z)));
  const gradient = Float64Array.from(problem.linear, (c, i) => c + hz.get(i, 0));
  for (const soft of problem.soft) {
    const excess = dot(soft.a, z) - soft.b;
    if (excess < 0) continue;
    for (let i = 0; i < z.length; i++) {
      gradient[i]! += 2 * soft.weight * excess * soft.a[i]!;
      for (let j = 0; j < z.length; j++)
        hessian.set(i, j, hessian.get(i, j) + 2 * soft.weight * soft.a[i]! * soft.a[j]!);
    }
  }
  return { gradient, hessian };
}

/** Newton step on the variables not held at a bound by their gradient; 0 on the others. */
function newtonDirection(
  problem: BoxQp,
  z: Float64Array,
  gradient: Float64Array,
  hessian: Matrix,
): Float64Array {
  const free: number[] = [];
  for (let i = 0; i < z.length; i++) {
    const atLower = z[i]! <= problem.lower[i]! + 1e-12 && gradient[i]! > 0;
    const atUpper = z[i]! >= problem.upper[i]! - 1e-12 && gradient[i]! < 0;
    if (!atLower && !atUpper) free.push(i);
  }
  const direction = new Float64Array(z.length);
  if (free.length === 0) return direction;
  const h = new Matrix(free.length, free.length);
  free.forEach((i, a) => free.forEach((j, b) => h.set(a, b, hessian.get(i, j))));
  const step = solve(h, Matrix.columnVector(free.map((i) => -gradient[i]!)));
  free.forEach((i, a) => (direction[i] = step.get(a, 0)));
  return direction;
}

function projectedResidual(problem: BoxQp, z: Float64Array, gradient: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < z.length; i++) {
    const projected = clamp(z[i]! - gradient[i]!, problem.lower[i]!, problem.upper[i]!);
    worst = Math.max(worst, Math.abs(projected - z[i]!));
  }
  return worst;
}

function dot(a: Float64Array, z: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * z[i]!;
  return sum;
}

function clamp(x: number, low: number, high: number): number {
  return x < low ? low : x > high ? high : x;
}
