import { kelvinToCelsius, type Recipe } from '@pipac/recipe';
import type {
  CalibrationFit,
  CalibrationPoint,
  FittedParameter,
  QuantityFit,
} from './calibration.types';
import { quantityUnit, type QuantityKey } from './experiment.types';
import { describeNoise, type SigmaOption } from './noise-model';
import type { ParameterRef } from './parameters';

/** Above this |correlation| a warning explains what it means. */
const STRONG_CORRELATION = 0.95;

/** 1 − SS_res/SS_tot; NaN with fewer than two points or no spread. */
export function rSquared(points: readonly { measured: number; predicted: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const mean = points.reduce((sum, p) => sum + p.measured, 0) / points.length;
  let residual = 0;
  let total = 0;
  for (const p of points) {
    residual += (p.measured - p.predicted) ** 2;
    total += (p.measured - mean) ** 2;
  }
  return total > 0 ? 1 - residual / total : Number.NaN;
}

/** Count, RMSE (in the quantity's unit), R² and weighting of each measured quantity. */
export function quantityFits(
  points: readonly CalibrationPoint[],
  sigma: SigmaOption | undefined,
): QuantityFit[] {
  const quantities = [...new Set(points.map((p) => p.quantity))];
  return quantities.map((quantity: QuantityKey) => {
    const own = points.filter((p) => p.quantity === quantity);
    return {
      quantity,
      unit: quantityUnit(quantity),
      count: own.length,
      rmse: Math.sqrt(
        own.reduce((sum, p) => sum + (p.measured - p.predicted) ** 2, 0) / own.length,
      ),
      rSquared: rSquared(own),
      weighting: describeNoise(sigma, quantity),
    };
  });
}

export interface WarningContext {
  recipe: Recipe;
  refs: readonly ParameterRef[];
  parameters: readonly FittedParameter[];
  correlation: readonly number[][];
  fit: CalibrationFit;
  /** Reaction id → centring temperature, K. */
  centring: ReadonlyMap<string, number>;
  /** Whether σ was stated (then s² is a reduced χ² and can be tested). */
  explicitSigma: boolean;
}

/** Things a reviewer should know about a fit, in words: non-convergence, strong correlation, bounds, misfit. */
export function calibrationWarnings({
  recipe,
  refs,
  parameters,
  correlation,
  fit,
  centring,
  explicitSigma,
}: WarningContext): string[] {
  const out: string[] = [];
  if (!fit.converged) {
    out.push(
      `the fit stopped after ${fit.iterations} iterations without converging: the values may not be the optimum (allow more iterations)`,
    );
  }
  for (let i = 0; i < refs.length; i++) {
    for (let j = i + 1; j < refs.length; j++) {
      const rho = correlation[i]?.[j] ?? 0;
      if (Math.abs(rho) < STRONG_CORRELATION) continue;
      const a = refs[i]!;
      const b = refs[j]!;
      let advice =
        'each interval alone overstates how well the pair is known; their joint uncertainty is in the covariance';
      if (
        a.reaction === b.reaction &&
        new Set([a.kind, b.kind]).size === 2 &&
        [a.kind, b.kind].every((k) => k === 'k' || k === 'activationEnergy')
      ) {
        const reaction = recipe.reactions.find((r) => r.id === a.reaction);
        const centre = kelvinToCelsius(centring.get(a.reaction) ?? 298.15);
        advice =
          `k is given at ${reaction?.rateLaw.k.referenceTemperature ?? '?'} °C, far from the experiments (centre ${centre.toFixed(0)} °C); ` +
          `a referenceTemperature near ${centre.toFixed(0)} °C would decorrelate them`;
      }
      out.push(
        `${a.path} and ${b.path} are strongly correlated (ρ = ${rho.toFixed(3)}): ${advice}`,
      );
    }
  }
  parameters.forEach((parameter) => {
    const atZero = parameter.kind !== 'k' && parameter.value <= 1e-9;
    if (atZero)
      out.push(`${parameter.path} ended at its lower bound 0: its interval is not reliable`);
  });
  if (
    explicitSigma &&
    fit.residualVariance > chiSquareQuantile99(fit.degreesOfFreedom) / fit.degreesOfFreedom
  ) {
    out.push(
      `the residuals are larger than the stated σ (reduced χ² = ${fit.residualVariance.toPrecision(3)}): ` +
        'the model misses something, or the measurements are noisier than stated; the intervals use the observed scatter',
    );
  }
  return out;
}

/** 99% quantile of χ² with n degrees of freedom, Wilson–Hilferty approximation (good to ~1% for n ≥ 3). */
function chiSquareQuantile99(n: number): number {
  const z = 2.3263;
  const a = 2 / (9 * n);
  return n * (1 - a + z * Math.sqrt(a)) ** 3;
}
