import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@pipac/bus';
import { Cell } from '@pipac/cell';
import { freePort } from '@pipac/opcua/testing';
import { Telemetry } from '@pipac/telemetry';
// scripts/ is no Nx project: the dashboards' checker is shared with the test command's static check.
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  DEFAULT_VARIABLE_VALUES,
  RULES_FILE,
  dashboardQueries,
  substituteVariables,
} from '../scripts/observability/check-dashboards';

const REPO = join(__dirname, '..');

/** The parts of Prometheus's HTTP API answers the test reads. */
interface QueryAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  error?: string;
}
interface RulesAnswer {
  data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
}

/** Polls an asynchronous condition every 500 ms; fails with `why()` after `timeoutMs`. */
async function poll(condition: () => Promise<boolean>, timeoutMs: number, why: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 500));
  }
}
const BIN = process.env['PIPAC_PROMETHEUS_BIN'] ?? '/usr/bin';

/**
 * A real Prometheus (the distribution's) scrapes the running cell, embedded, every second,
 * with the chart's alert rules loaded; then every query of every Grafana dashboard must
 * return data. The cell runs an order (so production, lots and the REST API are exercised)
 * at 240× real time: a minute of wall clock is four hours of plant time.
 */
describe('Prometheus scraping the running cell', () => {
  jest.setTimeout(300_000);
  let telemetry: Telemetry;
  let cell: Cell;
  let prometheus: ChildProcess;
  let dir: string;
  let api: string;
  let log = '';

  const query = async (expr: string): Promise<QueryAnswer> => {
    const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryAnswer;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-prometheus-'));
    telemetry = await Telemetry.start({
      serviceName: 'pipac-cell',
      prometheus: { host: '127.0.0.1', port: await freePort() },
    });
    const bus = new InProcessBus();
    cell = await Cell.start({
      recipePath: join(REPO, 'recipes/paracetamol.yaml'),
      modelsDir: join(REPO, 'models/paracetamol'),
      bus,
      database: `sqlite:${join(dir, 'cell.db')}`,
      stateDir: join(dir, 'state'),
      timeFactor: 240,
      warmUp: 1800,
      http: { host: '127.0.0.1', port: 0 },
    });
    const order = await fetch(`${cell.url}/api/v1/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${cell.client.key}`,
        'content-type': 'application/json',
        'idempotency-key': 'prometheus-e2e',
      },
      body: JSON.stringify({
        erpReference: 'PROM-1',
        product: cell.model.speciesIds[cell.model.productIndex],
        quantity: 1000,
        unit: 'g',
        release: true,
      }),
    });
    expect(order.status).toBe(201);

    const port = await freePort();
    const target = new URL(telemetry.metricsUrl!).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(RULES_FILE)}]`,
        'scrape_configs:',
        '  - job_name: pipac-cell',
        `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
      ].join('\n'),
    );
    prometheus = spawn(
      join(BIN, 'prometheus'),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    prometheus.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    api = `http://127.0.0.1:${port}`;
    await poll(
      async () => {
        const up = await query('up{job="pipac-cell"} == 1').catch(() => undefined);
        return Array.isArray(up?.data?.result) && up.data.result.length > 0;
      },
      60_000,
      () => `Prometheus never scraped the cell: ${log}`,
    );
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await cell?.stop();
    await telemetry?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the alert rules of the chart, healthy', async () => {
    const response = await fetch(`${api}/api/v1/rules`);
    const body = (await response.json()) as RulesAnswer;
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((r) => r.health !== 'ok' && r.health !== 'unknown')).toEqual([]);
  });

  it('answers every query of every dashboard with data', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const empty = async () => {
      const missing: string[] = [];
      for (const q of queries) {
        const expr = substituteVariables(q.expr, { ...DEFAULT_VARIABLE_VALUES, __range: '5m' });
        const answer = await query(expr);
        const result = answer.data?.result;
        const has =
          answer.status === 'success' &&
          (Array.isArray(result) ? result.length > 0 : result !== undefined);
        if (!has) {
          missing.push(
            `${q.dashboard} / ${q.panel}: ${expr}${answer.error ? ` (${answer.error})` : ''}`,
          );
        }
      }
      return missing;
    };
    // Rates need two scrapes, and some series the first cycles; a minute is plenty.
    let missing: string[] = [];
    await poll(
      async () => (missing = await empty()).length === 0,
      120_000,
      () => `queries without data:\n${missing.join('\n')}`,
    ).catch(() => undefined);
    expect(missing).toEqual([]);
  });
});
