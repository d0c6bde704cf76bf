import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InProcessBus, KafkaBus, type EventBus } from '@pipac/bus';
// The cell (the OPC UA stack, NestJS, the gateway) loads only when `start` runs: the other
// commands neither wait for it nor get node-opcua's start-up warnings in their output.
import type { Cell, CellOptions } from '@pipac/cell';
import type { Stores } from '@pipac/erp-gateway';

/**
 * The heavy parts, required when `start` runs. `require`, not `import()`: the bin runs this file
 * as CommonJS through tsx, and a dynamic import() goes to Node's ESM loader, which does not know
 * the workspace's path aliases (ERR_MODULE_NOT_FOUND @pipac/opcua).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
const lazy = {
  opcua: () => require('@pipac/opcua') as typeof import('@pipac/opcua'),
  cell: () => require('@pipac/cell') as typeof import('@pipac/cell'),
  gateway: () => require('@pipac/erp-gateway') as typeof import('@pipac/erp-gateway'),
};
/* eslint-enable @typescript-eslint/no-require-imports */
import { loadRecipe } from '@pipac/recipe';
import { SCENARIO_NAMES } from '@pipac/twin';
import { REPOSITORY_ROOT, defaultRecipePath } from '../format/paths';
import { UsageError } from '../format/usage.error';
import { DEFAULT_AUDIT_KEYS, DEFAULT_DATABASE } from './audit.command';
import { CellMonitor, type CellSnapshot } from './cell-monitor';
import { Telemetry } from '@pipac/telemetry';
import {
  parseHostPort,
  parseStartOptions,
  type StartOptions,
  type StartSettings,
} from './start.options';
import { summarise } from './start.summary';

/**
 * `pipac start`: the main job. The whole cell on one machine — the simulated plant's OPC UA
 * devices, a device adapter per device, a step agent per step with the trained models, the
 * coordinator and the ERP gateway — on the in-process bus and SQLite by default, in
 * accelerated time. It places a demo order over the REST API (or waits for the ERP's), shows
 * progress until the order is complete, then prints what was made and where its batch
 * record is.
 */
export function startCommand(): Command {
  const command = new Command('start').description(
    'Run the whole cell on one machine: simulated plant (OPC UA), device adapters, step agents with the trained ' +
      'models, coordinator and ERP gateway, in accelerated time; place a demo order over REST and follow it to ' +
      'completion, then print the summary and the batch record.',
  );
  declareRunOptions(command);
  declareServiceOptions(command);
  return command.action(runStart);
}

/** What runs: the recipe, its models, the pace, the demo order, the plant's disturbances. */
function declareRunOptions(command: Command): void {
  command
    .option('-r, --recipe <file>', 'recipe (YAML)', defaultRecipePath())
    .option('--models <dir>', 'trained models (default models/<recipe name>)')
    .option('-t, --time-factor <n>', 'simulated seconds per wall-clock second', '120')
    .option('-o, --order <grams>', 'quantity of the demo order, g', '60')
    .option(
      '--no-order',
      'place no demo order: wait for the ERP to post one (implies --keep-running)',
    )
    .addOption(
      new Option('-s, --scenario <name>', 'disturbance scenario of the simulated plant').choices([
        ...SCENARIO_NAMES,
      ]),
    )
    .option('--seed <n>', 'seed of the plant noise and the scenario', '1');
}

/** Where the cell keeps its records and how it is reached: database, bus, REST, telemetry. */
function declareServiceOptions(command: Command): void {
  command
    .option(
      '--db <url>',
      'database: sqlite:<file> or postgres://…',
      process.env['PIPAC_DATABASE_URL'] ?? DEFAULT_DATABASE,
    )
    .option('--state <dir>', 'spools, journals and certificates', '.pipac/cell')
    .option(
      '--audit-keys <dir>',
      "the audit trail's signing key, keyring and exported head (made on first start)",
      DEFAULT_AUDIT_KEYS,
    )
    .option('--host <host>', 'REST API host', '127.0.0.1')
    .option('-p, --port <port>', 'REST API port (0: any free port)', '8090')
    .option(
      '--kafka <brokers>',
      'use these Kafka brokers instead of the in-process bus (comma-separated)',
    )
    .option(
      '--max-time <duration>',
      'give up if the order is not complete after this much simulated time',
      '12h',
    )
    .option('--refresh <seconds>', 'progress refresh, wall-clock seconds', '2')
    .option(
      '--metrics <host:port>',
      'Prometheus endpoint of the cell (GET /metrics; port 0: any free port)',
      '127.0.0.1:9464',
    )
    .option('--no-metrics', 'no telemetry at all (no endpoint, no traces)')
    .option(
      '--otlp <url>',
      'send traces to an OpenTelemetry collector (OTLP over HTTP, e.g. http://127.0.0.1:4318)',
    )
    .option(
      '--webhook-allow <cidr...>',
      'networks webhooks may reach although they are loopback or link-local (e.g. 127.0.0.0/8 for an ERP receiver on this machine); refused by default',
    )
    .option(
      '--keep-running',
      'keep the cell running after the order completes (Ctrl-C stops it)',
      false,
    );
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function runStart(options: StartOptions): Promise<void> {
  // node-opcua's benign start-up warnings (the LADS NodeSet's double parents) left out.
  const { routeNodeOpcuaWarnings } = lazy.opcua();
  routeNodeOpcuaWarnings();
  const { Cell } = lazy.cell();
  const settings = parseStartOptions(options);
  if (options.webhookAllow) checkWebhookAllow(options.webhookAllow);
  const recipe = loadRecipe(options.recipe);
  const models = options.models ?? join(REPOSITORY_ROOT, 'models', recipe.metadata.name);
  const bus: EventBus = options.kafka
    ? new KafkaBus({
        brokers: options.kafka.split(',').map((b) => b.trim()),
        clientId: 'pipac-start',
      })
    : new InProcessBus();
  out(
    `pipac start: ${recipe.metadata.name}, ${settings.timeFactor}× real time, ${options.kafka ? `Kafka ${options.kafka}` : 'in-process bus'}, ${options.db}`,
  );
  // Telemetry first: every part builds its instruments on the providers it registers.
  const telemetry =
    options.metrics === false
      ? undefined
      : await Telemetry.start({
          serviceName: 'pipac-cell',
          prometheus: parseHostPort(options.metrics, '--metrics'),
          ...(options.otlp ? { otlp: { endpoint: options.otlp, traces: true } } : {}),
        });
  const cell = await Cell.start(cellOptions(options, settings, models, bus));
  await runCell(cell, telemetry, options, settings);
}

/** The networks of --webhook-allow, checked as the gateway will read them. */
function checkWebhookAllow(networks: string[]): void {
  try {
    new (lazy.gateway().WebhookTargetPolicy)(networks);
  } catch (error) {
    throw new UsageError(`--webhook-allow: ${(error as Error).message}`);
  }
}

function cellOptions(
  options: StartOptions,
  settings: StartSettings,
  modelsDir: string,
  bus: EventBus,
): CellOptions {
  return {
    recipePath: options.recipe,
    modelsDir,
    bus,
    database: options.db,
    stateDir: resolve(options.state),
    auditKeys: resolve(options.auditKeys),
    timeFactor: settings.timeFactor,
    seed: Number(options.seed) || 1,
    ...(options.scenario
      ? { scenario: { name: options.scenario, duration: settings.maxTime } }
      : {}),
    http: { host: options.host, port: settings.port },
    ...(options.webhookAllow ? { webhookAllowNetworks: options.webhookAllow } : {}),
    log: (line) => {
      if (/refused|failed|error/i.test(line)) out(`  ! ${line}`);
    },
  };
}

/** Runs the started cell until its order is done (or Ctrl-C), prints the summary, stops it. */
async function runCell(
  cell: Cell,
  telemetry: Telemetry | undefined,
  options: StartOptions,
  settings: StartSettings,
): Promise<void> {
  const stopping = new AbortController();
  const onSignal = () => stopping.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    out(
      `REST API: ${cell.url}/api/v1 (OpenAPI: ${cell.url}/api/v1/openapi.json, docs: ${cell.url}/api/v1/docs)`,
    );
    if (telemetry?.metricsUrl) out(`metrics: ${telemetry.metricsUrl}`);
    out(
      `API key of ${cell.client.id} (${cell.client.roles.join(', ')}), shown once: ${cell.client.key}`,
    );
    const { Stores } = lazy.gateway();
    const stores = cell.gateway.app.get(Stores);
    const orderId = await followOrder(cell, stores, options, settings, stopping.signal);
    if (orderId) await summarise(cell, stores, orderId, out);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cell.stop();
    await telemetry?.shutdown();
  }
}

/**
 * Places the demo order (or waits for the ERP's) and shows progress until it is complete, the
 * time is up or Ctrl-C; resolves with the order's id, if there was one.
 */
async function followOrder(
  cell: Cell,
  stores: Stores,
  options: StartOptions,
  settings: StartSettings,
  stopped: AbortSignal,
): Promise<string | undefined> {
  let orderId: string | undefined;
  if (settings.grams !== undefined) {
    orderId = await placeDemoOrder(cell, settings.grams);
    out(
      `demo order placed over REST: ${settings.grams} g of ${cell.model.speciesIds[cell.model.productIndex]} (order ${orderId})`,
    );
  } else {
    out('no demo order: POST one to /api/v1/orders (Ctrl-C stops the cell)');
  }
  const monitor = new CellMonitor(cell, process.stdout.isTTY === true, stores);
  const startedAt = cell.now();
  let last: CellSnapshot | undefined;
  while (!stopped.aborted) {
    await sleep(settings.refresh * 1000, stopped);
    last = await monitor.snapshot(orderId);
    monitor.render(last);
    orderId ??= last.order?.id;
    if (last.order?.state === 'Completed' && !options.keepRunning && options.order !== false) break;
    if (cell.now() - startedAt > settings.maxTime * 1000 && !options.keepRunning) {
      out(`the order is not complete after ${options.maxTime} of simulated time: stopping`);
      break;
    }
  }
  return orderId;
}

async function placeDemoOrder(cell: Cell, grams: number): Promise<string> {
  const stamp = new Date(cell.now())
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14);
  const response = await fetch(`${cell.url}/api/v1/orders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${cell.client.key}`,
      'content-type': 'application/json',
      'idempotency-key': `demo-${stamp}`,
    },
    body: JSON.stringify({
      erpReference: `DEMO-${stamp}`,
      product: cell.model.speciesIds[cell.model.productIndex],
      quantity: grams,
      unit: 'g',
      release: true,
    }),
  });
  const body = (await response.json()) as { id?: string; detail?: string };
  if (!response.ok || !body.id)
    throw new Error(`the demo order was refused (${response.status}): ${body.detail ?? ''}`);
  return body.id;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolveSleep();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
