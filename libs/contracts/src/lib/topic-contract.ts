import { HEADERS } from './event-codec';
import { STREAMS, TopicError, parseTopic, type Stream } from './topics';

/**
 * The topic contract, the one source of truth for every stream: what docs/topics.md shows (its
 * table is rendered from this and checked by a test), what the Kafka bus creates, and what
 * test/topics.kafka.e2e.spec.ts reads back from a real broker.
 */

/** A step's streams and the cell's dead-letter topic. */
export type ContractStream = Stream | 'dead-letter';

/** What a deployment may set per stream (the adapter's `topics` block, KafkaBus `topics`). */
export interface TopicSettings {
  /** Partitions: keys (tags, devices) spread over them, each key stays in order on one. */
  partitions: number;
  /** Copies of each partition; 3 in a production cluster. */
  replicationFactor: number;
  /** In-sync copies a write needs (acks=all); replicationFactor − 1 in production. */
  minInsyncReplicas: number;
  /** How long a delete-policy topic keeps a message, ms (-1: for ever); absent on compacted ones. */
  retentionMs?: number;
}

export interface StreamContract extends TopicSettings {
  /** The name, with `<site>`, `<cell>`, `<step>` to fill in. */
  pattern: string;
  /** What the message key holds. */
  key: string;
  /** Protobuf message of the value (proto/pipac/v1), binary; a null value is a tombstone. */
  value: string;
  /** Headers on every message; more in `optionalHeaders`. */
  headers: readonly string[];
  optionalHeaders: readonly string[];
  cleanupPolicy: 'delete' | 'compact';
}

/** Set on a sensor reading that repeats a tag's last value for late joiners (same value, same source time): a historian drops it. */
export const REPUBLISHED_HEADER = 'pipac-republished';

const DAY_MS = 86_400_000;
const EVENT_HEADERS = [HEADERS.type, HEADERS.schema] as const;
const TRACED = [HEADERS.traceparent] as const;

/**
 * Defaults: one broker (development, the test command) needs replication 1; a production
 * cluster sets 3 and min.insync.replicas 2 in the adapter's configuration. Retention of the
 * event streams is a week (the historian keeps the long record); alarms, confirmations and
 * dead letters a month (an investigation's horizon). Compacted streams keep each key's last
 * value for ever: a late joiner reads them from the start.
 */
const BASE = { partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 } as const;

export const TOPIC_CONTRACT: Readonly<Record<ContractStream, Readonly<StreamContract>>> = {
  sensors: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.sensors',
    key: 'tag (e.g. TC-101.PV)',
    value: 'pipac.v1.SensorReading',
    headers: EVENT_HEADERS,
    optionalHeaders: [...TRACED, REPUBLISHED_HEADER],
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
  },
  setpoints: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.setpoints',
    key: 'target tag (e.g. P-101)',
    value: 'pipac.v1.SetpointCommand',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'compact',
  },
  confirmations: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.confirmations',
    key: 'target tag',
    value: 'pipac.v1.WriteConfirmation',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
  },
  state: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.state',
    key: 'device (its connection) or step (its mode)',
    value: 'pipac.v1.DeviceState',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'compact',
  },
  status: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.status',
    key: 'step',
    value: 'pipac.v1.StepStatus',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
  },
  targets: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.targets',
    key: 'step',
    value: 'pipac.v1.ThroughputTarget',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'compact',
  },
  alarms: {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.<step>.alarms',
    key: 'alarm id (<device>.<kind>)',
    value: 'pipac.v1.Alarm',
    headers: EVENT_HEADERS,
    optionalHeaders: TRACED,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
  },
  'dead-letter': {
    ...BASE,
    pattern: 'pipac.<site>.<cell>.dead-letter',
    key: "the original message's key",
    value: 'the original bytes, unchanged',
    headers: [HEADERS.deadLetterCode, HEADERS.deadLetterReason, HEADERS.deadLetterTopic],
    optionalHeaders: ["the original message's headers"],
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
  },
};

// The table and STREAMS must agree on which streams are last-value ones.
for (const stream of Object.keys(STREAMS) as Stream[]) {
  if ((TOPIC_CONTRACT[stream].cleanupPolicy === 'compact') !== STREAMS[stream].compacted) {
    throw new TopicError(`topic contract: ${stream} compaction disagrees with STREAMS`);
  }
}

/** The stream a topic name belongs to, or undefined for a topic outside the contract. */
export function streamOfTopic(topic: string): ContractStream | undefined {
  if (/^pipac\.[a-z0-9-]+\.[a-z0-9-]+\.dead-letter$/.test(topic)) return 'dead-letter';
  try {
    return parseTopic(topic).stream;
  } catch {
    return undefined;
  }
}

/**
 * A stream's settings: the contract's defaults with a deployment's overrides, checked (a
 * TopicError names the stream and the field): whole numbers, at least one partition and copy,
 * min.insync.replicas within the copies, no retention on a compacted stream.
 */
export function topicSettings(
  stream: ContractStream,
  overrides: Partial<TopicSettings> = {},
): TopicSettings {
  const contract = TOPIC_CONTRACT[stream];
  const settings: TopicSettings = {
    partitions: overrides.partitions ?? contract.partitions,
    replicationFactor: overrides.replicationFactor ?? contract.replicationFactor,
    minInsyncReplicas: overrides.minInsyncReplicas ?? contract.minInsyncReplicas,
    ...(contract.retentionMs !== undefined || overrides.retentionMs !== undefined
      ? { retentionMs: overrides.retentionMs ?? contract.retentionMs! }
      : {}),
  };
  const fail = (field: string, why: string) => {
    throw new TopicError(`topics.${stream}.${field}: ${why}`);
  };
  for (const field of ['partitions', 'replicationFactor', 'minInsyncReplicas'] as const) {
    const value = settings[field];
    if (!Number.isInteger(value) || value < 1) fail(field, `${value} is not a whole number ≥ 1`);
  }
  if (settings.minInsyncReplicas > settings.replicationFactor) {
    fail(
      'minInsyncReplicas',
      `${settings.minInsyncReplicas} exceeds replicationFactor ${settings.replicationFactor}: no write could succeed`,
    );
  }
  if (settings.retentionMs !== undefined) {
    if (contract.cleanupPolicy === 'compact') {
      fail('retentionMs', 'a compacted (last-value) stream keeps each key for ever');
    }
    if (!Number.isInteger(settings.retentionMs) || settings.retentionMs < -1) {
      fail('retentionMs', `${settings.retentionMs} is not a whole number of ms ≥ -1`);
    }
  }
  return settings;
}

/** The Kafka topic configs (AlterConfigs / CreateTopics names) of a stream with these settings. */
export function topicConfigEntries(
  stream: ContractStream,
  settings: TopicSettings,
): Record<string, string> {
  return {
    'cleanup.policy': TOPIC_CONTRACT[stream].cleanupPolicy,
    'min.insync.replicas': String(settings.minInsyncReplicas),
    ...(settings.retentionMs !== undefined ? { 'retention.ms': String(settings.retentionMs) } : {}),
  };
}

/** The contract as the Markdown table of docs/topics.md (a test keeps the two identical). */
export function renderTopicContract(): string {
  const retention = (c: StreamContract) =>
    c.retentionMs === undefined
      ? 'for ever (last value per key)'
      : c.retentionMs === -1
        ? 'for ever'
        : `${c.retentionMs / DAY_MS} d (${c.retentionMs} ms)`;
  const code = (items: readonly string[]) =>
    items.map((h) => (h.startsWith('pipac-') || h === 'traceparent' ? `\`${h}\`` : h)).join(', ');
  const rows = (Object.keys(TOPIC_CONTRACT) as ContractStream[]).map((stream) => {
    const c = TOPIC_CONTRACT[stream];
    return [
      `\`${c.pattern}\``,
      c.key,
      c.value.startsWith('pipac.') ? `\`${c.value}\`` : c.value,
      code(c.headers),
      code(c.optionalHeaders) || '—',
      c.cleanupPolicy,
      retention(c),
      String(c.partitions),
      String(c.replicationFactor),
      String(c.minInsyncReplicas),
    ];
  });
  const header = [
    'topic',
    'key',
    'value',
    'headers',
    'optional headers',
    'cleanup.policy',
    'retention',
    'partitions',
    'replication',
    'min.insync.replicas',
  ];
  return [header, header.map(() => '---'), ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}
