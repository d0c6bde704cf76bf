import {
  BusError,
  type BusMessage,
  type EventBus,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from './event-bus.port';

export interface InProcessBusOptions {
  /** Append time source, ms since the epoch (inject a clock for replayable runs). @default Date.now */
  now?: () => number;
}

interface Topic {
  spec: Required<TopicSpec>;
  partitions: BusMessage[][];
}

/**
 * The event bus inside one process: the embedded default for a single machine. Topics are
 * in-memory logs with partitions by key hash, consumer groups keep committed offsets, and
 * delivery follows the port's rules (ordered per partition, commit after the handler,
 * redelivery after a failure). Compaction is not emulated: it only saves storage, and
 * consumers of last-value topics already read in order. Nothing survives the process.
 */
export class InProcessBus implements EventBus {
  private readonly topics = new Map<string, Topic>();
  /** group → topic → next offset to deliver, per partition (the committed position). */
  private readonly committed = new Map<string, Map<string, number[]>>();
  private readonly subscriptions = new Set<InProcessSubscription>();
  private connected = false;
  private readonly now: () => number;

  constructor(options: InProcessBusOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  // Every method is async so that a failure is a rejected promise, as with Kafka.
  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.connected = false;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.requireConnected();
    for (const spec of topics) {
      if (this.topics.has(spec.name)) continue;
      const partitions = spec.partitions ?? 1;
      this.topics.set(spec.name, {
        spec: { name: spec.name, partitions, compacted: spec.compacted ?? false },
        partitions: Array.from({ length: partitions }, () => []),
      });
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.requireConnected();
    const log = this.topic(topic);
    for (const message of messages) {
      const partition = partitionOf(message.key, log.partitions.length);
      const entries = log.partitions[partition]!;
      entries.push({
        topic,
        key: message.key,
        value: message.tombstone ? new Uint8Array(0) : message.value,
        headers: { ...message.headers },
        offset: String(entries.length),
        partition,
        timestamp: this.now(),
        ...(message.tombstone ? { tombstone: true } : {}),
      });
    }
    for (const subscription of this.subscriptions) subscription.wake();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.requireConnected();
    let positions = this.committed.get(options.group);
    if (!positions) {
      positions = new Map();
      this.committed.set(options.group, positions);
    }
    for (const name of options.topics) {
      const log = this.topic(name);
      if (!positions.has(name)) {
        // A new group starts at the beginning or at the end of each partition.
        positions.set(
          name,
          log.partitions.map((p) => (options.fromBeginning ? 0 : p.length)),
        );
      }
    }
    const subscription = new InProcessSubscription(this, options, positions, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  /** Partitions of a topic a member of `group` owns: partition p goes to member p mod count. */
  assigned(subscription: InProcessSubscription, topic: string): number[] {
    const members = [...this.subscriptions].filter(
      (s) => s.group === subscription.group && s.topics.includes(topic),
    );
    const index = members.indexOf(subscription);
    const count = this.topic(topic).partitions.length;
    return Array.from({ length: count }, (_, p) => p).filter((p) => p % members.length === index);
  }

  /** Messages in a partition (the next offset). */
  length(topic: string, partition: number): number {
    return this.topic(topic).partitions[partition]?.length ?? 0;
  }

  read(topic: string, partition: number, offset: number): BusMessage | undefined {
    return this.topic(topic).partitions[partition]?.[offset];
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic)
      throw new BusError(
        'UNKNOWN_TOPIC',
        `topic "${name}" does not exist (create it with ensureTopics)`,
        false,
      );
    return topic;
  }

  private requireConnected(): void {
    if (!this.connected) throw new BusError('NOT_CONNECTED', 'the bus is not connected', true);
  }
}

class InProcessSubscription implements Subscription {
  readonly group: string;
  readonly topics: string[];
  private running = true;
  private paused = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: InProcessBus,
    private readonly options: SubscribeOptions,
    private readonly positions: Map<string, number[]>,
    private readonly onClose: () => void,
  ) {
    this.group = options.group;
    this.topics = [...options.topics];
  }

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.onClose();
  }

  lag(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const topic of this.topics) {
      const offsets = this.positions.get(topic)!;
      let sum = 0;
      for (const partition of this.bus.assigned(this, topic)) {
        sum += this.bus.length(topic, partition) - (offsets[partition] ?? 0);
      }
      result[topic] = sum;
    }
    return result;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const next = this.paused ? undefined : this.nextMessage();
      if (!next) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        this.wakeUp = undefined;
        continue;
      }
      const { message, position } = next;
      try {
        await this.options.handler(message);
        position.offsets[position.partition] = Number(message.offset) + 1; // commit after processing
      } catch {
        // Not committed: redelivered after the delay, and nothing behind it on its partition overtakes it.
        await delay(this.options.retryDelayMs ?? 1000);
      }
    }
  }

  private nextMessage():
    { message: BusMessage; position: { offsets: number[]; partition: number } } | undefined {
    for (const topic of this.topics) {
      const offsets = this.positions.get(topic)!;
      for (const partition of this.bus.assigned(this, topic)) {
        const message = this.bus.read(topic, partition, offsets[partition] ?? 0);
        if (message) return { message, position: { offsets, partition } };
      }
    }
    return undefined;
  }
}

/** Stable key → partition (FNV-1a), so one key always lands in one partition. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
