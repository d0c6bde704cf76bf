import { join } from 'node:path';
import { ControllerWriteGate } from '@pipac/control';
import {
  AlarmSchema,
  Alarm_Severity,
  Alarm_State,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  STREAMS,
  alarmCodec,
  create,
  deadLetterTopic,
  deviceStateCodec,
  timestampFromMs,
  topicName,
  type Stream,
} from '@pipac/contracts';
import {
  BufferedPublisher,
  DiskSpool,
  encodeEvent,
  type BufferedPublisherStats,
  type EventBus,
} from '@pipac/bus';
import { DeviceClient, type DeviceClientOptions, type LadsState, type NodeMap } from '@pipac/opcua';
import { METRICS, counter, observableCounter, observableGauge, observe } from '@pipac/telemetry';
import { CommandJournal } from './command-journal';
import { CommandPipeline, type CommandPipelineStats } from './command-pipeline';
import { ladsStateText } from './lads-state.mapper';
import { ReadingPipeline, readingUnits, type ReadingPipelineStats } from './reading-pipeline';
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

export interface DeviceAdapterStats
  extends BufferedPublisherStats, ReadingPipelineStats, CommandPipelineStats {
  connected: boolean;
  heartbeat: boolean;
}

/**
 * The bridge between one device's OPC UA server and the bus, composed of two pipelines:
 * - the ReadingPipeline: every change of a mapped reading becomes a SensorReading on the step's
 *   `sensors` topic, published once, and again (marked) when quiet for `refreshMs`;
 * - the CommandPipeline: SetpointCommands on the step's `setpoints` topic for this device become
 *   checked writes with read-back, each confirmed once on `confirmations`; the step's modes
 *   decide whether the agent's commands are still written (the operator wins).
 * The adapter itself owns the lifecycle and what is said about the device: connection and
 * heartbeat losses are raised (and cleared) as alarms, and the device's connection and LADS
 * state (its DeviceState and functional units' states) are its DeviceState on `state` (keyed by
 * device), published again at every change of either. Readings, alarms and states share one
 * buffered publisher, so a broker outage spools them to disk instead of losing them.
 */
export class DeviceAdapter {
  private heartbeat = true;
  /** Set when stop() begins: alarms raised while shutting down are not published. */
  private stopping = false;
  /** The device's LADS state as last reported; undefined while the node map names none. */
  private lads: LadsState | undefined;
  /**
   * Set when start-up is done: a state asked for before (a mode event read while the adapter
   * still subscribes) waits for the first one, 'adapter started', which carries it.
   */
  private started = false;
  private readonly publisher: BufferedPublisher;
  private readonly gate = new ControllerWriteGate();
  private readonly readings: ReadingPipeline;
  private readonly commands: CommandPipeline;
  private readonly stopObserving: () => void;

  private constructor(
    private readonly options: DeviceAdapterOptions,
    private readonly topics: Record<Stream, string>,
    spool: DiskSpool,
    private readonly client: DeviceClient,
    units: ReadonlyMap<string, string>,
  ) {
    const { site, cell, step, nodeMap, bus } = options;
    const location = { site, cell, step, device: nodeMap.device };
    const now = options.now ?? Date.now;
    this.publisher = new BufferedPublisher(bus, spool, {
      ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
      onStateChange: (state, error) => this.busStateChanged(state, error),
    });
    this.readings = new ReadingPipeline(client, this.publisher, {
      location,
      topic: topics.sensors,
      units,
      now,
      refreshMs: options.refreshMs ?? 10_000,
      deviceReachable: () => client.connected && this.heartbeat,
    });
    const handler = new SetpointCommandHandler(
      client,
      CommandJournal.open(join(options.stateDir, 'commands.jsonl')),
      { location, units: setpointUnits(nodeMap), now, gate: this.gate },
    );
    this.commands = new CommandPipeline(bus, handler, this.gate, {
      location,
      topics,
      deadLetterTopic: deadLetterTopic(site, cell),
      onModeEvent: (reason) => this.publishState(reason),
    });
    this.stopObserving = this.observeMetrics();
  }

  static async start(options: DeviceAdapterOptions): Promise<DeviceAdapter> {
    const topics = adapterTopics(options);
    await ensureAdapterTopics(options.bus, topics, deadLetterTopic(options.site, options.cell));
    const units = readingUnits(options.nodeMap);
    const spool = DiskSpool.open({
      dir: join(options.stateDir, 'spool'),
      ...(options.spoolMaxBytes !== undefined ? { maxBytes: options.spoolMaxBytes } : {}),
      ...(options.spoolSync !== undefined ? { sync: options.spoolSync } : {}),
    });
    let client: DeviceClient;
    try {
      client = await DeviceClient.connect({ ...options.opcua, nodeMap: options.nodeMap });
    } catch (error) {
      spool.close();
      throw error;
    }
    const adapter = new DeviceAdapter(options, topics, spool, client, units);
    try {
      await adapter.open();
    } catch (error) {
      await adapter.stop();
      throw error;
    }
    return adapter;
  }

  get stats(): DeviceAdapterStats {
    return {
      ...this.publisher.stats,
      ...this.readings.stats,
      ...this.commands.stats,
      connected: this.client.connected,
      heartbeat: this.heartbeat,
    };
  }

  /** Resolves once every reading received so far is on the bus. */
  flushed(): Promise<void> {
    return this.publisher.idle();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopObserving();
    this.readings.stop();
    await this.commands.stop();
    await this.client.close();
    await this.publisher.close();
  }

  /** Subscribes to the commands, follows the connection, monitors the readings and the state. */
  private async open(): Promise<void> {
    await this.commands.start();
    this.followConnection();
    await this.readings.start();
    // The device's LADS state machines (OPC 30500-1 §7.1.2): known before the first state goes
    // out, and each change of one of them is a new DeviceState.
    this.lads = await this.client.monitorState((state) => {
      this.lads = state;
      this.publishState('LADS state changed');
    });
    this.started = true;
    this.publishState('adapter started');
  }

  /** Connection and heartbeat losses and returns: alarms, and the device's state again. */
  private followConnection(): void {
    const device = this.options.nodeMap.device;
    const labels = { step: this.options.step, device };
    const reconnects = counter(METRICS.adapterReconnects);
    this.client.on('connection-lost', () => {
      this.alarm(
        'connection',
        true,
        Alarm_Severity.HIGH,
        `lost the OPC UA connection to ${device}; reconnecting`,
      );
      this.publishState('OPC UA connection lost; reconnecting');
    });
    this.client.on('reconnected', () => {
      reconnects.add(1, labels);
      this.alarm('connection', false, Alarm_Severity.HIGH, `reconnected to ${device}`);
      this.readings.reconnected();
      this.publishState('OPC UA connection re-established');
    });
    this.client.on('heartbeat-lost', () => {
      this.heartbeat = false;
      this.alarm('heartbeat', true, Alarm_Severity.HIGH, `${device} server heartbeat stopped`);
      this.publishState('server heartbeat stopped');
    });
    this.client.on('heartbeat-restored', () => {
      this.heartbeat = true;
      this.alarm('heartbeat', false, Alarm_Severity.HIGH, `${device} server heartbeat back`);
      this.publishState('server heartbeat back');
    });
  }

  /** The connection and buffer gauges, read when metrics are collected. */
  private observeMetrics(): () => void {
    const labels = { step: this.options.step, device: this.options.nodeMap.device };
    const connected = observableGauge(METRICS.adapterConnected);
    const depth = observableGauge(METRICS.adapterBufferDepth);
    const dropped = observableCounter(METRICS.adapterDropped);
    return observe([connected, depth, dropped], (result) => {
      const stats = this.publisher.stats;
      result.observe(connected, this.client.connected ? 1 : 0, labels);
      result.observe(depth, stats.inMemory, { ...labels, store: 'memory' });
      result.observe(depth, stats.onDisk, { ...labels, store: 'disk' });
      result.observe(dropped, stats.dropped, labels);
    });
  }

  private busStateChanged(state: 'spooling' | 'publishing', error: unknown): void {
    this.alarm(
      'bus',
      state === 'spooling',
      Alarm_Severity.HIGH,
      state === 'spooling'
        ? `bus unreachable (${(error as Error | undefined)?.message ?? 'unknown'}): readings spooled to disk`
        : 'bus reachable again: spooled readings published',
    );
  }

  /**
   * The device's state on the step's `state` topic, keyed by device (the last value per device
   * stays on the compacted topic): whether it is reachable (session up and heartbeat alive),
   * the mode the adapter enforces for the step's controllers (Automatic: their writes go
   * through; Operator or Offline: refused, REFUSED_MODE), and the device's LADS state (see
   * ladsStateText). Buffered like the alarms.
   */
  private publishState(reason: string): void {
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

/** Every stream's topic of the adapter's step. */
function adapterTopics({ site, cell, step }: DeviceAdapterOptions): Record<Stream, string> {
  return Object.fromEntries(
    (Object.keys(STREAMS) as Stream[]).map((stream) => [
      stream,
      topicName({ site, cell, step, stream }),
    ]),
  ) as Record<Stream, string>;
}

/**
 * The topics the adapter reads and writes. Partitions, replication, retention and cleanup
 * policy: the topic contract's (docs/topics.md), with the deployment's overrides, applied by
 * the bus.
 */
async function ensureAdapterTopics(
  bus: EventBus,
  topics: Record<Stream, string>,
  deadLetters: string,
): Promise<void> {
  await bus.ensureTopics([
    ...(['sensors', 'setpoints', 'confirmations', 'alarms', 'state'] as const).map((stream) => ({
      name: topics[stream],
      compacted: STREAMS[stream].compacted,
    })),
    { name: deadLetters },
  ]);
}

/** The unit of each setpoint tag of the device. */
function setpointUnits(nodeMap: NodeMap): Record<string, string> {
  return Object.fromEntries(
    Object.entries(nodeMap.setpoints).map(([tag, entry]) => [tag, entry.unit]),
  );
}
