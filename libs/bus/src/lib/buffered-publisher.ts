import { backoffDelay } from './backoff';
import { BusError, type EventBus, type OutgoingMessage } from './event-bus.port';
import type { DiskSpool, SpoolPosition, SpoolRecord } from './disk-spool';

export interface BufferedPublisherOptions {
  /**
   * Most messages per publish call. One call is in flight at a time (order), so under load
   * the rate is bounded by batch size / round trip; kafkajs 2.2.4 groups a batch by partition
   * in quadratic time, so larger costs more CPU per message (a bare publish loop: 500 → 50k
   * messages/s, 1000 → 38k, 2000 → 38k). In the adapter benchmark 1000 carried 21–22k
   * readings/s where 500 carried 18–21k. @default 1000
   */
  batchSize?: number;
  /**
   * Messages held in memory before they move to the disk spool. Spilling costs an fsync per
   * append, so it is for outages, not for a bus that is merely slower for a moment: below
   * 100,000 the adapter benchmark spilled at 25,000 readings/s and fell to 16,000/s. @default 100_000
   */
  memoryLimit?: number;
  /** Back-off after a failed publish, ms: first delay and cap; each delay jittered ±50 %. @default 100, 5000 */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Random numbers in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
  /** Told when publishing fails (and the spool takes over) and when it works again. */
  onStateChange?: (state: 'spooling' | 'publishing', error?: unknown) => void;
}

export interface BufferedPublisherStats {
  published: number;
  /** Messages written to the disk spool (moved there from memory). */
  spooled: number;
  /** Messages the full spool dropped (the oldest). */
  dropped: number;
  inMemory: number;
  onDisk: number;
}

/**
 * Publishes messages in the order they were enqueued, without ever blocking the producer:
 * one batch at a time goes to the bus; while the bus cannot take them (broker down), they
 * collect in memory and then in a bounded disk spool, and are published from there, oldest
 * first, once the bus is back. Nothing is lost unless the spool overflows, which drops the
 * oldest messages and counts them.
 *
 * Order holds because the disk part is always older than the memory part: memory only ever
 * moves to the disk tail, and the next batch comes from disk while disk is not empty. A batch
 * taken from memory stays at the head of memory until it is published, so if memory moves
 * to disk meanwhile, it becomes the head of the disk part and is committed there.
 */
export class BufferedPublisher {
  private memory: SpoolRecord[] = [];
  /** Records at the head of `memory` that are being published. */
  private inFlight:
    { from: 'memory'; count: number } | { from: 'disk'; position: SpoolPosition } | undefined;
  private wake: (() => void) | undefined;
  private running = true;
  private readonly loop: Promise<void>;
  private failures = 0;
  private state: 'spooling' | 'publishing' = 'publishing';
  private readonly batchSize: number;
  private readonly memoryLimit: number;
  private readonly random: () => number;
  private idleWaiters: (() => void)[] = [];
  private readonly counters = { published: 0, spooled: 0 };

  constructor(
    private readonly bus: EventBus,
    private readonly spool: DiskSpool,
    private readonly options: BufferedPublisherOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.memoryLimit = options.memoryLimit ?? 100_000;
    this.random = options.random ?? Math.random;
    this.loop = this.run();
  }

  /** Queues one message; returns at once. */
  enqueue(topic: string, message: OutgoingMessage): void {
    if (!this.running) throw new BusError('CLOSED', 'publisher closed', false);
    this.memory.push({ topic, message });
    if (this.memory.length > this.memoryLimit) this.spill();
    this.wake?.();
  }

  get stats(): BufferedPublisherStats {
    return {
      published: this.counters.published,
      spooled: this.counters.spooled,
      dropped: this.spool.droppedRecords,
      inMemory: this.memory.length,
      onDisk: this.spool.depth,
    };
  }

  /** Resolves once everything enqueued so far was published. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops publishing; what is still in memory goes to the disk spool, for the next start. */
  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.spill();
    this.spool.close();
  }

  private isIdle(): boolean {
    return this.memory.length === 0 && this.spool.depth === 0 && this.inFlight === undefined;
  }

  /** Moves everything in memory to the disk tail (an in-flight memory batch included). */
  private spill(): void {
    if (this.memory.length === 0) return;
    const wasInFlight = this.inFlight?.from === 'memory' ? this.inFlight.count : 0;
    const diskWasEmpty = this.spool.depth === 0;
    this.spool.append(this.memory);
    this.counters.spooled += this.memory.length;
    this.memory = [];
    if (wasInFlight > 0 && diskWasEmpty) {
      // The batch in flight is now the head of the disk part: commit it there when published.
      const { position } = this.spool.peek(wasInFlight);
      this.inFlight = { from: 'disk', position };
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = this.nextBatch();
      if (batch.length === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        await this.bus.publish(
          batch[0]!.topic,
          batch.map((r) => r.message),
        );
        this.commitInFlight();
        this.counters.published += batch.length;
        this.failures = 0;
        if (this.state === 'spooling') this.setState('publishing');
      } catch (error) {
        this.inFlight = undefined;
        // Keep everything in order on disk, and wait before the next try.
        this.spill();
        if (this.state === 'publishing') this.setState('spooling', error);
        await this.backOff();
      }
    }
  }

  /** The next batch: from disk while disk holds anything, else from memory; one topic per batch. */
  private nextBatch(): SpoolRecord[] {
    if (this.spool.depth > 0) {
      const { records, position } = this.spool.peek(this.batchSize);
      const sameTopic = leadingSameTopic(records);
      const taken = sameTopic === records.length ? position : this.spool.peek(sameTopic).position;
      this.inFlight = { from: 'disk', position: taken };
      return records.slice(0, sameTopic);
    }
    if (this.memory.length === 0) return [];
    const count = leadingSameTopic(this.memory.slice(0, this.batchSize));
    this.inFlight = { from: 'memory', count };
    return this.memory.slice(0, count);
  }

  private commitInFlight(): void {
    const done = this.inFlight;
    this.inFlight = undefined;
    if (!done) return;
    if (done.from === 'disk') this.spool.commit(done.position);
    else this.memory.splice(0, done.count);
  }

  private async backOff(): Promise<void> {
    const delay = backoffDelay(this.failures, {
      initialMs: this.options.retryInitialMs ?? 100,
      maxMs: this.options.retryMaxMs ?? 5000,
      random: this.random,
    });
    this.failures++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.wake = () => {
        if (!this.running) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    this.wake = undefined;
  }

  private setState(state: 'spooling' | 'publishing', error?: unknown): void {
    this.state = state;
    this.options.onStateChange?.(state, error);
  }
}

function leadingSameTopic(records: SpoolRecord[]): number {
  const topic = records[0]?.topic;
  let n = 0;
  while (n < records.length && records[n]!.topic === topic) n++;
  return n;
}
