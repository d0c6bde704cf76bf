import {
  compilePlant,
  stepById,
  type PlantModel,
  type Recipe,
  type StepModel,
} from '@pipac/recipe';
import { SeededRandom } from '../random/seeded-random';
import { solveStepSteadyState } from '../steady/steady-state';
import type { SolverOptions, StepConditions, StepSteadyState } from '../steady/steady-state.types';
import { CalibrationError } from './calibration.error';
import {
  isQuantityKey,
  quantitySpecies,
  FIGURE_QUANTITIES,
  type FigureQuantity,
  type Experiment,
  type ExperimentTable,
  type QuantityKey,
} from './experiment.types';
import { noiseSigma, type NoiseModel } from './noise-model';
import { getParameter, parseParameterPath, withParameters } from './parameters';

/** A full-factorial design over pump flows and jacket temperatures. */
export interface SyntheticDesign {
  /** Flow levels per pump, mL/min. @default each pump at 0.5×, 1× and 2× its nominal, within its limits */
  flows?: Record<string, number[]>;
  /** Jacket temperatures, °C. @default nominal −10, 0, +10, +20 K, within the thermostat's limits */
  jacketTemperatures?: number[];
  /** Repeats of every design point (independent noise). @default 1 */
  replicates?: number;
  /** Fixed surge-tank compositions, for steps fed from a tank (tank → species → mol/L). */
  tankCompositions?: Record<string, Record<string, number>>;
  /** Fixed packed-bed activity. @default the recipe's */
  catalystActivity?: number;
}

export interface SyntheticOptions {
  /** @default the recipe's only step */
  step?: string;
  /**
   * Parameter path → true value (recipe units). The table's `truth` records these and the k and
   * activation energy of every reaction of the step. @default the recipe's own values
   */
  truth?: Record<string, number>;
  design?: SyntheticDesign;
  /** Quantities to "measure". @default c:<key reactant> and c:<product> */
  measure?: QuantityKey[];
  /** Measurement noise, σ = √((relative·y)² + absolute²). @default none */
  noise?: NoiseModel;
  /** @default 1 */
  seed?: number;
  /** Tolerances of the true model; tighter than a fit's, so the data carry no solver error. @default { rtol: 1e-10, atol: 1e-13 } */
  solver?: SolverOptions;
}

/**
 * Synthetic experiments for tests and demos: the twin with the true parameters, solved at each
 * design point, plus Gaussian noise from a seeded generator (same seed, same table). The table
 * records the truth, so a calibration can show it recovers the parameters within their intervals.
 */
export function syntheticExperiments(
  recipe: Recipe,
  options: SyntheticOptions = {},
): ExperimentTable {
  const { truth, trueRecipe } = trueParameters(recipe, options.truth ?? {});
  const stepId = options.step ?? (recipe.steps.length === 1 ? recipe.steps[0]?.id : undefined);
  if (stepId === undefined)
    invalid(
      `the recipe has several steps (${recipe.steps.map((s) => s.id).join(', ')}): choose one`,
      'step',
    );
  const model = compilePlant(trueRecipe);
  let step;
  try {
    step = stepById(model, stepId ?? '');
  } catch (error) {
    return invalid((error as Error).message, 'step');
  }
  const measure = options.measure ?? [`c:${step.spec.keyReactant}`, `c:${step.spec.product}`];
  checkMeasurable(model, measure);
  const design = designLevels(step, options.design ?? {});
  const experiments = runDesign(model, step, measure, design, options);
  return { experiments, truth: recordedTruth(step, trueRecipe, truth) };
}

/** The levels of a full-factorial design, checked against the step. */
interface DesignLevels {
  flowLevels: { pump: string; levels: number[] }[];
  temperatures: number[];
  replicates: number;
  fixed: Pick<SyntheticDesign, 'tankCompositions' | 'catalystActivity'>;
}

function invalid(message: string, column: string): never {
  throw new CalibrationError('OPTIONS_INVALID', message, [{ column, message }]);
}

/** The recipe with the true values in place, and those values by canonical path. */
function trueParameters(
  recipe: Recipe,
  given: Record<string, number>,
): { truth: Record<string, number>; trueRecipe: Recipe } {
  const truthEntries = Object.entries(given).map(([path, value]) => {
    const ref = parseParameterPath(path, recipe);
    if (!Number.isFinite(value)) invalid(`truth ${path}: ${value} is not a finite number`, path);
    return { ref, value };
  });
  const truth = Object.fromEntries(truthEntries.map(({ ref, value }) => [ref.path, value]));
  const trueRecipe = withParameters(
    recipe,
    truthEntries.map((e) => e.ref),
    truthEntries.map((e) => e.value),
  );
  return { truth, trueRecipe };
}

function checkMeasurable(model: PlantModel, measure: readonly QuantityKey[]): void {
  for (const quantity of measure) {
    const species = isQuantityKey(quantity) ? quantitySpecies(quantity) : undefined;
    if (!isQuantityKey(quantity) || (species !== undefined && !model.speciesIndex.has(species))) {
      invalid(
        `cannot measure "${quantity}": use c:<species> of ${model.speciesIds.join(', ')}, or ${FIGURE_QUANTITIES.join(', ')}`,
        'measure',
      );
    }
  }
}

/** The design's levels, each pump's and the jacket's defaulting to a spread around nominal. */
function designLevels(step: StepModel, design: SyntheticDesign): DesignLevels {
  const replicates = design.replicates ?? 1;
  if (!Number.isInteger(replicates) || replicates < 1)
    invalid(`replicates must be a positive integer, got ${replicates}`, 'replicates');
  const flowLevels = step.inlets.map((inlet) => {
    const levels =
      design.flows?.[inlet.pump] ??
      defaultLevels([0.5 * inlet.nominal, inlet.nominal, 2 * inlet.nominal], inlet.min, inlet.max);
    for (const flow of levels)
      if (!(flow >= 0))
        invalid(
          `flow ${flow} of ${inlet.pump} must be a non-negative number`,
          `flow:${inlet.pump}`,
        );
    return { pump: inlet.pump, levels };
  });
  for (const pump of Object.keys(design.flows ?? {})) {
    if (!step.inlets.some((inlet) => inlet.pump === pump))
      invalid(`pump "${pump}" is not an inlet of step "${step.id}"`, `flow:${pump}`);
  }
  const t = step.thermostat;
  const temperatures =
    design.jacketTemperatures ??
    defaultLevels([t.nominal - 10, t.nominal, t.nominal + 10, t.nominal + 20], t.min, t.max);
  const { tankCompositions, catalystActivity } = design;
  return { flowLevels, temperatures, replicates, fixed: { tankCompositions, catalystActivity } };
}

/** Solves the true model at every design point and draws each replicate's noisy measurements. */
function runDesign(
  model: PlantModel,
  step: StepModel,
  measure: readonly QuantityKey[],
  { flowLevels, temperatures, replicates, fixed }: DesignLevels,
  options: SyntheticOptions,
): Experiment[] {
  const random = new SeededRandom(options.seed ?? 1);
  const solver = { rtol: 1e-10, atol: 1e-13, ...options.solver };
  const experiments: Experiment[] = [];
  for (const flows of grid(flowLevels)) {
    for (const jacketTemperature of temperatures) {
      const conditions: StepConditions = {
        flows,
        jacketTemperature,
        ...(fixed.tankCompositions ? { tankCompositions: fixed.tankCompositions } : {}),
        ...(fixed.catalystActivity !== undefined
          ? { catalystActivity: fixed.catalystActivity }
          : {}),
      };
      const state = solveStepSteadyState(model, step.id, conditions, solver);
      for (let r = 0; r < replicates; r++) {
        const row = experiments.length + 1;
        experiments.push({
          id: `S${row}`,
          row,
          step: step.id,
          conditions: { ...conditions, flows: { ...flows } },
          measurements: noisyMeasurements(state, measure, options.noise ?? {}, random),
        });
      }
    }
  }
  return experiments;
}

function noisyMeasurements(
  state: StepSteadyState,
  measure: readonly QuantityKey[],
  noise: NoiseModel,
  random: SeededRandom,
): Experiment['measurements'] {
  const measurements: Experiment['measurements'] = {};
  for (const quantity of measure) {
    const species = quantitySpecies(quantity);
    const value =
      species === undefined
        ? state.figures[quantity as FigureQuantity]
        : (state.outlet[species] ?? 0);
    measurements[quantity] = value + noiseSigma(noise, value) * random.normal();
  }
  return measurements;
}

/**
 * The kinetics of every reaction of the step as the truth (given or the recipe's), so whatever
 * a calibration then fits can be checked against it; plus any other truth given.
 */
function recordedTruth(
  step: StepModel,
  trueRecipe: Recipe,
  truth: Record<string, number>,
): Record<string, number> {
  const recorded: Record<string, number> = {};
  for (const id of step.spec.reactions) {
    for (const field of ['k', 'activationEnergy']) {
      const ref = parseParameterPath(`reactions.${id}.${field}`, trueRecipe);
      recorded[ref.path] = getParameter(trueRecipe, ref);
    }
  }
  Object.assign(recorded, truth);
  return recorded;
}

/** Distinct levels clamped to [min, max], in the given order. */
function defaultLevels(levels: number[], min: number, max: number): number[] {
  return [...new Set(levels.map((v) => Math.min(max, Math.max(min, v))))];
}

/** Full-factorial combinations of pump flows. */
function grid(factors: { pump: string; levels: number[] }[]): Record<string, number>[] {
  let combinations: Record<string, number>[] = [{}];
  for (const { pump, levels } of factors) {
    combinations = combinations.flatMap((partial) =>
      levels.map((level) => ({ ...partial, [pump]: level })),
    );
  }
  return combinations;
}
