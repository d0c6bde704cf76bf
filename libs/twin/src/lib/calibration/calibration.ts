import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { Matrix } from 'ml-matrix';
import { celsiusToKelvin, kelvinToCelsius, type Recipe } from '@pipac/recipe';
import { withCalibrationProvenance } from './calibrated-recipe';
import { CalibrationError } from './calibration.error';
import { createPredictor, measurementPoints } from './calibration-prediction';
import type {
  CalibrationFit,
  CalibrationOptions,
  CalibrationPoint,
  CalibrationResult,
  FittedParameter,
} from './calibration.types';
import { resolveExperiments, type ResolvedExperiment } from './experiment-resolution';
import type { ExperimentTable } from './experiment.types';
import { leastSquares } from './least-squares';
import { measurementSigmas } from './noise-model';
import { calibrationWarnings, quantityFits, rSquared } from './calibration-diagnostics';
import { parameterStatistics } from './parameter-statistics';
import { checkInitialValues, createParameterScaling } from './parameter-scaling';
import {
  getParameter,
  parameterUnit,
  parseParameterPath,
  parseParameterPaths,
  withParameters,
  type ParameterRef,
} from './parameters';

const DEFAULT_SOLVER = { rtol: 1e-9, atol: 1e-12 };
/** Below this spread of jacket temperatures an activation energy is not determined. */
const MIN_TEMPERATURE_SPREAD = 1; // K

/**
 * Fits kinetic parameters of a recipe to steady-state experiments by weighted nonlinear least
 * squares, and reports them with confidence intervals (see docs/calibration.md).
 *
 * Throws CalibrationError for a bad table, parameter list or option, for too few measurements,
 * and for parameters the experiments cannot determine.
 */
export function calibrate(
  recipe: Recipe,
  table: ExperimentTable,
  options: CalibrationOptions,
): CalibrationResult {
  const confidenceLevel = options.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new CalibrationError(
      'OPTIONS_INVALID',
      `confidence level must lie strictly between 0 and 1, got ${confidenceLevel}`,
    );
  }
  const refs = parseParameterPaths(options.parameters, recipe);
  const initial = startingValues(recipe, refs, options.initial);
  checkInitialValues(refs, initial);
  const experiments = resolveExperiments(
    table,
    recipe,
    options.step !== undefined ? { step: options.step } : {},
  );
  const points = measurementPoints(experiments);
  const m = points.length;
  const p = refs.length;
  if (m <= p) {
    throw new CalibrationError(
      'TOO_FEW_MEASUREMENTS',
      `${m} measured values cannot determine ${p} parameters with an uncertainty; at least ${p + 1} are needed`,
    );
  }
  const centring = checkIdentifiable(recipe, refs, experiments);

  const sigmas = measurementSigmas(points, options.sigma);
  const observed = Float64Array.from(points, (point, i) => point.measured / sigmas[i]!);
  const scaling = createParameterScaling(recipe, refs, centring, initial);
  const solve = createPredictor(recipe, refs, experiments, points, {
    ...DEFAULT_SOLVER,
    ...options.solver,
  });
  let evaluations = 0;
  const predict = (values: readonly number[]) => {
    evaluations++;
    return solve(values);
  };
  const weighted = (predicted: Float64Array) => predicted.map((value, i) => value / sigmas[i]!);

  const model = memoize(
    (theta: readonly number[]) => weighted(predict(scaling.fromFit(theta))),
    4 * p + 8,
  );
  const start = scaling.toFit(initial);
  checkSensitivity(model, start, scaling.differenceStep, refs);

  const solution = leastSquares(
    {
      observed,
      model,
      initial: start,
      lower: scaling.lower,
      upper: scaling.upper,
      differenceStep: scaling.differenceStep,
    },
    {
      ...(options.maxIterations !== undefined ? { maxIterations: options.maxIterations } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );

  const values = scaling.fromFit(solution.theta);
  const predicted = predict(values);
  const dof = m - p;
  const residualVariance = solution.ssr / dof;
  const jacobian = reportJacobian(values, scaling, (v) => weighted(predict(v)));
  const paths = refs.map((ref) => ref.path);
  const statistics = parameterStatistics(jacobian, residualVariance, paths);
  const t = tQuantile(1 - (1 - confidenceLevel) / 2, dof);

  const calibratedValues = withParameters(recipe, refs, values);
  const u = scaling.toReport(values);
  const parameters: FittedParameter[] = refs.map((ref, i) => {
    const se = statistics.standardErrors[i]!;
    const value = values[i]!;
    const isK = ref.kind === 'k';
    return {
      path: ref.path,
      reaction: ref.reaction,
      kind: ref.kind,
      ...(ref.species !== undefined ? { species: ref.species } : {}),
      unit: parameterUnit(calibratedValues, ref),
      initial: initial[i]!,
      value,
      standardError: isK ? value * se : se,
      confidenceInterval: isK
        ? [Math.exp(u[i]! - t * se), Math.exp(u[i]! + t * se)]
        : [value - t * se, value + t * se],
      intervalScale: isK ? 'log' : 'linear',
    };
  });

  const calibrationPoints: CalibrationPoint[] = points.map((point, i) => {
    const experiment = experiments[point.experiment]!;
    return {
      experiment: experiment.id,
      row: experiment.row,
      step: experiment.step,
      quantity: point.quantity,
      measured: point.measured,
      predicted: predicted[i]!,
      sigma: sigmas[i]!,
      weightedResidual: (point.measured - predicted[i]!) / sigmas[i]!,
    };
  });
  const fit: CalibrationFit = {
    measurements: m,
    experiments: experiments.length,
    parameters: p,
    degreesOfFreedom: dof,
    ssr: solution.ssr,
    initialSsr: solution.initialSsr,
    residualVariance,
    residualStandardError: Math.sqrt(residualVariance),
    rmse: Math.sqrt(solution.ssr / m),
    rSquared: rSquared(calibrationPoints),
    byQuantity: quantityFits(calibrationPoints, options.sigma),
    tQuantile: t,
    iterations: solution.iterations,
    evaluations,
    converged: solution.converged,
    stopReason: solution.stopReason,
  };
  const source = table.source ?? 'an experiment table';
  return {
    recipe: withCalibrationProvenance(calibratedValues, parameters, {
      source,
      experiments: experiments.length,
      measurements: m,
      confidenceLevel,
    }),
    parameters,
    covariance: statistics.covariance,
    correlation: statistics.correlation,
    confidenceLevel,
    fit,
    points: calibrationPoints,
    warnings: calibrationWarnings({
      recipe,
      refs,
      parameters,
      correlation: statistics.correlation,
      fit,
      centring,
      explicitSigma: Object.keys(options.sigma ?? {}).length > 0,
    }),
    ...(table.source !== undefined ? { experimentsSource: table.source } : {}),
  };
}

function startingValues(
  recipe: Recipe,
  refs: readonly ParameterRef[],
  given: Record<string, number> | undefined,
): number[] {
  const byPath = new Map<string, number>();
  for (const [path, value] of Object.entries(given ?? {})) {
    const ref = parseParameterPath(path, recipe);
    if (!refs.some((r) => r.path === ref.path)) {
      throw new CalibrationError(
        'OPTIONS_INVALID',
        `a starting value is given for ${ref.path}, which is not among the fitted parameters`,
        [{ column: path, message: 'not fitted' }],
      );
    }
    byPath.set(ref.path, value);
  }
  return refs.map((ref) => byPath.get(ref.path) ?? getParameter(recipe, ref));
}

/**
 * Refuses parameters the design cannot determine before spending a fit on them, and returns the
 * centring temperature of each fitted reaction (1/T_c = mean 1/T of its experiments, K).
 */
function checkIdentifiable(
  recipe: Recipe,
  refs: readonly ParameterRef[],
  experiments: readonly ResolvedExperiment[],
): Map<string, number> {
  const centring = new Map<string, number>();
  for (const ref of refs) {
    const steps = recipe.steps.filter((s) => s.reactions.includes(ref.reaction));
    const used = experiments.filter((e) => steps.some((s) => s.id === e.step));
    if (used.length === 0) {
      const where = steps.length > 0 ? `step ${steps.map((s) => s.id).join(', ')}` : 'no step';
      throw new CalibrationError(
        'NOT_IDENTIFIABLE',
        `${ref.path}: reaction "${ref.reaction}" runs in ${where}, and no experiment in the table is on it`,
        [{ column: ref.path, message: 'no experiment on its step' }],
      );
    }
    const temperatures = used.map((e) => {
      const step = steps.find((s) => s.id === e.step);
      return celsiusToKelvin(
        e.conditions.jacketTemperature ?? step?.thermostat.setpoint.nominal ?? 25,
      );
    });
    centring.set(
      ref.reaction,
      temperatures.length / temperatures.reduce((sum, T) => sum + 1 / T, 0),
    );
    const spread = Math.max(...temperatures) - Math.min(...temperatures);
    if (ref.kind === 'activationEnergy' && spread < MIN_TEMPERATURE_SPREAD) {
      throw new CalibrationError(
        'NOT_IDENTIFIABLE',
        `${ref.path}: every experiment on its step ran at about ${kelvinToCelsius(temperatures[0]!).toFixed(1)} °C, ` +
          'so the activation energy cannot be told from the rate constant; vary jacketTemperature or leave it out of the fit',
        [{ column: ref.path, message: 'one temperature only' }],
      );
    }
  }
  return centring;
}

/** Caches the last `size` evaluations by exact parameter vector: each costs a compile and a solve per experiment. */
function memoize(
  f: (theta: readonly number[]) => Float64Array,
  size: number,
): (theta: readonly number[]) => Float64Array {
  const cache = new Map<string, Float64Array>();
  return (theta) => {
    const key = theta.join(',');
    let value = cache.get(key);
    if (!value) {
      value = f(theta);
      cache.set(key, value);
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
    }
    return value;
  };
}

/**
 * Refuses, before fitting, a parameter that changes no prediction at the start (its reaction
 * never runs: a reactant that is not fed, a step not measured). The probes are the forward
 * differences the first Levenberg–Marquardt step takes (θ_j + h, computed the same way), so
 * with the memo they cost nothing extra.
 */
function checkSensitivity(
  model: (theta: readonly number[]) => Float64Array,
  start: readonly number[],
  steps: readonly number[],
  refs: readonly ParameterRef[],
): void {
  const base = model(start);
  refs.forEach((ref, j) => {
    const probe = [...start];
    probe[j]! += steps[j]!;
    const moved = model(probe);
    if (moved.every((value, i) => value === base[i])) {
      throw new CalibrationError(
        'NOT_IDENTIFIABLE',
        `${ref.path} does not change any measured value in these experiments (does its reaction run at all? are its species fed and measured?)`,
        [{ column: ref.path, message: 'no measured value depends on it' }],
      );
    }
  });
}

/** Central-difference Jacobian of the weighted predictions in report coordinates (ln k, Ea, order). */
function reportJacobian(
  values: readonly number[],
  scaling: { toReport(v: readonly number[]): number[]; fromReport(u: readonly number[]): number[] },
  model: (values: readonly number[]) => Float64Array,
): Matrix {
  const u = scaling.toReport(values);
  const columns = u.map((uj, j) => {
    const h = 1e-4 * Math.max(1, Math.abs(uj));
    const plus = [...u];
    const minus = [...u];
    plus[j] = uj + h;
    minus[j] = uj - h;
    const fPlus = model(scaling.fromReport(plus));
    const fMinus = model(scaling.fromReport(minus));
    return fPlus.map((f, i) => (f - fMinus[i]!) / (2 * h));
  });
  const m = columns[0]?.length ?? 0;
  const jacobian = new Matrix(m, u.length);
  columns.forEach((column, j) => column.forEach((value, i) => jacobian.set(i, j, value)));
  return jacobian;
}
