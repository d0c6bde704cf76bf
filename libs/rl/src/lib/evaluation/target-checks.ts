import type { ControllerStats } from './controller-stats';

/** The deployed agents' quality targets (issues 4 and 16). */
export const TARGET_FRACTION_OF_ORACLE = 0.97;

/** The check that the oracle bounds every controller: the yardstick itself, not a target. */
export const ORACLE_BOUND = 'no controller above the oracle beyond the interval';

/** One target, for one scenario or on average over the scenarios, and whether the evaluation met it. */
export interface TargetCheck {
  /** A scenario's name, or 'average'. */
  scenario: string;
  target: string;
  met: boolean;
  /** The figures behind the verdict. */
  detail: string;
}

/**
 * The targets, each checked on the means over the seeds: per scenario, the agent at or above
 * 97 % of the oracle, at or above the PID and the MPC, without limit violations, and no controller above
 * the oracle beyond its 95 % interval (the oracle is meant to bound them all); on average over
 * the scenarios, the agent at or above 97 % of the oracle. Targets whose controllers did not
 * run are left out.
 */
export function checkTargets(stats: readonly ControllerStats[]): TargetCheck[] {
  const scenarios = [...new Set(stats.map((s) => s.scenario))];
  const checks = scenarios.flatMap((scenario) =>
    scenarioChecks(stats.filter((s) => s.scenario === scenario)),
  );
  const agents = stats.filter((s) => s.controller === 'agent');
  if (agents.length > 0 && stats.some((s) => s.controller === 'oracle')) {
    const mean = agents.reduce((sum, s) => sum + s.fractionOfOracle.mean, 0) / agents.length;
    checks.push({
      scenario: 'average',
      target: `agent ≥ ${percent(TARGET_FRACTION_OF_ORACLE)} of the oracle`,
      met: mean >= TARGET_FRACTION_OF_ORACLE,
      detail: percent(mean),
    });
  }
  return checks;
}

function scenarioChecks(stats: readonly ControllerStats[]): TargetCheck[] {
  const scenario = stats[0]!.scenario;
  const of = (controller: string) => stats.find((s) => s.controller === controller);
  const agent = of('agent');
  const oracle = of('oracle');
  const checks: TargetCheck[] = [];
  if (agent && oracle) {
    const fraction = agent.fractionOfOracle;
    checks.push({
      scenario,
      target: `agent ≥ ${percent(TARGET_FRACTION_OF_ORACLE)} of the oracle`,
      met: fraction.mean >= TARGET_FRACTION_OF_ORACLE,
      detail: `${percent(fraction.mean)} ± ${percent(fraction.halfWidth)}`,
    });
  }
  // The competitors a plant would buy instead: the agent must score at least what they do.
  for (const [kind, label] of [
    ['pid', 'PID'],
    ['mpc', 'MPC'],
  ] as const) {
    const rival = of(kind);
    if (!agent || !rival) continue;
    checks.push({
      scenario,
      target: `agent ≥ ${label}`,
      met: agent.score.mean >= rival.score.mean,
      detail: `${agent.score.mean.toFixed(1)} g vs ${rival.score.mean.toFixed(1)} g`,
    });
  }
  if (agent) {
    checks.push({
      scenario,
      target: 'agent: no limit violations',
      met: agent.limitViolations === 0,
      detail: `${agent.limitViolations}`,
    });
  }
  if (oracle) checks.push(oracleBound(scenario, stats));
  return checks;
}

/** No controller above the oracle beyond its interval: mean − half-width of its fraction ≤ 1. */
function oracleBound(scenario: string, stats: readonly ControllerStats[]): TargetCheck {
  const above = stats.filter(
    (s) =>
      s.controller !== 'oracle' &&
      s.fractionOfOracle.mean -
        (Number.isFinite(s.fractionOfOracle.halfWidth) ? s.fractionOfOracle.halfWidth : 0) >
        1,
  );
  return {
    scenario,
    target: ORACLE_BOUND,
    met: above.length === 0,
    detail:
      above.length === 0
        ? 'none'
        : above.map((s) => `${s.controller} ${percent(s.fractionOfOracle.mean)}`).join(', '),
  };
}

function percent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(100 * fraction).toFixed(1)} %` : '–';
}

/**
 * The scenarios where some controller scored above the oracle beyond its interval. Then the
 * oracle is no upper bound and every fraction of it means nothing: the evaluation has failed,
 * whatever the targets say.
 */
export function oracleBoundBroken(checks: readonly TargetCheck[]): TargetCheck[] {
  return checks.filter((check) => check.target === ORACLE_BOUND && !check.met);
}
