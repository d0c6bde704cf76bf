import { compilePlant, type PlantModel, type Recipe } from '@pipac/recipe';
import { StepEnv } from '../env/step-env';
import { PpoTrainer, type PpoState } from '../ppo/ppo-trainer';
import type { CandidateConfig } from './candidate';
import type { TrainingPlan, TrainingStage } from './training-plan';

/** One candidate through one stage: what a worker thread is handed. */
export interface CandidateTask {
  recipe: Recipe;
  stepId: string;
  plan: TrainingPlan;
  stageIndex: number;
  candidate: CandidateConfig;
  /** Parameters after the previous stage; absent for the first. */
  state?: PpoState;
}

export interface StageResult {
  candidate: number;
  stage: string;
  /** Higher is better: reward per control cycle, ≈ 1 is the nominal product on target. */
  score: number;
  /** Return of each scoring episode, per cycle. */
  returns: number[];
  /** Environment steps trained in total after this stage. */
  trainedSteps: number;
  /** Wall time of the stage, s. */
  seconds: number;
  state: PpoState;
}

/**
 * Trains one candidate for one stage and scores it. Pure apart from the clock it reads for
 * `seconds`: the same task gives the same result on any thread, process or pod.
 */
export function runCandidateStage(
  task: CandidateTask,
  onProgress?: (steps: number) => void,
  model: PlantModel = compilePlant(task.recipe),
): StageResult {
  const started = Date.now();
  const { plan, candidate, stepId } = task;
  const stage = plan.stages[task.stageIndex]!;
  const envs = Array.from(
    { length: plan.envs },
    (_, k) =>
      new StepEnv({ model, stepId, seed: candidate.seed + k, episodeSeconds: plan.episodeSeconds }),
  );
  const trainer = new PpoTrainer(envs, candidate.seed, {
    hidden: candidate.hidden,
    learningRate: candidate.learningRate,
    gamma: candidate.gamma,
    lambda: candidate.lambda,
    clip: candidate.clip,
    epochs: candidate.epochs,
    minibatch: candidate.minibatch,
    initialLogStd: candidate.initialLogStd,
    entropyCoefficient: candidate.entropyCoefficient,
    ...(plan.horizon ? { horizon: plan.horizon } : {}),
  });
  try {
    if (task.state) trainer.restore(task.state);
    if (stage.steps > 0) trainer.train(stage.steps, (p) => onProgress?.(p.steps));
    const returns = scoreEpisodes(trainer, model, stepId, plan, task.stageIndex);
    return {
      candidate: candidate.id,
      stage: stage.name,
      score: stageScore(stage, returns),
      returns,
      trainedSteps: trainer.progress.steps,
      seconds: (Date.now() - started) / 1000,
      state: trainer.state(),
    };
  } finally {
    trainer.dispose();
  }
}

/**
 * The score of a stage from its episode returns: the mean, or under domain randomisation the
 * mean of the mean and the worst quarter (a candidate that is good on average but fails on
 * some plants must not win the robust stage).
 */
export function stageScore(stage: TrainingStage, returns: number[]): number {
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  if (!stage.randomisation) return mean;
  const sorted = [...returns].sort((a, b) => a - b);
  const worst = sorted.slice(0, Math.max(1, Math.ceil(sorted.length / 4)));
  return 0.5 * mean + 0.5 * (worst.reduce((a, b) => a + b, 0) / worst.length);
}

/**
 * Runs the stage's scoring episodes with the deterministic policy, all in lockstep (one
 * batched forward pass per cycle). Episode k of a stage has the same seed for every
 * candidate: common random numbers make the ranking fair.
 */
function scoreEpisodes(
  trainer: PpoTrainer,
  model: PlantModel,
  stepId: string,
  plan: TrainingPlan,
  stageIndex: number,
): number[] {
  const stage = plan.stages[stageIndex]!;
  const envs = Array.from(
    { length: stage.episodes },
    (_, k) =>
      new StepEnv({
        model,
        stepId,
        seed: plan.seed * 1_000_003 + stageIndex * 10_007 + k,
        episodeSeconds: plan.episodeSeconds,
        dt: stage.dt ?? 2,
        ...(stage.randomisation ? { randomisation: stage.randomisation } : {}),
      }),
  );
  let observations = envs.map((env) => env.reset());
  const totals = envs.map(() => 0);
  let cycles = 0;
  for (let done = false; !done;) {
    const actions = trainer.act(observations);
    const results = envs.map((env, k) => env.step(actions[k]!));
    results.forEach((r, k) => (totals[k]! += r.reward));
    observations = results.map((r) => r.observation);
    done = results[0]!.done;
    cycles++;
  }
  return totals.map((total) => total / cycles);
}
