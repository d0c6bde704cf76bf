/**
 * Latency of the ERP gateway's orders API under concurrent clients. A script, not a test: it
 * prints what it measured and never fails a build. Run with `npm run bench:api`.
 *
 * The gateway runs as in production (its Nest application, API keys, validation, the
 * database through TypeORM, the webhook outbox) on SQLite, and on PostgreSQL when
 * PIPAC_POSTGRES_URL is set (scripts/postgres/postgres.sh start prints one). BENCH_CLIENTS
 * clients (default 50) each loop for BENCH_SECONDS (default 15): create an order (a fresh
 * idempotency key), read it back, list the newest 20, and hold it with a reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@pipac/bus';
import { Database, parseDatabaseUrl } from '@pipac/persistence';
import { scratchPostgres } from '@pipac/persistence/testing';
import { Stores, createErpGateway } from '../src';

const clients = Number(process.env['BENCH_CLIENTS'] ?? 50);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 15);
const OPERATIONS = ['create', 'read', 'list', 'hold'] as const;
type Operation = (typeof OPERATIONS)[number];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(label: string, url: string): Promise<void> {
  const db = await Database.open(parseDatabaseUrl(url));
  const bus = new InProcessBus();
  await bus.connect();
  const { app } = await createErpGateway(
    {
      site: 'bench',
      cell: 'cell-1',
      steps: ['nitration'],
      recipe: 'paracetamol',
      product: 'paracetamol',
      db,
      bus,
      modelsDir: tmpdir(),
    },
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const base = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/api/v1`;
  const { key } = await app.get(Stores).clients.create(`bench-${Date.now()}`, 'bench', ['erp']);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const latencies: Record<Operation, number[]> = { create: [], read: [], list: [], hold: [] };
  const errors: Record<Operation, number> = { create: 0, read: 0, list: 0, hold: 0 };
  const timed = async (operation: Operation, request: () => Promise<Response>) => {
    const start = performance.now();
    const response = await request();
    const text = await response.text();
    latencies[operation].push(performance.now() - start);
    if (!response.ok) errors[operation]++;
    return text ? (JSON.parse(text) as { id?: string }) : {};
  };
  const deadline = performance.now() + seconds * 1000;
  let sequence = 0;
  const worker = async (w: number) => {
    while (performance.now() < deadline) {
      const n = sequence++;
      const order = await timed('create', () =>
        fetch(`${base}/orders`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': `bench-${w}-${n}` },
          body: JSON.stringify({
            erpReference: `B-${w}-${n}`,
            product: 'paracetamol',
            quantity: 10,
            unit: 'g',
            release: true,
          }),
        }),
      );
      if (!order.id) continue;
      await timed('read', () => fetch(`${base}/orders/${order.id}`, { headers }));
      await timed('list', () => fetch(`${base}/orders?limit=20`, { headers }));
      await timed('hold', () =>
        fetch(`${base}/orders/${order.id}/hold`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ reason: 'bench' }),
        }),
      );
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  const total = OPERATIONS.reduce((sum, o) => sum + latencies[o].length, 0);
  process.stdout.write(
    `\n${label}: ${clients} clients, ${elapsed.toFixed(1)} s, ${total} requests, ${(total / elapsed).toFixed(0)} requests/s\n`,
  );
  process.stdout.write(
    `${'operation'.padEnd(10)}${'requests'.padStart(10)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'errors'.padStart(8)}\n`,
  );
  for (const operation of OPERATIONS) {
    const sorted = [...latencies[operation]].sort((a, b) => a - b);
    process.stdout.write(
      `${operation.padEnd(10)}${String(sorted.length).padStart(10)}${percentile(sorted, 50).toFixed(1).padStart(10)}` +
        `${percentile(sorted, 95).toFixed(1).padStart(10)}${percentile(sorted, 99).toFixed(1).padStart(10)}` +
        `${(sorted.at(-1) ?? Number.NaN).toFixed(1).padStart(10)}${String(errors[operation]).padStart(8)}\n`,
    );
  }
  const verification = await app.get(Stores).audit.verify();
  process.stdout.write(
    `audit trail after the run: ${verification.ok ? 'verified' : 'BROKEN'}, ${verification.entries} entries\n`,
  );
  await app.close();
  await bus.disconnect();
  await db.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pipac-bench-api-'));
  try {
    await run('SQLite (embedded)', `sqlite:${join(dir, 'cell.sqlite')}`);
    if (process.env['PIPAC_POSTGRES_URL']) {
      const scratch = await scratchPostgres();
      try {
        await run('PostgreSQL', scratch.url);
      } finally {
        await scratch.dispose();
      }
    } else {
      process.stdout.write('\nPostgreSQL: skipped (set PIPAC_POSTGRES_URL to measure it)\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
