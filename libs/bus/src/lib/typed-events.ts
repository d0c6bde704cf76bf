import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { EventDecodeError, HEADERS, SCHEMA_VERSION, type EventCodec } from '@pipac/contracts';
import type { BusMessage, EventBus, OutgoingMessage, Subscription } from './event-bus.port';

/** Encodes (validating) one event as a bus message, with its type and schema headers. */
export function encodeEvent<Desc extends DescMessage>(
  codec: EventCodec<Desc>,
  key: string,
  event: MessageShape<Desc>,
  headers?: Record<string, string>,
): OutgoingMessage {
  return {
    key,
    value: codec.encode(event),
    headers: headers
      ? { ...headers, [HEADERS.type]: codec.typeName, [HEADERS.schema]: SCHEMA_VERSION }
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
}

/**
 * Subscribes with decoding: a valid event reaches the handler; one that cannot be decoded or
 * fails validation is published to the dead-letter topic, unchanged, with the code, reason and
 * original topic in headers, and is then committed, so one bad event never blocks a stream
 * and is never lost.
 */
export function subscribeEvents<Desc extends DescMessage>(
  bus: EventBus,
  options: EventSubscription<Desc>,
): Promise<Subscription> {
  return bus.subscribe({
    group: options.group,
    topics: [options.topic],
    ...(options.fromBeginning !== undefined ? { fromBeginning: options.fromBeginning } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    handler: async (message) => {
      let event: MessageShape<Desc>;
      try {
        event = options.codec.decode(message.value, message.headers[HEADERS.type]);
      } catch (error) {
        if (!(error instanceof EventDecodeError)) throw error;
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
    },
  });
}
