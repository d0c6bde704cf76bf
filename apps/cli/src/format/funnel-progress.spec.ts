import { quickPlan, type PopulationProgress } from '@pipac/rl';
import { TrainingEta } from './funnel-progress';

const finished = (stage: string, resumed = false): PopulationProgress => ({
  step: 'nitration',
  stage,
  done: 1,
  total: 1,
  candidate: 0,
  score: 0.5,
  best: 0.5,
  resumed,
});

describe('TrainingEta', () => {
  it('estimates the time left from the work done in this run, every step and stage counted', () => {
    // quickPlan: 32 screened (2,048 steps + 4 episodes), 6 trained (12,288 + 8), 3 robust (12).
    const plan = quickPlan(1);
    const eta = new TrainingEta(plan, 2);
    expect(eta.secondsLeft()).toBeUndefined();
    for (let i = 0; i < 32; i++) eta.record(finished('screen'));
    const screen = 32 * (2048 + (4 * 240) / 3);
    const total = 2 * (screen + 6 * (12_288 + (8 * 240) / 3) + 3 * ((12 * 240) / 3) * 2);
    expect(eta.fraction).toBeCloseTo(screen / total);
    // 100 s for the screen so far: the rest at the same rate.
    const left = eta.secondsLeft(Date.now() + 100_000)!;
    expect(left).toBeCloseTo((100 * (total - screen)) / screen, 0);
  });

  it('counts resumed candidates as done but not toward the rate', () => {
    const eta = new TrainingEta(quickPlan(1), 1);
    eta.record(finished('train', true));
    expect(eta.fraction).toBeGreaterThan(0);
    expect(eta.secondsLeft()).toBeUndefined();
  });
});
