/**
 * The step agent on a real Kafka broker: the same scenarios as its unit spec on the in-process
 * bus (sensor events in, shielded commands out with the model version, fallback on stale data,
 * shadow mode, the operator winning, hot model reload, dead letters), over the wire.
 */
import { KafkaBus } from '@pipac/bus';
import { describeStepAgentScenarios } from '@pipac/step-agent/testing';
import { runTopics, sharedBrokers } from './support/cell-topics';

describeStepAgentScenarios('a real Kafka broker', async () => {
  const bus = new KafkaBus({ brokers: sharedBrokers(), clientId: 'e2e-step-agent' });
  await bus.connect();
  return { bus, site: runTopics('hydrogenation').site, close: () => bus.disconnect() };
});
