import { CalibrationError } from './calibration.error';
import { isQuantityKey, quantityUnit, type QuantityKey } from './experiment.types';

/**
 * Measurement noise: standard deviation σ = √((relative·|y|)² + absolute²), with y the value
 * (mol/L or fraction). Used both to add noise to synthetic data and to weight residuals in a
 * fit, where only the ratios between the σ of different measurements matter for the estimates.
 */
export interface NoiseModel {
  /** Standard deviation relative to the value. @default 0 */
  relative?: number;
  /** Standard deviation in the quantity's unit. @default 0 */
  absolute?: number;
}

/** Noise per measured quantity; `*` covers the quantities not listed. */
export type SigmaOption = Partial<Record<QuantityKey | '*', NoiseModel>>;

/**
 * Floor of the default weighting, as a fraction of the largest |value| of the quantity: keeps a
 * reading near zero (a reactant at full conversion) from getting an unbounded weight.
 */
export const DEFAULT_SIGMA_FLOOR = 0.01;

export function noiseSigma(model: NoiseModel, value: number): number {
  return Math.hypot((model.relative ?? 0) * value, model.absolute ?? 0);
}

/**
 * Parses `2%` (relative), `0.005` (absolute, the quantity's unit) or `2%+0.005` (both).
 * Throws CalibrationError('OPTIONS_INVALID') naming `label`.
 */
export function parseNoiseModel(text: string, label = 'sigma'): NoiseModel {
  const model: NoiseModel = {};
  const parts = text.split('+').map((s) => s.trim());
  for (const part of parts) {
    const relative = part.endsWith('%');
    const number = Number(relative ? part.slice(0, -1) : part);
    if (part === '' || !Number.isFinite(number) || number < 0) {
      throw new CalibrationError(
        'OPTIONS_INVALID',
        `${label}: "${text}" must be a relative (2%), absolute (0.005) or combined (2%+0.005) standard deviation`,
        [{ column: label, message: `"${part}" is not a non-negative number or percentage` }],
      );
    }
    if (relative) model.relative = number / 100;
    else model.absolute = number;
  }
  return model;
}

/**
 * Parses a sigma option: `2%` for every quantity, or a list `c:b=0.005,conversion=1%` with an
 * optional bare entry for the rest (`c:b=0.005,2%`).
 */
export function parseSigmaOption(text: string, label = 'sigma'): SigmaOption {
  const sigma: SigmaOption = {};
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '*' : entry.slice(0, eq).trim();
    if (key !== '*' && !isQuantityKey(key)) {
      throw new CalibrationError(
        'OPTIONS_INVALID',
        `${label}: "${key}" is not a measured quantity (c:<species> or conversion)`,
        [{ column: label, message: `unknown quantity "${key}"` }],
      );
    }
    sigma[key] = parseNoiseModel(eq < 0 ? entry : entry.slice(eq + 1), `${label} ${key}`);
  }
  return sigma;
}

/** Describes the weighting of a quantity for reports: `2% + 0.005 mol/L`, or the default. */
export function describeNoise(sigma: SigmaOption | undefined, quantity: QuantityKey): string {
  const model = sigma?.[quantity] ?? sigma?.['*'];
  if (!model) return `relative to the value (floor ${DEFAULT_SIGMA_FLOOR * 100}% of the largest)`;
  const unit = quantityUnit(quantity) === '-' ? '' : ` ${quantityUnit(quantity)}`;
  const parts = [
    ...(model.relative ? [`${model.relative * 100}%`] : []),
    ...(model.absolute ? [`${model.absolute}${unit}`] : []),
  ];
  return parts.length > 0 ? parts.join(' + ') : '0';
}

/**
 * σ of each measurement. With no model for a quantity, the default is relative weighting,
 * σ = √(y² + (floor·max|y|)²): every quantity then counts by its relative error, whatever its unit.
 */
export function measurementSigmas(
  points: readonly { quantity: QuantityKey; measured: number }[],
  sigma: SigmaOption = {},
): Float64Array {
  const largest = new Map<QuantityKey, number>();
  for (const p of points)
    largest.set(p.quantity, Math.max(largest.get(p.quantity) ?? 0, Math.abs(p.measured)));
  return Float64Array.from(points, (p) => {
    const model = sigma[p.quantity] ??
      sigma['*'] ?? { relative: 1, absolute: DEFAULT_SIGMA_FLOOR * (largest.get(p.quantity) ?? 0) };
    const s = noiseSigma(model, p.measured);
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new CalibrationError(
        'OPTIONS_INVALID',
        `σ of ${p.quantity} is ${s} for a measured value of ${p.measured}: give it an absolute part (e.g. 2%+0.001)`,
        [{ column: p.quantity, message: 'zero standard deviation' }],
      );
    }
    return s;
  });
}
