/**
 * Static checks of the Grafana dashboards and Prometheus alert rules in helm/pipac/files,
 * against the metric catalogue, with no Prometheus running:
 *
 * - every dashboard is valid JSON with a stable uid, schemaVersion 39, the `pipac` tag and a
 *   `datasource` variable; panel ids are unique; panels stay inside the 24 columns and do not
 *   overlap; every panel and target uses the `${datasource}` variable; every panel has a
 *   description, and graphs and stats a unit;
 * - every PromQL expression (panel targets, variable queries, alert rules) parses by Prometheus'
 *   own Lezer grammar (./promql.ts), names only
 *   series the catalogue exports (plus `up` and `target_info`), and uses only labels those series
 *   carry (plus `job` and `instance` from Prometheus, `otel_scope_*` from the OpenTelemetry
 *   exporter, `le` on buckets): in matchers, `by`/`without`, `on`/`ignoring`, `group_left`,
 *   legends and alert annotations; rate() and increase() only see counters; the dashboards'
 *   rate windows are Grafana's `$__rate_interval`, `$__interval` or `$__range`;
 * - every alert has `for`, a critical or warning severity, a summary, a description and a
 *   runbook_url whose anchor exists in docs/observability.md, which also lists every metric;
 * - with `promtool` on the PATH: the rule file passes `promtool check rules`, and every
 *   dashboard expression, variables substituted, passes it too as a recording rule.
 *
 * Before all that, a self-test feeds it broken expressions it must flag.
 *
 * Run: npx tsx --tsconfig tsconfig.base.json scripts/observability/check-dashboards.ts
 *
 * The checks live beside it: the dashboards' in ./dashboard-checks.ts (reading them in
 * ./grafana-dashboards.ts), PromQL's names and labels in ./promql-analysis.ts over the series of
 * ./metric-series.ts. `dashboardQueries` and `substituteVariables` are exported here for the
 * Prometheus test, which runs every panel's query against a live cell.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { exportedName, METRICS, type MetricSpec } from '@pipac/telemetry';
import { checkDashboards } from './dashboard-checks';
import {
  DASHBOARD_DIR,
  DEFAULT_VARIABLE_VALUES,
  dashboardQueries,
  substituteVariables,
} from './grafana-dashboards';
import { knownSeries } from './metric-series';
import { analyseExpression, templateLabels } from './promql-analysis';

export { checkDashboards } from './dashboard-checks';
export {
  DASHBOARD_DIR,
  DEFAULT_VARIABLE_VALUES,
  dashboardQueries,
  substituteVariables,
  type DashboardQuery,
} from './grafana-dashboards';
export { knownSeries } from './metric-series';
export { analyseExpression } from './promql-analysis';

const ROOT = resolve(__dirname, '../..');
/** The Prometheus rule file. */
export const RULES_FILE = join(ROOT, 'helm/pipac/files/alerts/pipac.rules.yaml');
/** The runbooks the alerts link to, and the metric table. */
export const DOCS_FILE = join(ROOT, 'docs/observability.md');

// ─── alert rules ────────────────────────────────────────────────────────────────────────────

interface AlertRule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups?: { name?: string; rules?: AlertRule[] }[];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    anchors.add(
      m[1]!
        .toLowerCase()
        .replace(/`/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  return anchors;
}

/** Problems of the alert rules; none when all is well. */
export function checkAlertRules(
  file: string = RULES_FILE,
  docs: string = DOCS_FILE,
  series = knownSeries(),
): string[] {
  const problems: string[] = [];
  const say = (what: string) => problems.push(`${basename(file)}: ${what}`);
  let rules: RuleFile;
  try {
    rules = parseYaml(readFileSync(file, 'utf8')) as RuleFile;
  } catch (error) {
    return [`${basename(file)}: not valid YAML: ${(error as Error).message}`];
  }
  let anchors = new Set<string>();
  try {
    anchors = anchorsOf(readFileSync(docs, 'utf8'));
  } catch {
    say(`${docs} is missing: the runbook links go nowhere`);
  }
  const names = new Set<string>();
  if (!rules?.groups?.length) say('no rule groups');
  for (const group of rules?.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const name = rule.alert ?? rule.record ?? '?';
      const at = `${group.name}/${name}`;
      if (rule.alert) {
        if (names.has(rule.alert)) say(`${at}: alert name used twice`);
        names.add(rule.alert);
        if (!rule.for) say(`${at}: no "for"`);
        if (!['critical', 'warning'].includes(rule.labels?.['severity'] ?? ''))
          say(`${at}: severity must be critical or warning`);
        for (const key of ['summary', 'description', 'runbook_url']) {
          if (!rule.annotations?.[key]) say(`${at}: no ${key} annotation`);
        }
        const runbook = rule.annotations?.['runbook_url'] ?? '';
        const anchor = /^docs\/observability\.md#(.+)$/.exec(runbook)?.[1];
        if (!anchor) say(`${at}: runbook_url "${runbook}" is not docs/observability.md#<anchor>`);
        else if (anchors.size && !anchors.has(anchor))
          say(`${at}: docs/observability.md has no heading for #${anchor}`);
      }
      if (!rule.expr) {
        say(`${at}: no expr`);
        continue;
      }
      const analysis = analyseExpression(String(rule.expr), series);
      for (const p of analysis.problems) say(`${at}: ${p}`);
      const templates = Object.values(rule.annotations ?? {}).join('\n');
      for (const label of templateLabels(templates, 'alert')) {
        if (
          !analysis.problems.length &&
          !(analysis.labels !== 'scalar' && analysis.labels.has(label))
        ) {
          say(`${at}: annotation uses $labels.${label}, not on the result`);
        }
      }
    }
  }
  return problems;
}

/** Every catalogue metric must be in the docs' table. */
function checkDocsCatalogue(docs: string = DOCS_FILE): string[] {
  let text: string;
  try {
    text = readFileSync(docs, 'utf8');
  } catch {
    return [];
  }
  return (Object.values(METRICS) as MetricSpec[])
    .map(exportedName)
    .filter((name) => !text.includes(`\`${name}\``))
    .map((name) => `docs/observability.md: ${name} is not in the metric table`);
}

// ─── promtool ───────────────────────────────────────────────────────────────────────────────

/** `promtool check rules` on the rule file and on every dashboard query; undefined without promtool. */
export function promtoolCheck(
  dir: string = DASHBOARD_DIR,
  rulesFile: string = RULES_FILE,
): string[] | undefined {
  const version = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (version.error) return undefined;
  const problems: string[] = [];
  const run = (file: string, label: string) => {
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    if (result.status !== 0)
      problems.push(`promtool check rules (${label}):\n${result.stdout}${result.stderr}`);
  };
  run(rulesFile, basename(rulesFile));
  const queries = dashboardQueries(dir);
  const scratch = mkdtempSync(join(tmpdir(), 'pipac-dashboards-'));
  try {
    // Each query as a recording rule: promtool parses it as Prometheus would.
    const groups = [
      {
        name: 'dashboard-queries',
        rules: queries.map((q, i) => ({
          record: `pipac_dashboard_check:${q.uid.replace(/-/g, '_')}:panel_${q.panelId}_${q.refId || i}`,
          expr: substituteVariables(q.expr, DEFAULT_VARIABLE_VALUES),
        })),
      },
    ];
    const file = join(scratch, 'dashboard-queries.rules.yaml');
    writeFileSync(file, stringifyYaml({ groups }));
    run(file, `${queries.length} dashboard queries`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return problems;
}

// ─── self-test ──────────────────────────────────────────────────────────────────────────────

/** Expressions over a made-up catalogue, and a piece of the problem each must raise ('' for none). */
const SELF_TEST: readonly (readonly [string, string])[] = [
  ['pipac_nope_total', 'unknown series pipac_nope_total'],
  ['sum by (device) (rate(demo_total[1m]))', 'sum by "device"'],
  ['rate(demo_ratio[5m])', 'rate() of demo_ratio, which is not a counter'],
  ['demo_total{device="a"}', 'demo_total has no label "device"'],
  ['histogram_quantile(0.9, sum by (job) (rate(demo_seconds_bucket[5m])))', 'without "le"'],
  ['demo_total * on (job) group_left (device) demo_ratio', 'group_left (device)'],
  ['sum(rate(demo_total[1m])', 'does not parse'],
  ['topk(demo_ratio)', 'does not parse'],
  ['histogram_quantile(0.9, sum by (le, step) (rate(demo_seconds_bucket[5m])))', ''],
];

/** Runs SELF_TEST: the checker must still see what it is there to see. */
function selfTest(): string[] {
  const series = new Map([
    ['demo_total', new Set(['job', 'step'])],
    ['demo_ratio', new Set(['job'])],
    ['demo_seconds_bucket', new Set(['job', 'step', 'le'])],
  ]);
  return SELF_TEST.flatMap(([expr, expected]) => {
    const { problems } = analyseExpression(expr, series);
    const ok = expected ? problems.some((p) => p.includes(expected)) : problems.length === 0;
    return ok
      ? []
      : [`self-test: ${expr} gave [${problems.join('; ')}], expected ${expected || 'none'}`];
  });
}

// ─── main ───────────────────────────────────────────────────────────────────────────────────

function main(): void {
  const series = knownSeries();
  const problems = [
    ...selfTest(),
    ...checkDashboards(DASHBOARD_DIR, series),
    ...checkAlertRules(RULES_FILE, DOCS_FILE, series),
    ...checkDocsCatalogue(),
  ];
  const queries = dashboardQueries();
  const used = new Set(
    queries.flatMap((q) => [
      ...analyseExpression(substituteVariables(q.expr, DEFAULT_VARIABLE_VALUES), series).metrics,
    ]),
  );
  const unused = (Object.values(METRICS) as MetricSpec[])
    .map(exportedName)
    .filter(
      (name) => ![...used].some((u) => u === name || u.startsWith(name.replace(/_total$/, ''))),
    );
  const dashboards = new Set(queries.map((q) => q.file)).size;
  console.log(`${queries.length} queries in ${dashboards} dashboards; ${used.size} series used.`);
  if (unused.length) console.log(`Catalogue metrics on no dashboard: ${unused.join(', ')}`);

  const promtool = promtoolCheck();
  if (promtool === undefined)
    console.log('promtool not on the PATH: PromQL syntax check by promtool skipped.');
  else {
    problems.push(...promtool);
    if (!promtool.length)
      console.log('promtool: the rule file and every dashboard query pass `promtool check rules`.');
  }

  if (problems.length) {
    console.error(
      `\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exitCode = 1;
  } else {
    console.log('Dashboards, alert rules and docs agree with the metric catalogue.');
  }
}

if (require.main === module) main();
