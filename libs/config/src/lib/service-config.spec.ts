import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONFIG_SCHEMA,
  ConfigError,
  auditSettings,
  explainListen,
  httpEndpoint,
  kafkaBrokers,
  readConfigFile,
} from './service-config';

const SCHEMA = {
  type: 'object',
  required: ['site'],
  additionalProperties: false,
  properties: {
    site: CONFIG_SCHEMA.segment,
    kafkaBrokers: CONFIG_SCHEMA.kafkaBrokers,
    http: CONFIG_SCHEMA.http,
  },
};

describe('service configuration', () => {
  let dir: string;
  const file = (text: string) => {
    const path = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pipac-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a valid file', () => {
    expect(readConfigFile(file('site: demo\nhttp: { port: 9000 }\n'), SCHEMA)).toEqual({
      site: 'demo',
      http: { port: 9000 },
    });
  });

  it('names the file and every bad field at once', () => {
    const path = file('site: Demo\nhttp: { port: 70000 }\nextra: 1\n');
    expect(() => readConfigFile(path, SCHEMA)).toThrow(ConfigError);
    try {
      readConfigFile(path, SCHEMA);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(path);
      expect(message).toContain('/site must match pattern');
      expect(message).toContain('/http/port must be <= 65535');
      expect(message).toContain('must NOT have additional properties');
    }
    expect(() => readConfigFile(file('site: [unclosed\n'), SCHEMA)).toThrow(ConfigError);
    expect(() => readConfigFile(join(dir, 'missing.yaml'), SCHEMA)).toThrow(/missing\.yaml/);
  });

  it('resolves the audit keys against the file, PIPAC_AUDIT_KEYS first, and refuses a block without keys', () => {
    expect(auditSettings('/etc/pipac/c.yaml', undefined, {})).toBeUndefined();
    expect(
      auditSettings('/etc/pipac/c.yaml', { keys: 'audit', head: '/var/head.json' }, {}),
    ).toEqual({
      keys: '/etc/pipac/audit',
      head: '/var/head.json',
    });
    expect(
      auditSettings('/etc/pipac/c.yaml', undefined, { PIPAC_AUDIT_KEYS: '/run/keys' }),
    ).toEqual({
      keys: '/run/keys',
    });
    const schema = { type: 'object', properties: { audit: CONFIG_SCHEMA.audit } };
    expect(() => readConfigFile(file('audit: { head: h.json }\n'), schema)).toThrow(
      /must have required property 'keys'/,
    );
  });

  it('takes the brokers from PIPAC_KAFKA_BROKERS over the file, and refuses none', () => {
    expect(kafkaBrokers('f', ['a:1'], {})).toEqual(['a:1']);
    expect(kafkaBrokers('f', ['a:1'], { PIPAC_KAFKA_BROKERS: 'b:2, c:3' })).toEqual(['b:2', 'c:3']);
    expect(() => kafkaBrokers('f.yaml', undefined, {})).toThrow(/f\.yaml: no Kafka brokers/);
    expect(httpEndpoint(undefined)).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(httpEndpoint({ port: 1 })).toEqual({ host: '0.0.0.0', port: 1 });
  });
});

describe('explainListen', () => {
  it('names the setting to change when another process has the port, and passes anything else on', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const second = createServer();
    const error = await new Promise<Error>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    taken.close();
    const explained = explainListen(error, 'agent.yaml');
    expect(explained).toBeInstanceOf(ConfigError);
    expect(explained.message).toBe(
      `listen EADDRINUSE: address already in use 127.0.0.1:${port}: another process has that port; ` +
        'give this service its own (http.port in agent.yaml, 0 for any free one)',
    );
    const other = new Error('permission denied');
    expect(explainListen(other, 'agent.yaml')).toBe(other);
  });
});
