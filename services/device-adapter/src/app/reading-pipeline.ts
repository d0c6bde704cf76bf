import { performance } from 'node:perf_hooks';
import { REPUBLISHED_HEADER, sensorReadingCodec, ucumCode } from '@pipac/contracts';
import { encodeEvent, type BufferedPublisher, type OutgoingMessage } from '@pipac/bus';
import type { NodeMap, TagSample } from '@pipac/opcua';
import { METRICS, SPANS, SpanKind, counter, gauge, inSpan } from '@pipac/telemetry';
import { toSensorReading } from './sensor-reading.mapper';

/** What the reading pipeline needs of a device session (DeviceClient has it). */
export interface ReadingSource {
  monitor(onSample: (sample: TagSample) => void): Promise<void>;
}

export interface ReadingPipelineOptions {
  /** Where the device sits; every reading names it. */
  location: { site: string; cell: string; step: string; device: string };
  /** The step's `sensors` topic. */
  topic: string;
  /** UCUM code of each reading tag (see readingUnits). */
  units: ReadonlyMap<string, string>;
  /** ms since the epoch, the readings' receive time. */
  now: () => number;
  /** A tag quiet this long (wall-clock ms) is published again, marked; 0: never (DeviceAdapterOptions.refreshMs). */
  refreshMs: number;
  /** Whether the device's last values are current (session up and heartbeat alive). */
  deviceReachable: () => boolean;
}

export interface ReadingPipelineStats {
  readings: number;
  /** Last values published again for late joiners, marked `pipac-republished`. */
  republished: number;
  /** Notifications that repeated the tag's last reading (same value, status and source time), not published. */
  repeats: number;
}

/**
 * The UCUM code of every reading tag of a node map, as SensorReading.unit carries it: translated
 * once, so a unit without one stops start-up rather than leaving a reading unparseable downstream.
 */
export function readingUnits(nodeMap: NodeMap): Map<string, string> {
  return new Map(
    Object.entries(nodeMap.readings).map(([tag, entry]) => [tag, ucumCode(entry.unit)]),
  );
}

/**
 * OPC UA → bus for one device: every change of a monitored reading becomes a SensorReading on
 * the step's `sensors` topic, through the buffered publisher (a broker outage spools it to disk).
 * - each reading is published once: a notification that repeats the tag's last reading (a
 *   subscription's initial values after a reconnect, OPC UA Part 4 §5.13.2 TransferSubscriptions
 *   with sendInitialValues) is dropped;
 * - a tag quiet for `refreshMs` is published again with the `pipac-republished` header (a birth
 *   certificate in Sparkplug terms), while the device is reachable, so late subscribers need not
 *   wait for a change and a historian can tell the repeat from a reading.
 */
export class ReadingPipeline {
  private readonly counters: ReadingPipelineStats = { readings: 0, republished: 0, repeats: 0 };
  /** Per tag: the last reading published, what identifies it, and when (wall ms) it or its repeat went out. */
  private readonly lastReadings = new Map<
    string,
    { message: OutgoingMessage; sample: TagSample; sentAt: number }
  >();
  private refresher: NodeJS.Timeout | undefined;
  private readonly labels: { step: string; device: string };
  private readonly published = counter(METRICS.adapterReadings);
  private readonly lastReading = gauge(METRICS.adapterLastReading);
  private readonly errors = counter(METRICS.errors);

  constructor(
    private readonly source: ReadingSource,
    private readonly publisher: Pick<BufferedPublisher, 'enqueue'>,
    private readonly options: ReadingPipelineOptions,
  ) {
    this.labels = { step: options.location.step, device: options.location.device };
  }

  get stats(): ReadingPipelineStats {
    return { ...this.counters };
  }

  /** Monitors the device's readings, and starts repeating quiet tags. */
  async start(): Promise<void> {
    await this.source.monitor((sample) => this.receive(sample));
    const { refreshMs } = this.options;
    if (refreshMs > 0) {
      // Checked a few times per period, so a quiet tag is repeated between 1 and 1.25 periods
      // after its last reading, and a tag that changes within the period never.
      this.refresher = setInterval(() => this.republishQuiet(), refreshMs / 4);
      this.refresher.unref();
    }
  }

  /**
   * The device is back: its subscription reports every value again (its initial notification),
   * so nothing is due for a repeat until refreshMs after this.
   */
  reconnected(): void {
    const at = performance.now();
    for (const last of this.lastReadings.values()) last.sentAt = at;
  }

  stop(): void {
    if (this.refresher) clearInterval(this.refresher);
  }

  /** One notification, in its own span: the event it becomes carries its trace context. */
  private receive(sample: TagSample): void {
    void inSpan(
      SPANS.reading,
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'pipac.device': this.options.location.device, 'pipac.tag': sample.tag },
      },
      () => this.publish(sample),
    ).catch(() => this.errors.add(1, { service: 'device-adapter', kind: 'reading not published' }));
  }

  private publish(sample: TagSample): void {
    const last = this.lastReadings.get(sample.tag);
    if (last && sameReading(last.sample, sample)) {
      // OPC UA sends a monitored item's current value again when a subscription is
      // transferred or recreated after a reconnect (Part 4 §5.13.2, sendInitialValues): the
      // same value, status and source time is the same reading, already on the topic.
      this.counters.repeats++;
      return;
    }
    this.counters.readings++;
    this.published.add(1, this.labels);
    this.lastReading.record(Date.now() / 1000, this.labels);
    const { location, units, now } = this.options;
    const reading = toSensorReading(sample, location, units.get(sample.tag) ?? '', now());
    const message = encodeEvent(sensorReadingCodec, sample.tag, reading);
    this.lastReadings.set(sample.tag, { message, sample, sentAt: performance.now() });
    this.publisher.enqueue(this.options.topic, message);
  }

  /**
   * Publishes again, marked, the last reading of every tag that has been quiet for `refreshMs`,
   * while the device is reachable: a value held from before an outage is not a current one.
   */
  private republishQuiet(): void {
    if (!this.options.deviceReachable()) return;
    const now = performance.now();
    for (const last of this.lastReadings.values()) {
      if (now - last.sentAt < this.options.refreshMs) continue;
      last.sentAt = now;
      this.counters.republished++;
      this.publisher.enqueue(this.options.topic, {
        ...last.message,
        headers: { ...last.message.headers, [REPUBLISHED_HEADER]: 'true' },
      });
    }
  }
}

/** The same reading reported twice: same value (NaN included), status and source time. */
function sameReading(a: TagSample, b: TagSample): boolean {
  return (
    a.sourceTime !== undefined &&
    a.sourceTime === b.sourceTime &&
    a.statusCode === b.statusCode &&
    Object.is(a.value, b.value)
  );
}
