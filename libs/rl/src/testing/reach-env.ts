import { SeededRandom } from '@pipac/twin';
import type { Env, EnvStep } from '../lib/env/env';

/**
 * A task with a known optimum for testing learners: a point on −1..1 must reach a goal. The
 * observation is (position, goal), the action a velocity in −1..1 (0.25 per step at full
 * speed), the reward −|position − goal| per step, 16 steps per episode. Going straight to the
 * goal returns about −2 per episode on average; standing still about −10.7; a random policy
 * worse.
 */
export class ReachEnv implements Env {
  readonly observationSize = 2;
  readonly actionSize = 1;
  private readonly random: SeededRandom;
  private position = 0;
  private goal = 0;
  private t = 0;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  reset(): Float32Array {
    this.position = this.random.between(-1, 1);
    this.goal = this.random.between(-1, 1);
    this.t = 0;
    return Float32Array.of(this.position, this.goal);
  }

  step(action: Float32Array): EnvStep {
    const velocity = Math.max(-1, Math.min(1, action[0]!));
    this.position = Math.max(-1, Math.min(1, this.position + 0.25 * velocity));
    this.t++;
    return {
      observation: Float32Array.of(this.position, this.goal),
      reward: -Math.abs(this.position - this.goal),
      done: this.t >= 16,
      info: {},
    };
  }
}
