/**
 * How late the step agents' setpoint commands reach the device adapters in the embedded cell
 * (in-process bus, SQLite, the simulator's OPC UA server), and how many of them the adapters
 * refuse as expired (issue 13, item 9). A script, not a test: it prints what it measured.
 *
 *   npx tsx --tsconfig tsconfig.base.json services/cell/bench/deadline.bench.ts
 *
 * Per agent (or fallback) command: plant ms from the agent's decision (`issued_at`) to the
 * adapter's receipt (`received_at` of its confirmation), both on the cell's plant clock; wall
 * ms from the command appearing on the bus to its confirmation appearing on the bus; the
 * deadline the agent gave it, in plant ms after its issue; and the outcome. BENCH_SECONDS
 * (default 60) of wall clock after the start, BENCH_TIME_FACTOR (default 120), BENCH_LOAD
 * (default 0) busy-looping child processes beside the cell, to measure under load.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InProcessBus, subscribeEvents } from '@pipac/bus';
import {
  Issuer_Kind,
  WriteConfirmation_Outcome as Outcome,
  deadLetterTopic,
  setpointCommandCodec,
  timestampMs,
  topicName,
  writeConfirmationCodec,
} from '@pipac/contracts';
import { routeNodeOpcuaWarnings } from '@pipac/opcua';
import { Cell } from '../src/app/cell';

const root = join(__dirname, '..', '..', '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 60);
const timeFactor = Number(process.env['BENCH_TIME_FACTOR'] ?? 120);
const load = Number(process.env['BENCH_LOAD'] ?? 0);

interface Sent {
  issuedAt: number;
  deadline: number;
  seenWall: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'burn') {
    for (;;) Math.sqrt(Math.random()); // a busy core, for the measurement under load
  }
  routeNodeOpcuaWarnings();
  const burners: ChildProcess[] = [];
  for (let i = 0; i < load; i++) burners.push(fork(__filename, ['burn'], { stdio: 'ignore' }));
  const stateDir = mkdtempSync(join(tmpdir(), 'pipac-deadline-'));
  const bus = new InProcessBus();
  const site = 'bench';
  const cell = await Cell.start({
    site,
    recipePath: join(root, 'recipes/paracetamol.yaml'),
    modelsDir: join(root, 'models/paracetamol'),
    bus,
    database: `sqlite:${join(stateDir, 'cell.db')}`,
    stateDir,
    timeFactor,
    warmUp: 600,
    http: { host: '127.0.0.1', port: 0 },
  });
  const sent = new Map<string, Sent>();
  const rows: { plant: number; wall: number; given: number; outcome: Outcome }[] = [];
  for (const step of cell.model.steps.map((s) => s.id)) {
    const topic = (stream: 'setpoints' | 'confirmations') =>
      topicName({ site, cell: 'cell-1', step, stream });
    await subscribeEvents(bus, {
      group: `bench.${step}.setpoints`,
      topic: topic('setpoints'),
      codec: setpointCommandCodec,
      deadLetterTopic: deadLetterTopic(site, 'cell-1'),
      handler: async (command) => {
        const kind = command.issuer?.kind;
        if (kind !== Issuer_Kind.AGENT && kind !== Issuer_Kind.FALLBACK_CONTROLLER) return;
        if (!command.issuedAt || !command.deadline) return;
        sent.set(command.commandId, {
          issuedAt: timestampMs(command.issuedAt),
          deadline: timestampMs(command.deadline),
          seenWall: performance.now(),
        });
      },
    });
    await subscribeEvents(bus, {
      group: `bench.${step}.confirmations`,
      topic: topic('confirmations'),
      codec: writeConfirmationCodec,
      deadLetterTopic: deadLetterTopic(site, 'cell-1'),
      handler: async (confirmation) => {
        const command = sent.get(confirmation.commandId);
        if (!command || !confirmation.receivedAt) return;
        sent.delete(confirmation.commandId);
        rows.push({
          plant: timestampMs(confirmation.receivedAt) - command.issuedAt,
          wall: performance.now() - command.seenWall,
          given: command.deadline - command.issuedAt,
          outcome: confirmation.outcome,
        });
      },
    });
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await cell.stop();
  for (const burner of burners) burner.kill();
  rmSync(stateDir, { recursive: true, force: true });

  const expired = rows.filter((r) => r.outcome === Outcome.REFUSED_EXPIRED).length;
  const outcomes: Record<string, number> = {};
  for (const r of rows) outcomes[Outcome[r.outcome]] = (outcomes[Outcome[r.outcome]] ?? 0) + 1;
  const line = (name: string, values: number[]) =>
    `${name.padEnd(34)} p50 ${percentile(values, 50).toFixed(0).padStart(8)}  p95 ${percentile(values, 95).toFixed(0).padStart(8)}  max ${Math.max(
      ...values,
    )
      .toFixed(0)
      .padStart(8)}`;
  process.stdout.write(
    [
      `embedded cell at ${timeFactor}x, ${seconds} s wall, ${load} busy processes beside it`,
      `agent commands confirmed: ${rows.length}, unconfirmed at the end: ${sent.size}`,
      `outcomes: ${JSON.stringify(outcomes)}`,
      `expired: ${expired} of ${rows.length} (${((100 * expired) / Math.max(1, rows.length)).toFixed(1)} %)`,
      line(
        'decision → adapter, plant ms',
        rows.map((r) => r.plant),
      ),
      line(
        'decision → adapter, plant→wall ms',
        rows.map((r) => r.plant / timeFactor),
      ),
      line(
        'on the bus → confirmed, wall ms',
        rows.map((r) => r.wall),
      ),
      line(
        'deadline given, plant ms',
        rows.map((r) => r.given),
      ),
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
