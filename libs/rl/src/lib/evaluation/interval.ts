/** Mean of a sample with the half-width of its two-sided 95 % confidence interval. */
export interface MeanInterval {
  mean: number;
  /** Student t over the sample (n − 1 degrees of freedom) × s / √n; NaN for fewer than two values. */
  halfWidth: number;
  n: number;
}

/** t(0.975, df) for df = 1..30. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** The 97.5 % quantile of Student's t: the table to 30 degrees of freedom, then Cornish–Fisher. */
export function studentT975(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  const tabled = T_975[Math.floor(df) - 1];
  if (tabled !== undefined) return tabled;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean and 95 % interval (Student t) of the values, e.g. one per seed. */
export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, halfWidth: Number.NaN, n };
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n < 2) return { mean, halfWidth: Number.NaN, n };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: studentT975(n - 1) * Math.sqrt(variance / n), n };
}
