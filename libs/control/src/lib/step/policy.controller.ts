import { StepObserver } from './step-observer';
import type { StepController } from './step-controller';
import type { StepReadings } from './step-readings';
import type { StepSpace } from './step-space';
import { PolicyError } from './policy.error';

/**
 * A trained policy: observation vector in, action vector (−1..1 per manipulated setpoint) out.
 * Implemented by the ONNX runner in services and by the trainer's network in training.
 */
export interface Policy {
  /** Model version for the audit trail and the setpoint commands ('sha256:…'). */
  readonly version: string;
  act(observation: Float32Array): Promise<Float32Array>;
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
  ) {
    this.name = `agent:${policy.version}`;
    this.observer = new StepObserver(space);
    this.observation = new Float32Array(space.observationSize);
  }

  async decide(readings: StepReadings): Promise<Record<string, number>> {
    const action = await this.policy.act(this.observer.observe(readings, this.observation));
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
