/**
 * The whole cell on the real parts a plant runs: the Apache Kafka broker and the PostgreSQL
 * server the test command started, the plant simulator's OPC UA server (SignAndEncrypt, a
 * user) with a device adapter per device, the step agents with the shipped models, the
 * coordinator and the ERP gateway's REST API. The same scenarios run embedded in
 * services/cell (in-process bus, SQLite).
 */
import { KafkaBus } from '@pipac/bus';
import { describeCellScenarios } from '@pipac/cell/testing';
import { scratchPostgres } from '@pipac/persistence/testing';
import { runTopics, sharedBrokers } from './support/cell-topics';

describeCellScenarios('Kafka, PostgreSQL', async () => {
  const { site } = runTopics('cell');
  const database = await scratchPostgres();
  return {
    bus: new KafkaBus({ brokers: sharedBrokers(), clientId: `e2e-cell-${site}` }),
    database: database.url,
    site,
    dispose: () => database.dispose(),
  };
});
