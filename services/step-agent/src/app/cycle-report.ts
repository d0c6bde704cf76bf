import type { Intervention, StepMode } from '@pipac/control';

/** What one control cycle did. */
export interface CycleReport {
  at: number;
  mode: StepMode;
  /** Who decided: the agent, the fallback, or nobody (hold: no inputs yet, or not in Automatic). */
  source: 'agent' | 'fallback' | 'hold' | 'none';
  setpoints: Record<string, number>;
  /** Commands published this cycle (none in shadow mode, Operator or Offline). */
  commands: number;
  interventions: Intervention[];
  modelVersion: string;
  missing?: string[];
}

/** The report of a cycle before anything is decided: nobody decided, nothing written. */
export function startReport(at: number, mode: StepMode, modelVersion: string): CycleReport {
  return { at, mode, source: 'none', setpoints: {}, commands: 0, interventions: [], modelVersion };
}
