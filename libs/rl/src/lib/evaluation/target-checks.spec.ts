import type { ControllerStats } from './controller-stats';
import type { ControllerKind } from './evaluation-runner';
import { ORACLE_BOUND, checkTargets, oracleBoundBroken } from './target-checks';

const interval = (mean: number, halfWidth = 0) => ({ mean, halfWidth, n: 10 });

/** One scenario's statistics for a controller, with its score and fraction of the oracle. */
function stats(controller: ControllerKind, fraction: number, halfWidth = 0): ControllerStats {
  const figure = interval(0);
  return {
    scenario: 'nominal',
    controller,
    seeds: 10,
    score: interval(170 * fraction),
    fractionOfOracle: interval(fraction, halfWidth),
    inSpecProduct: figure,
    inventoryChange: figure,
    overTarget: figure,
    yield: figure,
    eFactor: figure,
    energy: figure,
    interventions: figure,
    fallbackCycles: figure,
    limitViolations: 0,
    steps: [],
  };
}

describe('checkTargets and the oracle bound', () => {
  it('holds while every controller is at or below the oracle within its interval', () => {
    const checks = checkTargets([
      stats('agent', 1.01, 0.02),
      stats('pid', 0.9),
      stats('oracle', 1),
    ]);
    expect(checks.find((c) => c.target === ORACLE_BOUND)).toMatchObject({ met: true });
    expect(oracleBoundBroken(checks)).toEqual([]);
  });

  it('is broken by a controller above the oracle beyond its interval, and names it', () => {
    const checks = checkTargets([
      stats('agent', 1.05, 0.02),
      stats('pid', 0.9),
      stats('oracle', 1),
    ]);
    expect(oracleBoundBroken(checks)).toEqual([
      expect.objectContaining({ scenario: 'nominal', met: false, detail: 'agent 105.0 %' }),
    ]);
  });

  it('judges one seed (no interval) by its mean', () => {
    const checks = checkTargets([stats('pid', 1.001, Number.NaN), stats('oracle', 1)]);
    expect(oracleBoundBroken(checks)).toHaveLength(1);
  });

  it('checks the agent against the MPC where the MPC ran, and says where it falls short', () => {
    const checks = checkTargets([stats('agent', 0.95), stats('mpc', 0.97), stats('oracle', 1)]);
    expect(checks.find((c) => c.target === 'agent ≥ MPC')).toMatchObject({
      met: false,
      detail: '161.5 g vs 164.9 g',
    });
    expect(
      checkTargets([stats('agent', 0.95), stats('oracle', 1)]).map((c) => c.target),
    ).not.toContain('agent ≥ MPC');
  });
});
