import { hasOption, stepChoice, type Recipe, type StepSpec } from '@pipac/recipe';
import { CalibrationError, type CalibrationIssue } from './calibration.error';
import {
  quantitySpecies,
  type Experiment,
  type ExperimentTable,
  type QuantityKey,
} from './experiment.types';

/** An experiment whose step is known and whose names all exist in the recipe. */
export interface ResolvedExperiment extends Experiment {
  step: string;
}

export interface ResolveOptions {
  /** Step for rows that name none. @default the recipe's only step */
  step?: string;
}

/**
 * Checks an experiment table against a recipe: every row's step exists, every pump is an inlet
 * of that step, every tank feeds it, every species exists. Throws CalibrationError
 * ('EXPERIMENTS_INVALID') naming the row and column of each problem.
 */
export function resolveExperiments(
  table: ExperimentTable,
  recipe: Recipe,
  options: ResolveOptions = {},
): ResolvedExperiment[] {
  const issues: CalibrationIssue[] = [];
  const steps = new Map(recipe.steps.map((s) => [s.id, s]));
  const species = new Set(recipe.species.map((s) => s.id));
  const stepIds = recipe.steps.map((s) => s.id).join(', ');
  if (options.step !== undefined && !steps.has(options.step)) {
    throw new CalibrationError(
      'OPTIONS_INVALID',
      `unknown step "${options.step}"; the recipe has ${stepIds}`,
      [{ column: 'step', message: 'unknown step' }],
    );
  }
  const defaultStep = options.step ?? (recipe.steps.length === 1 ? recipe.steps[0]?.id : undefined);
  const reportedColumns = new Set<string>();
  const resolved: ResolvedExperiment[] = [];

  for (const experiment of table.experiments) {
    const where = {
      row: experiment.row,
      ...(experiment.line !== undefined ? { line: experiment.line } : {}),
    };
    const before = issues.length;
    const add = (column: string, message: string) => issues.push({ ...where, column, message });
    const stepId = experiment.step ?? defaultStep;
    const step = stepId === undefined ? undefined : steps.get(stepId);
    if (stepId === undefined) {
      add(
        'step',
        `is empty and the recipe has several steps (${stepIds}); fill it or choose a default step`,
      );
      continue;
    }
    if (!step) {
      add('step', `unknown step "${stepId}"; the recipe has ${stepIds}`);
      continue;
    }
    const pumps = step.inlets.map((inlet) => inlet.pump);
    for (const pump of Object.keys(experiment.conditions.flows ?? {})) {
      if (!pumps.includes(pump))
        add(
          `flow:${pump}`,
          `pump "${pump}" is not an inlet of step "${step.id}" (its pumps: ${pumps.join(', ')})`,
        );
    }
    checkChoicesAndFeeds(experiment, step, add);
    const tanks = step.inlets.flatMap((inlet) => (inlet.tank !== undefined ? [inlet.tank] : []));
    for (const [tank, composition] of Object.entries(
      experiment.conditions.tankCompositions ?? {},
    )) {
      for (const id of Object.keys(composition)) {
        const column = `tank:${tank}:${id}`;
        if (!tanks.includes(tank)) {
          add(
            column,
            `tank "${tank}" does not feed step "${step.id}"${tanks.length > 0 ? ` (it draws from ${tanks.join(', ')})` : ' (it draws from no tank)'}`,
          );
        } else if (!species.has(id)) add(column, `unknown species "${id}"`);
      }
    }
    for (const quantity of Object.keys(experiment.measurements) as QuantityKey[]) {
      const id = quantitySpecies(quantity);
      if (id !== undefined && !species.has(id) && !reportedColumns.has(quantity)) {
        reportedColumns.add(quantity);
        add(quantity, `unknown species "${id}"; the recipe has ${[...species].join(', ')}`);
      }
    }
    if (
      step.reactor.type !== 'packed-bed' &&
      experiment.conditions.catalystActivity !== undefined
    ) {
      add('catalystActivity', `step "${step.id}" is not a packed bed; leave the cell empty`);
    }
    if (issues.length === before) resolved.push({ ...experiment, step: step.id });
  }
  if (issues.length > 0) {
    const shown = issues.slice(0, 20);
    if (issues.length > shown.length)
      shown.push({ message: `… and ${issues.length - shown.length} more` });
    throw new CalibrationError(
      'EXPERIMENTS_INVALID',
      `experiment table${table.source ? ` ${table.source}` : ''} does not match recipe "${recipe.metadata.name}"`,
      shown,
    );
  }
  return resolved;
}

/** An experiment's choice options and conditioned feeds against its step. */
function checkChoicesAndFeeds(
  experiment: Experiment,
  step: StepSpec,
  add: (column: string, message: string) => void,
): void {
  for (const [name, option] of Object.entries(experiment.choices ?? {})) {
    const choice = stepChoice(step, name);
    const declared = Object.keys(step.choices ?? {});
    if (!choice)
      add(
        `choice:${name}`,
        `step "${step.id}" has no choice "${name}"${declared.length > 0 ? ` (it has ${declared.join(', ')})` : ''}`,
      );
    else if (!hasOption(choice, option))
      add(
        `choice:${name}`,
        `"${option}" is not an option of ${name} (${Object.keys(choice.options).join(', ')})`,
      );
  }
  const feeds = step.inlets.flatMap((inlet) => (inlet.feed !== undefined ? [inlet.feed] : []));
  for (const feed of Object.keys(experiment.conditions.feedTemperatures ?? {})) {
    if (!feeds.includes(feed))
      add(
        `feedTemperature:${feed}`,
        `feed "${feed}" does not feed step "${step.id}"${feeds.length > 0 ? ` (it draws from ${feeds.join(', ')})` : ' (it draws from no feed)'}`,
      );
  }
}
