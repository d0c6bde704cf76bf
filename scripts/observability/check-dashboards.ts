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
 * `dashboardQueries` and `substituteVariables` are exported for the Prometheus test, which
 * runs every panel's query against a live cell.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { exportedName, METRICS, type MetricSpec } from '@pipac/telemetry';
import { parsePromQL, type PromNode } from './promql';

const ROOT = resolve(__dirname, '../..');
/** The dashboards, one JSON file each. */
export const DASHBOARD_DIR = join(ROOT, 'helm/pipac/files/dashboards');
/** The Prometheus rule file. */
export const RULES_FILE = join(ROOT, 'helm/pipac/files/alerts/pipac.rules.yaml');
/** The runbooks the alerts link to, and the metric table. */
export const DOCS_FILE = join(ROOT, 'docs/observability.md');

/** What the dashboards' variables stand for in the checks (the Prometheus test passes its own). */
export const DEFAULT_VARIABLE_VALUES: Readonly<Record<string, string>> = {
  datasource: 'prometheus',
  step: 'nitration',
  device: '.+',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

/** Grafana's own variables a query may use. */
const GRAFANA_BUILTINS = new Set([
  '__rate_interval',
  '__interval',
  '__interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
]);

// ─── the queries ─────────────────────────────────────────────────────────────────────────────

export interface DashboardQuery {
  /** The dashboard's file name, e.g. `pipac-step-agent.json`. */
  file: string;
  dashboard: string;
  uid: string;
  panel: string;
  panelId: number;
  refId: string;
  /** The expression as written, with its `$variables`. */
  expr: string;
  legendFormat?: string;
}

interface GrafanaTarget {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: unknown;
}

interface GrafanaPanel {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: unknown;
  gridPos?: { x?: number; y?: number; w?: number; h?: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  collapsed?: boolean;
  fieldConfig?: { defaults?: { unit?: string } };
}

interface GrafanaVariable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
  datasource?: unknown;
}

interface GrafanaDashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  tags?: string[];
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

/** The dashboard JSON files of a folder, sorted. */
function dashboardFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** Top-level panels and the panels inside collapsed rows. */
function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every panel target's expression in the dashboards of `dir`, with where it comes from. */
export function dashboardQueries(dir: string = DASHBOARD_DIR): DashboardQuery[] {
  return dashboardFiles(dir).flatMap((path) => {
    const dashboard = JSON.parse(readFileSync(path, 'utf8')) as GrafanaDashboard;
    return allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? [])
        .filter((t) => typeof t.expr === 'string' && t.expr.trim() !== '')
        .map((t) => ({
          file: basename(path),
          dashboard: dashboard.title ?? basename(path),
          uid: dashboard.uid ?? '',
          panel: panel.title ?? '',
          panelId: panel.id ?? -1,
          refId: t.refId ?? '',
          expr: t.expr!,
          ...(t.legendFormat !== undefined ? { legendFormat: t.legendFormat } : {}),
        })),
    );
  });
}

/**
 * Replaces Grafana variables (`$name`, `${name}`, `${name:format}`, `[[name]]`) by the given
 * values; variables without a value stay as they are.
 */
export function substituteVariables(
  expr: string,
  values: Readonly<Record<string, string>>,
): string {
  return expr.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g,
    (match, braced?: string, bracketed?: string, plain?: string) => {
      const name = braced ?? bracketed ?? plain ?? '';
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name]! : match;
    },
  );
}

/** The names of the variables an expression uses. */
function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
}

// ─── the series Prometheus holds, and their labels ──────────────────────────────────────────

/** Labels on every pipac series: Prometheus' target labels and the OpenTelemetry scope. */
const TARGET_LABELS = ['job', 'instance'];
const SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url'];

/** Every series name a query may use, with the labels it carries. */
export function knownSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const spec of Object.values(METRICS) as MetricSpec[]) {
    const labels = [...spec.labels, ...TARGET_LABELS, ...SCOPE_LABELS];
    series.set(exportedName(spec), new Set(labels));
    if (spec.kind === 'histogram') {
      series.set(`${spec.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${spec.name}_sum`, new Set(labels));
      series.set(`${spec.name}_count`, new Set(labels));
    }
  }
  // Prometheus' own, per target.
  series.set('up', new Set(TARGET_LABELS));
  // The exporter's resource attributes (service.name → service_name …).
  series.set(
    'target_info',
    new Set([
      ...TARGET_LABELS,
      'service_name',
      'service_version',
      'service_namespace',
      'service_instance_id',
      'telemetry_sdk_language',
      'telemetry_sdk_name',
      'telemetry_sdk_version',
    ]),
  );
  return series;
}

/** Series rate() and increase() may see: counters and the parts of histograms. */
function isCounterSeries(name: string): boolean {
  return /_(total|bucket|count|sum)$/.test(name);
}

// ─── PromQL: what functions and operators do to labels ──────────────────────────────────────

/** Functions whose result keeps the labels of another argument than the first. */
const LABELS_FROM_ARGUMENT: Readonly<Record<string, number>> = {
  histogram_fraction: 2,
  histogram_quantile: 1,
  quantile_over_time: 1,
};
/** Functions that return a scalar (vector() returns a vector without labels). */
const SCALAR_FUNCTIONS = new Set(['scalar', 'time', 'pi']);
/** absent() and absent_over_time() carry the selector's equality matchers. */
const ABSENT_FUNCTIONS = new Set(['absent', 'absent_over_time']);
const COMPARISONS = new Set(['==', '!=', '<=', '<', '>=', '>']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);

// ─── what an expression uses ────────────────────────────────────────────────────────────────

/** The labels a result can carry; `scalar` for numbers and scalar(). */
type LabelSet = Set<string> | 'scalar';

interface Analysis {
  problems: string[];
  metrics: Set<string>;
  /** The labels of the expression's result. */
  labels: LabelSet;
}

/** Checks names and labels in a parsed expression against the known series. */
export function analyseExpression(
  expr: string,
  series: Map<string, Set<string>> = knownSeries(),
): Analysis {
  const problems: string[] = [];
  const metrics = new Set<string>();
  let root: PromNode;
  try {
    root = parsePromQL(expr);
  } catch (error) {
    return {
      problems: [`does not parse: ${(error as Error).message}`],
      metrics,
      labels: new Set(),
    };
  }

  const has = (set: LabelSet, label: string) => set !== 'scalar' && set.has(label);
  const union = (a: LabelSet, b: LabelSet): LabelSet =>
    a === 'scalar' ? b : b === 'scalar' ? a : new Set([...a, ...b]);
  const describe = (set: LabelSet) =>
    set === 'scalar' ? 'a scalar' : `{${[...set].sort().join(', ')}}`;
  const selectorsIn = (node: PromNode): string[] => {
    switch (node.kind) {
      case 'selector':
        return node.name ? [node.name] : [];
      case 'range':
      case 'unary':
      case 'paren':
        return selectorsIn(node.expr);
      case 'call':
        return node.args.flatMap(selectorsIn);
      case 'aggregate':
        return selectorsIn(node.expr);
      case 'binary':
        return [...selectorsIn(node.lhs), ...selectorsIn(node.rhs)];
      default:
        return [];
    }
  };

  const visit = (node: PromNode): LabelSet => {
    switch (node.kind) {
      case 'number':
      case 'string':
        return 'scalar';
      case 'selector': {
        if (!node.name) {
          problems.push('a selector without a metric name');
          return new Set();
        }
        metrics.add(node.name);
        const labels = series.get(node.name);
        if (!labels) {
          problems.push(`unknown series ${node.name} (not in the metric catalogue)`);
          return new Set();
        }
        for (const m of node.matchers) {
          if (m.label !== '__name__' && !labels.has(m.label)) {
            problems.push(`${node.name} has no label "${m.label}" (it has ${describe(labels)})`);
          }
        }
        return new Set(labels);
      }
      case 'range':
      case 'unary':
      case 'paren':
        return visit(node.expr);
      case 'call': {
        const args = node.args.map(visit);
        if (['rate', 'irate', 'increase', 'resets'].includes(node.func)) {
          for (const name of node.args[0] ? selectorsIn(node.args[0]) : []) {
            if (!isCounterSeries(name))
              problems.push(`${node.func}() of ${name}, which is not a counter`);
          }
        }
        if (SCALAR_FUNCTIONS.has(node.func)) return 'scalar';
        if (node.func === 'vector') return new Set();
        if (ABSENT_FUNCTIONS.has(node.func)) {
          const arg = node.args[0];
          const inner = arg?.kind === 'range' ? arg.expr : arg;
          return new Set(
            inner?.kind === 'selector'
              ? inner.matchers.filter((m) => m.op === '=').map((m) => m.label)
              : [],
          );
        }
        let labels = args[LABELS_FROM_ARGUMENT[node.func] ?? 0] ?? new Set<string>();
        if (node.func === 'histogram_quantile' && labels !== 'scalar') {
          if (!labels.has('le'))
            problems.push(
              'histogram_quantile() over series without "le" (keep le in the by clause)',
            );
          labels = new Set([...labels].filter((l) => l !== 'le'));
        }
        if (
          (node.func === 'label_replace' || node.func === 'label_join') &&
          node.args[1]?.kind === 'string'
        ) {
          labels = union(labels, new Set([node.args[1].value]));
        }
        return labels;
      }
      case 'aggregate': {
        const inner = visit(node.expr);
        if (node.param) visit(node.param);
        if (!node.grouping) {
          const kept = ['topk', 'bottomk', 'limitk', 'limit_ratio'].includes(node.op)
            ? inner
            : new Set<string>();
          return node.op === 'count_values' && node.param?.kind === 'string'
            ? new Set([node.param.value])
            : kept;
        }
        for (const label of node.grouping.labels) {
          if (!has(inner, label)) {
            problems.push(
              `${node.op} ${node.grouping.without ? 'without' : 'by'} "${label}": the series inside carry ${describe(inner)}`,
            );
          }
        }
        let labels: LabelSet = node.grouping.without
          ? inner === 'scalar'
            ? new Set()
            : new Set([...inner].filter((l) => !node.grouping!.labels.includes(l)))
          : new Set(node.grouping.labels);
        if (node.op === 'count_values' && node.param?.kind === 'string')
          labels = union(labels, new Set([node.param.value]));
        return labels;
      }
      case 'binary': {
        const lhs = visit(node.lhs);
        const rhs = visit(node.rhs);
        if (lhs === 'scalar' && rhs === 'scalar') return 'scalar';
        if (lhs === 'scalar') return rhs;
        if (rhs === 'scalar') return lhs;
        const matching = node.matching;
        if (matching) {
          for (const label of matching.labels) {
            // `x or on() vector(0)`: on() may name nothing; a named label must be on both sides,
            // or the sides never match on it.
            if (matching.on && !(has(lhs, label) && has(rhs, label))) {
              problems.push(`on (${label}): left ${describe(lhs)}, right ${describe(rhs)}`);
            }
            if (!matching.on && !has(lhs, label) && !has(rhs, label)) {
              problems.push(`ignoring (${label}): on neither side`);
            }
          }
          if (matching.group) {
            const other = matching.group.side === 'left' ? rhs : lhs;
            for (const label of matching.group.labels) {
              if (!has(other, label))
                problems.push(
                  `group_${matching.group.side} (${label}): not on the other side ${describe(other)}`,
                );
            }
          }
        }
        if (SET_OPERATORS.has(node.op)) return node.op === 'or' ? union(lhs, rhs) : lhs;
        if (matching?.group) {
          const kept = matching.group.side === 'left' ? lhs : rhs;
          return union(kept, new Set(matching.group.labels));
        }
        if (COMPARISONS.has(node.op) && !node.bool) return lhs;
        if (matching?.on) return new Set(matching.labels);
        if (matching) return new Set([...lhs].filter((l) => !matching.labels.includes(l)));
        return lhs;
      }
    }
  };

  const labels = visit(root);
  return { problems, metrics, labels };
}

/** `{{label}}` placeholders of a legend, or `$labels.label` of an alert template. */
function templateLabels(text: string, style: 'legend' | 'alert'): string[] {
  const pattern =
    style === 'legend'
      ? /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g
      : /\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

// ─── dashboards ─────────────────────────────────────────────────────────────────────────────

const DATASOURCE_UID = '${datasource}';
const UNIT_PANELS = new Set(['timeseries', 'stat', 'gauge', 'bargauge']);

function usesDatasourceVariable(ds: unknown): boolean {
  const d = ds as { type?: unknown; uid?: unknown } | undefined;
  return d?.type === 'prometheus' && d.uid === DATASOURCE_UID;
}

/** Problems of the dashboards in `dir`; none when all is well. */
export function checkDashboards(dir: string = DASHBOARD_DIR, series = knownSeries()): string[] {
  const problems: string[] = [];
  const uids = new Map<string, string>();
  const files = dashboardFiles(dir);
  if (files.length === 0) problems.push(`${dir}: no dashboards`);
  for (const path of files) {
    const file = basename(path);
    const say = (what: string) => problems.push(`${file}: ${what}`);
    let dashboard: GrafanaDashboard;
    try {
      dashboard = JSON.parse(readFileSync(path, 'utf8')) as GrafanaDashboard;
    } catch (error) {
      say(`not valid JSON: ${(error as Error).message}`);
      continue;
    }
    if (!dashboard.uid || !/^[a-zA-Z0-9_-]{1,40}$/.test(dashboard.uid))
      say(`uid "${dashboard.uid}" missing or not a Grafana uid`);
    else if (uids.has(dashboard.uid))
      say(`uid ${dashboard.uid} also used by ${uids.get(dashboard.uid)}`);
    else uids.set(dashboard.uid, file);
    if (!dashboard.title) say('no title');
    if (dashboard.schemaVersion !== 39)
      say(`schemaVersion ${dashboard.schemaVersion}, expected 39`);
    if (!dashboard.tags?.includes('pipac')) say('no "pipac" tag');

    const variables = dashboard.templating?.list ?? [];
    const datasource = variables.find((v) => v.name === 'datasource');
    if (datasource?.type !== 'datasource' || datasource.query !== 'prometheus') {
      say('no "datasource" variable of type datasource with query "prometheus"');
    }
    const defined = new Set([...variables.map((v) => v.name ?? ''), ...GRAFANA_BUILTINS]);
    for (const v of variables) {
      if (v.type !== 'query') continue;
      if (!usesDatasourceVariable(v.datasource))
        say(`variable ${v.name}: not on the \${datasource} variable`);
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const labelValues = /^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(
        query.trim(),
      );
      if (!labelValues) {
        say(`variable ${v.name}: "${query}" is not label_values(<selector>, <label>)`);
        continue;
      }
      const analysis = analyseExpression(labelValues[1]!, series);
      for (const p of analysis.problems) say(`variable ${v.name}: ${p}`);
      if (
        !analysis.problems.length &&
        !(analysis.labels !== 'scalar' && analysis.labels.has(labelValues[2]!))
      ) {
        say(`variable ${v.name}: ${labelValues[1]} has no label ${labelValues[2]}`);
      }
    }

    const ids = new Set<number>();
    const checkLayout = (panels: GrafanaPanel[], where: string) => {
      const boxes: { title: string; x: number; y: number; w: number; h: number }[] = [];
      for (const panel of panels) {
        const g = panel.gridPos;
        const title = `panel ${panel.id} "${panel.title}"`;
        if (!g || [g.x, g.y, g.w, g.h].some((n) => typeof n !== 'number' || !Number.isInteger(n))) {
          say(`${title}: gridPos needs integer x, y, w, h`);
          continue;
        }
        const box = { title, x: g.x!, y: g.y!, w: g.w!, h: g.h! };
        if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.x + box.w > 24) {
          say(`${title}: gridPos ${JSON.stringify(g)} outside the 24 columns`);
        }
        for (const other of boxes) {
          const overlap =
            box.x < other.x + other.w &&
            other.x < box.x + box.w &&
            box.y < other.y + other.h &&
            other.y < box.y + box.h;
          if (overlap) say(`${title} overlaps ${other.title}${where}`);
        }
        boxes.push(box);
      }
    };
    checkLayout(dashboard.panels ?? [], '');
    for (const row of dashboard.panels ?? []) {
      if (row.type === 'row' && row.collapsed && row.panels?.length)
        checkLayout(row.panels, ` (in row "${row.title}")`);
    }

    for (const panel of allPanels(dashboard)) {
      const title = `panel ${panel.id} "${panel.title}"`;
      if (typeof panel.id !== 'number') say(`${title}: no numeric id`);
      else if (ids.has(panel.id)) say(`${title}: id ${panel.id} used twice`);
      else ids.add(panel.id);
      if (!panel.title) say(`${title}: no title`);
      if (panel.type === 'row') continue;
      if (!usesDatasourceVariable(panel.datasource))
        say(`${title}: datasource is not {"type":"prometheus","uid":"\${datasource}"}`);
      if (!panel.description) say(`${title}: no description`);
      if (UNIT_PANELS.has(panel.type ?? '') && !panel.fieldConfig?.defaults?.unit)
        say(`${title}: no unit`);
      const targets = panel.targets ?? [];
      if (!targets.some((t) => t.expr)) say(`${title}: no query`);
      const refIds = new Set<string>();
      for (const target of targets) {
        const at = `${title} ${target.refId ?? '?'}`;
        if (!target.refId || refIds.has(target.refId)) say(`${at}: refId missing or used twice`);
        refIds.add(target.refId ?? '');
        if (!usesDatasourceVariable(target.datasource))
          say(`${at}: target datasource is not the \${datasource} variable`);
        if (!target.expr) continue;
        for (const name of variablesIn(target.expr)) {
          if (!defined.has(name)) say(`${at}: variable $${name} is not defined`);
        }
        // A fixed window in a rate either hides changes (too long) or misses scrapes (too short)
        // at some zoom level; other ranges (last_over_time(x[1h])) may be fixed.
        for (const range of target.expr.matchAll(
          /\b(?:rate|irate|increase)\s*\([^[]*?\[([^\]]*)\]/g,
        )) {
          if (!/^\$(\{)?__(rate_interval|interval|range)(\})?$/.test(range[1]!.trim())) {
            say(
              `${at}: rate window [${range[1]}]: use $__rate_interval (or $__interval, $__range)`,
            );
          }
        }
        const expr = substituteVariables(target.expr, DEFAULT_VARIABLE_VALUES);
        const analysis = analyseExpression(expr, series);
        for (const p of analysis.problems) say(`${at}: ${p}`);
        for (const label of templateLabels(target.legendFormat ?? '', 'legend')) {
          if (
            !analysis.problems.length &&
            !(analysis.labels !== 'scalar' && analysis.labels.has(label))
          ) {
            say(
              `${at}: legend {{${label}}} is not on the result ${analysis.labels === 'scalar' ? 'scalar' : `{${[...analysis.labels].join(', ')}}`}`,
            );
          }
        }
      }
    }
  }
  return problems;
}

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
