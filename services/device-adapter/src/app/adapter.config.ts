import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CONFIG_SCHEMA,
  ConfigError,
  httpEndpoint,
  kafkaBrokers,
  readConfigFile,
  telemetrySettings,
  type TelemetrySettings,
  type TelemetryBlock,
} from '@pipac/config';
import {
  TOPIC_CONTRACT,
  TopicError,
  topicSettings,
  type ContractStream,
  type TopicSettings,
} from '@pipac/contracts';
import {
  parseNodeMap,
  type NodeMap,
  type SecurityModeName,
  type SecurityPolicyName,
} from '@pipac/opcua';

/** The device adapter's configuration file (YAML or JSON), after validation and defaults. */
export interface AdapterConfig {
  site: string;
  cell: string;
  step: string;
  nodeMap: NodeMap;
  opcua: {
    /** @default 'SignAndEncrypt' */
    securityMode: SecurityModeName;
    /** @default 'Basic256Sha256' */
    securityPolicy: SecurityPolicyName;
    /** With PIPAC_OPCUA_PASSWORD; anonymous when absent. */
    username?: string;
    /**
     * The client's certificate and trust list: the server's certificate is accepted when it is
     * in trusted/certs (or issued by a CA there, with its CRL in trusted/crl); unknown, revoked
     * and expired ones are refused. @default '.pipac/pki/device-adapter'
     */
    pkiFolder: string;
    /** Trust the server's certificate on first contact: development only. @default false */
    acceptUnknownCertificates: boolean;
    /**
     * The adapter's application certificate and key (PEM), both or neither, e.g. issued by the
     * plant's CA. @default a self-signed one, made in `<pkiFolder>/own` on first start
     */
    certificateFile?: string;
    privateKeyFile?: string;
    /** @default 50 */
    publishingIntervalMs: number;
    /** @default 5000 */
    heartbeatTimeoutMs: number;
  };
  /** Bootstrap servers; PIPAC_KAFKA_BROKERS (comma-separated) overrides. */
  kafkaBrokers: string[];
  /**
   * Per stream (sensors, setpoints, confirmations, state, alarms, dead-letter): partitions,
   * replicationFactor, minInsyncReplicas, retentionMs (delete-policy streams only) of the topics
   * the adapter creates. @default the topic contract's (docs/topics.md): 1 partition,
   * replication 1, min.insync.replicas 1; retention 7 d (sensors), 30 d (confirmations, alarms,
   * dead letters)
   */
  topics: Partial<Record<ContractStream, TopicSettings>>;
  /** Spool and command journal. */
  stateDir: string;
  /** @default 268435456 (256 MiB) */
  spoolMaxBytes: number;
  /** Readings held in memory while the bus lags, before they go to the spool (about 15 MB). @default 100000 */
  memoryLimit: number;
  /** Health endpoints (/health/live, /health/ready). @default 0.0.0.0:8080 */
  http: { host: string; port: number };
  /** Prometheus endpoint (default 0.0.0.0:9464), OTLP export. */
  telemetry: TelemetrySettings;
}

export { ConfigError };

/** The streams whose topics the adapter creates. */
const ADAPTER_STREAMS = [
  'sensors',
  'setpoints',
  'confirmations',
  'state',
  'alarms',
  'dead-letter',
] as const satisfies readonly (keyof typeof TOPIC_CONTRACT)[];

const SCHEMA = {
  type: 'object',
  required: ['site', 'cell', 'step', 'nodeMap', 'stateDir'],
  additionalProperties: false,
  properties: {
    site: CONFIG_SCHEMA.segment,
    cell: CONFIG_SCHEMA.segment,
    step: CONFIG_SCHEMA.segment,
    nodeMap: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
    opcua: {
      type: 'object',
      additionalProperties: false,
      properties: {
        securityMode: { enum: ['None', 'Sign', 'SignAndEncrypt'] },
        securityPolicy: {
          enum: ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
        },
        username: { type: 'string', minLength: 1 },
        pkiFolder: { type: 'string', minLength: 1 },
        acceptUnknownCertificates: { type: 'boolean' },
        certificateFile: { type: 'string', minLength: 1 },
        privateKeyFile: { type: 'string', minLength: 1 },
        publishingIntervalMs: { type: 'number', minimum: 1 },
        heartbeatTimeoutMs: { type: 'number', minimum: 100 },
      },
    },
    kafkaBrokers: CONFIG_SCHEMA.kafkaBrokers,
    topics: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        ADAPTER_STREAMS.map((stream) => [
          stream,
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              partitions: { type: 'integer', minimum: 1 },
              replicationFactor: { type: 'integer', minimum: 1 },
              minInsyncReplicas: { type: 'integer', minimum: 1 },
              retentionMs: { type: 'integer', minimum: -1 },
            },
          },
        ]),
      ),
    },
    stateDir: { type: 'string', minLength: 1 },
    spoolMaxBytes: { type: 'integer', minimum: 16777216 },
    memoryLimit: { type: 'integer', minimum: 100 },
    http: CONFIG_SCHEMA.http,
    telemetry: CONFIG_SCHEMA.telemetry,
  },
} as const;

/**
 * Reads and checks the configuration; paths in it are relative to the file. A mistake stops
 * start-up with a message naming the file and the field (`adapter.yaml: /opcua/securityMode …`).
 */
export function loadAdapterConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): AdapterConfig {
  const base = dirname(path);
  const raw = readConfigFile<RawAdapterConfig>(path, SCHEMA);
  const nodeMapSource =
    typeof raw.nodeMap === 'string' ? resolve(base, raw.nodeMap) : `${path} nodeMap`;
  const nodeMapDocument = readNodeMap(path, raw.nodeMap, nodeMapSource);
  const brokers = kafkaBrokers(path, raw.kafkaBrokers, env);
  const opcua = opcuaSettings(path, raw.opcua ?? {}, env);
  const topics = topicOverrides(path, raw.topics ?? {});
  const nodeMap = parseNodeMap(nodeMapDocument, nodeMapSource);
  return {
    site: raw.site,
    cell: raw.cell,
    step: raw.step,
    nodeMap,
    opcua,
    kafkaBrokers: brokers,
    topics,
    stateDir: resolve(base, raw.stateDir),
    spoolMaxBytes: raw.spoolMaxBytes ?? 256 * 1024 * 1024,
    memoryLimit: raw.memoryLimit ?? 100_000,
    http: httpEndpoint(raw.http),
    telemetry: telemetrySettings(raw.telemetry, `device-adapter.${nodeMap.device}`),
  };
}

/** The configuration file as the schema admits it, before defaults and checks. */
interface RawAdapterConfig {
  site: string;
  cell: string;
  step: string;
  nodeMap: string | object;
  stateDir: string;
  opcua?: Partial<AdapterConfig['opcua']>;
  kafkaBrokers?: string[];
  topics?: Partial<Record<ContractStream, Partial<TopicSettings>>>;
  spoolMaxBytes?: number;
  memoryLimit?: number;
  http?: { host?: string; port?: number };
  telemetry?: TelemetryBlock;
}

/** The node map given in the file, or read from the file it names (checked later). */
function readNodeMap(path: string, nodeMap: string | object, source: string): unknown {
  if (typeof nodeMap !== 'string') return nodeMap;
  try {
    return parseYaml(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: /nodeMap cannot be read: ${(error as Error).message}`);
  }
}

/** The OPC UA session settings with their defaults; files relative to the configuration file. */
function opcuaSettings(
  path: string,
  opcua: Partial<AdapterConfig['opcua']>,
  env: NodeJS.ProcessEnv,
): AdapterConfig['opcua'] {
  const base = dirname(path);
  if (opcua.username && !env['PIPAC_OPCUA_PASSWORD']) {
    throw new ConfigError(`${path}: /opcua/username is set, PIPAC_OPCUA_PASSWORD is not`);
  }
  if ((opcua.certificateFile === undefined) !== (opcua.privateKeyFile === undefined)) {
    throw new ConfigError(`${path}: /opcua/certificateFile and /opcua/privateKeyFile go together`);
  }
  for (const field of ['certificateFile', 'privateKeyFile'] as const) {
    const file = opcua[field];
    if (file !== undefined && !existsSync(resolve(base, file))) {
      throw new ConfigError(`${path}: /opcua/${field} ${resolve(base, file)} does not exist`);
    }
  }
  return {
    securityMode: opcua.securityMode ?? 'SignAndEncrypt',
    securityPolicy: opcua.securityPolicy ?? 'Basic256Sha256',
    ...(opcua.username ? { username: opcua.username } : {}),
    pkiFolder: resolve(base, opcua.pkiFolder ?? '.pipac/pki/device-adapter'),
    acceptUnknownCertificates: opcua.acceptUnknownCertificates ?? false,
    ...(opcua.certificateFile && opcua.privateKeyFile
      ? {
          certificateFile: resolve(base, opcua.certificateFile),
          privateKeyFile: resolve(base, opcua.privateKeyFile),
        }
      : {}),
    publishingIntervalMs: opcua.publishingIntervalMs ?? 50,
    heartbeatTimeoutMs: opcua.heartbeatTimeoutMs ?? 5000,
  };
}

/**
 * The deployment's topic settings per stream. What the schema cannot say: min.insync.replicas
 * within the copies, no retention on a compacted stream (a mistake here would make every write
 * fail, or do nothing).
 */
function topicOverrides(
  path: string,
  overrides: Partial<Record<ContractStream, Partial<TopicSettings>>>,
): Partial<Record<ContractStream, TopicSettings>> {
  const topics: Partial<Record<ContractStream, TopicSettings>> = {};
  for (const [stream, settings] of Object.entries(overrides)) {
    try {
      topics[stream as ContractStream] = topicSettings(stream as ContractStream, settings);
    } catch (error) {
      if (!(error instanceof TopicError)) throw error;
      throw new ConfigError(
        `${path}: /${error.message.replace(/^topics\.([^.]+)\./, 'topics/$1/')}`,
      );
    }
  }
  return topics;
}
