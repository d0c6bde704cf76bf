/**
 * Speed of one device adapter on loopback with the real Kafka broker. A script, not a test:
 * it prints what it measured against the targets and never fails a build.
 * Run with `npm run bench:adapter` (starts the project's broker unless PIPAC_KAFKA_BROKERS is set).
 *
 * 1. Readings per second carried OPC UA → Kafka by one adapter, with none lost: a device in
 *    another process changes BENCH_TAGS values at an offered rate for BENCH_SECONDS; the
 *    adapter subscribes (SignAndEncrypt, Basic256Sha256) and publishes (idempotent, acks=all).
 *    Delivered rate = readings on Kafka / time from the first change to the last one on
 *    Kafka; a consumer then counts what is on the topic.
 * 2. Setpoint command → confirmed write latency, p50 and p99: a command published to Kafka,
 *    consumed by the adapter, written and read back over OPC UA, and its confirmation
 *    consumed from Kafka; one command at a time.
 */
import { fork, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, encodeEvent, subscribeEvents, type BusMessage } from '@pipac/bus';
import {
  Issuer_Kind,
  SetpointCommandSchema,
  WriteConfirmation_Outcome,
  create,
  deadLetterTopic,
  setpointCommandCodec,
  timestampFromMs,
  timestampMs,
  topicName,
  writeConfirmationCodec,
} from '@pipac/contracts';
import { freePort } from '@pipac/opcua/testing';
import { routeNodeOpcuaWarnings, type NodeMap } from '@pipac/opcua';
import { DeviceAdapter } from '../src/index';

const root = join(__dirname, '..', '..', '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const tags = Number(process.env['BENCH_TAGS'] ?? 1000);
const offered = Number(process.env['BENCH_RATE'] ?? 25_000);
const commands = Number(process.env['BENCH_COMMANDS'] ?? 500);
const USER = { username: 'bench', password: 'bench password' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  routeNodeOpcuaWarnings();
  let brokers = process.env['PIPAC_KAFKA_BROKERS'];
  const ownBroker = !brokers;
  if (!brokers) {
    process.stderr.write("starting the project's Kafka broker (scripts/kafka/kafka.sh)…\n");
    brokers = execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'start'], {
      encoding: 'utf8',
    }).trim();
  }
  const dir = mkdtempSync(join(tmpdir(), 'pipac-bench-'));
  const port = await freePort();
  const child = fork(
    join(__dirname, 'device-server.child.ts'),
    [String(port), join(dir, 'server-pki'), String(tags), USER.username, USER.password],
    {
      execArgv: ['--require', 'tsx/cjs'],
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json') },
    },
  );
  const nodeMap = await new Promise<NodeMap>((resolve, reject) => {
    child.once('message', (m: { ready: NodeMap }) => resolve(m.ready));
    child.once('exit', (code) => reject(new Error(`device server exited (${code})`)));
  });

  const site = `bench-${Date.now().toString(36)}`;
  const place = { site, cell: 'cell-1', step: 'bench' };
  const sensors = topicName({ ...place, stream: 'sensors' });
  const bus = new KafkaBus({ brokers: brokers.split(','), clientId: 'bench-adapter' });
  const probe = new KafkaBus({ brokers: brokers.split(','), clientId: 'bench-probe' });
  await bus.connect();
  await probe.connect();
  const adapter = await DeviceAdapter.start({
    ...place,
    nodeMap,
    bus,
    opcua: {
      pkiFolder: join(dir, 'adapter-pki'),
      acceptUnknownCertificates: true,
      user: USER,
      queueSize: 1000,
    },
    stateDir: join(dir, 'adapter-state'),
    memoryLimit: 200_000,
  });

  // 1. Throughput. First the initial value of every tag, sent when the subscription starts.
  // (the device's TI-* tags plus the setpoint's two; only the TI-* ones are counted below)
  while (adapter.stats.published < tags + 2) await new Promise((r) => setTimeout(r, 20));
  const initial = tags;
  const before = adapter.stats.published;
  const readingsBefore = adapter.stats.readings;
  const run = new Promise<{ produced: number; seconds: number; cpuSeconds: number }>((resolve) =>
    child.on('message', (m: { produced?: number; seconds?: number; cpuSeconds?: number }) => {
      if (m.produced !== undefined)
        resolve({ produced: m.produced, seconds: m.seconds!, cpuSeconds: m.cpuSeconds! });
    }),
  );
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (process.env['BENCH_MARKS'])
    process.stderr.write(`mark start ${process.hrtime.bigint() / 1000n}\n`);
  child.send({ start: { ratePerSecond: offered, seconds } });
  const device = await run;
  // Wait until every change the device made reached Kafka (or stop waiting after 60 s).
  const deadline = performance.now() + 60_000;
  while (
    adapter.stats.readings - readingsBefore < device.produced &&
    performance.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (process.env['BENCH_MARKS'])
    process.stderr.write(`mark end ${process.hrtime.bigint() / 1000n}\n`);
  const receivedAt = (performance.now() - started) / 1000;
  await adapter.flushed();
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const adapterCpu = (used.user + used.system) / 1e6 / elapsed;
  process.stderr.write(
    `last reading received at ${receivedAt.toFixed(2)} s, all published at ${elapsed.toFixed(2)} s\n`,
  );
  const received = adapter.stats.readings - readingsBefore;
  const published = adapter.stats.published - before;

  // Count what is on the topic (a fresh consumer group from the beginning).
  let onKafka = 0;
  const counting = await probe.subscribe({
    group: 'bench-count',
    topics: [sensors],
    fromBeginning: true,
    handler: async (m: BusMessage) => {
      if (m.key.startsWith('TI-')) onKafka++;
    },
  });
  const countDeadline = performance.now() + 60_000;
  while (onKafka < device.produced && performance.now() < countDeadline)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  await counting.close();

  // 2. Command → confirmation latency.
  const setpoints = topicName({ ...place, stream: 'setpoints' });
  const confirmationsTopic = topicName({ ...place, stream: 'confirmations' });
  const pending = new Map<
    string,
    (c: { outcome: number; receivedAt: number; confirmedAt: number }) => void
  >();
  const answers = await subscribeEvents(probe, {
    group: 'bench-confirmations',
    topic: confirmationsTopic,
    codec: writeConfirmationCodec,
    deadLetterTopic: deadLetterTopic(place.site, place.cell),
    handler: async (c) =>
      pending.get(c.commandId)?.({
        outcome: c.outcome,
        receivedAt: timestampMs(c.receivedAt!),
        confirmedAt: timestampMs(c.confirmedAt!),
      }),
  });
  const latencies: number[] = [];
  const toAdapter: number[] = [];
  const inAdapter: number[] = [];
  const back: number[] = [];
  let applied = 0;
  for (let i = 0; i < (commands > 0 ? commands + 20 : 0); i++) {
    const command = create(SetpointCommandSchema, {
      commandId: `bench-${i}`,
      location: { ...place, device: 'bench' },
      targetTag: 'SP-1',
      value: 1 + (i % 500),
      unit: 'mL/min',
      issuer: { kind: Issuer_Kind.USER, id: 'bench' },
      reason: 'benchmark',
      issuedAt: timestampFromMs(Date.now()),
      deadline: timestampFromMs(Date.now() + 10_000),
    });
    const answered = new Promise<{ outcome: number; receivedAt: number; confirmedAt: number }>(
      (resolve) => pending.set(command.commandId, resolve),
    );
    const t0 = performance.now();
    const wall0 = Date.now();
    await probe.publish(setpoints, [encodeEvent(setpointCommandCodec, 'SP-1', command)]);
    const answer = await answered;
    const t1 = performance.now();
    const wall1 = Date.now();
    pending.delete(command.commandId);
    if (answer.outcome === WriteConfirmation_Outcome.APPLIED) applied++;
    if (i >= 20) {
      // the first 20 warm up the path
      latencies.push(t1 - t0);
      toAdapter.push(answer.receivedAt - wall0);
      inAdapter.push(answer.confirmedAt - answer.receivedAt);
      back.push(wall1 - answer.confirmedAt);
    }
  }
  await answers.close();
  for (const list of [latencies, toAdapter, inAdapter, back]) list.sort((a, b) => a - b);
  const split = (list: number[]) =>
    list.length > 0 ? `${percentile(list, 50)} / ${percentile(list, 99)} ms` : 'n/a';

  const carried = onKafka - initial;
  const delivered = carried / elapsed;
  const lost = device.produced - carried;
  const p50 = latencies.length > 0 ? percentile(latencies, 50) : Number.NaN;
  const p99 = latencies.length > 0 ? percentile(latencies, 99) : Number.NaN;
  const rows = [
    [
      'device changes (offered)',
      `${device.produced} in ${device.seconds.toFixed(1)} s`,
      `${Math.round(device.produced / device.seconds)}/s offered`,
    ],
    ['readings received by the adapter', String(received), ''],
    [
      'readings published / on Kafka',
      `${published} / ${carried}`,
      `lost ${lost} (initial values not counted)`,
    ],
    [
      'CPU, adapter / device process',
      `${(adapterCpu * 100).toFixed(0)} % / ${((device.cpuSeconds / device.seconds) * 100).toFixed(0)} %`,
      'of one core, during the run',
    ],
    [
      'readings per second OPC UA → Kafka',
      `${Math.round(delivered)}/s`,
      `target ≥ 20000/s: ${delivered >= 20_000 && lost === 0 ? 'met' : 'NOT met'}`,
    ],
    [
      'command → confirmed write, p50',
      `${p50.toFixed(2)} ms`,
      `${latencies.length} commands (after 20 to warm up), ${applied} applied in all`,
    ],
    [
      'command → confirmed write, p99',
      `${p99.toFixed(2)} ms`,
      `target ≤ 20 ms: ${p99 <= 20 ? 'met' : 'NOT met'}`,
    ],
    ['command → confirmed write, max', `${(latencies.at(-1) ?? Number.NaN).toFixed(2)} ms`, ''],
    ['  command to adapter, p50 / p99', split(toAdapter), 'publish and fetch (ms clock)'],
    ['  write and read-back, p50 / p99', split(inAdapter), 'checks, OPC UA write + read, journal'],
    ['  confirmation back, p50 / p99', split(back), 'publish and fetch'],
  ];
  process.stdout.write(
    `\ndevice adapter benchmark (${tags} tags, SignAndEncrypt, Kafka ${brokers})\n`,
  );
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [name, value, note] of rows)
    process.stdout.write(`  ${name!.padEnd(width)}  ${value!.padStart(22)}  ${note}\n`);

  await adapter.stop();
  await bus.disconnect();
  await probe.disconnect();
  child.send({ stop: true });
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  if (ownBroker) execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'stop']);
}

main().catch((error: unknown) => {
  process.stderr.write(`adapter.bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
