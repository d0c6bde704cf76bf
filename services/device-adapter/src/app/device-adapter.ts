import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ControllerWriteGate, type StepOperatingMode } from '@pipac/control';
import {
  AlarmSchema,
  Alarm_Severity,
  DeviceStateSchema,
  REPUBLISHED_HEADER,
  Alarm_State,
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  STREAMS,
  WriteConfirmation_Outcome,
  alarmCodec,
  create,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  setpointCommandCodec,
  timestampFromMs,
  timestampMs,
  topicName,
  ucumCode,
  writeConfirmationCodec,
  type DeviceState,
  type Stream,
} from '@pipac/contracts';
import {
  BufferedPublisher,
  DiskSpool,
  encodeEvent,
  publishEvent,
  subscribeAll,
  subscribeEvents,
  type BufferedPublisherStats,
  type EventBus,
  type OutgoingMessage,
  type Subscription,
} from '@pipac/bus';
import {
  DeviceClient,
  type DeviceClientOptions,
  type LadsState,
  type NodeMap,
  type TagSample,
} from '@pipac/opcua';
import {
  METRICS,
  SPANS,
  SpanKind,
  counter,
  gauge,
  histogram,
  inSpan,
  observableCounter,
  observableGauge,
  observe,
} from '@pipac/telemetry';
import { CommandJournal } from './command-journal';
import { ladsStateText } from './lads-state.mapper';
import { toSensorReading } from './sensor-reading.mapper';
import { SetpointCommandHandler } from './setpoint-command.handler';

export interface DeviceAdapterOptions {
  site: string;
  cell: string;
  step: string;
  nodeMap: NodeMap;
  bus: EventBus;
  /** OPC UA session settings (the node map comes from above). */
  opcua: Omit<DeviceClientOptions, 'nodeMap'>;
  /** Spool and command journal live here. */
  stateDir: string;
  /** Bound of the reading spool on disk. @default 256 MiB */
  spoolMaxBytes?: number;
  /** fsync the spool on every append. @default true */
  spoolSync?: boolean;
  /** Readings held in memory before they go to the spool. @default 100_000 */
  memoryLimit?: number;
  /** ms since the epoch. @default Date.now */
  now?: () => number;
  /**
   * A tag whose last reading is this old (wall-clock ms; 0: never) is published again, marked
   * with the `pipac-republished` header, so a consumer that starts late (an agent restarting)
   * has every value within this time, also those that never change (setpoint read-backs). The
   * value keeps its source time, so data-age gates still see how old it is; a historian drops
   * marked messages (docs/topics.md). Tags that change more often are never repeated, and
   * nothing is repeated while the device is unreachable (its last value is not current).
   * @default 10_000
   */
  refreshMs?: number;
}

export interface DeviceAdapterStats extends BufferedPublisherStats {
  readings: number;
  /** Last values published again for late joiners, marked `pipac-republished`. */
  republished: number;
  /** Notifications that repeated the tag's last reading (same value, status and source time), not published. */
  repeats: number;
  /** Tombstones (null values: deleted keys) seen on the setpoints and state topics, ignored. */
  tombstones: number;
  commands: number;
  connected: boolean;
  heartbeat: boolean;
}

/**
 * The bridge between one device's OPC UA server and the bus:
 * - every change of a mapped reading becomes a SensorReading on the step's `sensors` topic,
 *   through a buffered publisher, so a broker outage spools readings to disk instead of
 *   losing them;
 * - SetpointCommands on the step's `setpoints` topic for this device become checked writes
 *   with read-back; each gets one WriteConfirmation on `confirmations` before its offset is
 *   committed (a command whose confirmation cannot be published is redelivered, and the
 *   journal keeps it from being applied twice); malformed commands go to the dead-letter
 *   topic;
 * - the step's modes (requests and the agent's feedback on `state`, read from the start of the
 *   compacted topic) and the operators' own setpoints decide whether the agent's commands are
 *   still written: out of Automatic they are refused (REFUSED_MODE), so the operator wins;
 * - connection and heartbeat losses are raised (and cleared) as alarms, and the device's
 *   connection and LADS state (its DeviceState and functional units' states, monitored like
 *   the readings) are its DeviceState on `state` (keyed by device), published again at every
 *   change of either;
 * - each reading is published once: a notification that repeats the tag's last reading (a
 *   subscription's initial values after a reconnect, OPC UA Part 4 §5.13.2 TransferSubscriptions
 *   with sendInitialValues) is dropped; a tag quiet for `refreshMs` is published again with the
 *   `pipac-republished` header (a birth certificate in Sparkplug terms), so late subscribers
 *   need not wait for a change and a historian can tell the repeat from a reading.
 */
export class DeviceAdapter {
  private readonly counters = {
    readings: 0,
    republished: 0,
    repeats: 0,
    tombstones: 0,
    commands: 0,
  };
  private heartbeat = true;
  /** Set when stop() begins: alarms raised while shutting down are not published. */
  private stopping = false;
  /** Per tag: the last reading published, what identifies it, and when (wall ms) it or its repeat went out. */
  private readonly lastReadings = new Map<
    string,
    { message: OutgoingMessage; sample: TagSample; sentAt: number }
  >();
  private refresher: NodeJS.Timeout | undefined;
  /** The device's LADS state as last reported; undefined while the node map names none. */
  private lads: LadsState | undefined;
  /**
   * Set when start-up is done: a state asked for before (a mode event read while the adapter
   * still subscribes) waits for the first one, 'adapter started', which carries it.
   */
  private started = false;
  private stopObserving: (() => void) | undefined;

  private constructor(
    private readonly options: DeviceAdapterOptions,
    private readonly client: DeviceClient,
    private readonly publisher: BufferedPublisher,
    private readonly subscriptions: Subscription[],
    private readonly topics: Record<Stream, string>,
    private readonly gate: ControllerWriteGate,
  ) {}

  static async start(options: DeviceAdapterOptions): Promise<DeviceAdapter> {
    const { site, cell, step, bus } = options;
    const device = options.nodeMap.device;
    const now = options.now ?? Date.now;
    const topics = Object.fromEntries(
      (Object.keys(STREAMS) as Stream[]).map((stream) => [
        stream,
        topicName({ site, cell, step, stream }),
      ]),
    ) as Record<Stream, string>;
    const deadLetters = deadLetterTopic(site, cell);
    // Partitions, replication, retention and cleanup policy: the topic contract's
    // (docs/topics.md), with the deployment's overrides, applied by the bus.
    await bus.ensureTopics([
      ...(['sensors', 'setpoints', 'confirmations', 'alarms', 'state'] as const).map((stream) => ({
        name: topics[stream],
        compacted: STREAMS[stream].compacted,
      })),
      { name: deadLetters },
    ]);
    const countTombstone = () => {
      if (self.adapter) self.adapter.counters.tombstones++;
    };

    const location = { site, cell, step, device };
    const spool = DiskSpool.open({
      dir: join(options.stateDir, 'spool'),
      ...(options.spoolMaxBytes !== undefined ? { maxBytes: options.spoolMaxBytes } : {}),
      ...(options.spoolSync !== undefined ? { sync: options.spoolSync } : {}),
    });
    // Set once the adapter exists; the publisher may report before (a spool left from a previous run).
    const self: { adapter?: DeviceAdapter } = {};
    const publisher = new BufferedPublisher(bus, spool, {
      ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
      onStateChange: (state, error) =>
        self.adapter?.alarm(
          'bus',
          state === 'spooling',
          Alarm_Severity.HIGH,
          state === 'spooling'
            ? `bus unreachable (${(error as Error | undefined)?.message ?? 'unknown'}): readings spooled to disk`
            : 'bus reachable again: spooled readings published',
        ),
    });

    let client: DeviceClient;
    try {
      client = await DeviceClient.connect({ ...options.opcua, nodeMap: options.nodeMap });
    } catch (error) {
      await publisher.close();
      throw error;
    }
    const units = Object.fromEntries(
      Object.entries(options.nodeMap.setpoints).map(([tag, entry]) => [tag, entry.unit]),
    );
    const gate = new ControllerWriteGate();
    const handler = new SetpointCommandHandler(
      client,
      CommandJournal.open(join(options.stateDir, 'commands.jsonl')),
      { location, units, now, gate },
    );
    const labels = { step, device };
    const writes = counter(METRICS.adapterWrites);
    const writeDuration = histogram(METRICS.adapterWriteDuration);
    let subscriptions: Subscription[];
    try {
      // Joined in parallel: each consumer group's join takes seconds on Kafka.
      subscriptions = await subscribeAll([
        // The step's mode: every adapter process reads the compacted topic from its start (a
        // group of its own), so it knows the mode the step is in before the first command.
        subscribeEvents(bus, {
          group: `device-adapter.${site}.${cell}.${device}.state.${randomUUID()}`,
          topic: topics.state,
          codec: deviceStateCodec,
          deadLetterTopic: deadLetters,
          fromBeginning: true,
          onTombstone: countTombstone,
          handler: async (state) => {
            followMode(gate, state);
            // What the adapter lets controllers do is part of the device's state.
            if (!state.location?.device) self.adapter?.publishState(state.reason || 'mode');
          },
        }),
        subscribeEvents(bus, {
          group: `device-adapter.${site}.${cell}.${device}`,
          topic: topics.setpoints,
          codec: setpointCommandCodec,
          deadLetterTopic: deadLetters,
          retryDelayMs: 200,
          // A deleted key of the compacted topic (a retired tag's last command): no command.
          onTombstone: countTombstone,
          handler: async (command) => {
            if (!handler.isMine(command)) return;
            const started = performance.now();
            // The write, read-back and confirmation in one span, in the command's trace.
            await inSpan(
              SPANS.write,
              {
                kind: SpanKind.CLIENT,
                attributes: {
                  'pipac.device': device,
                  'pipac.tag': command.targetTag,
                  'pipac.command_id': command.commandId,
                },
              },
              async (span) => {
                const confirmation = await handler.handle(command);
                if (!confirmation) return;
                const outcome = WriteConfirmation_Outcome[confirmation.outcome].toLowerCase();
                span.setAttribute('pipac.outcome', outcome);
                writes.add(1, { ...labels, outcome });
                writeDuration.record((performance.now() - started) / 1000, labels);
                if (self.adapter) self.adapter.counters.commands++;
                await publishEvent(
                  bus,
                  topics.confirmations,
                  writeConfirmationCodec,
                  confirmation.targetTag,
                  confirmation,
                );
              },
            );
          },
        }),
      ]);
    } catch (error) {
      await client.close();
      await publisher.close();
      throw error;
    }

    const adapter = new DeviceAdapter(options, client, publisher, subscriptions, topics, gate);
    self.adapter = adapter;
    const reconnects = counter(METRICS.adapterReconnects);
    const errors = counter(METRICS.errors);
    const readingsCounter = counter(METRICS.adapterReadings);
    const lastReading = gauge(METRICS.adapterLastReading);
    const connected = observableGauge(METRICS.adapterConnected);
    const depth = observableGauge(METRICS.adapterBufferDepth);
    const dropped = observableCounter(METRICS.adapterDropped);
    adapter.stopObserving = observe([connected, depth, dropped], (result) => {
      const stats = publisher.stats;
      result.observe(connected, client.connected ? 1 : 0, labels);
      result.observe(depth, stats.inMemory, { ...labels, store: 'memory' });
      result.observe(depth, stats.onDisk, { ...labels, store: 'disk' });
      result.observe(dropped, stats.dropped, labels);
    });
    // On the bus as UCUM codes (SensorReading.unit), translated once; a unit without one stops
    // start-up here rather than leaving a reading unparseable downstream.
    const readingUnits = new Map(
      Object.entries(options.nodeMap.readings).map(([tag, e]) => [tag, ucumCode(e.unit)]),
    );
    client.on('connection-lost', () => {
      adapter.alarm(
        'connection',
        true,
        Alarm_Severity.HIGH,
        `lost the OPC UA connection to ${device}; reconnecting`,
      );
      adapter.publishState('OPC UA connection lost; reconnecting');
    });
    client.on('reconnected', () => {
      reconnects.add(1, labels);
      adapter.alarm('connection', false, Alarm_Severity.HIGH, `reconnected to ${device}`);
      // The subscription reports every value again (its initial notification): nothing is
      // due for a repeat until refreshMs after this.
      const at = performance.now();
      for (const last of adapter.lastReadings.values()) last.sentAt = at;
      adapter.publishState('OPC UA connection re-established');
    });
    client.on('heartbeat-lost', () => {
      adapter.heartbeat = false;
      adapter.alarm('heartbeat', true, Alarm_Severity.HIGH, `${device} server heartbeat stopped`);
      adapter.publishState('server heartbeat stopped');
    });
    client.on('heartbeat-restored', () => {
      adapter.heartbeat = true;
      adapter.alarm('heartbeat', false, Alarm_Severity.HIGH, `${device} server heartbeat back`);
      adapter.publishState('server heartbeat back');
    });
    const publishSample = (sample: TagSample): void => {
      const last = adapter.lastReadings.get(sample.tag);
      if (last && sameReading(last.sample, sample)) {
        // OPC UA sends a monitored item's current value again when a subscription is
        // transferred or recreated after a reconnect (Part 4 §5.13.2, sendInitialValues): the
        // same value, status and source time is the same reading, already on the topic.
        adapter.counters.repeats++;
        return;
      }
      adapter.counters.readings++;
      readingsCounter.add(1, labels);
      lastReading.record(Date.now() / 1000, labels);
      const reading = toSensorReading(sample, location, readingUnits.get(sample.tag) ?? '', now());
      // In the notification's span: the event carries its trace context.
      const message = encodeEvent(sensorReadingCodec, sample.tag, reading);
      adapter.lastReadings.set(sample.tag, { message, sample, sentAt: performance.now() });
      publisher.enqueue(topics.sensors, message);
    };
    await client.monitor((sample: TagSample) => {
      void inSpan(
        SPANS.reading,
        {
          kind: SpanKind.PRODUCER,
          attributes: { 'pipac.device': device, 'pipac.tag': sample.tag },
        },
        () => publishSample(sample),
      ).catch(() => errors.add(1, { service: 'device-adapter', kind: 'reading not published' }));
    });
    // The device's LADS state machines (OPC 30500-1 §7.1.2): known before the first state goes
    // out, and each change of one of them is a new DeviceState.
    adapter.lads = await client.monitorState((state) => {
      adapter.lads = state;
      adapter.publishState('LADS state changed');
    });
    const refreshMs = options.refreshMs ?? 10_000;
    if (refreshMs > 0) {
      // Checked a few times per period, so a quiet tag is repeated between 1 and 1.25 periods
      // after its last reading, and a tag that changes within the period never.
      adapter.refresher = setInterval(() => adapter.republishQuiet(refreshMs), refreshMs / 4);
      adapter.refresher.unref();
    }
    adapter.started = true;
    adapter.publishState('adapter started');
    return adapter;
  }

  get stats(): DeviceAdapterStats {
    return {
      ...this.publisher.stats,
      ...this.counters,
      connected: this.client.connected,
      heartbeat: this.heartbeat,
    };
  }

  /** Resolves once every reading received so far is on the bus. */
  flushed(): Promise<void> {
    return this.publisher.idle();
  }

  /**
   * Publishes again, marked, the last reading of every tag that has been quiet for `refreshMs`,
   * while the device is reachable: a value held from before an outage is not a current one.
   */
  private republishQuiet(refreshMs: number): void {
    if (!this.client.connected || !this.heartbeat) return;
    const now = performance.now();
    for (const last of this.lastReadings.values()) {
      if (now - last.sentAt < refreshMs) continue;
      last.sentAt = now;
      this.counters.republished++;
      this.publisher.enqueue(this.topics.sensors, {
        ...last.message,
        headers: { ...last.message.headers, [REPUBLISHED_HEADER]: 'true' },
      });
    }
  }

  /**
   * The device's state on the step's `state` topic, keyed by device (the last value per device
   * stays on the compacted topic): whether it is reachable (session up and heartbeat alive),
   * the mode the adapter enforces for the step's controllers (Automatic: their writes go
   * through; Operator or Offline: refused, REFUSED_MODE), and the device's LADS state (see
   * ladsStateText). Buffered like the alarms.
   */
  publishState(reason: string): void {
    if (this.stopping || !this.started) return;
    const { site, cell, step, nodeMap } = this.options;
    const now = this.options.now ?? Date.now;
    const refusal = this.gate.refusal();
    const state = create(DeviceStateSchema, {
      location: { site, cell, step, device: nodeMap.device },
      mode:
        refusal === undefined
          ? Mode.AUTOMATIC
          : refusal.includes('Offline mode')
            ? Mode.OFFLINE
            : Mode.OPERATOR,
      // The last state the device reported (while disconnected: the one before the loss).
      state: ladsStateText(this.lads),
      connected: this.client.connected && this.heartbeat,
      changedBy: { kind: Issuer_Kind.UNSPECIFIED, id: `device-adapter.${nodeMap.device}` },
      reason,
      changedAt: timestampFromMs(now()),
    });
    this.publisher.enqueue(this.topics.state, encodeEvent(deviceStateCodec, nodeMap.device, state));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopObserving?.();
    if (this.refresher) clearInterval(this.refresher);
    await Promise.all(this.subscriptions.map((s) => s.close()));
    await this.client.close();
    await this.publisher.close();
  }

  private alarm(kind: string, raised: boolean, severity: Alarm_Severity, message: string): void {
    if (this.stopping) return;
    const { site, cell, step, nodeMap } = this.options;
    const now = this.options.now ?? Date.now;
    const alarm = create(AlarmSchema, {
      alarmId: `${nodeMap.device}.${kind}`,
      location: { site, cell, step, device: nodeMap.device },
      severity,
      state: raised ? Alarm_State.RAISED : Alarm_State.CLEARED,
      quantity: kind,
      message,
      at: timestampFromMs(now()),
    });
    // Alarms take the readings' path: buffered, so an alarm raised while the bus is down still arrives.
    this.publisher.enqueue(this.topics.alarms, encodeEvent(alarmCodec, alarm.alarmId, alarm));
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

const MODES: Partial<Record<Mode, StepOperatingMode>> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/**
 * A step's mode event into the controllers' write gate: a person's request for the step, or
 * the agent's feedback (both name the step, not a device); a device's own state is not a mode.
 */
function followMode(gate: ControllerWriteGate, state: DeviceState): void {
  if (state.location?.device) return;
  const mode = MODES[state.mode];
  if (!mode || !state.changedAt) return;
  const person = state.changedBy?.kind === Issuer_Kind.USER;
  // A request (no state) counts only from a person; the feedback says STEP_MODE_FEEDBACK.
  if (state.state !== STEP_MODE_FEEDBACK && !(person && state.state === '')) return;
  const by = person ? `user:${state.changedBy?.id ?? ''}` : state.changedBy?.id || 'step-agent';
  gate.modeChanged(mode, timestampMs(state.changedAt), by);
}
