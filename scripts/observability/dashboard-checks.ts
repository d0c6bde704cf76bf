/**
 * The checks of the Grafana dashboards: valid JSON with a stable uid, schemaVersion 39, the
 * `pipac` tag and a `datasource` variable; unique panel ids; panels inside the 24 columns and
 * not overlapping; the `${datasource}` variable everywhere; a description on every panel and a
 * unit on graphs and stats; every query's names, labels, variables and rate windows.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  DASHBOARD_DIR,
  DEFAULT_VARIABLE_VALUES,
  GRAFANA_BUILTINS,
  allPanels,
  dashboardFiles,
  substituteVariables,
  variablesIn,
  type GrafanaDashboard,
  type GrafanaPanel,
  type GrafanaTarget,
  type GrafanaVariable,
} from './grafana-dashboards';
import { knownSeries } from './metric-series';
import { analyseExpression, templateLabels } from './promql-analysis';

/** Notes a problem of the dashboard being checked. */
type Say = (what: string) => void;

const DATASOURCE_UID = '${datasource}';
const UNIT_PANELS = new Set(['timeseries', 'stat', 'gauge', 'bargauge']);

function usesDatasourceVariable(ds: unknown): boolean {
  const d = ds as { type?: unknown; uid?: unknown } | undefined;
  return d?.type === 'prometheus' && d.uid === DATASOURCE_UID;
}

/** Problems of the dashboards in `dir`; none when all is well. */
export function checkDashboards(dir: string = DASHBOARD_DIR, series = knownSeries()): string[] {
  const problems: string[] = [];
  /** Each uid seen, with the file that has it. */
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
    checkIdentity(dashboard, file, uids, say);
    const defined = checkVariables(dashboard.templating?.list ?? [], series, say);
    checkLayout(dashboard.panels ?? [], '', say);
    for (const row of dashboard.panels ?? []) {
      if (row.type === 'row' && row.collapsed && row.panels?.length)
        checkLayout(row.panels, ` (in row "${row.title}")`, say);
    }
    checkPanels(dashboard, { defined, series }, say);
  }
  return problems;
}

/** A unique Grafana uid, a title, schemaVersion 39 and the `pipac` tag. */
function checkIdentity(
  dashboard: GrafanaDashboard,
  file: string,
  uids: Map<string, string>,
  say: Say,
): void {
  if (!dashboard.uid || !/^[a-zA-Z0-9_-]{1,40}$/.test(dashboard.uid))
    say(`uid "${dashboard.uid}" missing or not a Grafana uid`);
  else if (uids.has(dashboard.uid))
    say(`uid ${dashboard.uid} also used by ${uids.get(dashboard.uid)}`);
  else uids.set(dashboard.uid, file);
  if (!dashboard.title) say('no title');
  if (dashboard.schemaVersion !== 39) say(`schemaVersion ${dashboard.schemaVersion}, expected 39`);
  if (!dashboard.tags?.includes('pipac')) say('no "pipac" tag');
}

/**
 * The `datasource` variable, and every query variable a label_values() over known series on the
 * `${datasource}` variable; resolves with the names a query may use (these and Grafana's own).
 */
function checkVariables(
  variables: GrafanaVariable[],
  series: Map<string, Set<string>>,
  say: Say,
): Set<string> {
  const datasource = variables.find((v) => v.name === 'datasource');
  if (datasource?.type !== 'datasource' || datasource.query !== 'prometheus') {
    say('no "datasource" variable of type datasource with query "prometheus"');
  }
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
  return new Set([...variables.map((v) => v.name ?? ''), ...GRAFANA_BUILTINS]);
}

/** Panels inside the 24 columns, none overlapping another of the same level. */
function checkLayout(panels: GrafanaPanel[], where: string, say: Say): void {
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
}

/** What a panel's queries are checked against. */
interface QueryContext {
  /** The variables a query may use. */
  defined: Set<string>;
  series: Map<string, Set<string>>;
}

/** Unique ids and a title on every panel; each panel other than a row, and its queries. */
function checkPanels(dashboard: GrafanaDashboard, context: QueryContext, say: Say): void {
  const ids = new Set<number>();
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
      checkTarget(target, context, (what) => say(`${at}: ${what}`));
    }
  }
}

/** A panel query: on the `${datasource}` variable, defined variables, names, labels, legend. */
function checkTarget(target: GrafanaTarget, context: QueryContext, say: Say): void {
  if (!usesDatasourceVariable(target.datasource))
    say(`target datasource is not the \${datasource} variable`);
  if (!target.expr) return;
  for (const name of variablesIn(target.expr)) {
    if (!context.defined.has(name)) say(`variable $${name} is not defined`);
  }
  checkRateWindows(target.expr, say);
  const expr = substituteVariables(target.expr, DEFAULT_VARIABLE_VALUES);
  const analysis = analyseExpression(expr, context.series);
  for (const p of analysis.problems) say(p);
  for (const label of templateLabels(target.legendFormat ?? '', 'legend')) {
    if (
      !analysis.problems.length &&
      !(analysis.labels !== 'scalar' && analysis.labels.has(label))
    ) {
      say(
        `legend {{${label}}} is not on the result ${analysis.labels === 'scalar' ? 'scalar' : `{${[...analysis.labels].join(', ')}}`}`,
      );
    }
  }
}

/**
 * A fixed window in a rate either hides changes (too long) or misses scrapes (too short) at some
 * zoom level; other ranges (last_over_time(x[1h])) may be fixed.
 */
function checkRateWindows(expr: string, say: Say): void {
  for (const range of expr.matchAll(/\b(?:rate|irate|increase)\s*\([^[]*?\[([^\]]*)\]/g)) {
    if (!/^\$(\{)?__(rate_interval|interval|range)(\})?$/.test(range[1]!.trim())) {
      say(`rate window [${range[1]}]: use $__rate_interval (or $__interval, $__range)`);
    }
  }
}
