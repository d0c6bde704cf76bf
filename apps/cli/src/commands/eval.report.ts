import { lineChartSvg, type Panel } from '@pipac/charts';
import type { Policy } from '@pipac/control';
import {
  CONTROLLER_KINDS,
  type ControllerStats,
  type Evaluation,
  type MeanInterval,
} from '@pipac/rl';
import type { PlantModel } from '@pipac/recipe';
import { formatNumber, formatTable } from '../format/table';

/** The evaluation as JSON: per scenario and controller the statistics over the seeds, every run's row, the checks. */
export function evaluationJson(
  evaluation: Evaluation,
  policies: Record<string, Policy>,
  wallSeconds: number,
): string {
  const { seeds, stats, checks, rows, tunings } = evaluation;
  const versions = Object.fromEntries(Object.entries(policies).map(([s, p]) => [s, p.version]));
  const json = {
    plant: evaluation.plant,
    severity: evaluation.severity,
    seeds,
    interval: INTERVAL_NOTE,
    stats,
    checks,
    rows,
    tunings,
    versions,
    wallSeconds,
  };
  // NaN (an interval of one seed) is not JSON: null.
  return `${JSON.stringify(json, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

const INTERVAL_NOTE =
  'mean over the seeds ± half-width of the 95 % confidence interval (Student t, n − 1 degrees of freedom)';

/** The evaluation as text: the ranking table, per-step figures, the checks, how it was scored. */
export function evaluationReport(
  evaluation: Evaluation,
  policies: Record<string, Policy>,
  wallSeconds: number,
): string {
  const { stats, seeds } = evaluation;
  const lines = [
    ...(evaluation.plant === 'mismatch'
      ? [
          'plant: mismatch, the reality gap (libs/twin realPlant, seed 1): the loops run a plant the controllers do not know',
        ]
      : []),
    ...(evaluation.severity !== 1
      ? [`disturbance magnitudes × ${evaluation.severity} (held out when above the training's)`]
      : []),
    `seeds ${seeds[0]}..${seeds.at(-1)} (${seeds.length}); ${INTERVAL_NOTE}`,
    'score = product in spec at every step + change of in-spec tank inventory − key reactant fed past the throughput target, all in g of product (equivalent)',
    '',
    rankingTable(stats),
    '',
    stepTable(stats),
    '',
    ...checkLines(evaluation),
  ];
  const versions = Object.entries(policies);
  if (versions.length > 0)
    lines.push(
      `models: ${versions.map(([step, p]) => `${step} ${p.version.slice(0, 19)}`).join(', ')}`,
    );
  lines.push('', 'PID tuning (SIMC):');
  for (const [step, tuning] of Object.entries(evaluation.tunings)) {
    lines.push(
      `  ${step}: Kp ${formatNumber(tuning.kp)}, Ti ${formatNumber(tuning.ti)} s — ${tuning.method}`,
    );
  }
  lines.push(
    '',
    `wall time ${wallSeconds.toFixed(1)} s (${evaluation.rows.length} runs, ${evaluation.workers > 1 ? `on ${evaluation.workers} worker threads` : 'one after another'})`,
  );
  return `${lines.join('\n')}\n`;
}

/** Score first, then its fraction of the oracle: the ranking a control engineer reads. */
function rankingTable(stats: readonly ControllerStats[]): string {
  return formatTable(
    [
      'scenario',
      'controller',
      'score, g',
      'of oracle',
      '± of oracle',
      '± score',
      'in spec, g',
      'inventory, g',
      'over target, g',
      'yield',
      'E-factor',
      'energy, kWh',
      'interventions',
      'fallback cycles',
      'limit violations',
    ],
    stats.map((s) => [
      s.scenario,
      s.controller,
      s.score.mean,
      s.fractionOfOracle.mean,
      halfWidth(s.fractionOfOracle),
      halfWidth(s.score),
      s.inSpecProduct.mean,
      s.inventoryChange.mean,
      s.overTarget.mean,
      s.yield.mean,
      s.eFactor.mean,
      s.energy.mean,
      s.interventions.mean,
      s.fallbackCycles.mean,
      s.limitViolations,
    ]),
  );
}

/** An interval's half-width; one seed has none ('–'). */
function halfWidth(m: MeanInterval): number | string {
  return Number.isFinite(m.halfWidth) ? m.halfWidth : '–';
}

/** Per step: conversion and the fraction of its product made in spec, with intervals. */
function stepTable(stats: readonly ControllerStats[]): string {
  const withInterval = (m: MeanInterval) =>
    Number.isFinite(m.halfWidth)
      ? `${formatNumber(m.mean)} ± ${formatNumber(m.halfWidth)}`
      : formatNumber(m.mean);
  return formatTable(
    ['scenario', 'controller', 'step', 'conversion', 'in-spec fraction'],
    stats.flatMap((s) =>
      s.steps.map((step) => [
        s.scenario,
        s.controller,
        step.step,
        withInterval(step.conversion),
        withInterval(step.inSpecFraction),
      ]),
    ),
  );
}

/** Each controller's mean fraction of the oracle, then every target check, met or NOT met. */
function checkLines(evaluation: Evaluation): string[] {
  const lines: string[] = [];
  for (const kind of CONTROLLER_KINDS) {
    const list = evaluation.stats.filter((s) => s.controller === kind);
    if (list.length === 0 || kind === 'oracle') continue;
    const mean = list.reduce((sum, s) => sum + s.fractionOfOracle.mean, 0) / list.length;
    lines.push(`${kind}: ${formatNumber(100 * mean)} % of the oracle's score on average`);
  }
  if (evaluation.checks.length > 0)
    lines.push('', 'targets (deployed agents): per scenario, on the means over the seeds');
  for (const check of evaluation.checks) {
    lines.push(
      `  ${check.scenario}: ${check.target}: ${check.detail} — ${check.met ? 'met' : 'NOT MET'}`,
    );
  }
  return lines;
}

/** Plant product in spec, and per step conversion and flow scale, for every controller (first seed). */
export function scenarioChart(model: PlantModel, evaluation: Evaluation, scenario: string): string {
  const runs = evaluation.runs.filter((r) => r.scenario === scenario);
  const first = runs[0]!.result.trace;
  const last = model.steps.at(-1)!.id;
  /** One panel: the trace column `column` of every controller, each in its own colour. */
  const panel = (title: string, unit: string, column: string): Panel => ({
    title,
    unit,
    series: runs.map((r) => ({
      label: r.controller,
      values: r.result.trace.map((row) => row[column] ?? Number.NaN),
      colour: CONTROLLER_KINDS.indexOf(r.controller),
    })),
  });
  const panels: Panel[] = [
    panel(
      `${model.recipe.metadata.name} product made in spec at every step (cumulative)`,
      'g',
      `${last}.product_in_spec`,
    ),
    ...model.steps.flatMap((step) => [
      panel(
        `${step.id}: true conversion (minimum ${formatNumber(step.minConversion)})`,
        '',
        `${step.id}.conversion`,
      ),
      panel(`${step.id}: flow (${step.inlets[0]!.pump}) ÷ nominal`, '', `${step.id}.flow_scale`),
    ]),
  ];
  return lineChartSvg({
    title: `${model.recipe.metadata.name}: scenario ${scenario}`,
    subtitle: `seed ${evaluation.seeds[0]}; agents vs PID vs fixed recipe vs oracle`,
    xLabel: 'time, h',
    x: first.map((row) => (row['t'] ?? 0) / 3600),
    panels,
  });
}
