import { StepObserver } from './step-observer';
import type { StepController } from './step-controller';
import type { StepReadings } from './step-readings';
import type { StepSpace } from './step-space';
import { PolicyError } from './policy.error';
import { systemTimers, withDeadline, type DeadlineTimers } from './policy-deadline';

/**
 * A trained policy: observation vector in, action vector (−1..1 per manipulated setpoint) out.
 * Implemented by the ONNX runner in services and by the trainer's network in training.
 */
export interface Policy {
  /** Model version for the audit trail and the setpoint commands ('sha256:…'). */
  readonly version: string;
  act(observation: Float32Array): Promise<Float32Array>;
}

export interface PolicyControllerOptions {
  /**
   * Longest an inference may take, ms; past it `decide` rejects (PolicyError DEADLINE_EXCEEDED)
   * and the shield hands the cycle to the fallback. The step agent sets a quarter of its cycle.
   * @default Infinity (none: training and evaluation run in simulated time)
   */
  deadlineMs?: number;
  /** @default the system's setTimeout and clearTimeout */
  timers?: DeadlineTimers;
}

/**
 * Runs a policy as a step controller: builds the observation from the readings (remembering
 * the previous analyser result for the trend feature) and maps the action onto the agent's
 * setpoint ranges. The shield still stands between it and the devices.
 */
export class PolicyController implements StepController {
  readonly name: string;
  private readonly observer: StepObserver;
  private readonly observation: Float32Array<ArrayBuffer>;

  constructor(
    private readonly space: StepSpace,
    private readonly policy: Policy,
    private readonly options: PolicyControllerOptions = {},
  ) {
    this.name = `agent:${policy.version}`;
    this.observer = new StepObserver(space);
    this.observation = new Float32Array(space.observationSize);
  }

  async decide(readings: StepReadings): Promise<Record<string, number>> {
    const action = await withDeadline(
      this.policy.act(this.observer.observe(readings, this.observation)),
      this.options.deadlineMs ?? Infinity,
      `policy ${this.policy.version}`,
      this.options.timers ?? systemTimers,
    );
    for (let i = 0; i < action.length; i++) {
      if (!Number.isFinite(action[i]!))
        throw new PolicyError(
          'NON_FINITE_ACTION',
          `policy ${this.policy.version} returned ${action[i]}`,
        );
    }
    return this.space.toSetpoints(action);
  }

  reset(): void {
    this.observer.reset();
  }
}
