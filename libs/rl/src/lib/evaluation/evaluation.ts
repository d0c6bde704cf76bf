import {
  ConversionPidController,
  FixedRecipeController,
  identifyStepLags,
  loadLpSolver,
  operatingPointPid,
  PlantOracle,
  PolicyController,
  StepMpcController,
  StepSpace,
  tuneConversionPid,
  type InputLag,
  type LpSolver,
  type ConversionPidTuning,
  type Policy,
  type StepController,
} from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';
import { buildScenario, type Plant } from '@pipac/twin';
import { runClosedLoop, type ClosedLoopResult, type StepControl } from './closed-loop';
import { controllerStats, type ControllerStats } from './controller-stats';
import { productValuation } from './product-value';
import { checkTargets, type TargetCheck } from './target-checks';
import { RlError } from '../rl.error';

export type ControllerKind = 'agent' | 'mpc' | 'pid' | 'fixed-recipe' | 'oracle';
export const CONTROLLER_KINDS: readonly ControllerKind[] = [
  'agent',
  'mpc',
  'pid',
  'fixed-recipe',
  'oracle',
];

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
  onRun?: (
    scenario: string,
    controller: ControllerKind,
    seed: number,
    result: ClosedLoopResult,
  ) => void;
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
}

/** What every run of an evaluation shares: the PID set-ups, the oracle's LP solver. */
interface Setups {
  /** The "pid" baseline's set-up. */
  baseline: Record<string, ConversionPidTuning>;
  /** The agents' fallback's (as deployed). */
  fallback: Record<string, ConversionPidTuning>;
  lp: LpSolver | undefined;
  /** The MPC's input lags per step, identified on the twin once (step tests). */
  mpcLags: Record<string, InputLag[]>;
}

/**
 * `pipac eval`: every named scenario for every controller on the same twin, seeds and
 * durations, each step behind its own safety shield. The agent runs its ONNX policies with the
 * PID as the shield's fallback (as deployed); the baselines run alone within the engineering
 * limits; the oracle sees the true disturbed plant. Each scenario runs over `seeds` seeds
 * (disturbance draws and plant noise), so a lucky draw cannot decide a ranking.
 */
export async function evaluateControllers(options: EvaluationOptions): Promise<Evaluation> {
  const { model } = options;
  const pids: Setups = {
    baseline: Object.fromEntries(model.steps.map((s) => [s.id, operatingPointPid(model, s.id)])),
    fallback: Object.fromEntries(model.steps.map((s) => [s.id, tuneConversionPid(model, s.id)])),
    lp: options.controllers.includes('oracle') ? await loadLpSolver() : undefined,
    mpcLags: options.controllers.includes('mpc')
      ? Object.fromEntries(
          model.steps.map((s) => [s.id, identifyStepLags(new StepSpace(model, s.id))]),
        )
      : {},
  };
  const seeds = Array.from({ length: options.seeds ?? DEFAULT_SEEDS }, (_, i) => options.seed + i);
  const results: Run[] = [];
  for (const name of options.scenarios) {
    for (const seed of seeds) {
      const scenario = buildScenario(name, model, seed, options.duration);
      for (const kind of options.controllers) {
        const result = await runClosedLoop({
          model,
          scenario,
          ...(options.dt ? { dt: options.dt } : {}),
          control: (plant, spaces) =>
            controlsFor(kind, { plant, spaces, end: scenario.duration }, pids, options.policies),
        });
        results.push({ scenario: name, controller: kind, seed, result });
        options.onRun?.(name, kind, seed, result);
      }
    }
  }
  const rows = results.map((run) => evaluationRow(run, results));
  const stats = controllerStats(rows);
  return {
    seeds,
    rows,
    stats,
    checks: checkTargets(stats),
    runs: results
      .filter((r) => r.seed === seeds[0])
      .map(({ scenario, controller, result }) => ({ scenario, controller, result })),
    tunings: pids.baseline,
  };
}

/** How each step is run by a controller of `kind`. */
function controlsFor(
  kind: ControllerKind,
  run: { plant: Plant; spaces: StepSpace[]; end: number },
  pids: Setups,
  policies: Record<string, Policy> | undefined,
): Record<string, StepControl> {
  const { plant, spaces } = run;
  if (kind === 'oracle') {
    const oracle = new PlantOracle(plant, spaces, {
      valuation: productValuation(plant.model),
      lp: pids.lp!,
      end: run.end,
    });
    return Object.fromEntries(
      Object.entries(oracle.controllers()).map(([id, controller]) => [
        id,
        { controller, agentLimits: false },
      ]),
    );
  }
  const controls: Record<string, StepControl> = {};
  const valuation = productValuation(plant.model);
  for (const space of spaces) {
    const id = space.step.id;
    if (kind === 'mpc') {
      const index = space.step.index;
      controls[id] = {
        controller: new StepMpcController(space, {
          prices: {
            keyReactant: valuation.perKeyMole[index]!,
            product: valuation.perProductMole[index]!,
          },
          lags: pids.mpcLags[id]!,
        }),
        // Behind the agent's shield with the agent's fallback: the same terms as the agent.
        fallback: new ConversionPidController(space, pids.fallback[id]!),
        agentLimits: true,
      };
      continue;
    }
    if (kind === 'agent') {
      const policy = policies?.[id];
      if (!policy) throw new RlError('INVALID_CONFIG', `no trained policy for step ${id}`);
      controls[id] = {
        controller: new PolicyController(space, policy),
        // As deployed: the step agent's fallback, set up conservatively (tuneConversionPid).
        fallback: new ConversionPidController(space, pids.fallback[id]!),
        agentLimits: true,
      };
      continue;
    }
    let controller: StepController;
    if (kind === 'pid') controller = new ConversionPidController(space, pids.baseline[id]!);
    else controller = new FixedRecipeController(space);
    controls[id] = { controller, agentLimits: false };
  }
  return controls;
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
