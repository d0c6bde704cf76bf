import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { buildScenario } from '@pipac/twin';
import { StepEnv, type StepEnvOptions } from './step-env';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));
const quiet: Partial<StepEnvOptions> = {
  episodeSeconds: 3600,
  targetRange: [1, 1],
  randomisation: { scenarios: ['nominal'] },
};

function episode(
  env: StepEnv,
  action: (t: number) => number[],
): { rewards: number[]; steps: number } {
  env.reset();
  const rewards: number[] = [];
  for (let t = 0; ; t++) {
    const result = env.step(Float32Array.from(action(t)));
    rewards.push(result.reward);
    expect(result.observation).toHaveLength(env.observationSize);
    for (const x of result.observation) expect(Number.isFinite(x)).toBe(true);
    if (result.done) return { rewards, steps: t + 1 };
  }
}

describe('StepEnv', () => {
  it('runs an episode of episodeSeconds / cycle steps, paying about one nominal product per cycle at the recipe setpoints', () => {
    const env = new StepEnv({ model, stepId: 'nitration', seed: 1, ...quiet });
    const nominal = Array.from(env.space.toAction(env.space.nominalSetpoints()));
    const { rewards, steps } = episode(env, () => nominal);
    expect(steps).toBe(60);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    expect(mean).toBeGreaterThan(0.8);
    expect(mean).toBeLessThan(1.05);
  });

  it('pays less for running the step off spec, and for thrashing the setpoints', () => {
    const env = new StepEnv({ model, stepId: 'nitration', seed: 1, ...quiet });
    const nominal = Array.from(env.space.toAction(env.space.nominalSetpoints()));
    const total = (rewards: number[]) => rewards.reduce((a, b) => a + b, 0);
    const steady = total(episode(env, () => nominal).rewards);
    // Full phenol flow, least acid, coldest jacket: conversion falls below spec.
    const offSpec = total(episode(env, () => [1, -1, -1]).rewards);
    const thrashing = total(
      episode(env, (t) => nominal.map((a) => a + (t % 2 ? 0.3 : -0.3))).rewards,
    );
    expect(offSpec).toBeLessThan(steady - 10);
    expect(thrashing).toBeLessThan(steady);
  });

  it('replays: the same seed and actions give the same rewards and scenarios', () => {
    const run = () => {
      const env = new StepEnv({ model, stepId: 'hydrogenation', seed: 42, episodeSeconds: 1800 });
      const first = episode(env, (t) => [Math.sin(t), Math.cos(t), 0]).rewards;
      const second = episode(env, () => [0, 0, 0.5]).rewards;
      return { rewards: [...first, ...second], scenario: env.currentScenario };
    };
    const a = run();
    const b = run();
    expect(b.rewards).toEqual(a.rewards);
    expect(b.scenario).toEqual(a.scenario);
  });

  it('simulates only what reaches its step, and at its own dt pays exactly what the whole plant would', () => {
    // Every scenario, the drawn targets and a kinetic mismatch, with the agent moving.
    const options = {
      model,
      stepId: 'hydrogenation',
      seed: 5,
      episodeSeconds: 3600,
      randomisation: { kineticMismatch: [0.8, 1.2] as [number, number] },
    };
    const run = (wholePlant: boolean) => {
      const env = new StepEnv({ ...options, wholePlant, upstreamDt: 2 });
      const out: { rewards: number[]; scenarios: string[] } = { rewards: [], scenarios: [] };
      for (let e = 0; e < 3; e++) {
        out.rewards.push(...episode(env, (t) => [Math.sin(t / 3), Math.cos(t / 5), 0.2]).rewards);
        out.scenarios.push(env.currentScenario.name);
      }
      return out;
    };
    const whole = run(true);
    const focused = run(false);
    expect(focused.rewards).toEqual(whole.rewards);
    expect(focused.scenarios).toEqual(whole.scenarios);
  });

  it('with the steps upstream at the control cycle, pays within a bound of the whole plant', () => {
    // The last step, two coarse steps upstream; every scenario can come up, with a mismatch.
    const run = (wholePlant: boolean) => {
      const env = new StepEnv({
        model,
        stepId: 'acetylation',
        seed: 3,
        episodeSeconds: 7200,
        randomisation: { kineticMismatch: [0.8, 1.2] },
        wholePlant,
      });
      const rewards: number[] = [];
      for (let e = 0; e < 4; e++)
        rewards.push(
          ...episode(env, (t) => [Math.sin(t / 7), Math.cos(t / 11), 0.3 * Math.sin(t / 5)])
            .rewards,
        );
      return rewards;
    };
    const whole = run(true);
    const coarse = run(false);
    expect(coarse).toHaveLength(whole.length);
    expect(coarse).not.toEqual(whole); // coarse upstream is an approximation
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Measured: 0.003 % in total, 0.001 per cycle (a cycle's nominal product is 1).
    expect(Math.abs(total(coarse) / total(whole) - 1)).toBeLessThan(5e-4);
    const worst = Math.max(...coarse.map((r, i) => Math.abs(r - whole[i]!)));
    expect(worst).toBeLessThan(5e-3);
  });

  it("draws each episode's scenario severity from its range (the robust stage's beyond-range scenarios)", () => {
    const env = new StepEnv({
      model,
      stepId: 'nitration',
      seed: 9,
      episodeSeconds: 3600,
      randomisation: { scenarios: ['fouling'], severity: [1.5, 1.5] },
    });
    env.reset();
    const drawn = env.currentScenario;
    const severe = buildScenario('fouling', model, drawn.seed, 3600, { severity: 1.5 });
    const realistic = buildScenario('fouling', model, drawn.seed, 3600);
    expect(drawn.disturbances).toEqual(severe.disturbances);
    expect(drawn.disturbances).not.toEqual(realistic.disturbances);
  });
});
