/** The result of one environment step. */
export interface EnvStep {
  observation: Float32Array;
  reward: number;
  /** The episode ended with this step (time limit): the next call must be reset(). */
  done: boolean;
  /** Diagnostics, never used for learning. */
  info: Record<string, number>;
}

/**
 * A reinforcement-learning environment with continuous actions in −1..1 (Gymnasium's
 * reset/step contract, without the terminated/truncated split: every episode here ends on
 * its time limit, so the trainer bootstraps the value at the end).
 */
export interface Env {
  readonly observationSize: number;
  readonly actionSize: number;
  reset(): Float32Array;
  step(action: Float32Array): EnvStep;
}
