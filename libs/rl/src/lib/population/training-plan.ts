import type { Randomisation } from '../env/step-env';
import { RlError } from '../rl.error';

/** One stage of the staged selection. */
export interface TrainingStage {
  name: string;
  /** Environment steps each candidate trains in this stage (0: evaluate only). */
  steps: number;
  /** Evaluation episodes that score the candidate after the stage (the same for every candidate). */
  episodes: number;
  /** Domain randomisation of the scoring episodes (training always uses the nominal mix). */
  randomisation?: Randomisation;
  /** Integration step of the scoring episodes, s. @default 2 */
  dt?: number;
  /** Candidates that go on to the next stage (or are deployed, after the last). */
  keep: number;
}

/**
 * A population training run: how many candidates, and the stages that whittle them down.
 * The default follows the brief: about 1,000 candidates, the best 100 on nominal conditions
 * go on, the few that stay best under domain randomisation are deployed.
 */
export interface TrainingPlan {
  population: number;
  /** Seed of the whole run: candidates, environments, evaluation episodes. */
  seed: number;
  /** Parallel training environments per candidate. */
  envs: number;
  /** Steps per environment per PPO batch. @default 256 */
  horizon?: number;
  /** Episode length in training and scoring, s. */
  episodeSeconds: number;
  stages: TrainingStage[];
}

/**
 * What the robust stage scores: adapting, as the seed means it. Every named scenario (analyser
 * outages and drifts among them) at up to 1.5 × the trained severity (drifts, fouling,
 * deactivation, pump errors and analyser faults up to half as far again beyond the ranges
 * the agents trained on), on a plant whose kinetics are off by up to ±30 %.
 */
export const ROBUST: Randomisation = {
  kineticMismatch: [0.7, 1.3],
  severity: [1, 1.5],
};

/** Quick: minutes per step on two cores, for demos and CI. */
export function quickPlan(seed = 1): TrainingPlan {
  return {
    population: 32,
    seed,
    envs: 4,
    episodeSeconds: 4 * 3600,
    stages: [
      { name: 'screen', steps: 2048, episodes: 4, keep: 6 },
      { name: 'train', steps: 12_288, episodes: 8, keep: 3 },
      { name: 'robust', steps: 0, episodes: 12, randomisation: ROBUST, dt: 1, keep: 1 },
    ],
  };
}

/** The default run: 1,000 candidates, the best 100 go on, the 3 most robust are deployed. */
export function defaultPlan(seed = 1): TrainingPlan {
  return {
    population: 1000,
    seed,
    envs: 4,
    episodeSeconds: 4 * 3600,
    stages: [
      { name: 'screen', steps: 4096, episodes: 4, keep: 100 },
      { name: 'train', steps: 61_440, episodes: 16, keep: 10 },
      { name: 'robust', steps: 0, episodes: 48, randomisation: ROBUST, dt: 1, keep: 3 },
    ],
  };
}

/**
 * What one candidate's stage costs, in training steps: the steps it trains, plus its scoring
 * episodes' environment steps at a third of a training step each (an environment step alone,
 * measured: 7,500–8,900 per second against 2,100–2,600 training at 5 epochs, docs/agents.md),
 * doubled for each halving of the scoring dt. For progress and estimates, not for results.
 */
export function candidateStageCost(plan: TrainingPlan, stageIndex: number): number {
  const stage = plan.stages[stageIndex]!;
  const scoringSteps = stage.episodes * (plan.episodeSeconds / 60);
  return stage.steps + (scoringSteps / 3) * (2 / (stage.dt ?? 2));
}

/**
 * The plan for another population size: each stage keeps the same share of what it gets,
 * but the stages before the last keep at least twice as many as the last deploys (so the
 * robust stage always chooses), and no stage keeps more than it gets. 100 candidates of the
 * default plan: 100 → 10 → 6 → 3.
 */
export function scalePlan(plan: TrainingPlan, population: number): TrainingPlan {
  const deployed = plan.stages.at(-1)!.keep;
  const scale = population / plan.population;
  let alive = population;
  const stages = plan.stages.map((stage, s) => {
    const last = s === plan.stages.length - 1;
    const floor = last ? deployed : 2 * deployed;
    const keep = Math.min(alive, Math.max(floor, Math.round(stage.keep * scale)));
    alive = keep;
    return { ...stage, keep };
  });
  return { ...plan, population, stages };
}

/** Refuses a plan that cannot run: stages that keep more than they get, no steps at all. */
export function validatePlan(plan: TrainingPlan): void {
  if (!(Number.isInteger(plan.population) && plan.population >= 1))
    throw new RlError(
      'INVALID_PLAN',
      `population must be a positive integer, got ${plan.population}`,
    );
  if (plan.stages.length === 0)
    throw new RlError('INVALID_PLAN', 'a plan needs at least one stage');
  let alive = plan.population;
  for (const stage of plan.stages) {
    if (!(stage.keep >= 1 && stage.keep <= alive))
      throw new RlError(
        'INVALID_PLAN',
        `stage ${stage.name} keeps ${stage.keep} of ${alive} candidates`,
      );
    if (!(stage.episodes >= 1))
      throw new RlError('INVALID_PLAN', `stage ${stage.name} needs at least one scoring episode`);
    alive = stage.keep;
  }
  if (plan.stages[0]!.steps <= 0) throw new RlError('INVALID_PLAN', 'the first stage must train');
}
