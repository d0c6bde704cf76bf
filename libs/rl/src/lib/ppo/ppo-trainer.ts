import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@pipac/twin';
import type { Env } from '../env/env';
import { Mlp, type MlpWeights } from './mlp';
import { RlError } from '../rl.error';

/** PPO hyperparameters; the population varies them. Defaults after Schulman et al. 2017 and CleanRL's continuous PPO. */
export interface PpoConfig {
  /** Hidden layer widths of the policy and value networks. @default [64, 64] */
  hidden?: number[];
  /** Adam step size. @default 3e-4 */
  learningRate?: number;
  /** Discount per control cycle. @default 0.98 */
  gamma?: number;
  /** GAE λ. @default 0.95 */
  lambda?: number;
  /** Clip range of the probability ratio. @default 0.2 */
  clip?: number;
  /** Passes over each batch. @default 10 */
  epochs?: number;
  /** Samples per gradient step. @default 256 */
  minibatch?: number;
  /** Steps per environment per batch. @default 256 */
  horizon?: number;
  /** Initial log standard deviation of the Gaussian policy. @default -0.5 */
  initialLogStd?: number;
  /** Weight of the value loss. @default 0.5 */
  valueCoefficient?: number;
  /** Weight of the entropy bonus. @default 0 */
  entropyCoefficient?: number;
  /** Rewards are multiplied by this before learning (keeps returns near 1). @default 0.1 */
  rewardScale?: number;
}

export interface PpoProgress {
  steps: number;
  updates: number;
  episodes: number;
  /** Mean undiscounted return (unscaled rewards) of the episodes finished in the last batch. */
  meanReturn: number;
  policyStd: number;
}

/** A trainer's learned parameters, to resume from. */
export interface PpoState {
  policy: MlpWeights;
  value: MlpWeights;
  logStd: Float32Array;
  /** Environment steps trained so far. */
  steps: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Proximal policy optimisation (clipped surrogate, GAE), on-policy over a few environments
 * stepped in lockstep. Chosen over SAC for this task because (1) a population of a thousand
 * candidates needs a method that is stable across hyperparameters without per-candidate
 * care, which PPO's clipped update is and SAC's entropy tuning is less so; (2) the twin is
 * cheap (a 60 s control cycle costs about 0.3 ms), so sample efficiency, SAC's strength,
 * matters less than compute per sample, where PPO's few passes over a batch win on two cores;
 * (3) the deployed policy is the Gaussian's mean, one small MLP, which exports to ONNX as is.
 *
 * Tensor work (forward, gradients, Adam) is TensorFlow.js; randomness (initial weights,
 * exploration noise, minibatch order) comes from a seeded generator, so a run replays.
 */
export class PpoTrainer {
  readonly policy: Mlp;
  readonly value: Mlp;
  readonly logStd: tf.Variable;
  readonly config: Required<PpoConfig>;
  private readonly optimizer: tf.Optimizer;
  private readonly random: SeededRandom;
  private readonly observations: Float32Array[];
  private readonly episodeReturns: number[];
  private stepsDone = 0;
  private updates = 0;
  private episodes = 0;

  constructor(
    private readonly envs: Env[],
    seed: number,
    config: PpoConfig = {},
  ) {
    if (envs.length === 0)
      throw new RlError('INVALID_CONFIG', 'PPO needs at least one environment');
    this.config = {
      hidden: config.hidden ?? [64, 64],
      learningRate: config.learningRate ?? 3e-4,
      gamma: config.gamma ?? 0.98,
      lambda: config.lambda ?? 0.95,
      clip: config.clip ?? 0.2,
      epochs: config.epochs ?? 10,
      minibatch: config.minibatch ?? 256,
      horizon: config.horizon ?? 256,
      initialLogStd: config.initialLogStd ?? -0.5,
      valueCoefficient: config.valueCoefficient ?? 0.5,
      entropyCoefficient: config.entropyCoefficient ?? 0,
      rewardScale: config.rewardScale ?? 0.1,
    };
    const { observationSize, actionSize } = envs[0]!;
    this.random = new SeededRandom(seed);
    const hidden = this.config.hidden;
    this.policy = new Mlp([observationSize, ...hidden, actionSize], this.random.fork('policy'), {
      name: 'policy',
      outputGain: 0.01,
    });
    this.value = new Mlp([observationSize, ...hidden, 1], this.random.fork('value'), {
      name: 'value',
      outputGain: 1,
    });
    this.logStd = tf.variable(tf.fill([actionSize], this.config.initialLogStd), true, 'logStd');
    this.optimizer = tf.train.adam(this.config.learningRate);
    this.observations = envs.map((env) => env.reset());
    this.episodeReturns = envs.map(() => 0);
  }

  get progress(): { steps: number; updates: number; episodes: number } {
    return { steps: this.stepsDone, updates: this.updates, episodes: this.episodes };
  }

  /** Trains for at least `steps` more environment steps, in whole batches. */
  train(steps: number, onProgress?: (progress: PpoProgress) => void): void {
    const target = this.stepsDone + steps;
    while (this.stepsDone < target) {
      const returns = this.update();
      onProgress?.({
        ...this.progress,
        meanReturn:
          returns.length > 0 ? returns.reduce((a, b) => a + b, 0) / returns.length : Number.NaN,
        policyStd: Math.exp(mean(this.logStd.dataSync())),
      });
    }
  }

  /** The deterministic policy (the Gaussian's mean) for a batch of observations. */
  act(observations: Float32Array[]): Float32Array[] {
    const means = this.forward(observations, false).means;
    const k = this.envs[0]!.actionSize;
    return observations.map((_, i) => means.slice(i * k, (i + 1) * k));
  }

  policyWeights(): MlpWeights {
    return this.policy.weights();
  }

  /** Everything needed to go on training later (Adam's moments excepted: they start over). */
  state(): PpoState {
    return {
      policy: this.policy.weights(),
      value: this.value.weights(),
      logStd: Float32Array.from(this.logStd.dataSync()),
      steps: this.stepsDone,
    };
  }

  restore(state: PpoState): void {
    this.policy.setWeights(state.policy);
    this.value.setWeights(state.value);
    this.logStd.assign(tf.tensor1d(state.logStd));
    this.stepsDone = state.steps;
  }

  dispose(): void {
    this.policy.dispose();
    this.value.dispose();
    this.logStd.dispose();
    this.optimizer.dispose();
  }

  /** One batch: roll out, estimate advantages, optimise. Returns the finished episodes' returns. */
  private update(): number[] {
    const { horizon, gamma, lambda, rewardScale } = this.config;
    const envs = this.envs;
    const n = envs.length;
    const obsSize = envs[0]!.observationSize;
    const k = envs[0]!.actionSize;
    const total = horizon * n;
    const obs = new Float32Array(total * obsSize);
    const actions = new Float32Array(total * k);
    const logProbs = new Float32Array(total);
    const values = new Float32Array(total + n);
    const rewards = new Float32Array(total);
    const dones = new Uint8Array(total);
    const finished: number[] = [];
    const std = Float32Array.from(this.logStd.dataSync(), Math.exp);
    for (let t = 0; t < horizon; t++) {
      const base = t * n;
      const { means, v } = this.forward(this.observations, true);
      for (let e = 0; e < n; e++) {
        const i = base + e;
        obs.set(this.observations[e]!, i * obsSize);
        values[i] = v[e]!;
        const action = new Float32Array(k);
        let logp = 0;
        for (let j = 0; j < k; j++) {
          const noise = this.random.normal();
          action[j] = means[e * k + j]! + std[j]! * noise;
          logp += -0.5 * noise * noise - Math.log(std[j]!) - 0.5 * LOG_2PI;
        }
        actions.set(action, i * k);
        logProbs[i] = logp;
        const result = envs[e]!.step(action);
        this.episodeReturns[e]! += result.reward;
        rewards[i] = result.reward * rewardScale;
        if (result.done) {
          // Time limit, not a terminal state: bootstrap from the value of where it stopped.
          rewards[i] += gamma * this.forward([result.observation], true).v[0]!;
          dones[i] = 1;
          finished.push(this.episodeReturns[e]!);
          this.episodeReturns[e] = 0;
          this.episodes++;
          this.observations[e] = envs[e]!.reset();
        } else this.observations[e] = result.observation;
      }
    }
    values.set(this.forward(this.observations, true).v, total);
    // Generalised advantage estimation, backwards per environment.
    const advantages = new Float32Array(total);
    const targets = new Float32Array(total);
    for (let e = 0; e < n; e++) {
      let gae = 0;
      for (let t = horizon - 1; t >= 0; t--) {
        const i = t * n + e;
        const next = dones[i] ? 0 : values[(t + 1) * n + e]!;
        const delta = rewards[i]! + gamma * next - values[i]!;
        gae = delta + (dones[i] ? 0 : gamma * lambda * gae);
        advantages[i] = gae;
        targets[i] = gae + values[i]!;
      }
    }
    normalise(advantages);
    this.optimise(obs, actions, logProbs, advantages, targets, obsSize, k);
    this.stepsDone += total;
    this.updates++;
    return finished;
  }

  private optimise(
    obs: Float32Array,
    actions: Float32Array,
    logProbs: Float32Array,
    advantages: Float32Array,
    targets: Float32Array,
    obsSize: number,
    k: number,
  ): void {
    const { epochs, minibatch, clip, valueCoefficient, entropyCoefficient } = this.config;
    const total = logProbs.length;
    const order = Int32Array.from({ length: total }, (_, i) => i);
    const variables = [...this.policy.variables, ...this.value.variables, this.logStd];
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, this.random);
      for (let start = 0; start < total; start += minibatch) {
        const idx = order.subarray(start, Math.min(total, start + minibatch));
        const m = idx.length;
        const bObs = new Float32Array(m * obsSize);
        const bAct = new Float32Array(m * k);
        const bLogp = new Float32Array(m);
        const bAdv = new Float32Array(m);
        const bTarget = new Float32Array(m);
        idx.forEach((i, j) => {
          bObs.set(obs.subarray(i * obsSize, (i + 1) * obsSize), j * obsSize);
          bAct.set(actions.subarray(i * k, (i + 1) * k), j * k);
          bLogp[j] = logProbs[i]!;
          bAdv[j] = advantages[i]!;
          bTarget[j] = targets[i]!;
        });
        tf.tidy(() => {
          const x = tf.tensor2d(bObs, [m, obsSize]);
          const a = tf.tensor2d(bAct, [m, k]);
          const oldLogp = tf.tensor1d(bLogp);
          const adv = tf.tensor1d(bAdv);
          const target = tf.tensor1d(bTarget);
          this.optimizer.minimize(
            () => {
              const meanAction = this.policy.apply(x);
              const logStd = this.logStd;
              const z = tf.div(tf.sub(a, meanAction), tf.exp(logStd));
              const logp = tf.sub(
                tf.mul(-0.5, tf.sum(tf.square(z), 1)),
                tf.add(tf.sum(logStd), 0.5 * k * LOG_2PI),
              );
              const ratio = tf.exp(tf.sub(logp, oldLogp));
              const surrogate = tf.minimum(
                tf.mul(ratio, adv),
                tf.mul(tf.clipByValue(ratio, 1 - clip, 1 + clip), adv),
              );
              const v = tf.reshape(this.value.apply(x), [m]);
              const valueLoss = tf.mean(tf.square(tf.sub(v, target)));
              const entropy = tf.sum(tf.add(logStd, 0.5 * (1 + LOG_2PI)));
              return tf.sub<tf.Scalar>(
                tf.add(tf.neg(tf.mean(surrogate)), tf.mul(valueCoefficient, valueLoss)),
                tf.mul(entropyCoefficient, entropy),
              );
            },
            false,
            variables,
          );
        });
      }
    }
  }

  /** Policy means (and values) for a batch of observations, in one pass each. */
  private forward(
    observations: Float32Array[],
    withValues: boolean,
  ): { means: Float32Array; v: Float32Array } {
    const size = this.envs[0]!.observationSize;
    return tf.tidy(() => {
      const x = tf.tensor2d(concat(observations, size), [observations.length, size]);
      return {
        means: this.policy.apply(x).dataSync() as Float32Array,
        v: withValues ? (this.value.apply(x).dataSync() as Float32Array) : new Float32Array(0),
      };
    });
  }
}

function concat(rows: Float32Array[], size: number): Float32Array {
  const out = new Float32Array(rows.length * size);
  rows.forEach((row, i) => out.set(row, i * size));
  return out;
}

function normalise(values: Float32Array): void {
  const mu = mean(values);
  let variance = 0;
  for (const v of values) variance += (v - mu) ** 2;
  const sd = Math.sqrt(variance / Math.max(1, values.length)) + 1e-8;
  for (let i = 0; i < values.length; i++) values[i] = (values[i]! - mu) / sd;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length > 0 ? sum / values.length : 0;
}

/** Fisher–Yates with the seeded generator. */
function shuffle(order: Int32Array, random: SeededRandom): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
}
