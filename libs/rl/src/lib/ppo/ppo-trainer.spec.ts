import { ReachEnv } from '../../testing/reach-env';
import { PpoTrainer } from './ppo-trainer';
import { useTensorBackend } from './tensor-backend';

/** Mean return of the deterministic policy over `episodes` fresh episodes. */
function evaluate(trainer: PpoTrainer, seed: number, episodes = 50): number {
  const env = new ReachEnv(seed);
  let total = 0;
  for (let e = 0; e < episodes; e++) {
    let observation = env.reset();
    for (;;) {
      const result = env.step(trainer.act([observation])[0]!);
      total += result.reward;
      if (result.done) break;
      observation = result.observation;
    }
  }
  return total / episodes;
}

describe('PpoTrainer', () => {
  beforeAll(() => useTensorBackend('wasm'));

  it('learns a task with a known optimum to near that optimum', () => {
    const trainer = new PpoTrainer(
      [1, 2, 3, 4].map((s) => new ReachEnv(s)),
      7,
      {
        hidden: [32, 32],
        horizon: 128,
        minibatch: 128,
        learningRate: 1e-3,
        rewardScale: 1,
        gamma: 0.9,
      },
    );
    const before = evaluate(trainer, 99);
    const returns: number[] = [];
    trainer.train(40_000, (p) => returns.push(p.meanReturn));
    const after = evaluate(trainer, 99);
    // Standing still scores about −10.7, the optimum about −2.
    expect(before).toBeLessThan(-8);
    expect(after).toBeGreaterThan(-3);
    expect(returns.at(-1)!).toBeGreaterThan(returns[0]!);
    trainer.dispose();
  }, 120_000);

  it('replays exactly: same seeds, same weights', () => {
    const run = () => {
      const trainer = new PpoTrainer([new ReachEnv(1), new ReachEnv(2)], 3, {
        hidden: [8],
        horizon: 32,
        minibatch: 32,
        epochs: 2,
      });
      trainer.train(128);
      const weights = trainer.policyWeights();
      trainer.dispose();
      return weights.layers.flatMap((l) => [...l.weight, ...l.bias]);
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(first.some((w) => w !== 0)).toBe(true);
  });
});
