import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { startTestTelemetry, type TestTelemetry } from '../testing';
import { METRICS, exportedSeriesNames } from './metric-catalogue';
import { counter, gauge, histogram } from './instruments';
import { Telemetry } from './telemetry';
import { extractTraceContext, inSpan, injectTraceContext } from './trace-context';

describe('Telemetry', () => {
  let t: TestTelemetry;
  beforeAll(async () => {
    t = await startTestTelemetry({ serviceName: 'telemetry-spec', serviceVersion: '9.9.9' });
  });
  afterAll(() => t.shutdown());

  it('serves the catalogue instruments on the Prometheus endpoint, counters with _total', async () => {
    counter(METRICS.stepCycles).add(3, { step: 'nitration' });
    gauge(METRICS.stepConversion).record(0.93, { step: 'nitration' });
    histogram(METRICS.stepCycleDuration).record(0.004, { step: 'nitration' });
    const text = await t.scrape();
    expect(text).toMatch(/^pipac_step_cycles_total\{step="nitration",[^}]*\} 3$/m);
    expect(text).toMatch(/^pipac_step_conversion_ratio\{step="nitration",[^}]*\} 0\.93$/m);
    expect(text).toMatch(
      /^pipac_step_cycle_duration_seconds_bucket\{step="nitration",[^}]*le="0\.005"\} 1$/m,
    );
    expect(text).toMatch(
      /^pipac_step_cycle_duration_seconds_bucket\{step="nitration",[^}]*le="0\.002"\} 0$/m,
    );
  });

  it('exports the process metrics with the service and version', async () => {
    const text = await t.scrape();
    expect(text).toMatch(
      /^pipac_build_info\{service="telemetry-spec",version="9\.9\.9",nodejs_version="[\d.]+"[^}]*\} 1$/m,
    );
    expect(text).toMatch(
      /^pipac_process_resident_memory_bytes\{service="telemetry-spec"[^}]*\} \d+/m,
    );
    expect(text).toMatch(
      /^pipac_process_cpu_seconds_total\{service="telemetry-spec"[^}]*\} [\d.e+-]+$/m,
    );
    expect(text).toMatch(/^target_info\{[^}]*service_name="telemetry-spec"/m);
  });

  it('names every exported pipac series in the catalogue', async () => {
    const known = exportedSeriesNames();
    const exported = new Set(
      (await t.scrape())
        .split('\n')
        .filter((l) => l.startsWith('pipac_'))
        .map((l) => l.slice(0, l.search(/[{ ]/))),
    );
    expect([...exported].filter((n) => !known.has(n))).toEqual([]);
  });

  it('carries one trace through headers: inject, extract, child span', async () => {
    const headers: Record<string, string> = {};
    let parentTrace = '';
    await inSpan('producer', {}, (span) => {
      parentTrace = span.spanContext().traceId;
      injectTraceContext(headers);
    });
    expect(headers['traceparent']).toMatch(new RegExp(`^00-${parentTrace}-[0-9a-f]{16}-01$`));
    expect(trace.getSpanContext(extractTraceContext(headers))?.traceId).toBe(parentTrace);
    await inSpan('consumer', { parent: extractTraceContext(headers) }, (span) => {
      expect(span.spanContext().traceId).toBe(parentTrace);
      expect(trace.getSpan(context.active())).toBe(span);
    });
    const consumer = t.spans.getFinishedSpans().find((s) => s.name === 'consumer')!;
    expect(consumer.parentSpanContext?.spanId).toBe(headers['traceparent']!.split('-')[2]);
  });

  it('marks a failing span and rethrows', async () => {
    await expect(
      inSpan('failing', {}, () => {
        throw new Error('device did not confirm');
      }),
    ).rejects.toThrow('device did not confirm');
    const failing = t.spans.getFinishedSpans().find((s) => s.name === 'failing')!;
    expect(failing.status).toEqual({ code: 2, message: 'device did not confirm' });
  });

  it('refuses a second start in the same process', async () => {
    await expect(Telemetry.start({ serviceName: 'again', prometheus: false })).rejects.toThrow(
      /already runs in this process \(for telemetry-spec\)/,
    );
  });
});

describe('the Prometheus endpoint', () => {
  it('takes any free port for port 0, and answers 404 beside /metrics', async () => {
    const t = await startTestTelemetry({ serviceName: 'port-zero' });
    try {
      const url = new URL(t.telemetry.metricsUrl!);
      expect(Number(url.port)).toBeGreaterThan(0);
      expect(url.port).not.toBe('9464');
      expect((await fetch(new URL('/other', url))).status).toBe(404);
      expect(await t.scrape()).toContain('pipac_build_info');
    } finally {
      await t.shutdown();
    }
  });

  it('fails start-up on a port in use, naming it, and leaves telemetry off', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(
        Telemetry.start({ serviceName: 'clash', prometheus: { host: '127.0.0.1', port } }),
      ).rejects.toThrow(
        new RegExp(
          `could not listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE.*give this one its own, telemetry\\.prometheus\\.port in a service's file or --metrics of pipac start`,
        ),
      );
      // Nothing left registered: a later start works.
      const t = await startTestTelemetry({ serviceName: 'after-clash' });
      await t.shutdown();
    } finally {
      taken.close();
    }
  });
});

describe('Telemetry off', () => {
  it('records nothing and writes no header when never started', async () => {
    const headers: Record<string, string> = {};
    await inSpan('nobody listens', {}, () => injectTraceContext(headers));
    expect(headers).toEqual({});
  });
});
