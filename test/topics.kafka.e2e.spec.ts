/**
 * The topic contract (docs/topics.md, libs/contracts TOPIC_CONTRACT) against a real broker: the
 * device adapter creates its topics, and the broker's own description of them (partitions,
 * replicas, cleanup.policy, retention.ms, min.insync.replicas, read with the admin client)
 * is what the contract says, with a deployment's per-stream settings where it gives them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaBus } from '@pipac/bus';
import {
  TOPIC_CONTRACT,
  topicConfigEntries,
  topicSettings,
  type ContractStream,
  type TopicSettings,
} from '@pipac/contracts';
import { DeviceAdapter } from '@pipac/device-adapter';
import { DeviceServer } from '@pipac/opcua';
import { freePort } from '@pipac/opcua/testing';
import { runTopics, sharedBrokers } from './support/cell-topics';
import { COUNTER_DEVICE } from './support/counter-device';

const USER = { username: 'adapter', password: 'topics test' };
const ADAPTER_STREAMS = ['sensors', 'setpoints', 'confirmations', 'state', 'alarms'] as const;

interface Described {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

async function describeTopics(admin: Admin, topics: string[]): Promise<Map<string, Described>> {
  const metadata = await admin.fetchTopicMetadata({ topics });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  const result = new Map<string, Described>();
  for (const topic of metadata.topics) {
    const resource = configs.resources.find((r) => r.resourceName === topic.name)!;
    result.set(topic.name, {
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]!.replicas.length,
      configs: Object.fromEntries(resource.configEntries.map((e) => [e.configName, e.configValue])),
    });
  }
  return result;
}

/** What the broker must say about a stream's topic with these settings. */
function expected(stream: ContractStream, settings: TopicSettings) {
  return {
    partitions: settings.partitions,
    replicationFactor: settings.replicationFactor,
    configs: expect.objectContaining(topicConfigEntries(stream, settings)) as unknown,
  };
}

describe('the topic contract on a real broker', () => {
  const brokers = sharedBrokers();
  let dir: string;
  let server: DeviceServer;
  let admin: Admin;
  const started: { stop: () => Promise<unknown> }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-topics-'));
    server = await DeviceServer.start({
      devices: [COUNTER_DEVICE],
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
      namespaceUri: 'urn:pipac:test:counter',
    });
    admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    await admin?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startAdapter(topics?: Partial<Record<ContractStream, Partial<TopicSettings>>>) {
    const run = runTopics('nitration');
    const bus = new KafkaBus({ brokers, clientId: 'topics-test', ...(topics ? { topics } : {}) });
    await bus.connect();
    started.push({ stop: () => bus.disconnect() });
    const adapter = await DeviceAdapter.start({
      site: run.site,
      cell: run.cell,
      step: run.step,
      nodeMap: server.nodeMap('counter'),
      bus,
      opcua: { pkiFolder: join(dir, 'adapter-pki'), acceptUnknownCertificates: true, user: USER },
      stateDir: join(dir, run.site),
      spoolSync: false,
    });
    started.push(adapter);
    return run;
  }

  it("creates the adapter's topics as the contract documents them", async () => {
    const run = await startAdapter();
    const names = [...ADAPTER_STREAMS.map((s) => run.topic(s)), run.deadLetters];
    const described = await describeTopics(admin, names);
    for (const stream of ADAPTER_STREAMS) {
      expect([stream, described.get(run.topic(stream))]).toEqual([
        stream,
        expected(stream, topicSettings(stream)),
      ]);
      // Compacted streams keep each key for ever; the others expire by time only.
      if (TOPIC_CONTRACT[stream].cleanupPolicy === 'delete') {
        expect(described.get(run.topic(stream))!.configs['retention.ms']).toBe(
          String(TOPIC_CONTRACT[stream].retentionMs),
        );
      }
    }
    expect(described.get(run.deadLetters)).toEqual(
      expected('dead-letter', topicSettings('dead-letter')),
    );
  });

  it("creates them with a deployment's per-stream settings", async () => {
    const settings = {
      sensors: { partitions: 3, retentionMs: 86_400_000 },
      setpoints: { partitions: 2 },
      alarms: { retentionMs: -1 },
    };
    const run = await startAdapter(settings);
    const described = await describeTopics(admin, [
      run.topic('sensors'),
      run.topic('setpoints'),
      run.topic('alarms'),
    ]);
    for (const [stream, own] of Object.entries(settings) as [ContractStream, object][]) {
      expect(described.get(run.topic(stream as 'sensors'))).toEqual(
        expected(stream, topicSettings(stream, own)),
      );
    }
  });

  it('refuses settings no broker could serve before connecting', () => {
    expect(() => new KafkaBus({ brokers, topics: { sensors: { minInsyncReplicas: 2 } } })).toThrow(
      /topics\.sensors\.minInsyncReplicas: 2 exceeds replicationFactor 1/,
    );
  });
});
