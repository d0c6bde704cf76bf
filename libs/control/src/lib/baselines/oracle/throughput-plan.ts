import { ControlError } from '../../control.error';
import type { StepOperatingPoint } from './step-optimum';

/** A linear program solver: CPLEX LP text in, primal values by column name out. */
export interface LpSolver {
  solve(lp: string): { status: string; objective: number; columns: Record<string, number> };
}

/** One step's best operating points at a few throughputs (layer 1), the LP's breakpoints. */
export interface StepCurve {
  /** At increasing key throughput; at least one. */
  points: readonly StepOperatingPoint[];
  /** g of final product per mol of the step's product made. */
  productPrice: number;
  /** g of final product per mol of key reactant drawn (charged for tank draws, and for fresh feed past the budget). */
  keyPrice: number;
  /** Fresh key reactant the throughput target still allows per second over the horizon, mol/s; undefined for a step fed from a tank. */
  freshBudgetRate: number | undefined;
  /**
   * g of final product per mol of fresh key fed past the budget. The evaluation charges it at
   * the key's price or at what the run made of its key where that is more, so feed past the
   * target never pays. @default keyPrice
   */
  overBudgetPrice?: number;
  /** Index of the tank the step fills (-1: product collection). */
  outletTank: number;
}

export interface TankBand {
  /** L now. */
  level: number;
  /** L the plan keeps the level within at the end of the horizon (and so all along it: rates are constant). */
  low: number;
  high: number;
}

export interface ThroughputPlan {
  /** Per step: the fraction of each breakpoint the plan runs (they sum to 1). */
  weights: number[][];
  /**
   * g of final product (equivalent) the plan earns over the horizon: what the evaluation's
   * score would add if the plant followed it at steady state.
   */
  value: number;
}

/**
 * Layer 2 of the oracle: the key throughput of every step over the rest of the run, as one
 * linear program. Each step's value rate is concave piecewise linear in its throughput between
 * layer 1's breakpoints (its product at the product's price, less the key reactant drawn at the
 * key's price; a fresh-fed step pays only for feed past the throughput target's budget), and
 * each surge tank must end the horizon inside its band. Maximising the summed value rate over
 * the horizon is the evaluation's score, term for term (`RunLedger`): product, inventory change
 * at the same prices, feed past the target.
 */
export function planThroughputs(
  curves: readonly StepCurve[],
  tanks: readonly TankBand[],
  horizon: number,
  lp: LpSolver,
): ThroughputPlan {
  const name = (s: number, i: number) => `l_${s}_${i}`;
  const objective: string[] = [];
  const rows: string[] = [];
  curves.forEach((curve, s) => {
    const convexity = curve.points.map((_, i) => name(s, i));
    rows.push(`c${s}: ${convexity.join(' + ')} = 1`);
    curve.points.forEach((point, i) => {
      const value =
        curve.productPrice * point.product -
        (curve.freshBudgetRate === undefined ? curve.keyPrice * point.keyReactant : 0);
      objective.push(term(value * horizon, name(s, i)));
    });
    if (curve.freshBudgetRate !== undefined) {
      // e_s ≥ key fed − budget: fresh feed past the target, charged at the key's price.
      objective.push(term(-(curve.overBudgetPrice ?? curve.keyPrice) * horizon, `e_${s}`));
      const fed = curve.points.map((p, i) => term(p.keyReactant, name(s, i)));
      rows.push(`f${s}: ${fed.join(' ')} - e_${s} <= ${num(curve.freshBudgetRate)}`);
    }
  });
  tanks.forEach((tank, j) => {
    const flows: string[] = [];
    curves.forEach((curve, s) =>
      curve.points.forEach((p, i) => {
        const rate = (curve.outletTank === j ? p.outflow : 0) - (p.draws[j] ?? 0);
        if (rate !== 0) flows.push(term(rate * horizon, name(s, i)));
      }),
    );
    if (flows.length === 0) return;
    // Soft, at a price no product can pay (1e6 g per L): a tank already outside its band
    // (or a plan the pumps cannot make) gets back into it as fast as the steps allow.
    const row = flows.join(' ');
    objective.push(`- 1e6 lo_${j} - 1e6 hi_${j}`);
    rows.push(`tl${j}: ${row} + lo_${j} >= ${num(tank.low - tank.level)}`);
    rows.push(`th${j}: ${row} - hi_${j} <= ${num(tank.high - tank.level)}`);
  });
  const text = [
    'Maximize',
    ` obj: ${objective.join(' ')}`,
    'Subject To',
    ...rows.map((r) => ` ${r}`),
    'End',
  ].join('\n');
  const result = lp.solve(text);
  if (result.status !== 'Optimal')
    throw new ControlError('PLAN_FAILED', `throughput plan: ${result.status}`);
  return {
    weights: curves.map((curve, s) =>
      curve.points.map((_, i) => Math.max(0, result.columns[name(s, i)] ?? 0)),
    ),
    value: result.objective,
  };
}

/** A signed LP term; coefficients written with full precision. */
function term(coefficient: number, variable: string): string {
  return `${coefficient < 0 ? '-' : '+'} ${num(Math.abs(coefficient))} ${variable}`;
}

function num(x: number): string {
  if (!Number.isFinite(x)) throw new ControlError('PLAN_FAILED', `not a number in the plan: ${x}`);
  return x.toPrecision(15);
}
