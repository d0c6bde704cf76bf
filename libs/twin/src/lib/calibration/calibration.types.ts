import type { Recipe } from '@pipac/recipe';
import type { SolverOptions } from '../steady/steady-state.types';
import type { QuantityKey } from './experiment.types';
import type { StopReason } from './least-squares';
import type { SigmaOption } from './noise-model';
import type { ParameterKind } from './parameters';

export interface CalibrationOptions {
  /** Parameter paths to fit (see parameters.ts), e.g. `reactions.nitration.k`. */
  parameters: readonly string[];
  /** Starting values by path, in recipe units. @default the recipe's values */
  initial?: Record<string, number>;
  /** Step for experiments that name none. @default the recipe's only step */
  step?: string;
  /**
   * Measurement noise per quantity, which weights the residuals (each is divided by its σ).
   * @default relative weighting: σ = the measured value, floored at 1% of the quantity's largest value
   */
  sigma?: SigmaOption;
  /** Two-sided confidence level of the intervals. @default 0.95 */
  confidenceLevel?: number;
  /** Accepted Levenberg–Marquardt steps at most. @default 100 */
  maxIterations?: number;
  /** Steady-state solver tolerances during the fit. @default { rtol: 1e-9, atol: 1e-12 } */
  solver?: SolverOptions;
  /** Progress: the weighted SSR at the start (iteration 0) and after each accepted step. */
  onProgress?: (iteration: number, ssr: number) => void;
}

export interface FittedParameter {
  path: string;
  reaction: string;
  kind: ParameterKind;
  species?: string;
  /** Recipe unit; for k it names the reference temperature. */
  unit: string;
  initial: number;
  value: number;
  /** For k, by the delta method from the standard error of ln k (k · se(ln k)). */
  standardError: number;
  /** Lower and upper bound at the confidence level. */
  confidenceInterval: [number, number];
  /**
   * 'log': the interval was computed for ln k (symmetric there) and transformed back, so it
   * is asymmetric around the value and never reaches zero. 'linear': value ± t·se.
   */
  intervalScale: 'log' | 'linear';
}

export interface QuantityFit {
  quantity: QuantityKey;
  /** mol/L or '-' */
  unit: string;
  count: number;
  /** Root-mean-square of measured − predicted, in the quantity's unit. */
  rmse: number;
  /** 1 − SS_res/SS_tot over this quantity's measurements (NaN with fewer than two or no spread). */
  rSquared: number;
  /** How its residuals were weighted, in words. */
  weighting: string;
}

export interface CalibrationFit {
  /** m: measured values used. */
  measurements: number;
  experiments: number;
  /** p */
  parameters: number;
  /** m − p */
  degreesOfFreedom: number;
  /** Weighted sum of squared residuals at the optimum, Σ ((y − ŷ)/σ)². */
  ssr: number;
  initialSsr: number;
  /** s² = SSR / (m − p): the reduced χ² when σ is the true noise, else the squared residual scale. */
  residualVariance: number;
  /** s; with the default relative weighting, the typical relative error of a measurement. */
  residualStandardError: number;
  /** √(SSR / m), weighted. */
  rmse: number;
  /** 1 − SS_res/SS_tot over all points of the parity plot, each in its own unit. */
  rSquared: number;
  byQuantity: QuantityFit[];
  /** Student t quantile used for the intervals. */
  tQuantile: number;
  iterations: number;
  /** Distinct parameter vectors the twin was solved for (each: one compile, one solve per experiment). */
  evaluations: number;
  converged: boolean;
  stopReason: StopReason;
}

/** One measured value and its prediction at the fitted parameters (a point of the parity plot). */
export interface CalibrationPoint {
  experiment: string;
  row: number;
  step: string;
  quantity: QuantityKey;
  measured: number;
  predicted: number;
  sigma: number;
  /** (measured − predicted) / σ */
  weightedResidual: number;
}

export interface CalibrationResult {
  /** The recipe with the fitted values and an updated provenance on each calibrated reaction. */
  recipe: Recipe;
  parameters: FittedParameter[];
  /**
   * Covariance of the fitted coordinates: ln k for rate constants, kJ/mol for activation
   * energies, the order itself for orders (rows and columns in `parameters` order).
   */
  covariance: number[][];
  /** Correlation of the same coordinates. */
  correlation: number[][];
  confidenceLevel: number;
  fit: CalibrationFit;
  points: CalibrationPoint[];
  /** Things a reviewer should know: non-convergence, strong correlation, a parameter at a bound. */
  warnings: string[];
  /** Where the experiments came from, for provenance. */
  experimentsSource?: string;
}
