import { compilePlant, stepById, type PlantModel, type Recipe } from '@pipac/recipe';
import { solutionFigures, solveStepOutlet, type StepSolution } from '../steady/steady-state';
import type { SolverOptions } from '../steady/steady-state.types';
import type { ResolvedExperiment } from './experiment-resolution';
import { quantitySpecies, type FigureQuantity, type QuantityKey } from './experiment.types';
import { withParameters, type ParameterRef } from './parameters';

/** One measured value of one experiment: a residual of the fit. */
export interface MeasurementPoint {
  /** Index into the experiments. */
  experiment: number;
  quantity: QuantityKey;
  measured: number;
}

/** The measured values of the experiments, in table order (experiment by experiment). */
export function measurementPoints(experiments: readonly ResolvedExperiment[]): MeasurementPoint[] {
  return experiments.flatMap((experiment, index) =>
    (Object.entries(experiment.measurements) as [QuantityKey, number | undefined][])
      .filter((entry): entry is [QuantityKey, number] => entry[1] !== undefined)
      .map(([quantity, measured]) => ({ experiment: index, quantity, measured })),
  );
}

/**
 * The twin's prediction of every measured value for a parameter vector (recipe units): the
 * recipe is copied with the values and compiled once, then each experiment's step is solved at
 * steady state. An experiment the solver cannot finish (a trial point far out, a stiff system)
 * yields NaN, which the fit treats as a rejected step rather than an error.
 *
 * Uses the array-level `solveStepOutlet` rather than `solveStepSteadyState`: a fit solves each
 * experiment some fifty times and needs only the outlet, not the figures, safety quantities and
 * limit checks the full description adds. The key figures are `stepFigures`'s.
 */
export function createPredictor(
  recipe: Recipe,
  refs: readonly ParameterRef[],
  experiments: readonly ResolvedExperiment[],
  points: readonly MeasurementPoint[],
  solver: SolverOptions,
): (values: readonly number[]) => Float64Array {
  const byExperiment = experiments.map((_, e) =>
    points.flatMap((point, j) => (point.experiment === e ? [j] : [])),
  );
  let buffer: StepSolution | undefined;
  return (values) => {
    const predicted = new Float64Array(points.length).fill(Number.NaN);
    const parameterised = withParameters(recipe, refs, values);
    // One compiled plant per set of discrete choices the experiments ran (a catalyst each).
    const models = new Map<string, PlantModel | undefined>();
    const modelFor = (experiment: ResolvedExperiment): PlantModel | undefined => {
      const choices = experiment.choices ? { [experiment.step]: experiment.choices } : {};
      const key = JSON.stringify(choices);
      if (!models.has(key)) {
        try {
          models.set(key, compilePlant(parameterised, { choices }));
        } catch {
          models.set(key, undefined);
        }
      }
      return models.get(key);
    };
    experiments.forEach((experiment, e) => {
      const model = modelFor(experiment);
      if (!model) return;
      try {
        const step = stepById(model, experiment.step);
        const solution = solveStepOutlet(model, step, experiment.conditions, solver, buffer);
        buffer = solution;
        const outlet = solution.outlet.concentrations;
        let figures: ReturnType<typeof solutionFigures> | undefined;
        for (const j of byExperiment[e]!) {
          const quantity = points[j]!.quantity;
          const species = quantitySpecies(quantity);
          if (species === undefined) {
            figures ??= solutionFigures(model, step, solution);
            // No product at a trial point: an E-factor of Infinity is no prediction (a
            // rejected step for the fit, as a failed solve), not an infinite residual.
            const value = figures[quantity as FigureQuantity];
            predicted[j] = Number.isFinite(value) ? value : Number.NaN;
          } else {
            predicted[j] = outlet[model.speciesIndex.get(species) ?? -1] ?? Number.NaN;
          }
        }
      } catch {
        // left NaN: see above
      }
    });
    return predicted;
  };
}
