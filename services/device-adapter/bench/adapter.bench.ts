/**
 * Speed of one device adapter on loopback with the real Kafka broker. A script, not a test:
 * it prints what it measured against the targets and never fails a build.
 * Run with `npm run bench:adapter` (starts the project's broker unless PIPAC_KAFKA_BROKERS is set).
 *
 * Three processes, as deployed: the device (an OPC UA server, bench/device-server.child.ts),
 * the adapter (its real entry point, src/main.ts, with a configuration file), and this
 * driver, which talks to the adapter only through Kafka.
 *
 * 1. Readings per second carried OPC UA → Kafka by the adapter, with none lost: the device
 *    changes BENCH_TAGS values at BENCH_RATE per second for BENCH_SECONDS; the adapter
 *    subscribes (SignAndEncrypt, Basic256Sha256) and publishes (idempotent, acks=all); the
 *    driver counts the readings on the topic. Delivered rate = readings / time from the first
 *    change to the last reading on Kafka.
 * 2. Setpoint command → confirmed write latency, p50 and p99 (BENCH_COMMANDS, one at a time):
 *    a command published to Kafka, consumed by the adapter, checked, written and read back
 *    over OPC UA, journaled, and its confirmation consumed from Kafka by the driver.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, encodeEvent, subscribeEvents } from '@pipac/bus';
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
import type { NodeMap } from '@pipac/opcua';

const root = join(__dirname, '..', '..', '..');
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const tags = Number(process.env['BENCH_TAGS'] ?? 1000);
const offered = Number(process.env['BENCH_RATE'] ?? 25_000);
const commands = Number(process.env['BENCH_COMMANDS'] ?? 500);
const USER = { username: 'bench', password: 'bench password' };
const tsx = {
  execArgv: ['--require', 'tsx/cjs'],
  env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json') },
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU seconds a process has used (Linux /proc: utime + stime, in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  let brokers = process.env['PIPAC_KAFKA_BROKERS'];
  const ownBroker = !brokers;
  if (!brokers) {
    process.stderr.write("starting the project's Kafka broker (scripts/kafka/kafka.sh)…\n");
    brokers = execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'start'], {
      encoding: 'utf8',
    }).trim();
  }
  const dir = mkdtempSync(join(tmpdir(), 'pipac-bench-'));

  // The device.
  const device = fork(
    join(__dirname, 'device-server.child.ts'),
    [String(await freePort()), join(dir, 'server-pki'), String(tags), USER.username, USER.password],
    tsx,
  );
  const nodeMap = await new Promise<NodeMap>((resolve, reject) => {
    device.once('message', (m: { ready: NodeMap }) => resolve(m.ready));
    device.once('exit', (code) => reject(new Error(`device server exited (${code})`)));
  });

  // The driver's side of Kafka, subscribed before the adapter starts so it misses nothing.
  const place = { site: `bench-${Date.now().toString(36)}`, cell: 'cell-1', step: 'bench' };
  const topic = (stream: 'sensors' | 'setpoints' | 'confirmations') =>
    topicName({ ...place, stream });
  const probe = new KafkaBus({ brokers: brokers.split(','), clientId: 'bench-driver' });
  await probe.connect();
  await probe.ensureTopics([
    { name: topic('sensors') },
    { name: topic('setpoints'), compacted: true },
    { name: topic('confirmations') },
    { name: deadLetterTopic(place.site, place.cell) },
  ]);
  // Readings are counted once the run is over (a consumer running alongside would take CPU
  // from the adapter on two cores); each one's append time says when it reached Kafka.
  let onKafka = 0;
  let lastAppend = 0;
  let counts = 0;
  const countReadings = () =>
    probe.subscribe({
      group: `bench-count-${++counts}`,
      topics: [topic('sensors')],
      fromBeginning: true,
      handler: async (m) => {
        if (!m.key.startsWith('TI-')) return;
        onKafka++;
        lastAppend = Math.max(lastAppend, m.timestamp);
      },
    });
  const pending = new Map<
    string,
    (c: { outcome: WriteConfirmation_Outcome; receivedAt: number; confirmedAt: number }) => void
  >();
  await subscribeEvents(probe, {
    group: 'bench-confirmations',
    topic: topic('confirmations'),
    codec: writeConfirmationCodec,
    deadLetterTopic: deadLetterTopic(place.site, place.cell),
    handler: async (c) =>
      pending.get(c.commandId)?.({
        outcome: c.outcome,
        receivedAt: timestampMs(c.receivedAt!),
        confirmedAt: timestampMs(c.confirmedAt!),
      }),
  });

  // The adapter, from a configuration file, as plant IT would run it.
  const config = join(dir, 'adapter.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      ...place,
      nodeMap,
      opcua: {
        username: USER.username,
        pkiFolder: join(dir, 'adapter-pki'),
        acceptUnknownCertificates: true,
      },
      kafkaBrokers: brokers.split(','),
      stateDir: join(dir, 'adapter-state'),
      memoryLimit: 200_000,
      http: { host: '127.0.0.1', port: 0 },
    }),
  );
  const adapter = spawn(
    process.execPath,
    [...tsx.execArgv, join(__dirname, '..', 'src', 'main.ts'), config],
    {
      env: { ...tsx.env, PIPAC_OPCUA_PASSWORD: USER.password },
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    adapter.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes('device-adapter:') && !text.includes('Error')) resolve();
      if (!text.startsWith('node-opcua')) process.stderr.write(text);
    });
    adapter.once('exit', (code) => reject(new Error(`adapter exited (${code})`)));
  });
  // Every tag's initial value arrives first.
  let counting = await countReadings();
  while (onKafka < tags) await sleep(20);
  await counting.close();
  const initial = onKafka;
  onKafka = 0;

  // 1. Throughput.
  const finished = new Promise<{ produced: number; seconds: number; cpuSeconds: number }>(
    (resolve) =>
      device.on('message', (m: { produced?: number; seconds?: number; cpuSeconds?: number }) => {
        if (m.produced !== undefined)
          resolve({ produced: m.produced, seconds: m.seconds!, cpuSeconds: m.cpuSeconds! });
      }),
  );
  const adapterCpu0 = cpuSeconds(adapter.pid!);
  const started = Date.now();
  device.send({ start: { ratePerSecond: offered, seconds } });
  const run = await finished;
  await sleep(2000);
  const adapterCpu1 = cpuSeconds(adapter.pid!);
  // Then every change should be on Kafka: count until it is, or nothing more arrives for 10 s.
  counting = await countReadings();
  let seen = -1;
  let quietSince = performance.now();
  while (onKafka - initial < run.produced && performance.now() - quietSince < 10_000) {
    if (onKafka !== seen) {
      seen = onKafka;
      quietSince = performance.now();
    }
    await sleep(20);
  }
  await counting.close();
  const carried = onKafka - initial;
  const elapsed = (lastAppend - started) / 1000;
  const adapterCpu = (adapterCpu1 - adapterCpu0) / elapsed;
  const delivered = carried / elapsed;
  const lost = run.produced - carried;

  // 2. Command → confirmation latency.
  const latencies: number[] = [];
  const toAdapter: number[] = [];
  const inAdapter: number[] = [];
  const back: number[] = [];
  let applied = 0;
  const warmUp = commands > 0 ? 20 : 0;
  for (let i = 0; i < commands + warmUp; i++) {
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
    const answered = new Promise<{
      outcome: WriteConfirmation_Outcome;
      receivedAt: number;
      confirmedAt: number;
    }>((resolve) => pending.set(command.commandId, resolve));
    const wall0 = Date.now();
    const t0 = performance.now();
    await probe.publish(topic('setpoints'), [encodeEvent(setpointCommandCodec, 'SP-1', command)]);
    const answer = await answered;
    const t1 = performance.now();
    const wall1 = Date.now();
    pending.delete(command.commandId);
    if (answer.outcome === WriteConfirmation_Outcome.APPLIED) applied++;
    if (i < warmUp) continue;
    latencies.push(t1 - t0);
    toAdapter.push(answer.receivedAt - wall0);
    inAdapter.push(answer.confirmedAt - answer.receivedAt);
    back.push(wall1 - answer.confirmedAt);
  }
  for (const list of [latencies, toAdapter, inAdapter, back]) list.sort((a, b) => a - b);
  const ms = (list: number[], p: number) => (list.length > 0 ? percentile(list, p) : Number.NaN);
  const split = (list: number[]) => `${ms(list, 50)} / ${ms(list, 99)} ms`;
  const p50 = ms(latencies, 50);
  const p99 = ms(latencies, 99);

  const rows: [string, string, string][] = [
    [
      'device changes (offered)',
      `${run.produced} in ${run.seconds.toFixed(1)} s`,
      `${Math.round(run.produced / run.seconds)}/s`,
    ],
    ['readings on Kafka', String(carried), `lost ${lost}`],
    [
      'CPU, adapter / device process',
      `${(adapterCpu * 100).toFixed(0)} % / ${((run.cpuSeconds / run.seconds) * 100).toFixed(0)} %`,
      'of one core',
    ],
    [
      'readings per second OPC UA → Kafka',
      `${Math.round(delivered)}/s`,
      `target ≥ 20000/s with none lost: ${delivered >= 20_000 && lost === 0 ? 'met' : 'NOT met'}`,
    ],
    [
      'command → confirmed write, p50',
      `${p50.toFixed(2)} ms`,
      `${latencies.length} commands, ${applied} of ${commands + warmUp} applied`,
    ],
    [
      'command → confirmed write, p99',
      `${p99.toFixed(2)} ms`,
      `target ≤ 20 ms: ${p99 <= 20 ? 'met' : 'NOT met'}`,
    ],
    ['command → confirmed write, max', `${(latencies.at(-1) ?? Number.NaN).toFixed(2)} ms`, ''],
    ['  command to adapter, p50 / p99', split(toAdapter), 'publish and fetch (ms clock)'],
    ['  in the adapter, p50 / p99', split(inAdapter), 'checks, OPC UA write + read-back, journal'],
    ['  confirmation back, p50 / p99', split(back), 'publish and fetch (ms clock)'],
  ];
  process.stdout.write(
    `\ndevice adapter benchmark: ${tags} tags, SignAndEncrypt/Basic256Sha256, Kafka ${brokers}\n`,
  );
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [name, value, note] of rows)
    process.stdout.write(`  ${name.padEnd(width)}  ${value.padStart(20)}  ${note}\n`);

  adapter.kill('SIGTERM');
  await new Promise((r) => adapter.once('exit', r));
  await probe.disconnect();
  device.send({ stop: true });
  await new Promise((r) => device.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  if (ownBroker) execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'stop']);
}

main().catch((error: unknown) => {
  process.stderr.write(`adapter.bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
