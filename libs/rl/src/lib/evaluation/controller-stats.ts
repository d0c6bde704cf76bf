import type { EvaluationRow } from './evaluation';
import type { ControllerKind } from './evaluation-runner';
import { meanInterval, type MeanInterval } from './interval';

/** One scenario and controller over the seeds: mean and 95 % interval (Student t) of each figure. */
export interface ControllerStats {
  scenario: string;
  controller: ControllerKind;
  seeds: number;
  score: MeanInterval;
  fractionOfOracle: MeanInterval;
  inSpecProduct: MeanInterval;
  inventoryChange: MeanInterval;
  overTarget: MeanInterval;
  yield: MeanInterval;
  eFactor: MeanInterval;
  energy: MeanInterval;
  interventions: MeanInterval;
  fallbackCycles: MeanInterval;
  /** Summed over the seeds. */
  limitViolations: number;
  steps: { step: string; conversion: MeanInterval; inSpecFraction: MeanInterval }[];
}

const FIGURES = [
  'score',
  'fractionOfOracle',
  'inSpecProduct',
  'inventoryChange',
  'overTarget',
  'yield',
  'eFactor',
  'energy',
  'interventions',
  'fallbackCycles',
] as const;

/** The rows grouped by scenario and controller (in the order they first occur), each summarised over its seeds. */
export function controllerStats(rows: readonly EvaluationRow[]): ControllerStats[] {
  const groups = new Map<string, EvaluationRow[]>();
  for (const row of rows) {
    const key = `${row.scenario}\u0000${row.controller}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => summarise(group));
}

function summarise(group: EvaluationRow[]): ControllerStats {
  const first = group[0]!;
  const figures = Object.fromEntries(
    FIGURES.map((figure) => [figure, meanInterval(group.map((r) => r[figure]))]),
  ) as Record<(typeof FIGURES)[number], MeanInterval>;
  return {
    scenario: first.scenario,
    controller: first.controller,
    seeds: group.length,
    ...figures,
    limitViolations: group.reduce((sum, r) => sum + r.limitViolations, 0),
    steps: first.steps.map(({ step }, s) => ({
      step,
      conversion: meanInterval(group.map((r) => r.steps[s]!.conversion)),
      inSpecFraction: meanInterval(group.map((r) => r.steps[s]!.inSpecFraction)),
    })),
  };
}
