import { join } from 'node:path';
import type { ConversionPidTuning, Policy } from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';
import type { ClosedLoopResult } from './closed-loop';
import { controllerStats, type ControllerStats } from './controller-stats';
import {
  baselineTunings,
  EvaluationRunner,
  type ControllerKind,
  type EvaluationTask,
  type PlantKind,
} from './evaluation-runner';
import { checkTargets, type TargetCheck } from './target-checks';
import { WorkerPool } from '../workers/worker-pool';

/** Seeds per scenario unless told. */
export const DEFAULT_SEEDS = 10;

export interface EvaluationOptions {
  model: PlantModel;
  scenarios: readonly string[];
  controllers: readonly ControllerKind[];
  /** Per step id, for 'agent'. */
  policies?: Record<string, Policy>;
  /** s */
  duration: number;
  /** The first seed: the runs use seed, seed + 1, … */
  seed: number;
  /** Seeds per scenario. @default DEFAULT_SEEDS */
  seeds?: number;
  dt?: number;
  /** The twin, or "the plant" of the reality gap (PlantKind). @default 'twin' */
  plant?: PlantKind;
  /**
   * Disturbance magnitudes × this (held out: beyond what training drew, e.g. 1.5). @default 1
   */
  severity?: number;
  /**
   * Run the closed loops on this many worker threads (each loads the recipe and the policies
   * from `source`); 0 or 1: one after another in this thread. The results do not depend on it.
   */
  workers?: number;
  /** Where a worker thread finds the recipe and the trained policies. Required with workers > 1. */
  source?: Omit<EvaluationSource, 'controllers'>;
  onRun?: (
    scenario: string,
    controller: ControllerKind,
    seed: number,
    result: ClosedLoopResult,
  ) => void;
}

/** What a worker thread loads: the recipe file, the trained models' folder, the controllers. */
export interface EvaluationSource {
  recipe: string;
  /** Needed when 'agent' runs. */
  models?: string;
  controllers: readonly ControllerKind[];
}

interface Run {
  scenario: string;
  controller: ControllerKind;
  seed: number;
  result: ClosedLoopResult;
}

/** One closed-loop run: one scenario, controller and seed. */
export interface EvaluationRow {
  scenario: string;
  controller: ControllerKind;
  seed: number;
  /** g: in-spec product + inventory change − over-target feed (see RunScore). */
  score: number;
  /** score ÷ the oracle's on the same scenario and seed (NaN without an oracle run). */
  fractionOfOracle: number;
  /** g of plant product made in spec at every step. */
  inSpecProduct: number;
  /** g product-equivalent of the change in the surge tanks' in-spec inventory. */
  inventoryChange: number;
  /** g product-equivalent of the key reactant fed past the throughput target. */
  overTarget: number;
  /** Overall yield on the first step's key reactant, 0..1. */
  yield: number;
  eFactor: number;
  /** kWh of heating and cooling. */
  energy: number;
  interventions: number;
  fallbackCycles: number;
  limitViolations: number;
  /** Per step: conversion of the key reactant and the fraction of its product made in spec. */
  steps: { step: string; conversion: number; inSpecFraction: number }[];
}

export interface Evaluation {
  /** What the loops ran: the twin, or the reality gap's plant. */
  plant: PlantKind;
  /** Disturbance magnitudes × this (1: as the scenarios define them). */
  severity: number;
  /** The seeds every scenario ran with. */
  seeds: number[];
  rows: EvaluationRow[];
  /** Per scenario and controller: mean and 95 % interval over the seeds. */
  stats: ControllerStats[];
  /** The deployed agents' targets, per scenario and on average. */
  checks: TargetCheck[];
  /** The runs of the first seed, with their traces (plots). */
  runs: { scenario: string; controller: ControllerKind; result: ClosedLoopResult }[];
  /**
   * The "pid" baseline's set-up and tuning, per step (documented in the output):
   * `operatingPointPid`. The agents' fallback keeps the step agent's `tuneConversionPid`.
   */
  tunings: Record<string, ConversionPidTuning>;
  /** Worker threads the runs went to (1: one after another in the calling thread). */
  workers: number;
}

/**
 * `pipac eval`: every named scenario for every controller on the same twin, seeds and
 * durations, each step behind its own safety shield. The agent runs its ONNX policies with the
 * PID as the shield's fallback (as deployed); the baselines run alone within the engineering
 * limits; the oracle sees the true disturbed plant. Each scenario runs over `seeds` seeds
 * (disturbance draws and plant noise), so a lucky draw cannot decide a ranking.
 */
export async function evaluateControllers(options: EvaluationOptions): Promise<Evaluation> {
  const seeds = Array.from({ length: options.seeds ?? DEFAULT_SEEDS }, (_, i) => options.seed + i);
  const tasks: EvaluationTask[] = options.scenarios.flatMap((scenario) =>
    seeds.flatMap((seed) =>
      options.controllers.map((controller) => ({
        scenario,
        seed,
        controller,
        duration: options.duration,
        ...(options.dt ? { dt: options.dt } : {}),
        ...(options.plant && options.plant !== 'twin' ? { plant: options.plant } : {}),
        ...(options.severity !== undefined && options.severity !== 1
          ? { severity: options.severity }
          : {}),
      })),
    ),
  );
  const workers = options.source ? Math.max(1, Math.min(options.workers ?? 1, tasks.length)) : 1;
  let results: Run[];
  let tunings: Record<string, ConversionPidTuning>;
  if (workers > 1) {
    // Each worker sets up its own runner; here only the baseline's tunings are reported.
    results = await runOnWorkers(tasks, { ...options, workers });
    tunings = baselineTunings(options.model);
  } else {
    const runner = await EvaluationRunner.create(
      options.model,
      options.controllers,
      options.policies,
    );
    results = await runHere(tasks, runner, options);
    tunings = runner.tunings;
  }
  const rows = results.map((run) => evaluationRow(run, results));
  const stats = controllerStats(rows);
  return {
    plant: options.plant ?? 'twin',
    severity: options.severity ?? 1,
    seeds,
    rows,
    stats,
    checks: checkTargets(stats),
    runs: results
      .filter((r) => r.seed === seeds[0])
      .map(({ scenario, controller, result }) => ({ scenario, controller, result })),
    tunings,
    workers,
  };
}

/** Reports a finished run and keeps it. */
function finished(task: EvaluationTask, result: ClosedLoopResult, options: EvaluationOptions): Run {
  options.onRun?.(task.scenario, task.controller, task.seed, result);
  return { scenario: task.scenario, controller: task.controller, seed: task.seed, result };
}

/** Every task's run, one after another in this thread. */
async function runHere(
  tasks: readonly EvaluationTask[],
  runner: EvaluationRunner,
  options: EvaluationOptions,
): Promise<Run[]> {
  const runs: Run[] = [];
  for (const task of tasks) runs.push(finished(task, await runner.run(task), options));
  return runs;
}

/** Every task's run on `options.workers` worker threads, in the tasks' order. */
async function runOnWorkers(
  tasks: readonly EvaluationTask[],
  options: EvaluationOptions & { workers: number },
): Promise<Run[]> {
  const pool = new WorkerPool<EvaluationTask, ClosedLoopResult>(
    join(__dirname, 'evaluation.worker.ts'),
    options.workers,
    {
      workerData: {
        ...options.source!,
        controllers: options.controllers,
      } satisfies EvaluationSource,
      failure: 'CONTROLLER_FAILED',
      label: 'an evaluation worker',
    },
  );
  try {
    return await Promise.all(
      tasks.map(async (task) => finished(task, await pool.run(task), options)),
    );
  } finally {
    await pool.close();
  }
}

/** The row of one run, its score compared with the oracle's on the same scenario and seed. */
function evaluationRow(run: Run, all: readonly Run[]): EvaluationRow {
  const { scenario, controller, seed, result } = run;
  const oracle = all.find(
    (r) => r.scenario === scenario && r.seed === seed && r.controller === 'oracle',
  );
  const { score } = result;
  return {
    scenario,
    controller,
    seed,
    score: score.score,
    fractionOfOracle: oracle ? score.score / oracle.result.score.score : Number.NaN,
    inSpecProduct: score.product,
    inventoryChange: score.inventoryChange,
    overTarget: score.overTarget,
    yield: result.summary.plant.overallYield,
    eFactor: result.summary.plant.eFactor,
    energy: result.energy,
    interventions: result.steps.reduce((sum, s) => sum + s.interventions, 0),
    fallbackCycles: result.steps.reduce((sum, s) => sum + s.fallbackCycles, 0),
    limitViolations: result.limitViolations,
    steps: result.summary.steps.map((s) => ({
      step: s.step,
      conversion: s.conversion,
      inSpecFraction: s.inSpecFraction,
    })),
  };
}
