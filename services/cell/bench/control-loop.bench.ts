/**
 * Control-loop latency on the real parts, Kafka on loopback: from a value changing at the
 * simulated device to the confirmed setpoint write, with telemetry off and on, side by side.
 * A script, not a test: it prints what it measured against the targets and never fails a
 * build. Run with `npm run bench:loop` (starts the project's broker unless
 * PIPAC_KAFKA_BROKERS is set).
 *
 * The path measured, per sample: the hydrogenation's analyser result (AT-201.conversion)
 * changes on the plant simulator's OPC UA server → the device adapter's subscription
 * (SignAndEncrypt) → Kafka → the step agent (observation, ONNX policy, safety shield) → its
 * setpoint commands on Kafka → the module's adapter: checks, OPC UA write and read-back,
 * journal → the write confirmation on Kafka (services/cell/src/testing/control-loop.rig.ts).
 *
 * Telemetry off: no SDK (the API's no-ops). On: the SDK as a service runs it (metrics with the
 * Prometheus endpoint, scraped every second as Prometheus would; every span recorded and
 * batched to an exporter that counts them, so the export's network cost is not in the
 * figure). Runs alternate off, on, off, on… (BENCH_ROUNDS pairs, default 3), each with a fresh
 * rig, so drift of the machine falls on both sides alike; the first BENCH_WARM_UP samples
 * of each run (default 30: JIT, the ONNX session, Kafka's fetch sessions) are not counted.
 * The overhead is given two ways: pooled percentiles, and the median over rounds of the
 * on/off ratio of p50 (runs drift by more than the overhead, so pairs compare like with like).
 * BENCH_SAMPLES (default 300) samples per run; BENCH_PUBLISHING_MS (default 50) is the
 * adapters' OPC UA publishing interval.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { KafkaBus } from '@pipac/bus';
import { ControlLoopRig, type LoopSample } from '../src/testing';
import { routeNodeOpcuaWarnings } from '@pipac/opcua';
import { Telemetry } from '@pipac/telemetry';

const root = join(__dirname, '..', '..', '..');
const samples = Number(process.env['BENCH_SAMPLES'] ?? 300);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const warmUp = Number(process.env['BENCH_WARM_UP'] ?? 30);
const publishingMs = Number(process.env['BENCH_PUBLISHING_MS'] ?? 50);
const TARGET_P99_MS = 50;
const TARGET_OVERHEAD = 0.05;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Counts spans and drops them: the SDK's work without a collector's network. */
class CountingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Run {
  telemetry: boolean;
  samples: LoopSample[];
  noCommand: number;
  timedOut: number;
  spans: number;
  scrapes: number;
}

async function run(brokers: string[], telemetryOn: boolean, index: number): Promise<Run> {
  const exporter = new CountingExporter();
  const telemetry = telemetryOn
    ? await Telemetry.start({
        serviceName: 'bench-loop',
        prometheus: { host: '127.0.0.1', port: 0 },
        spanProcessors: [new BatchSpanProcessor(exporter)],
      })
    : undefined;
  let scrapes = 0;
  const scraper = telemetry
    ? setInterval(
        () =>
          void fetch(telemetry.metricsUrl!)
            .then((r) => r.text())
            .then(() => scrapes++),
        1000,
      )
    : undefined;
  const bus = new KafkaBus({ brokers, clientId: `bench-loop-${index}` });
  await bus.connect();
  const rig = await ControlLoopRig.start({
    bus,
    site: `bench-${Date.now().toString(36)}-${index}`,
    publishingMs,
  });
  const result: Run = {
    telemetry: telemetryOn,
    samples: [],
    noCommand: 0,
    timedOut: 0,
    spans: 0,
    scrapes: 0,
  };
  for (let i = 0; i < warmUp + samples; i++) {
    // Alternate around the minimum conversion, so the policy moves the setpoints each time.
    const sample = await rig.sample(0.9 + 0.09 * ((i % 7) / 6));
    if (i < warmUp) continue;
    if (sample === 'no command') result.noCommand++;
    else if (sample === 'timed out') result.timedOut++;
    else result.samples.push(sample);
  }
  await rig.stop();
  await bus.disconnect();
  if (scraper) clearInterval(scraper);
  await telemetry?.shutdown();
  result.spans = exporter.spans;
  result.scrapes = scrapes;
  return result;
}

function summary(runs: Run[]): {
  p50: number;
  p99: number;
  toAgent99: number;
  decide99: number;
  n: number;
} {
  const all = runs.flatMap((r) => r.samples);
  return {
    p50: percentile(
      all.map((s) => s.total),
      50,
    ),
    p99: percentile(
      all.map((s) => s.total),
      99,
    ),
    toAgent99: percentile(
      all.map((s) => s.toAgent),
      99,
    ),
    decide99: percentile(
      all.map((s) => s.decide),
      99,
    ),
    n: all.length,
  };
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
  const runs: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const on of [false, true]) {
      process.stderr.write(
        `round ${round + 1}/${rounds}, telemetry ${on ? 'on' : 'off'}: ${samples} samples…\n`,
      );
      const r = await run(brokers.split(','), on, runs.length);
      runs.push(r);
      const s = summary([r]);
      process.stderr.write(
        `  p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms (${s.n} measured, ${r.noCommand} without a command, ${r.timedOut} timed out` +
          `${on ? `; ${r.spans} spans, ${r.scrapes} scrapes` : ''})\n`,
      );
    }
  }
  const off = summary(runs.filter((r) => !r.telemetry));
  const on = summary(runs.filter((r) => r.telemetry));
  const overhead50 = on.p50 / off.p50 - 1;
  const pairs = Array.from({ length: rounds }, (_, k) => {
    const [a, b] = [runs[2 * k]!, runs[2 * k + 1]!];
    return summary([b]).p50 / summary([a]).p50 - 1;
  });
  const pairedOverhead = percentile(pairs, 50);
  const overhead99 = on.p99 / off.p99 - 1;
  const row = (name: string, a: number, b: number, change?: number) =>
    `${name.padEnd(52)}${a.toFixed(1).padStart(10)}${b.toFixed(1).padStart(10)}${change === undefined ? '' : `${(change * 100).toFixed(1).padStart(9)} %`}\n`;
  process.stdout.write(
    `\ncontrol loop, device value change → confirmed setpoint write (Kafka on loopback, OPC UA publishing ${publishingMs} ms)\n` +
      `${rounds} rounds of ${samples} samples per side, alternating off / on\n` +
      `${''.padEnd(52)}${'off'.padStart(10)}${'on'.padStart(10)}${'change'.padStart(11)}\n` +
      row('samples measured', off.n, on.n) +
      row('latency p50, ms', off.p50, on.p50, overhead50) +
      row('latency p99, ms', off.p99, on.p99, overhead99) +
      row('  device change → reading at the agent p99, ms', off.toAgent99, on.toAgent99) +
      row('  agent cycle (observe, ONNX, shield, publish) p99', off.decide99, on.decide99) +
      `p50 on/off per round: ${pairs.map((x) => `${(x * 100).toFixed(1)} %`).join(', ')}\n` +
      `telemetry overhead on p50: pooled ${(overhead50 * 100).toFixed(1)} %, median of rounds ${(pairedOverhead * 100).toFixed(1)} % ` +
      `(target ≤ ${TARGET_OVERHEAD * 100} %: ${Math.max(overhead50, pairedOverhead) <= TARGET_OVERHEAD ? 'met' : 'NOT met'})\n` +
      `loop latency p99 (telemetry on): ${on.p99.toFixed(1)} ms (target ≤ ${TARGET_P99_MS} ms: ${on.p99 <= TARGET_P99_MS ? 'met' : 'NOT met'})\n`,
  );
  if (ownBroker) execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'stop']);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
