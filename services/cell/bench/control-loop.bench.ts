/**
 * Control-loop latency on the real parts, Kafka on loopback: from a value changing at the
 * simulated device to the confirmed setpoint write. A script, not a test: it prints what it
 * measured against the target and never fails a build. Run with `npm run bench:loop`
 * (starts the project's broker unless PIPAC_KAFKA_BROKERS is set).
 *
 * The path measured, per sample: the hydrogenation's analyser result (AT-201.conversion)
 * changes on the plant simulator's OPC UA server → the device adapter's subscription
 * (SignAndEncrypt) → Kafka → the step agent (observation, ONNX policy, safety shield) → its
 * setpoint commands on Kafka → the module's adapter: checks, OPC UA write and read-back,
 * journal → the write confirmation on Kafka. The agent decides as soon as it holds the new
 * value (in service it decides on its 60 s cycle; the benchmark removes that wait, which is
 * not latency). The twin is frozen, so only the injected changes move values.
 * BENCH_SAMPLES (default 300) samples, one at a time; BENCH_PUBLISHING_MS (default 50) is
 * the adapters' OPC UA publishing interval.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, subscribeEvents } from '@pipac/bus';
import { deadLetterTopic, topicName, writeConfirmationCodec } from '@pipac/contracts';
import { DeviceAdapter } from '@pipac/device-adapter';
import { freePort, routeNodeOpcuaWarnings } from '@pipac/opcua';
import { PlantSimulator } from '@pipac/plant-simulator';
import { StepAgent } from '@pipac/step-agent';
import { compilePlant, loadRecipe } from '@pipac/twin';

const root = join(__dirname, '..', '..', '..');
const samples = Number(process.env['BENCH_SAMPLES'] ?? 300);
const publishingMs = Number(process.env['BENCH_PUBLISHING_MS'] ?? 50);
const TARGET_P99_MS = 50;
const USER = { username: 'bench', password: 'bench password' };
const STEP = 'hydrogenation';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
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
  const dir = mkdtempSync(join(tmpdir(), 'pipac-bench-loop-'));
  const site = `bench-${Date.now().toString(36)}`;
  const recipe = loadRecipe(join(root, 'recipes/paracetamol.yaml'));
  const model = compilePlant(recipe);
  const bus = new KafkaBus({ brokers: brokers.split(','), clientId: 'bench-loop' });
  await bus.connect();
  // The twin frozen after its warm-up: the simulation loop ticks once an hour.
  const simulator = await PlantSimulator.start({
    recipe,
    port: await freePort(),
    pkiFolder: join(dir, 'pki-server'),
    security: { users: [USER], acceptUnknownCertificates: true },
    warmUp: 1800,
    tickMs: 3_600_000,
  });
  // The agent first: it is subscribed when the adapters publish every tag's first value.
  const agent = await StepAgent.start({
    site,
    cell: 'cell-1',
    step: STEP,
    model,
    bus,
    modelsDir: join(root, 'models', recipe.metadata.name),
    mode: 'automatic',
    autoCycle: false,
    modelPollMs: 0,
    group: `bench-agent-${site}`,
    log: () => undefined,
  });
  const adapters = [];
  for (const device of [`${STEP}-module`, 'AT-201']) {
    adapters.push(
      await DeviceAdapter.start({
        site,
        cell: 'cell-1',
        step: STEP,
        nodeMap: simulator.server.nodeMap(device),
        bus,
        opcua: {
          pkiFolder: join(dir, 'pki-adapters'),
          acceptUnknownCertificates: true,
          user: USER,
          publishingIntervalMs: publishingMs,
        },
        stateDir: join(dir, device),
        spoolSync: false,
        refreshMs: 0,
      }),
    );
  }
  const confirmations: number[] = [];
  const watch = await subscribeEvents(bus, {
    group: `bench-${site}`,
    topic: topicName({ site, cell: 'cell-1', step: STEP, stream: 'confirmations' }),
    codec: writeConfirmationCodec,
    deadLetterTopic: deadLetterTopic(site, 'cell-1'),
    handler: async () => void confirmations.push(performance.now()),
  });
  const wait = async (condition: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!condition()) {
      if (performance.now() > end) return false;
      await new Promise((r) => setImmediate(r));
    }
    return true;
  };
  // Every tag once, so the agent has a complete picture before the first sample.
  for (let tries = 0; (await agent.cycle()).missing; tries++) {
    if (tries > 300) throw new Error('the agent never had every reading');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000));

  const latencies: number[] = [];
  const split = { toAgent: [] as number[], decide: [] as number[] };
  let noCommand = 0;
  let timedOut = 0;
  for (let i = 0; i < samples; i++) {
    const readingsBefore = agent.stats.readings;
    const confirmedBefore = confirmations.length;
    const commandsBefore = agent.stats.commands;
    // Alternate around the minimum conversion, so the policy moves the setpoints each time.
    const conversion = 0.9 + 0.09 * ((i % 7) / 6);
    const t0 = performance.now();
    simulator.server.update('AT-201.conversion', { value: conversion, sourceTime: new Date() });
    if (!(await wait(() => agent.stats.readings > readingsBefore, 5000))) {
      timedOut++;
      continue;
    }
    const t1 = performance.now();
    await agent.cycle();
    const t2 = performance.now();
    if (agent.stats.commands === commandsBefore) {
      noCommand++;
      continue;
    }
    if (!(await wait(() => confirmations.length > confirmedBefore, 5000))) {
      timedOut++;
      continue;
    }
    latencies.push(confirmations[confirmedBefore]! - t0);
    split.toAgent.push(t1 - t0);
    split.decide.push(t2 - t1);
    // Let every confirmation of this cycle land before the next sample.
    await new Promise((r) => setTimeout(r, 30));
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p = (list: number[], q: number) =>
    percentile(
      [...list].sort((a, b) => a - b),
      q,
    ).toFixed(1);
  const p99 = percentile(sorted, 99);
  process.stdout.write(
    `\ncontrol loop, device value change → confirmed setpoint write (Kafka on loopback, OPC UA publishing ${publishingMs} ms)\n` +
      `samples: ${latencies.length} measured, ${noCommand} without a command, ${timedOut} timed out\n` +
      `latency p50 ${p(latencies, 50)} ms, p99 ${p99.toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms` +
      `   target p99 ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'met' : 'NOT met'}\n` +
      `  device change → reading at the agent: p50 ${p(split.toAgent, 50)} ms, p99 ${p(split.toAgent, 99)} ms (OPC UA notification, adapter, Kafka)\n` +
      `  agent cycle (observe, ONNX, shield, publish): p50 ${p(split.decide, 50)} ms, p99 ${p(split.decide, 99)} ms\n` +
      `  the rest is the command to the adapter, the OPC UA write and read-back, the journal and the confirmation back\n`,
  );
  await watch.close();
  await agent.stop();
  for (const adapter of adapters) await adapter.stop();
  await simulator.stop();
  await bus.disconnect();
  rmSync(dir, { recursive: true, force: true });
  if (ownBroker) execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'stop']);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
