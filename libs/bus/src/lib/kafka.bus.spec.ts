import { describeEventBus } from '../testing/event-bus.contract';
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
}
