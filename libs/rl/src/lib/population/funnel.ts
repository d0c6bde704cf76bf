import type { TrainingPlan } from './training-plan';

/** Min, quartiles and max of a set of scores (quartiles interpolated linearly). */
export interface ScoreSummary {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** One stage of the selection: how many went in, how many it kept, how they scored. */
export interface FunnelStage {
  stage: string;
  started: number;
  kept: number;
  score: ScoreSummary;
  /** Sum of the stage's candidates' wall seconds, in whatever threads and pods ran them. */
  candidateSeconds: number;
}

/** What the funnel is built from: each candidate's score and seconds in the stages it reached. */
export interface CandidateScores {
  scores: Record<string, number>;
  seconds?: Record<string, number>;
}

/** The q-quantile (0..1) of ascending `sorted`, linear between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function summariseScores(scores: readonly number[]): ScoreSummary {
  const sorted = [...scores].sort((a, b) => a - b);
  return {
    min: quantile(sorted, 0),
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: quantile(sorted, 1),
  };
}

/**
 * The selection funnel of a step's population: per stage, the candidates it scored, those
 * that reached the next stage (the last stage: those deployed), their score distribution and
 * the compute they took.
 */
export function selectionFunnel(
  plan: TrainingPlan,
  population: readonly CandidateScores[],
  deployed: number,
): FunnelStage[] {
  return plan.stages.map((stage, s) => {
    const inStage = population.filter((p) => p.scores[stage.name] !== undefined);
    const next = plan.stages[s + 1];
    const kept = next
      ? population.filter((p) => p.scores[next.name] !== undefined).length
      : deployed;
    return {
      stage: stage.name,
      started: inStage.length,
      kept,
      score: summariseScores(inStage.map((p) => p.scores[stage.name]!)),
      candidateSeconds: inStage.reduce((sum, p) => sum + (p.seconds?.[stage.name] ?? 0), 0),
    };
  });
}
