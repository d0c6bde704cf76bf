import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAdapterConfig } from './adapter.config';

describe("loadAdapterConfig: the OPC UA client's certificate and trust list", () => {
  let dir: string;
  const nodeMap = {
    device: 'nitration-module',
    endpointUrl: 'opc.tcp://127.0.0.1:4840',
    namespaceUri: 'urn:pipac:devices',
    readings: {},
    setpoints: {},
  };
  const write = (opcua: object): string => {
    const file = join(dir, `adapter-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        site: 'demo',
        cell: 'cell-1',
        step: 'nitration',
        nodeMap,
        stateDir: 'state',
        kafkaBrokers: ['127.0.0.1:9092'],
        opcua,
      }),
    );
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-adapter-config-'));
    writeFileSync(join(dir, 'adapter.pem'), 'certificate');
    writeFileSync(join(dir, 'adapter.key.pem'), 'key');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trusts no unknown server by default, with a self-signed certificate of its own', () => {
    const config = loadAdapterConfig(write({}), {});
    expect(config.opcua.acceptUnknownCertificates).toBe(false);
    expect(config.opcua.certificateFile).toBeUndefined();
  });

  it('takes a certificate issued by the plant CA, paths relative to the file', () => {
    const config = loadAdapterConfig(
      write({ certificateFile: 'adapter.pem', privateKeyFile: 'adapter.key.pem' }),
      {},
    );
    expect(config.opcua).toMatchObject({
      certificateFile: join(dir, 'adapter.pem'),
      privateKeyFile: join(dir, 'adapter.key.pem'),
    });
  });

  it.each([
    ['a certificate without its key', { certificateFile: 'adapter.pem' }, /go together/],
    [
      'a certificate that is not there',
      { certificateFile: 'missing.pem', privateKeyFile: 'adapter.key.pem' },
      /\/opcua\/certificateFile .* does not exist/,
    ],
  ])('stops start-up on %s, naming the field', (_what, opcua, message) => {
    expect(() => loadAdapterConfig(write(opcua), {})).toThrow(ConfigError);
    expect(() => loadAdapterConfig(write(opcua), {})).toThrow(message);
  });
});

describe('loadAdapterConfig: the topics it creates', () => {
  let dir: string;
  const write = (topics: object | undefined): string => {
    const file = join(dir, `adapter-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        site: 'demo',
        cell: 'cell-1',
        step: 'nitration',
        nodeMap: {
          device: 'nitration-module',
          endpointUrl: 'opc.tcp://127.0.0.1:4840',
          namespaceUri: 'urn:pipac:devices',
          readings: {},
          setpoints: {},
        },
        stateDir: 'state',
        kafkaBrokers: ['127.0.0.1:9092'],
        ...(topics ? { topics } : {}),
      }),
    );
    return file;
  };
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pipac-adapter-topics-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the topic contract's defaults, and a stream's own settings over them", () => {
    expect(loadAdapterConfig(write(undefined), {}).topics).toEqual({});
    const config = loadAdapterConfig(
      write({
        sensors: {
          partitions: 6,
          replicationFactor: 3,
          minInsyncReplicas: 2,
          retentionMs: 86_400_000,
        },
        setpoints: { replicationFactor: 3, minInsyncReplicas: 2 },
      }),
      {},
    );
    expect(config.topics).toEqual({
      sensors: {
        partitions: 6,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        retentionMs: 86_400_000,
      },
      setpoints: { partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 },
    });
  });

  it.each([
    ['an unknown stream', { metrics: { partitions: 2 } }, /\/topics/],
    ['no partitions', { sensors: { partitions: 0 } }, /\/topics\/sensors\/partitions/],
    [
      'more in-sync copies than copies',
      { confirmations: { minInsyncReplicas: 2 } },
      /\/topics\/confirmations\/minInsyncReplicas: 2 exceeds replicationFactor 1/,
    ],
    [
      'a retention on a compacted stream',
      { setpoints: { retentionMs: 1000 } },
      /\/topics\/setpoints\/retentionMs: a compacted/,
    ],
  ])('stops start-up on %s, naming the field', (_what, topics, message) => {
    expect(() => loadAdapterConfig(write(topics), {})).toThrow(ConfigError);
    expect(() => loadAdapterConfig(write(topics), {})).toThrow(message);
  });
});
