import type { Recipe } from '@pipac/recipe';
import type { CalibrationResult, FittedParameter } from './calibration.types';
import { parseParameterPath } from './parameters';

/** A fitted parameter next to the value a synthetic table was generated with. */
export interface TruthComparison {
  path: string;
  truth: number;
  value: number;
  /** (value − truth) / truth */
  relativeError: number;
  withinInterval: boolean;
}

/**
 * Compares fitted values with a known truth (a synthetic table's). Truth entries for parameters
 * that were not fitted are ignored; paths are matched in canonical form (`Ea` = `activationEnergy`).
 */
export function compareWithTruth(
  recipe: Recipe,
  parameters: readonly FittedParameter[],
  truth: Record<string, number>,
): TruthComparison[] {
  const canonical = new Map<string, number>();
  for (const [path, value] of Object.entries(truth)) {
    try {
      canonical.set(parseParameterPath(path, recipe).path, value);
    } catch {
      // A truth about another recipe's reaction says nothing about this fit.
    }
  }
  return parameters.flatMap((p) => {
    const value = canonical.get(p.path);
    if (value === undefined) return [];
    const [lower, upper] = p.confidenceInterval;
    return [
      {
        path: p.path,
        truth: value,
        value: p.value,
        relativeError: (p.value - value) / value,
        withinInterval: lower <= value && value <= upper,
      },
    ];
  });
}

export interface ReportContext {
  recipeSource?: string;
  truth?: TruthComparison[];
}

/** The calibration as a JSON document (calibration-report.json); NaN statistics become null. */
export function calibrationReport(result: CalibrationResult, context: ReportContext = {}): object {
  return {
    tool: 'pipac calibrate',
    recipe: {
      name: result.recipe.metadata.name,
      version: result.recipe.metadata.version,
      ...(context.recipeSource !== undefined ? { source: context.recipeSource } : {}),
    },
    ...(result.experimentsSource !== undefined ? { experiments: result.experimentsSource } : {}),
    confidenceLevel: result.confidenceLevel,
    parameters: result.parameters,
    ...(context.truth && context.truth.length > 0 ? { truth: context.truth } : {}),
    correlation: {
      coordinates: result.parameters.map((p) => (p.kind === 'k' ? `ln ${p.path}` : p.path)),
      matrix: result.correlation,
    },
    covariance: {
      coordinates: result.parameters.map((p) => (p.kind === 'k' ? `ln ${p.path}` : p.path)),
      matrix: result.covariance,
    },
    fit: result.fit,
    warnings: result.warnings,
    points: result.points,
  };
}
