import type { Intervention } from '@pipac/control';

/**
 * What to log about a failing policy: its cause when it starts failing (or the cause changes),
 * and that it answers again; nothing on the cycles between. The shield records every cycle's
 * `policy-failed` intervention (readiness, metrics, audit); a log line per cycle would bury the
 * one that says why.
 */
export class PolicyFailureLog {
  private failure: string | undefined;

  /** The line to log after a cycle's shield decision, if any. */
  observe(interventions: readonly Intervention[], modelVersion: string): string | undefined {
    const failure = interventions.find((i) => i.reason === 'policy-failed')?.detail;
    const previous = this.failure;
    this.failure = failure;
    if (failure !== undefined && failure !== previous)
      return `${failure} (model ${modelVersion || 'none'}); the fallback holds the step`;
    if (failure === undefined && previous !== undefined) return 'the policy answers again';
    return undefined;
  }
}
