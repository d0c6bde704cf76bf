/**
 * The bus's producer across a broker that stalls mid-publish, on a real broker of its own: the
 * broker process is frozen while a batch is in flight, the client gives up on it, and the
 * broker, let go, appends the batch it never acknowledged.
 */
import { KafkaBus, type BusMessage } from '@pipac/bus';
import { KafkaBroker } from './support/kafka-broker';
import { until } from './support/until';

const TOPIC = 'pipac.e2e.broker-pause';

const batch = (label: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: 'k',
    value: new TextEncoder().encode(`${label}${i}`),
  }));

describe('Kafka bus across a broker that stalls mid-publish', () => {
  const broker = new KafkaBroker(19194);
  let bus: KafkaBus | undefined;
  afterAll(async () => {
    await broker.unpause().catch(() => undefined);
    await bus?.disconnect();
    await broker.stop();
  });

  it('publishes again after a lost acknowledgement, and loses nothing', async () => {
    await broker.start();
    // Give up on a request after 2 s, so the frozen broker's batch fails on the client side.
    const kafka = {
      requestTimeout: 2000,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
    };
    bus = new KafkaBus({ brokers: [broker.bootstrap], clientId: 'pause-test', kafka });
    await bus.connect();
    await bus.ensureTopics([{ name: TOPIC }]);
    await bus.publish(TOPIC, batch('a', 1));

    await broker.pause();
    await expect(bus.publish(TOPIC, batch('b', 3))).rejects.toThrow(/timed out/);
    await broker.unpause();

    const seen: string[] = [];
    await bus.subscribe({
      group: 'pause-test-reader',
      topics: [TOPIC],
      fromBeginning: true,
      handler: async (m: BusMessage) => void seen.push(new TextDecoder().decode(m.value)),
    });
    // The broker appended the batch whose acknowledgement the client never got.
    await until(() => seen.length >= 4, 'the unacknowledged batch', 30_000);
    expect(seen).toEqual(['a0', 'b0', 'b1', 'b2']);

    // kafkajs's idempotent producer counted that batch as not sent: its next batch carries
    // the sequence number the broker already has, OUT_OF_ORDER_SEQUENCE_NUMBER, for ever.
    await bus.publish(TOPIC, batch('c', 2));
    await bus.publish(TOPIC, batch('d', 1));
    await until(() => seen.length >= 7, 'the batches after the stall', 30_000);
    expect(seen).toEqual(['a0', 'b0', 'b1', 'b2', 'c0', 'c1', 'd0']);
  });
});
