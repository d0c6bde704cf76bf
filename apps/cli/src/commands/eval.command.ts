import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { loadPlantPolicies, type OnnxPolicy } from '@pipac/control';
import {
  CONTROLLER_KINDS,
  PLANT_KINDS,
  type PlantKind,
  DEFAULT_SEEDS,
  evaluateControllers,
  oracleBoundBroken,
  type ControllerKind,
  type Evaluation,
  type TargetCheck,
} from '@pipac/rl';
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';
import { SCENARIO_NAMES } from '@pipac/twin';
import { parseCount } from '../format/count';
import { parseDuration } from '../format/duration';
import { REPOSITORY_ROOT, defaultRecipePath } from '../format/paths';
import { ProgressReporter } from '../format/progress';
import { parseSeed } from '../format/seed';
import { UsageError } from '../format/usage.error';
import { assertCreatableDirectory } from '../format/writable';
import { evaluationJson, evaluationReport, scenarioChart } from './eval.report';

interface EvalOptions {
  recipe: string;
  models?: string;
  scenario: string[];
  controller: string[];
  duration: string;
  seed: string;
  seeds: string;
  dt: string;
  workers: string;
  plots?: string;
  format: 'table' | 'json';
  plant: PlantKind;
  severity: string;
}

/** `pipac eval`: the agents, each baseline and the oracle over the named scenarios and seeds. */
export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'Evaluate the trained agents against the MPC, the PID, the fixed recipe and the oracle on disturbance ' +
        'scenarios over several seeds: score (in-spec product at every step, tank inventory change, feed past the ' +
        'throughput target), fraction of the oracle, per-step conversion and in-spec fraction, yield, E-factor, ' +
        'energy, shield interventions, limit violations, with 95 % intervals and the targets checked per scenario; ' +
        'with --plots, conversion, flow and product over time per scenario (SVG, first seed).',
    )
    .option('-r, --recipe <file>', 'recipe (YAML)', defaultRecipePath())
    .option('--models <dir>', 'trained models (default models/<recipe name>)')
    .addOption(
      new Option('-s, --scenario <name...>', 'scenarios (default: all)')
        .choices([...SCENARIO_NAMES])
        .default([...SCENARIO_NAMES]),
    )
    .addOption(
      new Option('-c, --controller <name...>', 'controllers (default: all)')
        .choices([...CONTROLLER_KINDS])
        .default([...CONTROLLER_KINDS]),
    )
    .option('-d, --duration <time>', 'simulated time per scenario', '8h')
    .option('--seed <n>', 'first seed of the scenarios and the plant noise', '1')
    .option('--seeds <n>', 'seeds per scenario (seed, seed + 1, …)', String(DEFAULT_SEEDS))
    .option('--dt <seconds>', 'integration step of the twin', '1')
    .addOption(
      new Option(
        '--plant <kind>',
        'what the loops run: the training twin, or "the plant" of the reality gap (mismatch: more cells, weaker jackets, pump calibration errors, other kinetics and feed strengths; the controllers still assume the twin)',
      )
        .choices([...PLANT_KINDS])
        .default('twin'),
    )
    .option(
      '--severity <x>',
      "disturbance magnitudes × this: offsets and rates × x, factors ^ x (1.5: beyond the training's robust stage, which draws 1–1.5)",
      '1',
    )
    .option(
      '--workers <n>',
      'worker threads running the closed loops (0 or 1: one after another)',
      String(Math.max(1, availableParallelism())),
    )
    .option('-p, --plots <dir>', 'write one SVG per scenario into this folder')
    .addOption(
      new Option('-f, --format <format>', 'output format (json: stdout is JSON and nothing else)')
        .choices(['table', 'json'])
        .default('table'),
    )
    .action(runEval);
}

/** Checks the options, loads the policies, runs the evaluation and writes plots and the report. */
/** Exit code of an evaluation whose oracle was beaten: it ran, but its yardstick failed. */
export const EXIT_ORACLE_BEATEN = 3;

/** A controller scored above the oracle beyond its interval (mapped to exit 3 by the entry point). */
export class OracleBeatenError extends Error {
  readonly code = 'ORACLE_BEATEN';
  readonly retriable = false;

  constructor(readonly broken: readonly TargetCheck[]) {
    super(
      'the oracle is no upper bound: ' +
        broken.map((check) => `${check.scenario}: ${check.detail}`).join('; ') +
        ' above it beyond the interval',
    );
    this.name = 'OracleBeatenError';
  }
}

async function runEval(options: EvalOptions): Promise<void> {
  const recipe = loadRecipe(options.recipe);
  const model = compilePlant(recipe);
  const duration = parseDuration(options.duration, '--duration');
  const dt = Number(options.dt);
  if (!(dt > 0)) throw new UsageError(`--dt: expected a positive number, got "${options.dt}"`);
  const seed = parseSeed(options.seed);
  const seeds = parseCount(options.seeds, '--seeds');
  const workers = parseCount(options.workers, '--workers', 0);
  const severity = Number(options.severity);
  if (!(severity > 0) || !Number.isFinite(severity))
    throw new UsageError(`--severity: expected a positive number, got "${options.severity}"`);
  if (options.plots) assertCreatableDirectory(options.plots, '--plots');
  const controllers = options.controller as ControllerKind[];
  const modelsDir = options.models ?? join(REPOSITORY_ROOT, 'models', recipe.metadata.name);
  const policies = controllers.includes('agent') ? await loadPolicies(model, modelsDir) : {};
  const progress = new ProgressReporter(
    'pipac eval',
    options.scenario.length * controllers.length * seeds,
  );
  let done = 0;
  const started = Date.now();
  try {
    const evaluation = await evaluateControllers({
      model,
      scenarios: options.scenario,
      controllers,
      policies,
      duration,
      seed,
      seeds,
      dt,
      plant: options.plant,
      severity,
      workers,
      source: { recipe: options.recipe, models: modelsDir },
      onRun: () => progress.update(++done),
    });
    progress.done();
    const wallSeconds = (Date.now() - started) / 1000;
    if (options.plots) writePlots(model, evaluation, options.scenario, options.plots);
    process.stdout.write(
      options.format === 'json'
        ? evaluationJson(evaluation, policies, wallSeconds)
        : evaluationReport(evaluation, policies, wallSeconds),
    );
    // The report stands (stdout is complete); the exit code says the yardstick failed.
    const broken = oracleBoundBroken(evaluation.checks);
    if (broken.length > 0) throw new OracleBeatenError(broken);
  } finally {
    await Promise.all(Object.values(policies).map((p) => p.release()));
  }
}

/** Every step's trained policy from `dir`; a missing or unusable one is a usage error. */
function loadPolicies(model: PlantModel, dir: string): Promise<Record<string, OnnxPolicy>> {
  return loadPlantPolicies(dir, model).catch((error: unknown) => {
    throw new UsageError(
      `--models: ${error instanceof Error ? error.message : String(error)}; run pipac train first`,
    );
  });
}

function writePlots(
  model: PlantModel,
  evaluation: Evaluation,
  scenarios: readonly string[],
  dir: string,
): void {
  mkdirSync(dir, { recursive: true });
  for (const scenario of scenarios) {
    const path = join(dir, `${scenario}.svg`);
    writeFileSync(path, scenarioChart(model, evaluation, scenario));
    process.stderr.write(`wrote ${path}\n`);
  }
}
