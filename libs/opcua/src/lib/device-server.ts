import { mkdirSync } from 'node:fs';
import {
  DataType,
  DataValue,
  OPCUACertificateManager,
  OPCUAServer,
  StatusCode,
  StatusCodes,
  Variant,
  nodesets,
} from 'node-opcua';
import type { DeviceDescription } from './device-model';
import {
  addLadsDevices,
  type FunctionalUnitState,
  type LadsDevices,
  type TagNode,
} from './lads-address-space';
import type { NodeMap } from './node-map';
import {
  passwordChecker,
  securityMode,
  securityPolicy,
  type SecurityModeName,
  type SecurityPolicyName,
  type UserCredential,
} from './security';

export interface DeviceServerSecurity {
  /** @default ['SignAndEncrypt'] */
  modes?: SecurityModeName[];
  /** @default ['Basic256Sha256'] */
  policies?: SecurityPolicyName[];
  /** Users who may open a session (user name and password). @default none */
  users?: UserCredential[];
  /** Anonymous sessions; off unless asked for. @default false */
  allowAnonymous?: boolean;
  /**
   * Trust every client certificate on first contact. Off in production: copy the clients'
   * certificates into `<pkiFolder>/trusted/certs` instead. @default false
   */
  acceptUnknownCertificates?: boolean;
}

export interface DeviceServerOptions {
  devices: DeviceDescription[];
  /** TCP port; 0 is not allowed by node-opcua, pick a free one. */
  port: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Namespace of the device nodes. @default 'urn:pipac:devices' */
  namespaceUri?: string;
  /** Certificates and trust lists (created on first start, kept across restarts). */
  pkiFolder: string;
  security?: DeviceServerSecurity;
  /** Called after a client wrote a target value the server accepted. */
  onTargetWritten?: (tag: string, value: number) => void;
  /** @default 'urn:pipac:device-server' */
  applicationUri?: string;
}

export interface TagValueUpdate {
  value: number;
  /** When the value was measured. @default now */
  sourceTime?: Date;
  /** OPC UA status. @default Good */
  status?: StatusCode;
}

/**
 * An OPC UA server for simulated devices: loads the DI and LADS models, adds the devices
 * as LADS devices, secures the endpoint (SignAndEncrypt with Basic256Sha256 and user names
 * by default, anonymous off) and lets its owner update current and sensor values.
 */
export class DeviceServer {
  private constructor(
    private readonly server: OPCUAServer,
    private readonly certificateManager: OPCUACertificateManager,
    private readonly lads: LadsDevices,
    readonly namespaceUri: string,
    readonly endpointUrl: string,
  ) {}

  static async start(options: DeviceServerOptions): Promise<DeviceServer> {
    const security = options.security ?? {};
    const users = security.users ?? [];
    const allowAnonymous = security.allowAnonymous ?? false;
    if (!allowAnonymous && users.length === 0) {
      throw new Error('the device server needs users, or allowAnonymous set to true');
    }
    mkdirSync(options.pkiFolder, { recursive: true });
    const certificateManager = new OPCUACertificateManager({
      rootFolder: options.pkiFolder,
      automaticallyAcceptUnknownCertificate: security.acceptUnknownCertificates ?? false,
    });
    const isValidUser = passwordChecker(users);
    const host = options.host ?? '127.0.0.1';
    const server = new OPCUAServer({
      port: options.port,
      host,
      hostname: host,
      nodesets: [
        nodesets.standard,
        nodesets.di,
        nodesets.ia,
        nodesets.amb,
        nodesets.machinery,
        nodesets.lads,
      ],
      securityModes: (security.modes ?? ['SignAndEncrypt']).map(securityMode),
      securityPolicies: (security.policies ?? ['Basic256Sha256']).map(securityPolicy),
      allowAnonymous,
      userManager: { isValidUser },
      serverCertificateManager: certificateManager,
      serverInfo: {
        applicationUri: options.applicationUri ?? 'urn:pipac:device-server',
        productUri: 'urn:pipac:device-server',
        applicationName: { text: 'pipac device server' },
      },
      buildInfo: { productName: 'pipac device server', manufacturerName: 'pipac' },
      isAuditing: false,
      // 0: every change of a value goes out (exception-based, no coalescing window), so a
      // reading produced by the device is never folded into the next one.
      serverCapabilities: { minSupportedSampleRate: 0 },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('OPC UA server has no address space after initialize');
    const namespaceUri = options.namespaceUri ?? 'urn:pipac:devices';
    const namespace = addressSpace.registerNamespace(namespaceUri);
    const lads = addLadsDevices(addressSpace, namespace, options.devices);
    const tags = lads.tags;
    if (options.onTargetWritten) {
      const notify = options.onTargetWritten;
      for (const node of tags.values()) {
        const setpointTag = node.setpointTag;
        if (!setpointTag) continue;
        // Fires for accepted writes only: out-of-range ones were refused before (BadOutOfRange).
        node.variable.on('value_changed', (dataValue: DataValue) => {
          const value = dataValue.value.value as unknown;
          if (typeof value === 'number') notify(setpointTag, value);
        });
      }
    }
    await server.start();
    const endpointUrl = server.getEndpointUrl();
    return new DeviceServer(server, certificateManager, lads, namespaceUri, endpointUrl);
  }

  /** The variable of every tag the server serves. */
  get tags(): ReadonlyMap<string, TagNode> {
    return this.lads.tags;
  }

  /** Moves a functional unit's LADS state machine (an analyser outage: Aborted; back: Running). */
  setUnitState(device: string, unit: string, state: FunctionalUnitState): void {
    const machine = this.lads.unitStates.get(`${device}/${unit}`);
    if (!machine) throw new Error(`no functional unit ${unit} on device ${device}`);
    machine.setState(state);
  }

  /** The current LADS state of a functional unit. */
  unitState(device: string, unit: string): string {
    const machine = this.lads.unitStates.get(`${device}/${unit}`);
    if (!machine) throw new Error(`no functional unit ${unit} on device ${device}`);
    return machine.getCurrentState()?.replace(/^\d+:/, '') ?? '';
  }

  /** Sets the value a device reports for a tag (current or sensor value). */
  update(tag: string, update: TagValueUpdate): void {
    const node = this.tags.get(tag);
    if (!node) throw new Error(`unknown tag ${tag}`);
    node.variable.setValueFromSource(
      new Variant({ dataType: DataType.Double, value: update.value }),
      update.status ?? StatusCodes.Good,
      update.sourceTime ?? new Date(),
    );
  }

  /** Marks a tag's value bad (sensor failure, analyser outage) without changing it. */
  fail(
    tag: string,
    sourceTime = new Date(),
    status: StatusCode = StatusCodes.BadSensorFailure,
  ): void {
    const node = this.tags.get(tag);
    if (!node) throw new Error(`unknown tag ${tag}`);
    node.variable.setValueFromSource(node.variable.readValue().value, status, sourceTime);
  }

  /** The value a tag holds now (TargetValues: what clients last wrote). */
  value(tag: string): number {
    const node = this.tags.get(tag);
    if (!node) throw new Error(`unknown tag ${tag}`);
    return node.variable.readValue().value.value as number;
  }

  /** The node map a device adapter needs to reach one of these devices. */
  nodeMap(device: string): NodeMap {
    const nodes = [...this.tags.values()].filter((node) => node.device === device);
    if (nodes.length === 0) throw new Error(`no device ${device} on this server`);
    // The id without its namespace index, which the client resolves from the namespace URI.
    const nodeId = (node: TagNode): string =>
      node.variable.nodeId.toString().replace(/^ns=\d+;/, '');
    return {
      device,
      endpointUrl: this.endpointUrl,
      namespaceUri: this.namespaceUri,
      readings: Object.fromEntries(
        nodes.map((node) => [node.tag, { nodeId: nodeId(node), unit: node.unit }]),
      ),
      setpoints: Object.fromEntries(
        nodes.flatMap((node) =>
          node.setpointTag ? [[node.setpointTag, { nodeId: nodeId(node), unit: node.unit }]] : [],
        ),
      ),
    };
  }

  async stop(): Promise<void> {
    await this.server.shutdown(0);
    await this.certificateManager.dispose();
  }
}
