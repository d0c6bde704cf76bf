import { describeEventBus } from '../testing/event-bus.contract';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from './kafka.bus';

/**
 * The contract suite against a real Apache Kafka broker. The test command starts one
 * (scripts/kafka/kafka.sh) and sets PIPAC_KAFKA_BROKERS; without it this suite fails and says
 * so, rather than passing untested.
 */
const brokers = process.env['PIPAC_KAFKA_BROKERS'];

if (!brokers) {
  it('needs a Kafka broker', () => {
    throw new Error(
      'set PIPAC_KAFKA_BROKERS (scripts/kafka/kafka.sh start prints the address), or run npm test',
    );
  });
} else {
  jest.setTimeout(60_000);
  describeEventBus('Kafka', () =>
    Promise.resolve(new KafkaBus({ brokers: brokers.split(','), clientId: 'pipac-test' })),
  );

  describe('KafkaBus start-up', () => {
    const unique = (name: string) => `pipac.test.${name}.${Date.now().toString(36)}`;

    it('fails a subscription whose group does not join in time, and leaves no member behind', async () => {
      // A join takes a group round trip or more: 1 ms is always too short.
      const hasty = new KafkaBus({ brokers: brokers.split(','), joinTimeoutMs: 1 });
      const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
      await Promise.all([hasty.connect(), admin.connect()]);
      try {
        const topic = unique('join');
        const group = unique('group');
        await hasty.ensureTopics([{ name: topic }]);
        const refused = hasty.subscribe({ group, topics: [topic], handler: async () => undefined });
        await expect(refused).rejects.toMatchObject({ code: 'BROKER' });
        await expect(refused).rejects.toThrow(`"${group}" did not join`);
        // The join that was under way has completed and its member has left: the group is
        // empty, and stays so (a member left behind would hold the partition until its
        // session timed out, 30 s).
        const members = async () =>
          (await admin.describeGroups([group])).groups[0]?.members.length ?? 0;
        expect(await members()).toBe(0);
        await sleep(3000);
        expect(await members()).toBe(0);
      } finally {
        await Promise.all([hasty.disconnect(), admin.disconnect()]);
      }
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
