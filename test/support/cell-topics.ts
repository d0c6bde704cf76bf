import { topicName, deadLetterTopic, type Stream } from '@pipac/contracts';

/** Topic names of one test run: a fresh site per run, so runs never read each other's events. */
export function runTopics(step: string) {
  const site = `e2e-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const cell = 'cell-1';
  return {
    site,
    cell,
    step,
    topic: (stream: Stream) => topicName({ site, cell, step, stream }),
    deadLetters: deadLetterTopic(site, cell),
  };
}

/** The shared broker the test command started; the suite fails (not skips) without one. */
export function sharedBrokers(): string[] {
  const brokers = process.env['PIPAC_KAFKA_BROKERS'];
  if (!brokers) {
    throw new Error(
      'set PIPAC_KAFKA_BROKERS (scripts/kafka/kafka.sh start prints it), or run npm test',
    );
  }
  return brokers.split(',');
}
