import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  Kafka,
  logLevel,
  type Admin,
  type Batch,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type ISocketFactory,
  type KafkaConfig,
  type KafkaMessage,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import {
  streamOfTopic,
  topicConfigEntries,
  topicSettings,
  type ContractStream,
  type TopicSettings,
} from '@pipac/contracts';
import {
  BusError,
  type BusMessage,
  type EventBus,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from './event-bus.port';
import { retryWithBackoff } from './backoff';

export interface KafkaBusOptions {
  /** Bootstrap servers, e.g. ['127.0.0.1:19092']. */
  brokers: string[];
  /** @default 'pipac' */
  clientId?: string;
  /**
   * Replication factor of topics this bus creates, unless `topics` says otherwise for a
   * stream. @default 1 (the topic contract's)
   */
  replicationFactor?: number;
  /**
   * Per-stream settings of the topics this bus creates (partitions, replication factor,
   * min.insync.replicas, retention), over the topic contract's defaults (libs/contracts
   * TOPIC_CONTRACT, docs/topics.md); checked when the bus is made (a TopicError names the
   * stream and field). A topic that exists already keeps its settings. @default the contract's
   */
  topics?: Partial<Record<ContractStream, Partial<TopicSettings>>>;
  /** Longest a fetch waits for data, ms (also bounds how long closing a consumer takes). @default 250 */
  fetchWaitMs?: number;
  /**
   * Longest `subscribe` waits for the consumer to join its group, ms; past it, it fails with a
   * BROKER error instead of waiting for ever (a broker that cannot form the group). A join can
   * legitimately wait a rebalance timeout (60 s) for the group's other members. @default 120_000
   */
  joinTimeoutMs?: number;
  /**
   * How long the group coordinator keeps a consumer that stopped heartbeating, ms (kafkajs
   * heartbeats every 3 s). A member that went away without leaving (a crashed pod, or kafkajs
   * restarting a consumer whose retries ran out while the broker was down) holds its partitions
   * this long: nothing on them is consumed until it expires. With kafkajs's 30 s, a broker
   * restart stalled every consumer 30 s after the broker was back (device-adapter.restarts
   * e2e: the three groups joined 30.0 s after it). Kafka's lower bound is 6 s
   * (group.min.session.timeout.ms). @default 10_000
   */
  sessionTimeoutMs?: number;
  /** Passed through to kafkajs (SSL, SASL, retry …). */
  kafka?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
}

/**
 * The event bus on Apache Kafka (kafkajs 2.2.4):
 * - producer idempotent with acks from all in-sync replicas (`acks: -1`), one request in
 *   flight so retries cannot reorder a key's messages;
 * - topics created explicitly (auto-creation off), last-value ones with
 *   `cleanup.policy=compact`;
 * - consumers commit an offset only after its handler resolved, retry a failed message in
 *   place (nothing behind it on its partition overtakes it), and pause fetching on demand;
 * - a new group that should not read from the beginning is positioned at the current end
 *   before it joins, so nothing published after `subscribe` resolves can be missed.
 */
export class KafkaBus implements EventBus {
  private readonly kafka: Kafka;
  /** The consumers' client: the same settings with a retry that rides out an outage (consumerRetry). */
  private readonly consumerKafka: Kafka;
  /** That retry, for the consumers' clusters (connections) and their runners (fetch, join). */
  private readonly consumerRetry: RetryOptions;
  private readonly admin: Admin;
  /** Replaced when its sequence numbers fall out of step with the broker's (see `publish`). */
  private producer: Producer;
  /** A replacement under way, which concurrent publishes wait for. */
  private replacing: Promise<void> | undefined;
  /** Replaced producers finishing what they had in flight; `disconnect` waits for them. */
  private readonly retired = new Set<Promise<void>>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly knownTopics = new Set<string>();
  /** The admin client's calls, one at a time (see `withAdmin`). */
  private adminQueue: Promise<unknown> = Promise.resolve();
  private connected = false;

  constructor(private readonly options: KafkaBusOptions) {
    // Checked now, not at the first topic: a bad setting stops start-up.
    for (const [stream, overrides] of Object.entries(options.topics ?? {})) {
      topicSettings(stream as ContractStream, this.overrides(overrides));
    }
    const config: KafkaConfig = {
      logLevel: logLevel.NOTHING,
      socketFactory: noDelaySocketFactory,
      ...options.kafka,
      clientId: options.clientId ?? 'pipac',
      brokers: options.brokers,
    };
    this.kafka = new Kafka(config);
    this.consumerRetry = consumerRetry(options.kafka?.retry);
    this.consumerKafka = new Kafka({ ...config, retry: this.consumerRetry });
    this.admin = this.kafka.admin();
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.admin.connect();
      await this.producer.connect();
    } catch (error) {
      throw new BusError(
        'BROKER',
        `cannot reach Kafka at ${this.options.brokers.join(',')}: ${(error as Error).message}`,
        true,
        { cause: error },
      );
    }
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    // First: no replacement producer may start once the bus is closing.
    this.connected = false;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.replacing?.catch(() => undefined);
    await Promise.all(this.retired);
    await this.producer.disconnect();
    await this.admin.disconnect();
    this.connected = false;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.requireConnected();
    await this.withAdmin(() => this.createTopics(topics));
  }

  /** The bus-wide replication factor under a stream's own overrides. */
  private overrides(own: Partial<TopicSettings> | undefined): Partial<TopicSettings> {
    const replicationFactor = this.options.replicationFactor;
    return { ...(replicationFactor !== undefined ? { replicationFactor } : {}), ...own };
  }

  /** What CreateTopics gets for one spec: the contract's settings for a contract topic. */
  private creation(t: TopicSpec) {
    const stream = streamOfTopic(t.name);
    if (stream === undefined) {
      return {
        topic: t.name,
        numPartitions: t.partitions ?? 1,
        replicationFactor: this.options.replicationFactor ?? 1,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      };
    }
    const settings = topicSettings(stream, {
      ...(t.partitions !== undefined ? { partitions: t.partitions } : {}),
      ...this.overrides(this.options.topics?.[stream]),
    });
    return {
      topic: t.name,
      numPartitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      configEntries: Object.entries(topicConfigEntries(stream, settings)).map(([name, value]) => ({
        name,
        value,
      })),
    };
  }

  private async createTopics(topics: TopicSpec[]): Promise<void> {
    const created = await this.admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => this.creation(t)),
    });
    // kafkajs waits for the new topics' leaders only when it created them all (`true`): if one
    // already existed (a shared dead-letter topic), it returns `false` at once, and a consumer
    // subscribing to a topic made in the same request can be told it does not exist (seen in
    // CI). Then wait here.
    if (!created) await retryRetriable(() => this.requireLeaders(topics.map((t) => t.name)));
    for (const t of topics) this.knownTopics.add(t.name);
  }

  /**
   * Sends a batch and resolves once every in-sync replica has it. At least once: a batch whose
   * acknowledgement was lost (the broker appended it, then stalled or restarted before it
   * answered) fails here, and sending it again repeats it.
   *
   * That lost acknowledgement also leaves kafkajs 2.2.4's idempotent producer one step behind
   * the broker: it takes the batch back from its sequence numbers, so its next batch to that
   * partition starts at a number the broker already has and is refused as
   * OUT_OF_ORDER_SEQUENCE_NUMBER, for ever (kafkajs cannot bump the producer's epoch as the
   * Java client does). A broker shutting down does this (it closes its connections first, then
   * finishes the requests it has): the device adapter published nothing more after a broker
   * restart in CI (no reading for 90 s). bus.broker-pause e2e reproduces it with a frozen
   * broker. On that refusal the bus replaces the producer (a new producer id starts its
   * sequences at 0) and sends the batch again. One caller's batches, sent one after another,
   * keep their order; concurrent publishes have none between them, here as in kafkajs.
   */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.requireConnected();
    await this.requireTopic(topic);
    const record = {
      topic,
      acks: -1,
      messages: messages.map((m) => ({
        key: m.key,
        // A null value is Kafka's tombstone: compaction deletes the key.
        value: m.tombstone ? null : Buffer.from(m.value),
        headers: m.headers ?? {},
      })),
    };
    // A replacement under way: send on the producer it makes, not on the one being retired.
    await this.replacing?.catch(() => undefined);
    const producer = this.producer;
    try {
      await producer.send(record);
    } catch (error) {
      if (outOfStep(error)) await this.replaceProducer(producer, error);
      // Replaced meanwhile (by this call or a concurrent one): the batch goes once more on the
      // new producer. Any other failure is the caller's to retry.
      if (this.producer === producer) throw error;
      await this.producer.send(record);
    }
  }

  /**
   * Swaps `failed` for a new, connected producer, once however many publishes ask. The old one
   * disconnects in the background (kafkajs first waits for its requests in flight), so nobody
   * waits for it but `disconnect`. A new producer that cannot connect is a retriable BROKER
   * error carrying the refusal; the old one stays, and the next refusal tries again.
   */
  private async replaceProducer(failed: Producer, refusal: unknown): Promise<void> {
    if (this.producer !== failed) return;
    this.replacing ??= (async () => {
      this.requireConnected();
      const fresh = this.createProducer();
      try {
        await fresh.connect();
      } catch (error) {
        await fresh.disconnect().catch(() => undefined);
        throw new BusError(
          'BROKER',
          `the producer fell out of step with the broker (${(refusal as Error).message}) and a new one could not connect: ${(error as Error).message}`,
          true,
          { cause: refusal },
        );
      }
      this.producer = fresh;
      const retiring = failed.disconnect().catch(() => undefined);
      this.retired.add(retiring);
      void retiring.then(() => this.retired.delete(retiring));
    })().finally(() => (this.replacing = undefined));
    await this.replacing;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.requireConnected();
    for (const topic of options.topics) await this.requireTopic(topic);
    if (!options.fromBeginning) await this.startAtEnd(options.group, options.topics);
    const consumer = this.consumerKafka.consumer({
      groupId: options.group,
      allowAutoTopicCreation: false,
      // Short long-polls: a closing consumer waits for its fetch, and the control loop's
      // events should not sit in a half-empty fetch (loopback costs little per request).
      maxWaitTimeInMs: this.options.fetchWaitMs ?? 250,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      retry: this.consumerRetry,
    });
    const subscription = new KafkaSubscription(
      consumer,
      options,
      this.options.joinTimeoutMs ?? 120_000,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      // A consumer that failed to join leaves nothing running: no fetch loop, no member.
      await subscription.close().catch(() => undefined);
      throw error;
    }
    return subscription;
  }

  /**
   * Positions a group without committed offsets at the end of each topic, with an admin client
   * of its own: subscriptions start in parallel, and positioning one (kafkajs's `setOffsets`
   * joins the group with a temporary consumer) takes seconds, so sharing the serialised admin
   * would start them one after another (measured: 6 subscribes in 31 s instead of 6 s).
   */
  private async startAtEnd(group: string, topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await positionAtEnd(admin, group, topics);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Runs the shared admin client's requests one at a time. kafkajs's admin keeps one metadata
   * cache, and concurrent calls overwrite it with their own topics: `fetchTopicOffsets` for one
   * topic then finds no partitions (a TypeError inside kafkajs 2.2.4), which a service starting
   * its subscriptions in parallel hit (reproduced: 6 of 75 subscribes, 15 at a time, failed).
   * The calls are short and few (start-up); a promise chain is all the lock they need.
   */
  private withAdmin<T>(work: () => Promise<T>): Promise<T> {
    const result = this.adminQueue.then(work);
    this.adminQueue = result.catch(() => undefined);
    return result;
  }

  private async requireLeaders(topics: string[]): Promise<void> {
    const metadata = await this.admin.fetchTopicMetadata({ topics });
    const leaderless = metadata.topics
      .filter((t) => t.partitions.some((p) => p.leader < 0))
      .map((t) => t.name);
    if (leaderless.length > 0) {
      throw new BusError('BROKER', `no partition leader yet for ${leaderless.join(', ')}`, true);
    }
  }

  private async requireTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    const existing = await this.withAdmin(() => this.admin.listTopics());
    if (!existing.includes(topic)) {
      throw new BusError(
        'UNKNOWN_TOPIC',
        `topic "${topic}" does not exist (create it with ensureTopics)`,
        false,
      );
    }
    this.knownTopics.add(topic);
  }

  private requireConnected(): void {
    if (!this.connected) throw new BusError('NOT_CONNECTED', 'the bus is not connected', true);
  }
}

class KafkaSubscription implements Subscription {
  private paused = false;
  private closing = false;
  private resumed: (() => void) | undefined;
  private inHand: Promise<boolean> | undefined;
  /** topic → partition → messages behind the high watermark after the last handled one. */
  private readonly behind = new Map<string, Map<number, number>>();

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
    private readonly joinTimeoutMs: number,
    private readonly onClose: () => void,
  ) {}

  /** Resolves once the consumer has joined its group; rejects if it crashes before that. */
  async start(): Promise<void> {
    const joined = this.groupJoined();
    joined.catch(() => undefined); // observed below; not unhandled if subscribing fails first
    await this.consumer.connect();
    // The consumer's own metadata refresh gives up at once on an unknown topic; a broker that
    // has not yet replayed the topic's creation answers so for a moment (see ensureTopics).
    await retryRetriable(() =>
      this.consumer.subscribe({
        topics: this.options.topics,
        fromBeginning: this.options.fromBeginning ?? false,
      }),
    );
    // kafkajs joins the group inside `run`; a join that fails crashes the consumer, which then
    // restarts itself (GROUP_JOIN or a final CRASH settles `joined`).
    const running = this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    await this.joinWithin(running, joined);
  }

  /** Settles on the group join, or on a crash that kafkajs does not restart from. */
  private groupJoined(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const removeJoin = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        removeJoin();
        removeCrash();
        resolve();
      });
      const removeCrash = this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return; // kafkajs restarts the consumer itself
        removeJoin();
        removeCrash();
        reject(payload.error);
      });
    });
  }

  /** Waits for the join at most `joinTimeoutMs`; on failure lets a join under way settle first. */
  private async joinWithin(running: Promise<void>, joined: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const group = this.options.group;
        const error = `consumer group "${group}" did not join within ${this.joinTimeoutMs} ms`;
        reject(new BusError('BROKER', error, true));
      }, this.joinTimeoutMs);
    });
    try {
      await Promise.race([Promise.all([running, joined]), late]);
    } catch (error) {
      // kafkajs cannot abort a join: disconnected mid-join, the consumer still becomes a member
      // and holds its partitions until the session times out (seen in the start-up test). Let
      // the join settle (bounded by a session timeout) before the caller closes the consumer.
      await settledWithin(running, 30_000);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Hands a fetched batch to the handler message by message. Offsets are committed once per
   * batch (and before any wait), not per message: one round trip to the group coordinator per
   * fetch instead of one per event. A crash redelivers at most the uncommitted rest of one
   * batch, which at-least-once handlers absorb.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs passes these as closures over the batch, not methods needing their object.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    let handled: string | undefined;
    const commit = async (): Promise<void> => {
      if (handled === undefined) return;
      const offset = (BigInt(handled) + 1n).toString();
      handled = undefined;
      await this.consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset },
      ]);
    };
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || this.closing) break;
        // Between messages, not after the last (a closing consumer must commit first):
        // kafkajs sends one only when its interval has passed, so a long batch of slow
        // handlers keeps the group membership.
        if (handled !== undefined) await heartbeat();
        if (this.paused) await commit();
        await this.holdWhilePaused(heartbeat);
        if (this.closing) break;
        // The message in hand completes even while closing; its offset is committed below.
        this.inHand = this.process(busMessage(batch, message), isRunning, heartbeat, commit);
        const done = await this.inHand;
        this.inHand = undefined;
        if (!done) return;
        handled = message.offset;
        resolveOffset(message.offset);
        this.recordLag(batch.topic, batch.partition, batch.highWatermark, message.offset);
      }
    } finally {
      await commit();
    }
  }

  /** While paused (and not closing), waits for resume, heartbeating at least every second. */
  private async holdWhilePaused(heartbeat: () => Promise<void>): Promise<void> {
    while (this.paused && !this.closing) {
      await new Promise<void>((resolve) => {
        this.resumed = resolve;
        setTimeout(resolve, 1000);
      });
      await heartbeat();
    }
  }

  /**
   * Handles one message, retrying in place (it stays uncommitted and nothing behind it is
   * handled); what was handled before it is committed before the first wait. False when
   * stopped before success.
   */
  private async process(
    message: BusMessage,
    isRunning: () => boolean,
    heartbeat: () => Promise<void>,
    commitHandled: () => Promise<void>,
  ): Promise<boolean> {
    for (;;) {
      try {
        await this.options.handler(message);
        return true;
      } catch {
        if (!isRunning() || this.closing) return false;
        await commitHandled();
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000));
        await heartbeat();
      }
    }
  }

  lag(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [topic, partitions] of this.behind) {
      let sum = 0;
      for (const lag of partitions.values()) sum += lag;
      result[topic] = sum;
    }
    return result;
  }

  private recordLag(topic: string, partition: number, highWatermark: string, offset: string): void {
    let partitions = this.behind.get(topic);
    if (!partitions) this.behind.set(topic, (partitions = new Map<number, number>()));
    partitions.set(partition, Math.max(0, Number(highWatermark) - Number(offset) - 1));
  }

  pause(): void {
    this.paused = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.paused = false;
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
    this.resumed?.();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.resumed?.();
    await this.inHand;
    await this.consumer.disconnect();
    this.onClose();
  }
}

/** A fetched Kafka message as the bus hands it to handlers. */
function busMessage(batch: Batch, message: KafkaMessage): BusMessage {
  return {
    topic: batch.topic,
    key: message.key?.toString() ?? '',
    value: new Uint8Array(message.value ?? Buffer.alloc(0)),
    headers: stringHeaders(message.headers),
    offset: message.offset,
    partition: batch.partition,
    timestamp: Number(message.timestamp),
    ...(message.value === null ? { tombstone: true } : {}),
  };
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return result;
}

async function positionAtEnd(admin: Admin, group: string, topics: string[]): Promise<void> {
  const committed = await retryRetriable(() => admin.fetchOffsets({ groupId: group, topics }));
  for (const { topic, partitions } of committed) {
    if (partitions.some((p) => p.offset !== '-1')) continue;
    // Retried: right after a topic is made, its partition may have no leader yet.
    const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    await retryRetriable(() =>
      admin.setOffsets({
        groupId: group,
        topic,
        partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
      }),
    );
  }
}

/** Waits until the promise settles, or `ms` at most; never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise.catch(() => undefined), elapsed]);
  clearTimeout(timer);
}

/**
 * Retries a request that failed with a retriable Kafka error. The admin client does not retry
 * coordinator errors itself: right after a broker starts, the group coordinator answers
 * NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS until the offsets topic is loaded.
 */
function retryRetriable<T>(request: () => Promise<T>, attempts = 20): Promise<T> {
  return retryWithBackoff(request, {
    attempts,
    // 100, 200, 400, 800, then 1000 ms.
    initialMs: 100,
    maxMs: 1000,
    retriable: (error) => (error as { retriable?: unknown }).retriable === true,
  });
}

/**
 * kafkajs's own socket factory with TCP_NODELAY on. kafkajs leaves Nagle's algorithm on, so a
 * small request (a fetch, a commit, a one-message produce) can wait for the ACK of the one
 * before it; with delayed ACKs that is tens of milliseconds in the control loop's tail
 * (measured with services/device-adapter/bench: command→confirmation p99 fell with it).
 */
const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : netConnect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};

/**
 * Whether a send failed because the idempotent producer's sequence numbers are out of step with
 * the broker's (see `KafkaBus.publish`): the broker has a batch the producer thinks unsent, or no
 * longer knows the producer. kafkajs may wrap the broker's error in a retry error's `cause`.
 */
function outOfStep(error: unknown): boolean {
  let e = error as { type?: unknown; cause?: unknown } | undefined;
  // A few levels of `cause` at most (kafkajs wraps once); no cycle can hold it.
  for (let depth = 0; e && depth < 8; depth++, e = e.cause as typeof e) {
    if (e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || e.type === 'UNKNOWN_PRODUCER_ID') return true;
  }
  return false;
}

/**
 * A consumer rides out a broker outage in place: it retries, with the client's back-off at
 * most 5 s apart, for up to about 8 minutes, keeping its group membership, so it consumes
 * again as soon as the broker is back. With the client's retries (kafkajs: 5) its
 * connection gave up within seconds, kafkajs restarted it as a new member, and the group
 * coordinator admitted that one only once the old member's session expired, or later when
 * the new one gave up again mid-join (a broker-restart e2e under load saw no reading for
 * 90 s after the broker was back). Both the consumer's cluster (connections) and its runner
 * (fetch, join) take it. Longer than that, kafkajs restarts the consumer as before.
 */
function consumerRetry(client: RetryOptions = {}): RetryOptions {
  return {
    ...client,
    retries: 100,
    maxRetryTime: Math.min(client.maxRetryTime ?? 30_000, 5_000),
  };
}
