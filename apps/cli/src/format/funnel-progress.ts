import { lineChartSvg } from '@pipac/charts';
import {
  candidateStageCost,
  quantile,
  shardCandidates,
  shardKeep,
  type FunnelStage,
  type MergeResult,
  type PopulationProgress,
  type Shard,
  type TrainingPlan,
} from '@pipac/rl';
import { formatTable } from './table';

/**
 * The remaining time of a training run: its work in training steps (every step's candidates
 * through every stage, as many as the plan keeps; `candidateStageCost`), the work done so far,
 * and the rate of the candidates trained in this run (resumed ones cost nothing).
 */
export class TrainingEta {
  private readonly total: number;
  private done = 0;
  private timed = 0;
  private readonly started = Date.now();

  constructor(
    private readonly plan: TrainingPlan,
    steps: number,
    shard: Shard = { index: 0, count: 1 },
  ) {
    const shardSize = shardCandidates(plan.population, shard).length;
    let perStep = 0;
    let alive = shardSize;
    plan.stages.forEach((stage, s) => {
      perStep += alive * candidateStageCost(plan, s);
      alive = shardKeep(stage.keep, plan.population, shardSize);
    });
    this.total = perStep * steps;
  }

  /** Books a finished candidate-stage. */
  record(progress: PopulationProgress): void {
    const s = this.plan.stages.findIndex((stage) => stage.name === progress.stage);
    const cost = candidateStageCost(this.plan, s);
    this.done += cost;
    if (!progress.resumed) this.timed += cost;
  }

  /** Seconds left at the rate so far; undefined until something was trained in this run. */
  secondsLeft(now = Date.now()): number | undefined {
    if (this.timed <= 0) return undefined;
    const rate = this.timed / ((now - this.started) / 1000);
    return Math.max(0, this.total - this.done) / rate;
  }

  /** Share of the run's work done, 0..1. */
  get fraction(): number {
    return this.total > 0 ? Math.min(1, this.done / this.total) : 1;
  }
}

/** The funnel of a step as a table: each stage's candidates in and kept, and their scores. */
export function funnelTable(funnel: readonly FunnelStage[]): string {
  return formatTable(
    ['stage', 'candidates', 'kept', 'min', 'q1', 'median', 'q3', 'max', 'candidate-hours'],
    funnel.map((f) => [
      f.stage,
      f.started,
      f.kept,
      f.score.min,
      f.score.q1,
      f.score.median,
      f.score.q3,
      f.score.max,
      f.candidateSeconds / 3600,
    ]),
  );
}

/**
 * The score distribution of each stage as an SVG: per stage, its candidates' scores from best
 * to worst against the share of the stage's candidates (a quantile curve: where a stage's
 * curve stands at 25 %, a quarter of its candidates scored at least that).
 */
export function funnelSvg(stepId: string, plan: TrainingPlan, merged: MergeResult): string {
  const x = Array.from({ length: 101 }, (_, i) => i);
  const series = plan.stages.map((stage, s) => {
    const scores = merged.population
      .map((p) => p.scores[stage.name])
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    const f = merged.funnel[s]!;
    return {
      label: `${stage.name}: ${f.started} in, ${f.kept} kept`,
      values: x.map((p) => quantile(scores, 1 - p / 100)),
      colour: s,
    };
  });
  return lineChartSvg({
    title: `${stepId}: the selection funnel`,
    subtitle: `${plan.population} candidates, seed ${plan.seed}; scores from best to worst in each stage`,
    xLabel: "share of the stage's candidates, best first (%)",
    x,
    panels: [{ title: 'score', unit: 'reward per cycle', series }],
  });
}
