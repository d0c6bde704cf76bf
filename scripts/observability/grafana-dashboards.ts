/**
 * The Grafana dashboards as the checks read them: the parts of the dashboard JSON they look at,
 * every panel's queries, and the dashboards' variables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The dashboards, one JSON file each. */
export const DASHBOARD_DIR = join(resolve(__dirname, '../..'), 'helm/pipac/files/dashboards');

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
export const GRAFANA_BUILTINS = new Set([
  '__rate_interval',
  '__interval',
  '__interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
]);

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

export interface GrafanaTarget {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: unknown;
}

export interface GrafanaPanel {
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

export interface GrafanaVariable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
  datasource?: unknown;
}

export interface GrafanaDashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  tags?: string[];
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

/** The dashboard JSON files of a folder, sorted. */
export function dashboardFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** Top-level panels and the panels inside collapsed rows. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
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
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
}
