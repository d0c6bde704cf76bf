import { quantile, selectionFunnel, summariseScores } from './funnel';
import { quickPlan } from './training-plan';

describe('the selection funnel', () => {
  it('summarises scores by min, quartiles (linear between order statistics) and max', () => {
    expect(summariseScores([4, 1, 3, 2, 5])).toEqual({ min: 1, q1: 2, median: 3, q3: 4, max: 5 });
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([7], 0.75)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('counts each stage in and out, from the scores the candidates reached', () => {
    const plan = quickPlan(1); // screen keeps 6, train keeps 3, robust deploys 1
    const population = Array.from({ length: 32 }, (_, id) => {
      const scores: Record<string, number> = { screen: id / 100 };
      const seconds: Record<string, number> = { screen: 2 };
      if (id >= 26) {
        scores['train'] = id / 50;
        seconds['train'] = 10;
      }
      if (id >= 29) {
        scores['robust'] = id / 40;
        seconds['robust'] = 5;
      }
      return { scores, seconds };
    });
    const funnel = selectionFunnel(plan, population, 1);
    expect(funnel.map((f) => [f.stage, f.started, f.kept])).toEqual([
      ['screen', 32, 6],
      ['train', 6, 3],
      ['robust', 3, 1],
    ]);
    expect(funnel[0]!.score.min).toBe(0);
    expect(funnel[0]!.score.max).toBeCloseTo(0.31);
    expect(funnel[2]!.score.median).toBeCloseTo(30 / 40);
    expect(funnel.map((f) => f.candidateSeconds)).toEqual([64, 60, 15]);
  });
});
