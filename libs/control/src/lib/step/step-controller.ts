import type { StepReadings } from './step-readings';

/**
 * Anything that runs one step: the fixed recipe, the PID loop, the oracle, a trained agent.
 * It proposes setpoints for the step's manipulated tags each control cycle; the safety
 * shield, not the controller, decides what reaches the devices.
 */
export interface StepController {
  /** Short name for tables and the audit trail: 'fixed-recipe', 'pid', 'oracle', 'agent:<version>'. */
  readonly name: string;
  /** Proposed setpoints for this cycle, by tag (a promise where inference is asynchronous: ONNX). */
  decide(readings: StepReadings): Record<string, number> | Promise<Record<string, number>>;
  /** Starts over from the applied setpoints (bumpless transfer after another source held the step). */
  reset(readings: StepReadings): void;
}
