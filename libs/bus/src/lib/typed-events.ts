import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { EventDecodeError, HEADERS, SCHEMA_VERSION, type EventCodec } from '@pipac/contracts';
import {
  METRICS,
  activeSpanContext,
  SPANS,
  SpanKind,
  counter,
  extractTraceContext,
  histogram,
  inSpan,
  injectTraceContext,
  observableGauge,
  observe,
} from '@pipac/telemetry';
import type { BusMessage, EventBus, OutgoingMessage, Subscription } from './event-bus.port';

/**
 * Encodes (validating) one event as a bus message, with its type and schema headers, and the
 * active span's trace context (`traceparent`) when there is one.
 */
export function encodeEvent<Desc extends DescMessage>(
  codec: EventCodec<Desc>,
  key: string,
  event: MessageShape<Desc>,
  headers?: Record<string, string>,
): OutgoingMessage {
  const traced = activeSpanContext() !== undefined;
  return {
    key,
    value: codec.encode(event),
    headers:
      headers || traced
        ? injectTraceContext({
            ...headers,
            [HEADERS.type]: codec.typeName,
            [HEADERS.schema]: SCHEMA_VERSION,
          })
        : typeHeaders(codec.typeName),
  };
}

/** One frozen header set per event type, shared by every message without extra headers (readings: tens of thousands a second). */
const TYPE_HEADERS = new Map<string, Readonly<Record<string, string>>>();

function typeHeaders(typeName: string): Record<string, string> {
  let headers = TYPE_HEADERS.get(typeName);
  if (!headers) {
    headers = Object.freeze({ [HEADERS.type]: typeName, [HEADERS.schema]: SCHEMA_VERSION });
    TYPE_HEADERS.set(typeName, headers);
  }
  return headers;
}

/** Encodes (validating) and publishes one event, with its type and schema headers. */
export async function publishEvent<Desc extends DescMessage>(
  bus: EventBus,
  topic: string,
  codec: EventCodec<Desc>,
  key: string,
  event: MessageShape<Desc>,
  headers: Record<string, string> = {},
): Promise<void> {
  await bus.publish(topic, [
    encodeEvent(codec, key, event, Object.keys(headers).length > 0 ? headers : undefined),
  ]);
}

export interface EventSubscription<Desc extends DescMessage> {
  group: string;
  topic: string;
  codec: EventCodec<Desc>;
  /** Where undecodable or invalid events go, with the reason in headers. */
  deadLetterTopic: string;
  handler: (event: MessageShape<Desc>, message: BusMessage) => Promise<void>;
  fromBeginning?: boolean;
  retryDelayMs?: number;
  /**
   * Called for a tombstone (a null value: a key deleted from a compacted topic), which is
   * committed and otherwise ignored: a legal delete, not a malformed event. @default ignored
   */
  onTombstone?: (message: BusMessage) => void;
}

/**
 * Subscribes with decoding: a valid event reaches the handler; one that cannot be decoded or
 * fails validation is published to the dead-letter topic, unchanged, with the code, reason and
 * original topic in headers, and is then committed, so one bad event never blocks a stream
 * and is never lost. A tombstone (null value) is committed and ignored (`onTombstone` counts it).
 *
 * Observed: each message is handled in a consumer span continuing the publisher's trace (from
 * its `traceparent`), so what the handler publishes stays in that trace; the delivery latency,
 * dead letters, handler errors and the group's lag are metrics (`service` is the group's first
 * segment: `step-agent.nitration.sensors` → `step-agent`).
 */
export async function subscribeEvents<Desc extends DescMessage>(
  bus: EventBus,
  options: EventSubscription<Desc>,
): Promise<Subscription> {
  const service = options.group.split('.')[0] ?? options.group;
  const stream = options.topic.slice(options.topic.lastIndexOf('.') + 1);
  const labels = { service, stream };
  const delivery = histogram(METRICS.busDeliveryLatency);
  const deadLetters = counter(METRICS.busDeadLetters);
  const errors = counter(METRICS.errors);
  const spanName = SPANS.consume(stream);
  const subscription = await bus.subscribe({
    group: options.group,
    topics: [options.topic],
    ...(options.fromBeginning !== undefined ? { fromBeginning: options.fromBeginning } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    handler: async (message) => {
      delivery.record(Math.max(0, Date.now() - message.timestamp) / 1000, labels);
      return inSpan(
        spanName,
        {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(message.headers),
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': message.topic,
            'messaging.consumer.group.name': options.group,
            'messaging.kafka.offset': Number(message.offset),
          },
        },
        () =>
          handle(message).catch((error: unknown) => {
            errors.add(1, { service, kind: `${stream} handler` });
            throw error;
          }),
      );
    },
  });
  const lag = observableGauge(METRICS.busConsumerLag);
  const stopObserving = observe([lag], (result) => {
    for (const [topic, behind] of Object.entries(subscription.lag())) {
      result.observe(lag, behind, { service, group: options.group, topic });
    }
  });
  return {
    pause: () => subscription.pause(),
    resume: () => subscription.resume(),
    lag: () => subscription.lag(),
    close: async () => {
      stopObserving();
      await subscription.close();
    },
  };

  async function handle(message: BusMessage): Promise<void> {
    // Kafka: a null value on a compacted topic deletes its key (a legal write, e.g. an
    // operator tool clearing a retired tag's last setpoint); there is no event to decode, and
    // it is no fault to dead-letter.
    if (message.tombstone) {
      options.onTombstone?.(message);
      return;
    }
    let event: MessageShape<Desc>;
    try {
      event = options.codec.decode(message.value, message.headers[HEADERS.type]);
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error;
      deadLetters.add(1, { ...labels, code: error.code });
      await bus.publish(options.deadLetterTopic, [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            [HEADERS.deadLetterCode]: error.code,
            [HEADERS.deadLetterReason]: error.message,
            [HEADERS.deadLetterTopic]: `${message.topic}/${message.partition}/${message.offset}`,
          },
        },
      ]);
      return;
    }
    await options.handler(event, message);
  }
}
