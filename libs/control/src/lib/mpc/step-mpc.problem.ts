import { Matrix } from 'ml-matrix';
import type { BoxQp, SoftConstraint } from './box-qp';

/**
 * The step's models linearised at the applied setpoints u_a, in units of each input's largest
 * move (δ = (u − u_a) / maxMove): what one cycle's optimisation is built from.
 */
export interface LocalModel {
  /** Economic rate at u_a's steady state, in nominal economic rates. */
  economic: number;
  /** Its gradient, and its curvature (diagonal, ≤ 0: concave, the move penalty does the rest). */
  gradient: Float64Array;
  curvature: Float64Array;
  /** True conversion at u_a's steady state, and its gradient. */
  conversion: number;
  conversionGradient: Float64Array;
  /** Room to each process limit at u_a (limit − margin − prediction; ≥ 0 is safe), and gradients. */
  limits: { room: number; gradient: Float64Array }[];
}

/** How the horizon is laid out and weighed. */
export interface HorizonLayout {
  /** Per horizon sample k = 1..Np and then the steady state: effective δ with no further move. */
  free: Float64Array[];
  /** Per sample: response of input i at that sample to a move started at block j, [j][i]. */
  response: Float64Array[][];
  /** Weight of each sample in the objective (the last: the steady state after the horizon). */
  weights: number[];
  /** Box of every move variable (block-major: z[j·n + i]), in max moves. */
  lower: Float64Array;
  upper: Float64Array;
  /** Room of each input to its range at u_a, in max moves: below ≥ 0 ≥ ... [low, high]. */
  range: { low: number; high: number }[];
}

export interface ProblemWeights {
  /** Penalty of a move, nominal economic rates × cycles per (max move)². */
  move: number;
  /** Conversion floor, and the penalty of a shortfall, per conversion² per sample. */
  floor: number;
  conversion: number;
  /** Penalty per (unit of a limit's quantity)² past it, and per (max move)² past a range, per level. */
  limit: number;
  range: number;
}

/**
 * The cycle's QP in the blocked moves z (z[j·n + i]: the move of input i at block j, in max
 * moves): maximise the economic rate over the horizon and its steady state, less the moves'
 * penalty, with the conversion floor on every sample and the process limits and ranges on every
 * block's level as soft constraints (the first move's range and every move's size are hard).
 */
export function buildMpcProblem(
  local: LocalModel,
  layout: HorizonLayout,
  weights: ProblemWeights,
): BoxQp {
  const n = local.gradient.length;
  const blocks = layout.lower.length / n;
  const size = n * blocks;
  const hessian = Matrix.eye(size).mul(2 * weights.move);
  const linear = new Float64Array(size);
  const soft: SoftConstraint[] = [];
  layout.free.forEach((d, k) => {
    const w = layout.weights[k]!;
    const s = layout.response[k]!;
    const conversionRow = new Float64Array(size);
    let conversionFree = local.conversion;
    for (let i = 0; i < n; i++) conversionFree += local.conversionGradient[i]! * d[i]!;
    for (let j = 0; j < blocks; j++) {
      for (let i = 0; i < n; i++) {
        const a = j * n + i;
        const sa = s[j]![i]!;
        // −w·(gᵀδ + ½ Σ c_i δ_i²) with δ = d + S z: its linear and quadratic parts in z.
        linear[a]! -= w * sa * (local.gradient[i]! + local.curvature[i]! * d[i]!);
        for (let jj = 0; jj < blocks; jj++) {
          const b = jj * n + i;
          hessian.set(a, b, hessian.get(a, b) - w * local.curvature[i]! * sa * s[jj]![i]!);
        }
        conversionRow[a] = -local.conversionGradient[i]! * sa;
      }
    }
    soft.push({ a: conversionRow, b: conversionFree - weights.floor, weight: weights.conversion });
  });
  soft.push(...levelConstraints(local, layout, weights, blocks));
  return { hessian, linear, lower: layout.lower, upper: layout.upper, soft };
}

/** Limits and ranges on the setpoints held after each block: u_a + the moves so far. */
function levelConstraints(
  local: LocalModel,
  layout: HorizonLayout,
  weights: ProblemWeights,
  blocks: number,
): SoftConstraint[] {
  const n = local.gradient.length;
  const soft: SoftConstraint[] = [];
  for (let j = 0; j < blocks; j++) {
    const level = (coefficients: ArrayLike<number>) => {
      const a = new Float64Array(n * blocks);
      for (let jj = 0; jj <= j; jj++) for (let i = 0; i < n; i++) a[jj * n + i] = coefficients[i]!;
      return a;
    };
    for (const limit of local.limits) {
      soft.push({ a: level(limit.gradient), b: limit.room, weight: weights.limit });
    }
    // The first block's range is a hard bound of the box already.
    if (j === 0) continue;
    layout.range.forEach((range, i) => {
      const unit = Float64Array.from({ length: n }, (_, ii) => (ii === i ? 1 : 0));
      soft.push({ a: level(unit), b: range.high, weight: weights.range });
      soft.push({ a: level(unit.map((v) => -v)), b: -range.low, weight: weights.range });
    });
  }
  return soft;
}
