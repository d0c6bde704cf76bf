/**
 * What PPO's update budget buys (`npm run bench:budget`). The learning half of a candidate's
 * time is the update: epochs × samples through two networks, in minibatches. This trains the
 * textbook candidate (candidate 0's configuration, several seeds) through the default plan's
 * train stage on every step of the reference plant with each update budget, side by side on
 * worker threads, and prints per budget the wall time, the training's environment steps per
 * second and the stage's score (the plan's own scoring episodes), each run as it finishes and
 * then a summary against the textbook budget.
 *
 * BUDGETS=10x256,5x256,… (epochs × minibatch; `5` alone keeps the candidate's minibatch),
 * BUDGET_SEEDS=3, BUDGET_STEPS=nitration,…, BUDGET_WORKERS (default every core),
 * BUDGET_CANDIDATES=sampled: instead of the textbook candidate at several seeds, candidates
 * 1, 2, … of the default plan (their own networks, learning rates and minibatches), so a
 * budget is judged across the search space too. The stage trains from scratch (no screen
 * stage before it): 61,440 steps.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { defaultPlan, sampleCandidate, type CandidateTask, type StageResult } from '../src/index';
import { WorkerPool } from '../src/lib/workers/worker-pool';

const root = join(__dirname, '..', '..', '..');
const recipe = loadRecipe(join(root, 'recipes', 'paracetamol.yaml'));
const model = compilePlant(recipe);
const plan = defaultPlan(1);
const stageIndex = plan.stages.findIndex((s) => s.name === 'train');
const budgets = (process.env['BUDGETS'] ?? '10x256,5x256,4x512,2x1024').split(',').map((b) => {
  const [epochs, minibatch] = b.split('x').map(Number) as [number, number | undefined];
  return { name: b, epochs, minibatch };
});
const sampled = process.env['BUDGET_CANDIDATES'] === 'sampled';
const seeds = Number(process.env['BUDGET_SEEDS'] ?? 3);
const steps = (process.env['BUDGET_STEPS'] ?? model.steps.map((s) => s.id).join(',')).split(',');
const workers = Number(process.env['BUDGET_WORKERS'] ?? availableParallelism());

interface Run {
  budget: string;
  step: string;
  seed: number;
  score: number;
  seconds: number;
  stepsPerSecond: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

function task(stepId: string, seed: number, epochs: number, minibatch?: number): CandidateTask {
  // Candidate 0 is the textbook configuration at every plan seed, only its seed differs;
  // sampled: candidate `seed` of the plan's population.
  const sample = sampled ? sampleCandidate(plan.seed, seed) : sampleCandidate(seed, 0);
  const candidate = { ...sample, epochs, minibatch: minibatch ?? sample.minibatch };
  return { recipe, stepId, plan, stageIndex, candidate };
}

function summarise(runs: Run[]): void {
  console.log(
    '\n| update budget (epochs × minibatch) | mean wall s per stage | env steps/s (one thread) |' +
      ` ${steps.map((s) => `${s} score`).join(' | ')} | mean score vs ${budgets[0]!.name} |`,
  );
  console.log(`| --- | --- | --- | ${steps.map(() => '---').join(' | ')} | --- |`);
  const reference = mean(runs.filter((r) => r.budget === budgets[0]!.name).map((r) => r.score));
  for (const { name } of budgets) {
    const mine = runs.filter((r) => r.budget === name);
    const perStep = steps.map((step) => {
      const scores = mine.filter((r) => r.step === step).map((r) => r.score);
      return `${mean(scores).toFixed(3)} ± ${sd(scores).toFixed(3)}`;
    });
    const score = mean(mine.map((r) => r.score));
    console.log(
      `| ${name} | ${mean(mine.map((r) => r.seconds)).toFixed(1)} | ` +
        `${mean(mine.map((r) => r.stepsPerSecond)).toFixed(0)} | ${perStep.join(' | ')} | ` +
        `${(score - reference >= 0 ? '+' : '') + (score - reference).toFixed(3)} |`,
    );
  }
  console.log(
    `\n(${seeds} ${sampled ? 'sampled candidates' : 'seeds of the textbook candidate'} per step; score: the train stage's ${plan.stages[stageIndex]!.episodes} scoring episodes, reward per cycle, ± the sd over seeds)`,
  );
}

async function main(): Promise<void> {
  const pool = new WorkerPool<CandidateTask, StageResult>(
    join(__dirname, '..', 'src', 'lib', 'population', 'candidate.worker.ts'),
    workers,
    { workerData: { backend: 'wasm' }, failure: 'CANDIDATE_FAILED', label: 'a training worker' },
  );
  const trainSteps = plan.stages[stageIndex]!.steps;
  process.stderr.write(
    `update budgets ${budgets.map((b) => b.name).join(', ')}: ${steps.length} steps × ${seeds} seeds, ` +
      `${trainSteps} training steps each, ${workers} worker threads\n`,
  );
  const runs: Run[] = [];
  try {
    // Budgets interleaved, so the load of the moment falls on all of them alike.
    const jobs = steps.flatMap((step) =>
      Array.from({ length: seeds }, (_, s) => s + 1).flatMap((seed) =>
        budgets.map(async (b) => {
          const result = await pool.run(task(step, seed, b.epochs, b.minibatch));
          const run: Run = {
            budget: b.name,
            step,
            seed,
            score: result.score,
            seconds: result.seconds,
            stepsPerSecond:
              (trainSteps + result.returns.length * (plan.episodeSeconds / 60)) / result.seconds,
          };
          runs.push(run);
          console.log(
            `${b.name.padEnd(8)} ${step.padEnd(14)} seed ${seed}: score ${run.score.toFixed(3)}, ` +
              `${run.seconds.toFixed(1)} s, ${run.stepsPerSecond.toFixed(0)} env steps/s`,
          );
        }),
      ),
    );
    await Promise.all(jobs);
  } finally {
    await pool.close();
  }
  summarise(runs);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
