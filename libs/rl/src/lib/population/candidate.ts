import { SeededRandom } from '@pipac/twin';
import type { PpoConfig } from '../ppo/ppo-trainer';

/** One member of the population: a seed and a full set of PPO hyperparameters. */
export interface CandidateConfig extends Required<
  Pick<
    PpoConfig,
    | 'hidden'
    | 'learningRate'
    | 'gamma'
    | 'lambda'
    | 'clip'
    | 'epochs'
    | 'minibatch'
    | 'initialLogStd'
    | 'entropyCoefficient'
  >
> {
  id: number;
  /** Seed of the candidate's networks, exploration and training environments. */
  seed: number;
}

/** Where the population's hyperparameters are drawn from (candidate 0 is PPO's defaults). */
export const SEARCH_SPACE = {
  hidden: [
    [32, 32],
    [64, 64],
    [128, 128],
    [64, 64, 64],
  ],
  learningRate: [1e-4, 2e-3],
  gamma: [0.95, 0.97, 0.98, 0.99],
  lambda: [0.9, 0.98],
  clip: [0.1, 0.2, 0.3],
  // Epochs per batch: 5. Measured with `npm run bench:budget` (docs/agents.md, "What the
  // update budget buys"): against 10 epochs, 5 scored the same for the textbook candidate
  // (−0.003, seed spread 0.001–0.013) and better across sampled candidates (+0.022: one
  // collapsed at 10 epochs), for 1.5–1.6× the speed; 3 scored 0.018 below 5. A single
  // value still takes its draw, so every other hyperparameter of a candidate is unchanged.
  epochs: [5],
  minibatch: [128, 256],
  initialLogStd: [-1.2, -0.3],
  entropyCoefficient: [0, 0.001],
} as const;

/**
 * The population of `count` candidates from `seed`: candidate i's configuration depends only
 * on (seed, i), so shards and resumed runs agree on it without talking to each other.
 * Learning rates are log-uniform, other ranges uniform, lists picked uniformly.
 */
export function sampleCandidate(seed: number, id: number): CandidateConfig {
  const random = new SeededRandom(seed).fork(`candidate:${id}`);
  const pick = <T>(values: readonly T[]): T =>
    values[Math.floor(random.uniform() * values.length)]!;
  const s = SEARCH_SPACE;
  const candidate: CandidateConfig = {
    id,
    seed: Math.floor(random.uniform() * 2 ** 31),
    hidden: [...pick(s.hidden)],
    learningRate: Math.exp(
      random.between(Math.log(s.learningRate[0]), Math.log(s.learningRate[1])),
    ),
    gamma: pick(s.gamma),
    lambda: random.between(s.lambda[0], s.lambda[1]),
    clip: pick(s.clip),
    epochs: pick(s.epochs),
    minibatch: pick(s.minibatch),
    initialLogStd: random.between(s.initialLogStd[0], s.initialLogStd[1]),
    entropyCoefficient: pick(s.entropyCoefficient),
  };
  if (id === 0) {
    // One candidate is the textbook configuration, so the population never does worse than it.
    Object.assign(candidate, {
      hidden: [64, 64],
      learningRate: 3e-4,
      gamma: 0.98,
      lambda: 0.95,
      clip: 0.2,
      epochs: 10,
      minibatch: 256,
      initialLogStd: -0.5,
      entropyCoefficient: 0,
    });
  }
  return candidate;
}
