import {
  ROBUST,
  candidateStageCost,
  defaultPlan,
  quickPlan,
  scalePlan,
  validatePlan,
} from './training-plan';

const keeps = (plan: ReturnType<typeof defaultPlan>) => [
  plan.population,
  ...plan.stages.map((s) => s.keep),
];

describe('training plans', () => {
  it('runs the seed funnel by default: 1,000 → 100 → 10 → 3, the robust stage choosing 3 of 10', () => {
    expect(keeps(defaultPlan(1))).toEqual([1000, 100, 10, 3]);
    expect(keeps(quickPlan(1))).toEqual([32, 6, 3, 1]);
  });

  it('scales to another population and still lets the robust stage choose', () => {
    // Scaled naively 100 → 10 → 1 → 3 would hand the robust stage 3 and ask it to keep 3.
    expect(keeps(scalePlan(defaultPlan(1), 100))).toEqual([100, 10, 6, 3]);
    expect(keeps(scalePlan(defaultPlan(1), 1000))).toEqual([1000, 100, 10, 3]);
    expect(keeps(scalePlan(quickPlan(1), 2))).toEqual([2, 2, 2, 1]);
    for (const population of [1, 5, 37, 250, 4000])
      validatePlan(scalePlan(defaultPlan(1), population));
  });

  it('scores the robust stage beyond the trained range: kinetic mismatch and stronger scenarios', () => {
    const robust = defaultPlan(1).stages.at(-1)!;
    expect(robust.randomisation).toBe(ROBUST);
    expect(ROBUST.kineticMismatch).toEqual([0.7, 1.3]);
    expect(ROBUST.severity![1]).toBeGreaterThan(1);
    expect(ROBUST.scenarios).toBeUndefined(); // every scenario, analyser faults among them
  });

  it('costs a candidate-stage its training steps plus a third of each scoring step, more at a finer dt', () => {
    const plan = defaultPlan(1);
    expect(candidateStageCost(plan, 0)).toBe(4096 + (4 * 240) / 3);
    expect(candidateStageCost(plan, 2)).toBe(((48 * 240) / 3) * 2);
  });
});
