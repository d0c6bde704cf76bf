import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { KafkaBus } from '@pipac/bus';
import { ControlLoopRig } from '@pipac/cell/testing';
import { SPANS } from '@pipac/telemetry';
import { startTestTelemetry, type TestTelemetry } from '@pipac/telemetry/testing';
import { sharedBrokers } from './support/cell-topics';

/**
 * One trace for one reading, across real parts: the analyser's value changes on the
 * simulator's OPC UA server; the device adapter's notification span starts the trace, and
 * the reading carries it through Kafka (`traceparent`) to the step agent; the agent's cycle
 * continues it, its setpoint commands carry it back through Kafka, and the module's adapter
 * writes, reads back and confirms inside it.
 */
describe('the trace of one reading (Kafka, OPC UA)', () => {
  jest.setTimeout(180_000);
  let t: TestTelemetry;
  let bus: KafkaBus;
  let rig: ControlLoopRig;

  beforeAll(async () => {
    t = await startTestTelemetry({ serviceName: 'trace-e2e' });
    bus = new KafkaBus({ brokers: sharedBrokers(), clientId: 'trace-e2e' });
    await bus.connect();
    rig = await ControlLoopRig.start({ bus, site: `trace-${Date.now().toString(36)}` });
  });

  afterAll(async () => {
    await rig?.stop();
    await bus?.disconnect();
    await t?.shutdown();
  });

  it('spans the adapter, the agent and the confirmed write', async () => {
    t.spans.reset();
    let sample = await rig.sample(0.9);
    for (let i = 1; typeof sample === 'string' && i < 7; i++)
      sample = await rig.sample(0.9 + 0.015 * i);
    expect(typeof sample).toBe('object');

    const spans = t.spans.getFinishedSpans();
    const cycle = spans.find((s) => s.name === SPANS.cycle)!;
    expect(cycle).toBeDefined();
    const trace = spans.filter((s) => s.spanContext().traceId === cycle.spanContext().traceId);
    const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => byId.get(s.parentSpanContext?.spanId ?? '');
    const chain = (s: ReadableSpan | undefined): string[] =>
      s ? [...chain(parentOf(s)), s.name] : [];

    // The root: the adapter's OPC UA notification of the analyser's conversion.
    const root = trace.find((s) => parentOf(s) === undefined)!;
    expect(root.name).toBe(SPANS.reading);
    expect(root.attributes['pipac.tag']).toBe(`${rig.analyserTag}.conversion`);
    // … through Kafka to the agent, whose cycle continues it …
    expect(chain(cycle)).toEqual([SPANS.reading, SPANS.consume('sensors'), SPANS.cycle]);
    // … and back through Kafka to the module's adapter: a write, confirmed.
    const writes = trace.filter((s) => s.name === SPANS.write);
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) {
      expect(chain(write)).toEqual([
        SPANS.reading,
        SPANS.consume('sensors'),
        SPANS.cycle,
        SPANS.consume('setpoints'),
        SPANS.write,
      ]);
    }
    expect(writes.map((w) => w.attributes['pipac.outcome'])).toContain('applied');
    expect(writes[0]!.attributes['pipac.device']).toBe('hydrogenation-module');
  });
});
