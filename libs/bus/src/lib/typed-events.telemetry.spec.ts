import { create } from '@bufbuild/protobuf';
import {
  Quality,
  SensorReadingSchema,
  sensorReadingCodec,
  timestampFromMs,
} from '@pipac/contracts';
import { inSpan } from '@pipac/telemetry';
import { startTestTelemetry, type TestTelemetry } from '@pipac/telemetry/testing';
import { InProcessBus } from './in-process.bus';
import { publishEvent, subscribeEvents } from './typed-events';

describe('typed events, observed', () => {
  let t: TestTelemetry;
  const bus = new InProcessBus();
  const topic = 'pipac.demo.cell-1.nitration.sensors';
  const deadLetters = 'pipac.demo.cell-1._deadletter';

  beforeAll(async () => {
    t = await startTestTelemetry({ serviceName: 'bus-spec' });
    await bus.connect();
    await bus.ensureTopics([{ name: topic }, { name: deadLetters }]);
  });
  afterAll(async () => {
    await bus.disconnect();
    await t.shutdown();
  });

  it('continues the publisher’s trace in the handler, and counts what it cannot decode', async () => {
    const handled: string[] = [];
    const subscription = await subscribeEvents(bus, {
      group: 'step-agent.nitration.sensors',
      topic,
      codec: sensorReadingCodec,
      deadLetterTopic: deadLetters,
      handler: async (reading) => {
        handled.push(reading.tag);
      },
    });
    let traceId = '';
    await inSpan('opcua.notification', {}, async (span) => {
      traceId = span.spanContext().traceId;
      await publishEvent(
        bus,
        topic,
        sensorReadingCodec,
        'TI-101',
        create(SensorReadingSchema, {
          tag: 'TI-101',
          value: 25,
          unit: 'degC',
          quality: Quality.GOOD,
          timestamps: { source: timestampFromMs(Date.now()) },
        }),
      );
    });
    await bus.publish(topic, [{ key: 'x', value: new Uint8Array([0xff, 0xff]) }]);
    for (
      let i = 0;
      i < 100 && t.spans.getFinishedSpans().filter((s) => s.name === 'sensors process').length < 2;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const consumed = t.spans.getFinishedSpans().filter((s) => s.name === 'sensors process');
    expect(handled).toEqual(['TI-101']);
    expect(consumed[0]!.spanContext().traceId).toBe(traceId);
    expect(consumed[0]!.attributes['messaging.destination.name']).toBe(topic);
    // The undecodable message had no trace context: a trace of its own.
    expect(consumed[1]!.spanContext().traceId).not.toBe(traceId);
    const text = await t.scrape();
    expect(text).toMatch(
      /^pipac_bus_dead_letters_total\{service="step-agent",stream="sensors",code="[A-Z_]+"[^}]*\} 1$/m,
    );
    expect(text).toMatch(
      /^pipac_bus_delivery_latency_seconds_count\{service="step-agent",stream="sensors"[^}]*\} 2$/m,
    );
    expect(text).toMatch(
      /^pipac_bus_consumer_lag_messages\{service="step-agent",group="step-agent\.nitration\.sensors",topic="pipac\.demo\.cell-1\.nitration\.sensors"[^}]*\} 0$/m,
    );
    await subscription.close();
  });
});
