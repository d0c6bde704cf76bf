import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  DataType,
  OPCUACertificateManager,
  OPCUAClient,
  TimestampsToReturn,
  UserTokenType,
  makeBrowsePath,
  resolveNodeId,
  type ClientSession,
  type DataValue,
  type NodeId,
  type UserIdentityInfo,
} from 'node-opcua';
import type { NodeMap } from './node-map';
import {
  OpcuaSecurityError,
  securityMode,
  securityPolicy,
  type SecurityModeName,
  type SecurityPolicyName,
} from './security';
import { OpcuaError } from './opcua.error';

/** Server_ServerStatus_CurrentTime (OPC UA Part 5 §12.10): the server updates it every second. */
const SERVER_CURRENT_TIME = resolveNodeId('ns=0;i=2258');

export interface DeviceClientOptions {
  nodeMap: NodeMap;
  /** @default 'SignAndEncrypt' */
  securityMode?: SecurityModeName;
  /** @default 'Basic256Sha256' */
  securityPolicy?: SecurityPolicyName;
  /** User name and password; anonymous when absent. */
  user?: { username: string; password: string };
  /**
   * The client's certificate and trust list (created on first use): the server's certificate
   * is accepted when it is in trusted/certs, or issued by a CA in trusted/certs (or in
   * issuers/certs with the leaf trusted) whose CRL does not list it; an unknown one is
   * refused and filed under rejected/, and so is a revoked or expired one.
   */
  pkiFolder: string;
  /**
   * Trust the server's certificate on first contact. Off in production: copy the server's
   * certificate into `<pkiFolder>/trusted/certs` instead. @default false
   */
  acceptUnknownCertificates?: boolean;
  /**
   * The client's application certificate and key (PEM), e.g. issued by the plant's CA.
   * @default a self-signed one, made in `<pkiFolder>/own` on first use
   */
  certificateFile?: string;
  privateKeyFile?: string;
  /** Reconnection back-off, ms: first delay and cap; each delay is jittered by ±50 %. @default 250, 5000 */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** The heartbeat (server time) counts as lost after this long without an update, ms. @default 5000 */
  heartbeatTimeoutMs?: number;
  /** Publishing interval of the reading subscription, ms. @default 50 */
  publishingIntervalMs?: number;
  /** Sampling interval of each monitored tag, ms (0: report every change). @default 0 */
  samplingIntervalMs?: number;
  /** Changes the server keeps per tag between publishes. @default 100 */
  queueSize?: number;
  /**
   * Monitored tags per subscription. A server sends at most so many notifications per
   * publish response (node-opcua: 1000) and one response per publishing interval and
   * subscription, so one subscription of a fast device caps its readings (1000 per 50 ms);
   * several subscriptions share the load. @default 500
   */
  itemsPerSubscription?: number;
  /** @default 'urn:pipac:device-adapter' */
  applicationUri?: string;
}

/** One value of a tag as the device reported it. */
export interface TagSample {
  tag: string;
  /** NaN when the device sent no number (a bad status usually). */
  value: number;
  /** OPC UA status code (Part 4 §7.39): severity in the top two bits. */
  statusCode: number;
  /** When the value was measured, and when the server sent it (ms since the epoch). */
  sourceTime: number | undefined;
  serverTime: number | undefined;
}

export interface WriteOutcome {
  /** True when the device accepted the write and reads back the value written. */
  confirmed: boolean;
  /** Status of the write, by name (Good, BadOutOfRange, BadUserAccessDenied …). */
  writeStatus: string;
  readBack: number;
  readStatus: string;
}

/**
 * The LADS state of a device as its server reports it: the text of each state machine's
 * CurrentState (OPC 10000-16 §4.4.6), undefined where the server reports none (a bad status,
 * e.g. Bad_StateNotActive for an inactive machine, OPC 10000-16 §4.4.2, or no value).
 */
export interface LadsState {
  /** DeviceState (OPC 30500-1 §7.1.2): Initialization, Operate, Sleep, Shutdown. */
  device: string | undefined;
  /** Each functional unit's FunctionalUnitState (Running, Aborted …), in the node map's order. */
  units: { unit: string; state: string | undefined }[];
}

export interface DeviceClientEvents {
  'connection-lost': [];
  reconnected: [];
  'heartbeat-lost': [];
  'heartbeat-restored': [];
}

/**
 * A session with one device's OPC UA server, from a node map. Reconnection and recreation
 * of the subscription after a server restart are node-opcua's (exponential back-off with
 * jitter, subscriptions transferred or recreated); this class adds the heartbeat watch, the
 * device's engineering ranges, and the write with read-back that confirms a setpoint.
 */
export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  private readonly readingNodes = new Map<string, NodeId>();
  private readonly setpointNodes = new Map<string, NodeId>();
  private readonly ranges = new Map<string, { low: number; high: number }>();
  private readonly subscriptions: ClientSubscription[] = [];
  private monitoring = false;
  private stateNodes: { key: string; nodeId: NodeId }[] = [];
  /** The last state text per state machine ('' for the device's, else the unit's name). */
  private readonly states = new Map<string, string | undefined>();
  private lastHeartbeat = Date.now();
  private heartbeatLost = false;
  private watchdog: NodeJS.Timeout | undefined;
  private connectionUp = true;

  private constructor(
    private readonly client: OPCUAClient,
    private readonly session: ClientSession,
    private readonly options: DeviceClientOptions,
    private readonly certificateManager: OPCUACertificateManager,
  ) {
    super();
  }

  static async connect(options: DeviceClientOptions): Promise<DeviceClient> {
    if ((options.certificateFile === undefined) !== (options.privateKeyFile === undefined)) {
      throw new OpcuaSecurityError('certificateFile and privateKeyFile go together');
    }
    mkdirSync(options.pkiFolder, { recursive: true });
    const initialDelay = options.reconnectInitialDelayMs ?? 250;
    const certificateManager = new OPCUACertificateManager({
      rootFolder: options.pkiFolder,
      automaticallyAcceptUnknownCertificate: options.acceptUnknownCertificates ?? false,
    });
    const client = OPCUAClient.create({
      applicationName: 'pipac device adapter',
      applicationUri: options.applicationUri ?? 'urn:pipac:device-adapter',
      securityMode: securityMode(options.securityMode ?? 'SignAndEncrypt'),
      securityPolicy: securityPolicy(options.securityPolicy ?? 'Basic256Sha256'),
      endpointMustExist: false,
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      connectionStrategy: {
        initialDelay,
        maxDelay: options.reconnectMaxDelayMs ?? 5000,
        maxRetry: -1,
        randomisationFactor: 0.5,
      },
      clientCertificateManager: certificateManager,
      ...(options.certificateFile && options.privateKeyFile
        ? { certificateFile: options.certificateFile, privateKeyFile: options.privateKeyFile }
        : {}),
    });
    try {
      await client.connect(options.nodeMap.endpointUrl);
    } catch (error) {
      await certificateManager.dispose();
      throw error;
    }
    const identity: UserIdentityInfo = options.user
      ? {
          type: UserTokenType.UserName,
          userName: options.user.username,
          password: options.user.password,
        }
      : { type: UserTokenType.Anonymous };
    let session: ClientSession;
    try {
      session = await client.createSession(identity);
    } catch (error) {
      await client.disconnect();
      await certificateManager.dispose();
      throw error;
    }
    const device = new DeviceClient(client, session, options, certificateManager);
    try {
      await device.resolveNodes();
    } catch (error) {
      await device.close();
      throw error;
    }
    client.on('connection_lost', () => device.setConnection(false));
    client.on('connection_reestablished', () => device.setConnection(true));
    return device;
  }

  get connected(): boolean {
    return this.connectionUp;
  }

  /** Setpoint limits: the device's EURange, narrowed by the node map's range where given. */
  setpointRange(tag: string): { low: number; high: number } | undefined {
    return this.ranges.get(tag);
  }

  get setpointTags(): string[] {
    return [...this.setpointNodes.keys()];
  }

  get readingTags(): string[] {
    return [...this.readingNodes.keys()];
  }

  /**
   * Monitors every reading tag and the server's heartbeat. `onSample` gets every change the
   * server reports, with its status and both timestamps, in order per tag.
   */
  async monitor(onSample: (sample: TagSample) => void): Promise<void> {
    if (this.monitoring) throw new OpcuaError('ALREADY_MONITORING', 'already monitoring');
    this.monitoring = true;
    const tags = [...this.readingNodes.keys()];
    const perSubscription = this.options.itemsPerSubscription ?? 500;
    // The heartbeat rides in the first subscription; each tag lives in exactly one, so its
    // changes keep their order.
    const chunks: { tags: string[]; heartbeat: boolean }[] = [];
    for (let i = 0; i < Math.max(1, tags.length); i += perSubscription) {
      chunks.push({ tags: tags.slice(i, i + perSubscription), heartbeat: i === 0 });
    }
    for (const chunk of chunks) await this.subscribeChunk(chunk.tags, chunk.heartbeat, onSample);
    const heartbeatTimeout = this.options.heartbeatTimeoutMs ?? 5000;
    this.lastHeartbeat = Date.now();
    this.watchdog = setInterval(
      () => {
        const silent = Date.now() - this.lastHeartbeat > heartbeatTimeout;
        if (silent && !this.heartbeatLost) {
          this.heartbeatLost = true;
          this.emit('heartbeat-lost');
        }
      },
      Math.min(1000, heartbeatTimeout / 4),
    );
    this.watchdog.unref();
  }

  /**
   * Monitors the device's LADS state machines named in the node map (the CurrentState of its
   * DeviceState and of each functional unit's FunctionalUnitState), in a subscription of their
   * own. Resolves with the state once the server has reported each machine (its initial
   * notification), or after the heartbeat timeout with what it has; undefined when the node map
   * names no state. Afterwards `onChange` gets the whole state at every change of one machine's
   * text; a notification that repeats the text (the initial values again after a reconnect,
   * OPC UA Part 4 §5.13.2) is no change.
   */
  async monitorState(onChange: (state: LadsState) => void): Promise<LadsState | undefined> {
    if (this.stateNodes.length === 0) return undefined;
    if (this.states.size > 0)
      throw new OpcuaError('ALREADY_MONITORING', 'already monitoring the state');
    const subscription = await this.createSubscription();
    const nodes = this.stateNodes;
    const reported = new Set<number>();
    let initialised = false;
    let ready: () => void = () => undefined;
    const allReported = new Promise<void>((resolve) => (ready = resolve));
    const group = ClientMonitoredItemGroup.create(
      subscription,
      nodes.map((node) => ({ nodeId: node.nodeId, attributeId: AttributeIds.Value })),
      // Every change: a state machine changes seldom, and each change is an event.
      { samplingInterval: 0, discardOldest: true, queueSize: 10 },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_item, dataValue: DataValue, index: number) => {
      const node = nodes[index];
      if (!node) return;
      const text = stateText(dataValue);
      const known = this.states.has(node.key);
      if (known && this.states.get(node.key) === text) return;
      this.states.set(node.key, text);
      if (!initialised) {
        reported.add(index);
        if (reported.size === nodes.length) ready();
        return;
      }
      onChange(this.ladsState());
    });
    await new Promise<void>((resolve, reject) => {
      group.once('initialized', () => resolve());
      group.once('err', (message: string) => reject(new OpcuaError('MONITORING_FAILED', message)));
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allReported,
      new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, this.options.heartbeatTimeoutMs ?? 5000)),
      ),
    ]);
    clearTimeout(timer);
    initialised = true;
    return this.ladsState();
  }

  /**
   * A subscription with the client's publishing interval, a lifetime of three heartbeat
   * timeouts and a keep-alive every second, kept for closing.
   */
  private async createSubscription(): Promise<ClientSubscription> {
    const publishingInterval = this.options.publishingIntervalMs ?? 50;
    const heartbeatTimeout = this.options.heartbeatTimeoutMs ?? 5000;
    const subscription = await this.session.createSubscription2({
      requestedPublishingInterval: publishingInterval,
      requestedLifetimeCount: Math.max(60, Math.ceil((3 * heartbeatTimeout) / publishingInterval)),
      requestedMaxKeepAliveCount: Math.max(2, Math.ceil(1000 / publishingInterval)),
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.subscriptions.push(subscription);
    return subscription;
  }

  /** The device's LADS state as last reported (undefined parts: not reported yet). */
  ladsState(): LadsState {
    return {
      device: this.states.get(''),
      units: this.stateNodes
        .filter((node) => node.key !== '')
        .map((node) => ({ unit: node.key, state: this.states.get(node.key) })),
    };
  }

  private async subscribeChunk(
    tags: string[],
    heartbeat: boolean,
    onSample: (sample: TagSample) => void,
  ): Promise<void> {
    const subscription = await this.createSubscription();
    const items = tags.map((tag) => ({
      nodeId: this.readingNodes.get(tag)!,
      attributeId: AttributeIds.Value,
    }));
    if (heartbeat) items.push({ nodeId: SERVER_CURRENT_TIME, attributeId: AttributeIds.Value });
    const heartbeatIndex = heartbeat ? tags.length : -1;
    const group = ClientMonitoredItemGroup.create(
      subscription,
      items,
      {
        samplingInterval: this.options.samplingIntervalMs ?? 0,
        discardOldest: true,
        queueSize: this.options.queueSize ?? 100,
      },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_item, dataValue: DataValue, index: number) => {
      if (index === heartbeatIndex) {
        this.beat();
        return;
      }
      const tag = tags[index];
      if (tag !== undefined) onSample(toSample(tag, dataValue));
    });
    await new Promise<void>((resolve, reject) => {
      group.once('initialized', () => resolve());
      group.once('err', (message: string) => reject(new OpcuaError('MONITORING_FAILED', message)));
    });
  }

  /**
   * Writes a setpoint and reads it back. Confirmed only when the device accepted the write
   * and the value read back equals the value written (to a relative 1e-9, since a device
   * may store it in another float width).
   */
  async writeSetpoint(tag: string, value: number): Promise<WriteOutcome> {
    const nodeId = this.setpointNodes.get(tag);
    if (!nodeId)
      throw new OpcuaError(
        'UNKNOWN_TAG',
        `tag ${tag} is not a setpoint of device ${this.options.nodeMap.device}`,
      );
    const writeStatus = await this.session.write({
      nodeId,
      attributeId: AttributeIds.Value,
      value: { value: { dataType: DataType.Double, value } },
    });
    const read = await this.session.read({ nodeId, attributeId: AttributeIds.Value });
    const readBack = typeof read.value.value === 'number' ? read.value.value : Number.NaN;
    const equal = Math.abs(readBack - value) <= 1e-9 * Math.max(1, Math.abs(value));
    return {
      confirmed: writeStatus.isGood() && read.statusCode.isGood() && equal,
      writeStatus: writeStatus.name,
      readBack,
      readStatus: read.statusCode.name,
    };
  }

  /**
   * Ends the subscriptions and the session, politely when the server is there; when it is
   * gone (reconnecting), it does not wait for it: each step is bounded, then the client
   * disconnects, which also stops reconnecting.
   */
  async close(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.connectionUp) {
      await bounded(
        Promise.all(this.subscriptions.map((subscription) => subscription.terminate())),
        CLOSE_STEP_MS,
      );
      await bounded(this.session.close(), CLOSE_STEP_MS);
    }
    await bounded(this.client.disconnect(), CLOSE_STEP_MS);
    await this.certificateManager.dispose();
  }

  private beat(): void {
    this.lastHeartbeat = Date.now();
    if (this.heartbeatLost) {
      this.heartbeatLost = false;
      this.emit('heartbeat-restored');
    }
  }

  private setConnection(up: boolean): void {
    if (up === this.connectionUp) return;
    this.connectionUp = up;
    this.emit(up ? 'reconnected' : 'connection-lost');
  }

  /** Resolves the node map's ids in the server's current namespace table, and reads the ranges. */
  private async resolveNodes(): Promise<void> {
    const map = this.options.nodeMap;
    const namespaces = await this.session.readNamespaceArray();
    const ns = namespaces.indexOf(map.namespaceUri);
    if (ns < 0) {
      throw new OpcuaError(
        'NAMESPACE_MISSING',
        `server ${map.endpointUrl} has no namespace ${map.namespaceUri}`,
      );
    }
    const resolve = (id: string): NodeId => resolveNodeId(`ns=${ns};${id}`);
    for (const [tag, entry] of Object.entries(map.readings))
      this.readingNodes.set(tag, resolve(entry.nodeId));
    for (const [tag, entry] of Object.entries(map.setpoints))
      this.setpointNodes.set(tag, resolve(entry.nodeId));
    if (map.state) {
      this.stateNodes = [
        { key: '', nodeId: resolve(map.state.device.nodeId) },
        ...Object.entries(map.state.units ?? {}).map(([unit, entry]) => ({
          key: unit,
          nodeId: resolve(entry.nodeId),
        })),
      ];
    }
    for (const [tag, nodeId] of this.setpointNodes) {
      const device = await this.readEuRange(nodeId);
      const configured = map.setpoints[tag]?.range;
      const range = narrowest(device, configured);
      if (range) this.ranges.set(tag, range);
    }
  }

  private async readEuRange(nodeId: NodeId): Promise<{ low: number; high: number } | undefined> {
    const path = await this.session.translateBrowsePath(makeBrowsePath(nodeId, '.EURange'));
    const target = path.targets?.[0]?.targetId;
    if (!path.statusCode.isGood() || !target) return undefined;
    const value = await this.session.read({ nodeId: target, attributeId: AttributeIds.Value });
    const range = value.value.value as { low?: unknown; high?: unknown } | null;
    if (range && typeof range.low === 'number' && typeof range.high === 'number') {
      return { low: range.low, high: range.high };
    }
    return undefined;
  }
}

/** Longest a step of close() waits for a server that may be gone, ms. */
const CLOSE_STEP_MS = 2000;

/** Waits for `promise` at most `ms`; its failure or lateness is ignored (closing goes on). */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

function narrowest(
  a: { low: number; high: number } | undefined,
  b: { low: number; high: number } | undefined,
): { low: number; high: number } | undefined {
  if (!a) return b;
  if (!b) return a;
  return { low: Math.max(a.low, b.low), high: Math.min(a.high, b.high) };
}

/** A CurrentState's text (a LocalizedText), when the server reports one with a good status. */
function stateText(dataValue: DataValue): string | undefined {
  if (!dataValue.statusCode.isGood()) return undefined;
  const value = dataValue.value?.value as { text?: unknown } | string | null | undefined;
  const text = typeof value === 'string' ? value : value?.text;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

function toSample(tag: string, dataValue: DataValue): TagSample {
  const raw = dataValue.value?.value as unknown;
  return {
    tag,
    value: typeof raw === 'number' ? raw : Number.NaN,
    statusCode: dataValue.statusCode.value,
    sourceTime: dataValue.sourceTimestamp?.getTime(),
    serverTime: dataValue.serverTimestamp?.getTime(),
  };
}
