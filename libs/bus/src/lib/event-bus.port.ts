/**
 * The event-bus port every service talks to. Two adapters implement it: Kafka (kafkajs) for
 * a distributed cell, and in-process for one machine; one contract suite runs against both
 * (testing/event-bus.contract.ts).
 *
 * Semantics, Kafka's: topics are append-only logs; messages with the same key keep their
 * order; a subscription belongs to a consumer group, gets each message at least once, in
 * order per key, and the bus commits a message's offset only after its handler resolved
 * (manual commit after processing). A handler that throws leaves the message uncommitted:
 * it is redelivered after `retryDelayMs`.
 */
export interface OutgoingMessage {
  /** Partitioning key: one asset's events stay in order (DESIGN.md: device or tag). */
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
  /**
   * A tombstone: the key's last value is deleted from a compacted topic (Kafka: a null value;
   * `value` is not sent). @default false
   */
  tombstone?: boolean;
}

export interface BusMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Position in its partition, as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  partition: number;
  /** Append time, ms since the epoch. */
  timestamp: number;
  /** A null value (Kafka): the key's delete marker on a compacted topic; `value` is empty. */
  tombstone?: boolean;
}

/**
 * A topic to create. A topic of the contract (libs/contracts TOPIC_CONTRACT: a step's streams,
 * the dead-letter topic) gets the contract's cleanup policy, retention, partitions, replication
 * and min.insync.replicas, with the bus's per-stream overrides (KafkaBus `topics`); the fields
 * here apply to other topics (and `partitions` to both, below the bus's overrides).
 */
export interface TopicSpec {
  name: string;
  /** @default 1 (a contract topic: the contract's) */
  partitions?: number;
  /** Last value per key (setpoints, modes, targets). @default false (a contract topic: the contract's) */
  compacted?: boolean;
}

export interface SubscribeOptions {
  /** Consumer group: members share the work; each group gets every message. */
  group: string;
  topics: string[];
  /** A new group starts at the oldest retained message (true) or the next new one. @default false */
  fromBeginning?: boolean;
  handler: (message: BusMessage) => Promise<void>;
  /** Wait before redelivering a message whose handler threw, ms. @default 1000 */
  retryDelayMs?: number;
}

export interface Subscription {
  /** Back-pressure: stop fetching until resume(); the message in hand completes. */
  pause(): void;
  resume(): void;
  /** Finishes the message in hand, commits, and leaves the group. */
  close(): Promise<void>;
  /**
   * Messages behind the end of each topic, over the partitions this member holds (Kafka: as of
   * the last fetch; in-process: now). A topic not fetched yet is absent.
   */
  lag(): Record<string, number>;
}

export interface EventBus {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Creates the topics that do not exist yet (idempotent). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves once every message is durably stored (Kafka: acks from all in-sync replicas). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
}

/**
 * Waits for subscriptions started together (each group's join takes seconds on Kafka, so
 * services start theirs in parallel). If any fails, the ones that started are closed before the
 * first failure is thrown: a service that could not start leaves no consumer in a group.
 */
export async function subscribeAll(starts: Promise<Subscription>[]): Promise<Subscription[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (!failed) return started;
  await Promise.allSettled(started.map((s) => s.close()));
  throw failed.reason;
}

/** A bus failure (not an event's fault); `retriable` says whether trying again may help. */
export class BusError extends Error {
  constructor(
    readonly code: 'NOT_CONNECTED' | 'UNKNOWN_TOPIC' | 'CLOSED' | 'BROKER' | 'INVALID_OPTIONS',
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusError';
  }
}
