import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { compilePlant, loadRecipe, type PlantModel, type Recipe } from '@pipac/recipe';
import {
  defaultPlan,
  mergeShards,
  quickPlan,
  scalePlan,
  trainShard,
  type ModelCard,
  type PopulationProgress,
  type Shard,
  type TrainingPlan,
} from '@pipac/rl';
import { REPOSITORY_ROOT, defaultRecipePath } from '../format/paths';
import { parseSeed } from '../format/seed';
import { formatTable } from '../format/table';
import { TrainingEta, funnelSvg, funnelTable } from '../format/funnel-progress';
import { formatDuration } from '../format/duration';
import { parseCount } from '../format/count';
import { UsageError } from '../format/usage.error';
import { assertCreatableDirectory } from '../format/writable';

interface TrainOptions {
  recipe: string;
  step: string[];
  quick?: boolean;
  population?: string;
  seed: string;
  shard?: string;
  merge?: boolean;
  shards?: string;
  workers: string;
  out?: string;
  models?: string;
  backend: 'wasm' | 'cpu';
}

/** `pipac train`: population training with staged selection, per step, exported to ONNX. */
export function trainCommand(): Command {
  return new Command('train')
    .description(
      'Train the step agents in the twin: a population of PPO candidates per step (different seeds, hyperparameters, ' +
        'network sizes), screened briefly, the best trained longer, the most robust under domain randomisation ' +
        'exported to ONNX with a model card. Resumable (rerun the same command); shardable (--shard i/n, then --merge).',
    )
    .option('-r, --recipe <file>', 'recipe (YAML)', defaultRecipePath())
    .option('--step <id...>', 'steps to train (default: every step of the recipe)', [])
    .option(
      '--quick',
      'the quick plan: 32 candidates, minutes per step (default: 1,000 candidates)',
    )
    .option('--population <n>', "override the plan's population size")
    .option('--seed <n>', 'seed of the whole run', '1')
    .option('--shard <i/n>', 'train only shard i of n (0-based) and stop before the merge')
    .option('--merge', 'merge finished shards and export the models (with --shards)')
    .option('--shards <n>', 'with --merge: how many shards ran')
    .option('--workers <n>', 'worker threads', String(Math.max(1, availableParallelism())))
    .option('-o, --out <dir>', 'work folder (resumable state)', undefined)
    .option(
      '--models <dir>',
      'where the selected models go (default .pipac/models/<recipe name>; the shipped ones in models/ stay untouched)',
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['wasm', 'cpu'])
        .default('wasm'),
    )
    .action(runTrain);
}

/** What one `pipac train` run does, its options checked. */
interface TrainRun {
  recipe: Recipe;
  steps: string[];
  plan: TrainingPlan;
  /** Train only this shard, and merge nothing. */
  shard: Shard | undefined;
  /** Merge the finished shards, and train nothing. */
  merge: boolean;
  /** How many shards the merge reads. */
  shards: number;
  workers: number;
  backend: TrainOptions['backend'];
  /** The work folder (resumable state). */
  out: string;
  /** Where the selected models go. */
  models: string;
}

async function runTrain(options: TrainOptions): Promise<void> {
  const run = parseTrainOptions(options);
  process.stderr.write(
    `pipac train: ${run.steps.join(', ')}; ${run.plan.population} candidates, stages ${run.plan.stages
      .map((s) => `${s.name} (${s.steps} steps, keep ${s.keep})`)
      .join(' → ')}; ${run.workers} worker thread(s); work in ${run.out}\n`,
  );
  const started = Date.now();
  const eta = new TrainingEta(run.plan, run.merge ? 0 : run.steps.length, run.shard);
  for (const stepId of run.steps) await trainStep(run, stepId, started, eta);
  process.stderr.write(`pipac train: done in ${formatDuration((Date.now() - started) / 1000)}\n`);
  if (!run.shard) {
    process.stderr.write(
      `evaluate them: pipac eval --recipe ${options.recipe} --models ${run.models}\n`,
    );
  }
}

/** Checks the options, in the order a person reads them; a bad one is a UsageError. */
function parseTrainOptions(options: TrainOptions): TrainRun {
  const recipe = loadRecipe(options.recipe);
  const steps = selectSteps(options.step, compilePlant(recipe));
  const plan = buildPlan(options);
  const shard = options.shard ? parseShard(options.shard) : undefined;
  if (options.merge && shard) throw new UsageError('--merge and --shard exclude each other');
  const shards = options.merge ? parseCount(options.shards, '--shards') : 1;
  const workers = parseCount(options.workers, '--workers', 0);
  const name = recipe.metadata.name;
  const out = options.out ?? join(REPOSITORY_ROOT, '.pipac', 'train', name);
  const models = options.models ?? join(REPOSITORY_ROOT, '.pipac', 'models', name);
  assertCreatableDirectory(out, '--out');
  assertCreatableDirectory(models, '--models');
  const merge = options.merge === true;
  return {
    recipe,
    steps,
    plan,
    shard,
    merge,
    shards,
    workers,
    backend: options.backend,
    out,
    models,
  };
}

/** The steps asked for (every step of the recipe when none is), each one the recipe has. */
function selectSteps(asked: string[], model: PlantModel): string[] {
  const steps = asked.length > 0 ? asked : model.steps.map((s) => s.id);
  for (const step of steps) {
    if (!model.steps.some((s) => s.id === step))
      throw new UsageError(
        `--step: the recipe has no step "${step}" (${model.steps.map((s) => s.id).join(', ')})`,
      );
  }
  return steps;
}

/** Trains one step's population (or its shard), then merges the shards and exports the models. */
async function trainStep(
  run: TrainRun,
  stepId: string,
  started: number,
  eta: TrainingEta,
): Promise<void> {
  const { recipe, plan, shard } = run;
  if (!run.merge) {
    const print = progressPrinter(started, eta);
    await trainShard({
      recipe,
      stepId,
      plan,
      outDir: run.out,
      workers: run.workers,
      backend: run.backend,
      onProgress: print,
      ...(shard ? { shard } : {}),
    });
  }
  if (shard) return;
  const merged = await mergeShards({
    recipe,
    stepId,
    plan,
    outDir: run.out,
    shards: run.shards,
    modelsDir: run.models,
    created: new Date(),
  });
  const plot = join(run.models, stepId, 'funnel.svg');
  writeFileSync(plot, funnelSvg(stepId, plan, merged));
  process.stdout.write(
    `\n${stepId}: the selection funnel (scores: reward per cycle; plot ${plot})\n${funnelTable(merged.funnel)}\n` +
      `\n${stepId}: deployed to ${join(run.models, stepId)}\n${deployedTable(plan, merged.deployed)}\n`,
  );
}

function deployedTable(plan: TrainingPlan, deployed: ModelCard[]): string {
  return formatTable(
    ['rank', 'candidate', 'hidden', ...plan.stages.map((s) => `${s.name} score`), 'version'],
    deployed.map((card) => [
      card.rank,
      card.candidate.id,
      card.candidate.hidden.join('x'),
      ...plan.stages.map((s) => card.scores[s.name] ?? Number.NaN),
      card.version.slice(0, 19),
    ]),
  );
}

function buildPlan(options: TrainOptions): TrainingPlan {
  const seed = parseSeed(options.seed);
  const plan = options.quick ? quickPlan(seed) : defaultPlan(seed);
  if (options.population === undefined) return plan;
  return scalePlan(plan, parseCount(options.population, '--population'));
}

function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !(count >= 1) || !(index < count))
    throw new UsageError(`--shard: expected i/n with 0 ≤ i < n (e.g. 0/4), got "${text}"`);
  return { index, count };
}

/**
 * One line per finished candidate on a terminal; per 10 % of a stage and at its end otherwise.
 * Each line ends with the run's progress and the time left at the rate so far.
 */
function progressPrinter(started: number, eta: TrainingEta): (p: PopulationProgress) => void {
  const tty = process.stderr.isTTY === true;
  let decile = -1;
  return (p) => {
    eta.record(p);
    if (process.env['PIPAC_QUIET'] !== undefined) return;
    const left = eta.secondsLeft();
    const run = `run ${Math.floor(100 * eta.fraction)} %, ${formatDuration((Date.now() - started) / 1000)}${left === undefined ? '' : `, about ${formatDuration(left)} left`}`;
    const line = `[${p.step}] ${p.stage} ${p.done}/${p.total}: candidate ${p.candidate} score ${p.score.toFixed(3)}${p.resumed ? ' (resumed)' : ''}, best ${p.best.toFixed(3)}; ${run}`;
    if (tty) {
      process.stderr.write(`\r\x1b[K${line}${p.done === p.total ? '\n' : ''}`);
      return;
    }
    const d = Math.floor((10 * p.done) / p.total);
    if (p.done === 1) decile = -1;
    if (d > decile || p.done === p.total) {
      decile = d;
      process.stderr.write(`${line}\n`);
    }
  };
}
