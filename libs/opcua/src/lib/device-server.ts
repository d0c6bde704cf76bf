import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DataType,
  DataValue,
  OPCUACertificateManager,
  OPCUAServer,
  StatusCode,
  StatusCodes,
  UserTokenType,
  Variant,
  nodesets,
  type UAVariable,
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
  OpcuaSecurityError,
  passwordChecker,
  securityMode,
  securityPolicy,
  type SecurityModeName,
  type SecurityPolicyName,
  type UserCredential,
  type UserTokenTypeName,
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
   * Trust every client application certificate on first contact. Off in production: copy
   * the clients' certificates into `<pkiFolder>/trusted/certs` instead. Never applies to
   * user certificates. @default false
   */
  acceptUnknownCertificates?: boolean;
  /**
   * X509 user identity tokens (OPC UA Part 4 §7.41.5): a user may open a session by proving
   * possession of a certificate the user trust list accepts (in `<userPkiFolder>/trusted/certs`,
   * or issued by a CA in trusted/certs whose CRL is in trusted/crl). Off unless asked for, and
   * then the endpoints offer no X509 token at all. @default false
   */
  userCertificates?: boolean;
  /**
   * The user trust list (same layout as the application's: trusted/, issuers/, rejected/).
   * A user certificate it does not know is refused and filed under rejected/, always.
   * @default `<pkiFolder>/user`
   */
  userPkiFolder?: string;
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
  /**
   * Applies a target value a client writes, before the server stores it. It runs only for a
   * finite value inside the InstrumentRange that the client may write; when it throws, the
   * write is refused and the node keeps the value the device applied (BadOutOfRange for a
   * TargetRefusedError, BadInternalError for anything else). @default none (stored as written)
   */
  onTargetWritten?: (tag: string, value: number) => void;
  /** @default 'urn:pipac:device-server' */
  applicationUri?: string;
  /**
   * The server's application certificate and key (PEM), e.g. issued by the plant's CA.
   * @default a self-signed one, made in `<pkiFolder>/own` on first start
   */
  certificateFile?: string;
  privateKeyFile?: string;
}

/**
 * Thrown by `onTargetWritten` when the device refuses a target value (it cannot apply it):
 * the client's write fails with BadOutOfRange and nothing is stored.
 */
export class TargetRefusedError extends Error {
  readonly code = 'TARGET_REFUSED';
  readonly retriable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TargetRefusedError';
  }
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
    private readonly certificateManagers: OPCUACertificateManager[],
    private readonly lads: LadsDevices,
    readonly namespaceUri: string,
    readonly endpointUrl: string,
  ) {}

  static async start(options: DeviceServerOptions): Promise<DeviceServer> {
    const security = options.security ?? {};
    const users = security.users ?? [];
    const allowAnonymous = security.allowAnonymous ?? false;
    const tokenTypes = offeredTokenTypes(security);
    if (tokenTypes.length === 0) {
      throw new OpcuaSecurityError(
        'the device server needs users, userCertificates, or allowAnonymous set to true',
      );
    }
    if ((options.certificateFile === undefined) !== (options.privateKeyFile === undefined)) {
      throw new OpcuaSecurityError('certificateFile and privateKeyFile go together');
    }
    mkdirSync(options.pkiFolder, { recursive: true });
    const certificateManager = new OPCUACertificateManager({
      rootFolder: options.pkiFolder,
      automaticallyAcceptUnknownCertificate: security.acceptUnknownCertificates ?? false,
    });
    // A user trust list of our own, always: without one node-opcua falls back to a shared
    // default store that trusts every user certificate on first sight (getDefaultCertificateManager
    // ("UserPKI") accepts unknown ones), which let a self-signed certificate with no password in.
    const userPkiFolder = security.userPkiFolder ?? join(options.pkiFolder, 'user');
    mkdirSync(userPkiFolder, { recursive: true });
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: userPkiFolder,
      automaticallyAcceptUnknownCertificate: false,
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
      userCertificateManager,
      ...(options.certificateFile && options.privateKeyFile
        ? { certificateFile: options.certificateFile, privateKeyFile: options.privateKeyFile }
        : {}),
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
    try {
      await server.initialize();
    } catch (error) {
      await Promise.all([certificateManager.dispose(), userCertificateManager.dispose()]);
      throw error;
    }
    restrictUserTokens(server, tokenTypes);
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('OPC UA server has no address space after initialize');
    const namespaceUri = options.namespaceUri ?? 'urn:pipac:devices';
    const namespace = addressSpace.registerNamespace(namespaceUri);
    const lads = addLadsDevices(addressSpace, namespace, options.devices);
    for (const node of lads.tags.values()) {
      if (node.setpointTag)
        gateTargetWrites(node.variable, node.setpointTag, options.onTargetWritten);
    }
    await server.start();
    const endpointUrl = server.getEndpointUrl();
    return new DeviceServer(
      server,
      [certificateManager, userCertificateManager],
      lads,
      namespaceUri,
      endpointUrl,
    );
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
    await Promise.all(this.certificateManagers.map((manager) => manager.dispose()));
  }
}

const TOKEN_TYPES: Record<UserTokenTypeName, UserTokenType> = {
  Anonymous: UserTokenType.Anonymous,
  UserName: UserTokenType.UserName,
  Certificate: UserTokenType.Certificate,
};

/** The user identity token types the configuration asks for, and no other. */
function offeredTokenTypes(security: DeviceServerSecurity): UserTokenTypeName[] {
  return [
    ...(security.allowAnonymous ? (['Anonymous'] as const) : []),
    ...((security.users ?? []).length > 0 ? (['UserName'] as const) : []),
    ...(security.userCertificates ? (['Certificate'] as const) : []),
  ];
}

/**
 * Leaves in every endpoint description only the user token policies of the configured types
 * (OPC UA Part 4 §5.6.3: ActivateSession refuses a token whose policy the endpoint does not
 * list, BadIdentityTokenInvalid). node-opcua 2.182 always offers UserName and X509 tokens:
 * OPCUAServer does not pass userTokenTypes on to its endpoints (a TODO in
 * createEndpointDescriptions), so they are narrowed here, before the server listens.
 */
function restrictUserTokens(server: OPCUAServer, offered: UserTokenTypeName[]): void {
  const allowed = new Set(offered.map((name) => TOKEN_TYPES[name]));
  for (const endpoint of server.endpoints) {
    for (const description of endpoint.endpointDescriptions()) {
      description.userIdentityTokens = (description.userIdentityTokens ?? []).filter((policy) =>
        allowed.has(policy.tokenType),
      );
    }
  }
}

/**
 * Puts the device between a client's write of a TargetValue and the node: node-opcua checks
 * access, type and InstrumentRange first, then calls this setter (UAVariable.bindVariable).
 * A NaN passes the range check (every comparison with NaN is false), so it is refused here, as
 * are ±Infinity: BadOutOfRange (OPC UA Part 4 §7.39, Part 8 §5.3.2: the value is outside the
 * range the device accepts). The owner applies the value before it is stored, so what the node
 * reports is what the device applied.
 */
function gateTargetWrites(
  variable: UAVariable,
  tag: string,
  apply: ((tag: string, value: number) => void) | undefined,
): void {
  // A setter needs a getter: it serves the node's own value. `held` follows every change of
  // it (writes and setValueFromSource alike), so reads behave as before the binding.
  let held = variable.readValue();
  variable.on('value_changed', (dataValue: DataValue) => {
    held = dataValue;
  });
  variable.bindVariable(
    {
      timestamped_get: () => held,
      timestamped_set: async (dataValue: DataValue): Promise<StatusCode> => {
        const value = dataValue.value.value as unknown;
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          return refuse(dataValue, held, StatusCodes.BadOutOfRange);
        }
        try {
          apply?.(tag, value);
        } catch (error) {
          return refuse(
            dataValue,
            held,
            error instanceof TargetRefusedError
              ? StatusCodes.BadOutOfRange
              : StatusCodes.BadInternalError,
          );
        }
        return StatusCodes.Good;
      },
    },
    true,
  );
}

/**
 * node-opcua stores the DataValue it handed to a setter whatever status the setter answers
 * (UAVariableImpl.writeValue only skips the store on an exception, which the client sees as
 * BadInternalError). Handing it back the value, status and timestamps the node holds makes
 * that store change nothing, so no subscriber is told of a value the device never applied.
 */
function refuse(dataValue: DataValue, held: DataValue, status: StatusCode): StatusCode {
  dataValue.value = held.value;
  dataValue.statusCode = held.statusCode;
  dataValue.sourceTimestamp = held.sourceTimestamp;
  dataValue.sourcePicoseconds = held.sourcePicoseconds;
  dataValue.serverTimestamp = held.serverTimestamp;
  dataValue.serverPicoseconds = held.serverPicoseconds;
  return status;
}
