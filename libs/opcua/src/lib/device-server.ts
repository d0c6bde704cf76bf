import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as machineName } from 'node:os';
import { join } from 'node:path';
import { findWorkspace } from '@pipac/config';
import {
  DataType,
  DataValue,
  OPCUACertificateManager,
  OPCUAServer,
  type OPCUAServerOptions,
  StatusCode,
  StatusCodes,
  UserTokenType,
  Variant,
  VariableIds,
  makeNodeId,
  nodesets,
  type UAVariable,
} from 'node-opcua';
import { convertPEMtoDER, exploreCertificate } from 'node-opcua-crypto';
import type { DeviceDescription } from './device-model';
import {
  addLadsDevices,
  type FunctionalUnitState,
  type LadsDeviceState,
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
import { OpcuaError } from './opcua.error';

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
  /**
   * Host names and IP addresses clients reach the server by: the endpoints are offered for
   * each, and the self-signed application certificate names them in its subjectAltName
   * (OPC UA Part 6 §6.2.2), with the application URI.
   * @default [host], or the machine's host name when host is a wildcard (0.0.0.0, ::)
   */
  hostnames?: string[];
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
  /** Application and product name (certificate CN, BuildInfo.ProductName). @default 'pipac device server' */
  applicationName?: string;
  /** BuildInfo.ProductUri. @default the applicationUri */
  productUri?: string;
  /**
   * The device's clock: ServerStatus.CurrentTime, the server timestamp of every value and the
   * source timestamp of a written target. A simulator passes its plant clock, so that no value
   * is stamped ahead of the server's own time. @default the wall clock
   */
  clock?: () => Date;
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
    private readonly clock: () => Date,
  ) {}

  static async start(options: DeviceServerOptions): Promise<DeviceServer> {
    const security = options.security ?? {};
    const tokenTypes = offeredTokenTypes(security);
    const host = options.host ?? '127.0.0.1';
    const hostnames = options.hostnames ?? [WILDCARDS.has(host) ? machineName() : host];
    checkServerSettings(options, tokenTypes, hostnames);
    const identity = applicationIdentity(options, hostnames);
    const trust = openTrustLists(options.pkiFolder, security);
    let server: OPCUAServer;
    try {
      const certificate =
        options.certificateFile && options.privateKeyFile
          ? { certificateFile: options.certificateFile, privateKeyFile: options.privateKeyFile }
          : await ensureOwnCertificate(trust.applications, identity);
      server = new OPCUAServer(serverSettings(options, host, identity, trust, certificate));
      await server.initialize();
    } catch (error) {
      await Promise.all([trust.applications.dispose(), trust.users.dispose()]);
      throw error;
    }
    restrictUserTokens(server, tokenTypes);
    const clock = options.clock ?? (() => new Date());
    const namespaceUri = options.namespaceUri ?? 'urn:pipac:devices';
    const lads = serveDevices(
      server,
      options.devices,
      namespaceUri,
      clock,
      options.onTargetWritten,
    );
    await server.start();
    const endpointUrl = server.getEndpointUrl();
    return new DeviceServer(
      server,
      [trust.applications, trust.users],
      lads,
      namespaceUri,
      endpointUrl,
      clock,
    );
  }

  /** The variable of every tag the server serves. */
  get tags(): ReadonlyMap<string, TagNode> {
    return this.lads.tags;
  }

  /** Moves a functional unit's LADS state machine (an analyser outage: Aborted; back: Running). */
  setUnitState(device: string, unit: string, state: FunctionalUnitState): void {
    const machine = this.lads.unitStates.get(`${device}/${unit}`);
    if (!machine)
      throw new OpcuaError('UNKNOWN_UNIT', `no functional unit ${unit} on device ${device}`);
    machine.setState(state);
  }

  /**
   * Moves a device's LADS DeviceState (OPC 30500-1 §7.1.2: Initialization, Operate, Sleep,
   * Shutdown); clients monitoring its CurrentState see the change.
   */
  setDeviceState(device: string, state: LadsDeviceState): void {
    const machine = this.lads.deviceStates.get(device);
    if (!machine) throw new OpcuaError('UNKNOWN_DEVICE', `no device ${device} on this server`);
    machine.setState(state);
  }

  /** The current LADS state of a device. */
  deviceState(device: string): string {
    const machine = this.lads.deviceStates.get(device);
    if (!machine) throw new OpcuaError('UNKNOWN_DEVICE', `no device ${device} on this server`);
    return machine.getCurrentState()?.replace(/^\d+:/, '') ?? '';
  }

  /** The current LADS state of a functional unit. */
  unitState(device: string, unit: string): string {
    const machine = this.lads.unitStates.get(`${device}/${unit}`);
    if (!machine)
      throw new OpcuaError('UNKNOWN_UNIT', `no functional unit ${unit} on device ${device}`);
    return machine.getCurrentState()?.replace(/^\d+:/, '') ?? '';
  }

  /**
   * Sets the value a device reports for a tag (current or sensor value, and a sensor's
   * RawValue with it). Source timestamp: when the value was measured; server timestamp: now on
   * the server's clock, when the server got it (OPC UA Part 4 §7.11).
   */
  update(tag: string, update: TagValueUpdate): void {
    const node = this.tags.get(tag);
    if (!node) throw new OpcuaError('UNKNOWN_TAG', `unknown tag ${tag}`);
    const received = this.clock();
    const value = new Variant({ dataType: DataType.Double, value: update.value });
    for (const variable of node.raw ? [node.variable, node.raw] : [node.variable]) {
      store(
        variable,
        value,
        update.status ?? StatusCodes.Good,
        update.sourceTime ?? received,
        received,
      );
    }
  }

  /** Marks a tag's value bad (sensor failure, analyser outage) without changing it. */
  fail(tag: string, sourceTime?: Date, status: StatusCode = StatusCodes.BadSensorFailure): void {
    const node = this.tags.get(tag);
    if (!node) throw new OpcuaError('UNKNOWN_TAG', `unknown tag ${tag}`);
    const received = this.clock();
    for (const variable of node.raw ? [node.variable, node.raw] : [node.variable]) {
      store(variable, variable.readValue().value, status, sourceTime ?? received, received);
    }
  }

  /** The value a tag holds now (TargetValues: what clients last wrote). */
  value(tag: string): number {
    const node = this.tags.get(tag);
    if (!node) throw new OpcuaError('UNKNOWN_TAG', `unknown tag ${tag}`);
    return node.variable.readValue().value.value as number;
  }

  /** The node map a device adapter needs to reach one of these devices. */
  nodeMap(device: string): NodeMap {
    const nodes = [...this.tags.values()].filter((node) => node.device === device);
    if (nodes.length === 0)
      throw new OpcuaError('UNKNOWN_DEVICE', `no device ${device} on this server`);
    // The id without its namespace index, which the client resolves from the namespace URI.
    const id = (node: { nodeId: { toString(): string } }): string =>
      node.nodeId.toString().replace(/^ns=\d+;/, '');
    const nodeId = (node: TagNode): string => id(node.variable);
    const deviceState = this.lads.deviceStates.get(device);
    // OPC 10000-16 §4.4.6: a finite state machine's CurrentState names its state (LocalizedText).
    const units = [...this.lads.unitStates].flatMap(([key, machine]) =>
      key.startsWith(`${device}/`)
        ? [[key.slice(device.length + 1), { nodeId: id(machine.currentState) }] as const]
        : [],
    );
    // The unit's symbol, as the adapter publishes it, and its EUInformation identity beside it.
    const entry = (node: TagNode) => ({
      nodeId: nodeId(node),
      unit: node.unit,
      engineeringUnits: {
        namespaceUri: node.engineeringUnit.namespaceUri,
        unitId: node.engineeringUnit.unitId,
      },
    });
    return {
      device,
      endpointUrl: this.endpointUrl,
      namespaceUri: this.namespaceUri,
      readings: Object.fromEntries(nodes.map((node) => [node.tag, entry(node)])),
      setpoints: Object.fromEntries(
        nodes.flatMap((node) => (node.setpointTag ? [[node.setpointTag, entry(node)]] : [])),
      ),
      ...(deviceState
        ? {
            state: {
              device: { nodeId: id(deviceState.currentState) },
              units: Object.fromEntries(units),
            },
          }
        : {}),
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

/** Refuses, before anything is made, settings that cannot work. */
function checkServerSettings(
  options: DeviceServerOptions,
  tokenTypes: UserTokenTypeName[],
  hostnames: string[],
): void {
  if (tokenTypes.length === 0) {
    throw new OpcuaSecurityError(
      'the device server needs users, userCertificates, or allowAnonymous set to true',
    );
  }
  if ((options.certificateFile === undefined) !== (options.privateKeyFile === undefined)) {
    throw new OpcuaSecurityError('certificateFile and privateKeyFile go together');
  }
  if (hostnames.length === 0) throw new OpcuaSecurityError('hostnames must name at least one host');
}

/** Who the server says it is: in its certificate, its ServerInfo and its BuildInfo. */
interface ApplicationIdentity {
  applicationUri: string;
  applicationName: string;
  productUri: string;
  hostnames: string[];
}

function applicationIdentity(
  options: DeviceServerOptions,
  hostnames: string[],
): ApplicationIdentity {
  const applicationUri = options.applicationUri ?? 'urn:pipac:device-server';
  return {
    applicationUri,
    applicationName: options.applicationName ?? 'pipac device server',
    productUri: options.productUri ?? applicationUri,
    hostnames,
  };
}

/** The trust lists of the client applications and of the users' certificates. */
interface TrustLists {
  applications: OPCUACertificateManager;
  users: OPCUACertificateManager;
}

function openTrustLists(pkiFolder: string, security: DeviceServerSecurity): TrustLists {
  mkdirSync(pkiFolder, { recursive: true });
  const applications = new OPCUACertificateManager({
    rootFolder: pkiFolder,
    automaticallyAcceptUnknownCertificate: security.acceptUnknownCertificates ?? false,
  });
  // A user trust list of our own, always: without one node-opcua falls back to a shared
  // default store that trusts every user certificate on first sight (getDefaultCertificateManager
  // ("UserPKI") accepts unknown ones), which let a self-signed certificate with no password in.
  const userPkiFolder = security.userPkiFolder ?? join(pkiFolder, 'user');
  mkdirSync(userPkiFolder, { recursive: true });
  const users = new OPCUACertificateManager({
    rootFolder: userPkiFolder,
    automaticallyAcceptUnknownCertificate: false,
  });
  return { applications, users };
}

/** node-opcua's settings for the server: endpoints, nodesets, security, identity. */
function serverSettings(
  options: DeviceServerOptions,
  host: string,
  identity: ApplicationIdentity,
  trust: TrustLists,
  certificate: { certificateFile: string; privateKeyFile: string },
): OPCUAServerOptions {
  const security = options.security ?? {};
  const { applicationUri, applicationName, productUri, hostnames } = identity;
  // The endpoint URL keeps the address the server listens on where it is one of the names.
  const endpointHost = hostnames.includes(host) ? host : hostnames[0]!;
  return {
    port: options.port,
    host,
    hostname: endpointHost,
    alternateHostname: hostnames.filter((name) => name !== endpointHost),
    nodesets: [
      nodesets.standard,
      nodesets.di,
      nodesets.ia,
      nodesets.amb,
      nodesets.machinery,
      nodesets.lads,
      nodesets.adi,
    ],
    securityModes: (security.modes ?? ['SignAndEncrypt']).map(securityMode),
    securityPolicies: (security.policies ?? ['Basic256Sha256']).map(securityPolicy),
    allowAnonymous: security.allowAnonymous ?? false,
    userManager: { isValidUser: passwordChecker(security.users ?? []) },
    serverCertificateManager: trust.applications,
    userCertificateManager: trust.users,
    ...certificate,
    serverInfo: {
      applicationUri,
      productUri,
      applicationName: { text: applicationName },
    },
    // OPC UA Part 5 §12.4 (BuildInfo): pipac's product, not the stack's.
    buildInfo: pipacBuildInfo(applicationName, productUri),
    isAuditing: false,
    // 0: every change of a value goes out (exception-based, no coalescing window), so a
    // reading produced by the device is never folded into the next one.
    serverCapabilities: { minSupportedSampleRate: 0 },
  };
}

/**
 * The devices in the initialized server's address space, as LADS devices in a namespace of
 * their own, on the device's clock, with the owner between a client and every target value.
 */
function serveDevices(
  server: OPCUAServer,
  devices: DeviceDescription[],
  namespaceUri: string,
  clock: () => Date,
  onTargetWritten: DeviceServerOptions['onTargetWritten'],
): LadsDevices {
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) {
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      'OPC UA server has no address space after initialize',
    );
  }
  serveCurrentTime(addressSpace, clock);
  const namespace = addressSpace.registerNamespace(namespaceUri);
  const lads = addLadsDevices(addressSpace, namespace, devices, clock);
  for (const node of lads.tags.values()) {
    if (node.setpointTag) gateTargetWrites(node.variable, node.setpointTag, onTargetWritten, clock);
  }
  return lads;
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
  clock: () => Date,
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
        // The target took effect now on the device's clock (the plant's, in a simulator), the
        // clock its current values are stamped with: one clock for a device's values.
        const applied = clock();
        dataValue.sourceTimestamp = applied;
        dataValue.sourcePicoseconds = 0;
        dataValue.serverTimestamp = applied;
        dataValue.serverPicoseconds = 0;
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

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Stores a value with both its timestamps. UAVariable.setValueFromSource stamps the server
 * timestamp with the source one, which would say the server got an analyser's result when the
 * sample was drawn; the internal setter takes the DataValue as given and notifies as usual.
 */
function store(
  variable: UAVariable,
  value: Variant,
  status: StatusCode,
  source: Date,
  server: Date,
): void {
  const dataValue = new DataValue({
    value,
    statusCode: status,
    sourceTimestamp: source,
    serverTimestamp: server,
  });
  (
    variable as unknown as { _internal_set_dataValue(dataValue: DataValue): void }
  )._internal_set_dataValue(dataValue);
}

/**
 * ServerStatus.CurrentTime (OPC UA Part 5 §12.10) on the device's clock. node-opcua serves the
 * wall clock through a proxy of the ServerStatus structure; this proxy of that proxy answers
 * currentTime from `clock` and leaves every other field to node-opcua.
 */
function serveCurrentTime(
  addressSpace: NonNullable<OPCUAServer['engine']['addressSpace']>,
  clock: () => Date,
): void {
  const status = addressSpace.findNode(makeNodeId(VariableIds.Server_ServerStatus)) as unknown as {
    $extensionObject?: object;
  } | null;
  const inner = status?.$extensionObject;
  if (!status || !inner)
    throw new OpcuaError(
      'ADDRESS_SPACE_INCOMPLETE',
      'OPC UA server has no ServerStatus to serve the time from',
    );
  status.$extensionObject = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'currentTime') {
        Reflect.get(target, property, receiver); // node-opcua's getter touches the variable
        return clock();
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/**
 * BuildInfo (OPC UA Part 5 §12.4) of pipac: its product, the workspace's version, and the
 * build date, from PIPAC_BUILD_DATE (set when an image is built, ISO 8601) or else the date
 * the running code was last written (a bundle's build, or the sources' last edit).
 */
export function pipacBuildInfo(
  productName: string,
  productUri: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  productName: string;
  productUri: string;
  manufacturerName: string;
  softwareVersion: string;
  buildNumber: string;
  buildDate: Date;
} {
  const version = findWorkspace(__dirname)?.version ?? '0.0.0';
  const declared = env['PIPAC_BUILD_DATE'];
  let buildDate: Date;
  if (declared !== undefined && declared !== '') {
    buildDate = new Date(declared);
    if (Number.isNaN(buildDate.getTime())) {
      throw new OpcuaSecurityError(`PIPAC_BUILD_DATE must be an ISO 8601 date, got "${declared}"`);
    }
  } else {
    buildDate = statSync(__filename).mtime;
  }
  return {
    productName,
    productUri,
    manufacturerName: 'pipac',
    softwareVersion: version,
    buildNumber: version,
    buildDate,
  };
}

/** Where the server's own self-signed certificate lives in its PKI folder. */
const OWN_CERTIFICATE = join('own', 'certs', 'pipac-application.pem');

/**
 * The server's application certificate, self-signed, made for the configured host names
 * (OPC UA Part 6 §6.2.2: subjectAltName holds the application URI and the host names and
 * addresses clients use) with pipac as the organisation. Kept across restarts, and made again
 * when the names or the URI no longer match it (a host renamed, another URI configured).
 */
async function ensureOwnCertificate(
  manager: OPCUACertificateManager,
  identity: { applicationUri: string; applicationName: string; hostnames: string[] },
): Promise<{ certificateFile: string; privateKeyFile: string }> {
  await manager.initialize();
  const certificateFile = join(manager.rootDir, OWN_CERTIFICATE);
  const dns = identity.hostnames.filter((name) => isIP(name) === 0);
  const ip = identity.hostnames.filter((name) => isIP(name) !== 0);
  if (!matches(certificateFile, identity.applicationUri, dns, ip)) {
    await manager.createSelfSignedCertificate({
      outputFile: certificateFile,
      subject: { commonName: identity.applicationName, organization: 'pipac' },
      applicationUri: identity.applicationUri,
      dns,
      ip,
      startDate: new Date(Date.now() - 60_000),
      validity: 365 * 2,
    });
  }
  return { certificateFile, privateKeyFile: manager.privateKey };
}

function matches(file: string, uri: string, dns: string[], ip: string[]): boolean {
  if (!existsSync(file)) return false;
  try {
    const info = exploreCertificate(convertPEMtoDER(readFileSync(file, 'utf8')));
    const san = info.tbsCertificate.extensions?.subjectAltName;
    const same = (a: string[] | undefined, b: string[]) =>
      JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
    return (
      info.tbsCertificate.subject.organizationName === 'pipac' &&
      same(san?.uniformResourceIdentifier, [uri]) &&
      same(san?.dNSName, dns) &&
      same(san?.iPAddress, ip) &&
      info.tbsCertificate.validity.notAfter.getTime() > Date.now()
    );
  } catch {
    return false;
  }
}
