import { Matrix, SingularValueDecomposition, inverse } from 'ml-matrix';
import { CalibrationError } from './calibration.error';

export interface ParameterStatistics {
  covariance: number[][];
  correlation: number[][];
  standardErrors: number[];
}

/** Fisher matrices with a larger condition number (after scaling to unit diagonal) are treated as singular. */
const MAX_CONDITION = 1e12;

/**
 * Asymptotic covariance of least-squares estimates, s²(JᵀJ)⁻¹ (Bates & Watts, Nonlinear
 * Regression Analysis, 1988, §2.3), from the Jacobian of the weighted residuals at the optimum.
 * JᵀJ is scaled to unit diagonal before inversion so the check for singularity does not depend
 * on the parameters' units. Throws CalibrationError('NOT_IDENTIFIABLE') naming the parameter
 * that affects nothing, or the most collinear pair.
 *
 * @param jacobian m × p, ∂(weighted prediction)/∂u
 * @param names the parameters' paths, for messages
 */
export function parameterStatistics(
  jacobian: Matrix,
  residualVariance: number,
  names: readonly string[],
): ParameterStatistics {
  const p = jacobian.columns;
  const fisher = jacobian.transpose().mmul(jacobian);
  const scale = Array.from({ length: p }, (_, j) => Math.sqrt(fisher.get(j, j)));
  scale.forEach((s, j) => {
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new CalibrationError(
        'NOT_IDENTIFIABLE',
        `${names[j]} does not affect any measured value at the fitted point, so the experiments cannot determine it ` +
          '(is its reaction fast enough to finish, or slow enough to do nothing, in every experiment?)',
        [{ column: names[j] ?? '', message: 'zero sensitivity' }],
      );
    }
  });
  const scaled = new Matrix(p, p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) scaled.set(i, j, fisher.get(i, j) / (scale[i]! * scale[j]!));
  const condition = p > 1 ? new SingularValueDecomposition(scaled).condition : 1;
  if (!(condition < MAX_CONDITION)) {
    let worst = [0, 1];
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++)
        if (Math.abs(scaled.get(i, j)) > Math.abs(scaled.get(worst[0]!, worst[1]!))) worst = [i, j];
    }
    const pair = `${names[worst[0]!]} and ${names[worst[1]!]}`;
    throw new CalibrationError(
      'NOT_IDENTIFIABLE',
      `${pair} have collinear effects in these experiments (condition number ${condition.toExponential(1)}): ` +
        'vary the conditions that separate them (temperature for k and activation energy, concentrations for orders), or fit fewer parameters',
      [{ column: pair, message: 'collinear' }],
    );
  }
  const scaledInverse = inverse(scaled);
  const covariance: number[][] = [];
  for (let i = 0; i < p; i++) {
    const row: number[] = [];
    // Averaged with the transpose: LU inversion leaves asymmetries of a few ulps.
    for (let j = 0; j < p; j++) {
      const symmetric = (scaledInverse.get(i, j) + scaledInverse.get(j, i)) / 2;
      row.push((residualVariance * symmetric) / (scale[i]! * scale[j]!));
    }
    covariance.push(row);
  }
  const standardErrors = covariance.map((row, i) => Math.sqrt(row[i]!));
  const correlation = covariance.map((row, i) =>
    row.map((c, j) => (i === j ? 1 : c / (standardErrors[i]! * standardErrors[j]!))),
  );
  return { covariance, correlation, standardErrors };
}
