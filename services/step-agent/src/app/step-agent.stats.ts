/** The step agent's counters, for the health endpoints and the tests. */
export interface StepAgentStats {
  cycles: number;
  /** Sensor events taken in. */
  readings: number;
  commands: number;
  interventions: Record<string, number>;
  modelVersion: string;
  modelLoadedAt: number;
  lastReadingAt: number;
  busConnected: boolean;
}

/** The counters of an agent that has done nothing yet. */
export function newStepAgentStats(): StepAgentStats {
  return {
    cycles: 0,
    readings: 0,
    commands: 0,
    interventions: {},
    modelVersion: '',
    modelLoadedAt: 0,
    lastReadingAt: 0,
    busConnected: false,
  };
}

/** Counts the shield's interventions by reason. */
export function countInterventions(
  stats: StepAgentStats,
  interventions: readonly { reason: string }[],
): void {
  for (const i of interventions) {
    stats.interventions[i.reason] = (stats.interventions[i.reason] ?? 0) + 1;
  }
}
