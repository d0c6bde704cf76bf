import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { Matrix } from 'ml-matrix';
import {
  celsiusToKelvin,
  kelvinToCelsius,
  stepReactions,
  type Recipe,
  type StepSpec,
} from '@pipac/recipe';
import { withCalibrationProvenance } from './calibrated-recipe';
import { CalibrationError } from './calibration.error';
import {
  createPredictor,
  measurementPoints,
  type MeasurementPoint,
} from './calibration-prediction';
import type {
  CalibrationFit,
  CalibrationOptions,
  CalibrationPoint,
  CalibrationResult,
  FittedParameter,
} from './calibration.types';
import { resolveExperiments, type ResolvedExperiment } from './experiment-resolution';
import type { ExperimentTable } from './experiment.types';
import { leastSquares, type LeastSquaresResult } from './least-squares';
import { measurementSigmas } from './noise-model';
import { calibrationWarnings, quantityFits, rSquared } from './calibration-diagnostics';
import { parameterStatistics, type ParameterStatistics } from './parameter-statistics';
import {
  checkInitialValues,
  createParameterScaling,
  type ParameterScaling,
} from './parameter-scaling';
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
  const confidenceLevel = checkConfidenceLevel(options.confidenceLevel ?? 0.95);
  const problem = calibrationProblem(recipe, table, options);
  const { refs, experiments } = problem;
  const fitted = fitProblem(recipe, problem, options);
  const dof = problem.points.length - refs.length;
  const residualVariance = fitted.solution.ssr / dof;
  const paths = refs.map((ref) => ref.path);
  const statistics = parameterStatistics(fitted.jacobian, residualVariance, paths);
  const t = tQuantile(1 - (1 - confidenceLevel) / 2, dof);
  const calibratedValues = withParameters(recipe, refs, fitted.values);
  const parameters = fittedParameters(problem, fitted, statistics, t, calibratedValues);
  const points = calibrationPoints(problem, fitted.predicted);
  const fit = fitSummary(problem, fitted, points, t, options);
  return {
    recipe: withCalibrationProvenance(calibratedValues, parameters, {
      source: table.source ?? 'an experiment table',
      experiments: experiments.length,
      measurements: problem.points.length,
      confidenceLevel,
    }),
    parameters,
    covariance: statistics.covariance,
    correlation: statistics.correlation,
    confidenceLevel,
    fit,
    points,
    warnings: calibrationWarnings({
      recipe,
      refs,
      parameters,
      correlation: statistics.correlation,
      fit,
      centring: problem.centring,
      explicitSigma: Object.keys(options.sigma ?? {}).length > 0,
    }),
    ...(table.source !== undefined ? { experimentsSource: table.source } : {}),
  };
}

/** What a calibration fits: the parameters and their starting values, the experiments, their measured values and σ. */
interface CalibrationProblem {
  refs: ParameterRef[];
  initial: number[];
  experiments: ResolvedExperiment[];
  points: MeasurementPoint[];
  /** Reaction → centring temperature of its experiments, K. */
  centring: Map<string, number>;
  /** σ of each point. */
  sigmas: Float64Array;
}

/** The weighted least-squares solution, the predictions and the report Jacobian at it. */
interface FittedProblem {
  solution: LeastSquaresResult;
  /** Fitted values in recipe units. */
  values: number[];
  predicted: Float64Array;
  jacobian: Matrix;
  scaling: ParameterScaling;
  /** Twin solves (predictions) the whole calibration took. */
  evaluations: number;
}

function checkConfidenceLevel(confidenceLevel: number): number {
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new CalibrationError(
      'OPTIONS_INVALID',
      `confidence level must lie strictly between 0 and 1, got ${confidenceLevel}`,
    );
  }
  return confidenceLevel;
}

/** Reads and checks the parameters, starting values and experiments, in that order, before any fit. */
function calibrationProblem(
  recipe: Recipe,
  table: ExperimentTable,
  options: CalibrationOptions,
): CalibrationProblem {
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
  return { refs, initial, experiments, points, centring, sigmas };
}

/**
 * Fits in scaled coordinates (see parameter-scaling.ts) on the predictions weighted by 1/σ, then
 * predicts at the solution and takes the Jacobian the statistics are reported in.
 */
function fitProblem(
  recipe: Recipe,
  problem: CalibrationProblem,
  options: CalibrationOptions,
): FittedProblem {
  const { refs, initial, experiments, points, sigmas } = problem;
  const observed = Float64Array.from(points, (point, i) => point.measured / sigmas[i]!);
  const scaling = createParameterScaling(recipe, refs, problem.centring, initial);
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
    4 * refs.length + 8,
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
  const jacobian = reportJacobian(values, scaling, (v) => weighted(predict(v)));
  return { solution, values, predicted, jacobian, scaling, evaluations };
}

/** Each fitted parameter with its standard error and interval (k's on the log scale it was fitted on). */
function fittedParameters(
  { refs, initial }: CalibrationProblem,
  { values, scaling }: FittedProblem,
  statistics: ParameterStatistics,
  t: number,
  calibratedValues: Recipe,
): FittedParameter[] {
  const u = scaling.toReport(values);
  return refs.map((ref, i) => {
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
}

/** Each measured value beside its prediction at the fitted parameters. */
function calibrationPoints(
  { points, experiments, sigmas }: CalibrationProblem,
  predicted: Float64Array,
): CalibrationPoint[] {
  return points.map((point, i) => {
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
}

/** How well the fit went: sizes, residuals, goodness of fit overall and by quantity, the solver's run. */
function fitSummary(
  problem: CalibrationProblem,
  { solution, evaluations }: FittedProblem,
  points: readonly CalibrationPoint[],
  t: number,
  options: CalibrationOptions,
): CalibrationFit {
  const m = problem.points.length;
  const p = problem.refs.length;
  const dof = m - p;
  const residualVariance = solution.ssr / dof;
  return {
    measurements: m,
    experiments: problem.experiments.length,
    parameters: p,
    degreesOfFreedom: dof,
    ssr: solution.ssr,
    initialSsr: solution.initialSsr,
    residualVariance,
    residualStandardError: Math.sqrt(residualVariance),
    rmse: Math.sqrt(solution.ssr / m),
    rSquared: rSquared(points),
    byQuantity: quantityFits(points, options.sigma),
    tQuantile: t,
    iterations: solution.iterations,
    evaluations,
    converged: solution.converged,
    stopReason: solution.stopReason,
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
    // The experiments the reaction ran in: on a step that lists it, or with an option (the
    // row's, else the default) that brings it.
    const steps = recipe.steps.filter((s) => reactionRuns(s, ref.reaction));
    const used = experiments.filter((e) => {
      const step = steps.find((s) => s.id === e.step);
      return step !== undefined && reactionRuns(step, ref.reaction, e.choices ?? {});
    });
    if (used.length === 0) {
      const where = steps.length > 0 ? `step ${steps.map((s) => s.id).join(', ')}` : 'no step';
      throw new CalibrationError(
        'NOT_IDENTIFIABLE',
        `${ref.path}: reaction "${ref.reaction}" runs in ${where}, and no experiment in the table is on it` +
          (steps.some((s) => s.choices) ? ' with an option that brings it' : ''),
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

/** Whether `reaction` runs in `step` with the given options of its choices (else the defaults; none given: any option). */
function reactionRuns(step: StepSpec, reaction: string, choices?: Record<string, string>): boolean {
  if (choices !== undefined) return stepReactions(step, choices).includes(reaction);
  return (
    step.reactions.includes(reaction) ||
    Object.values(step.choices ?? {}).some((choice) =>
      Object.values(choice.options).some((option) => option.reactions.includes(reaction)),
    )
  );
}
