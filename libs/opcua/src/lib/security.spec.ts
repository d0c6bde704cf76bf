import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  UserTokenPolicy,
  UserTokenType,
  resolveNodeId,
  type UserIdentityInfo,
} from 'node-opcua';
import { keyOperationsFromPrivateKey, readPrivateKey } from 'node-opcua-crypto';
import { freePort } from './free-port';
import { recipePlant } from '../testing/reference-plant';
import { TestPki, type TestCertificate } from '../testing/test-pki';
import { DeviceClient } from './device-client';
import { describePlantDevices, type DeviceDescription } from './device-model';
import { DeviceServer } from './device-server';
import { OpcuaSecurityError } from './security';

const USER = { username: 'operator', password: 'correct horse battery staple' };
const DAY_MS = 86_400_000;
/** Valid for a day, ten days ago. */
const EXPIRED = { notBefore: new Date(Date.now() - 10 * DAY_MS), validityDays: 1 };
const SERVER_URI = 'urn:pipac:device-server';
const ADAPTER_URI = 'urn:pipac:device-adapter';

/**
 * The trust lists of the device server (application certificates of clients, certificates of
 * users) and of the device client (the server's certificate), with certificates made by a
 * test CA: trusted ones are accepted; unknown, revoked (the CA's CRL lists them) and expired
 * ones are refused. Also the "mallory" finding of issue 19: a self-signed user certificate
 * without a password must not open a session, whatever the server was told to offer.
 */
describe('OPC UA trust lists and user identity tokens', () => {
  let dir: string;
  let pki: TestPki;
  let devices: DeviceDescription[];
  const cert: Record<string, TestCertificate> = {};
  /** The main server: users and X509 users, application certificates trusted one by one. */
  let server: DeviceServer;
  let serverPki: string;
  let userPki: string;
  /** A server with the defaults (user names only). */
  let plain: DeviceServer;
  /** The client's trust list, trusting the main server's certificate. */
  let clientPki: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-trust-'));
    pki = await TestPki.create(join(dir, 'test-pki'));
    devices = describePlantDevices(recipePlant()).slice(0, 1);
    const make = async (
      name: string,
      kind: 'issued' | 'selfSigned',
      options: Parameters<TestPki['issued']>[1] = {},
    ) => (cert[name] = await pki[kind](name, options));
    await make('server', 'issued', { applicationUri: SERVER_URI });
    await make('server-expired', 'selfSigned', { applicationUri: SERVER_URI, ...EXPIRED });
    await make('server-revoked', 'issued', { applicationUri: SERVER_URI });
    await make('adapter', 'issued', { applicationUri: ADAPTER_URI });
    await make('adapter-unknown', 'selfSigned', { applicationUri: ADAPTER_URI });
    await make('adapter-revoked', 'issued', { applicationUri: ADAPTER_URI });
    await make('adapter-expired', 'selfSigned', { applicationUri: ADAPTER_URI, ...EXPIRED });
    await make('alice', 'selfSigned', { purpose: 'user' });
    await make('mallory', 'selfSigned', { purpose: 'user' });
    await make('user-revoked', 'issued');
    await make('user-expired', 'selfSigned', { purpose: 'user', ...EXPIRED });
    await pki.revoke(cert['adapter-revoked']!);
    await pki.revoke(cert['user-revoked']!);
    await pki.revoke(cert['server-revoked']!);

    serverPki = join(dir, 'server-pki');
    userPki = join(dir, 'server-user-pki');
    // Trusted one by one, and the revoked and expired ones too: trust does not outweigh a
    // revocation or an expiry.
    for (const name of ['adapter', 'adapter-revoked', 'adapter-expired'])
      pki.trust(serverPki, cert[name]!);
    pki.installCa(serverPki, 'issuers');
    for (const name of ['alice', 'user-revoked', 'user-expired']) pki.trust(userPki, cert[name]!);
    pki.installCa(userPki, 'issuers');
    clientPki = join(dir, 'client-pki');
    pki.trust(clientPki, cert['server']!);
    pki.installCa(clientPki, 'issuers');

    server = await DeviceServer.start({
      devices,
      port: await freePort(),
      pkiFolder: serverPki,
      certificateFile: cert['server']!.certificateFile,
      privateKeyFile: cert['server']!.privateKeyFile,
      security: { users: [USER], userCertificates: true, userPkiFolder: userPki },
    });
    plain = await DeviceServer.start({
      devices,
      port: await freePort(),
      pkiFolder: join(dir, 'plain-pki'),
      certificateFile: cert['server']!.certificateFile,
      privateKeyFile: cert['server']!.privateKeyFile,
      security: { users: [USER] },
    });
    pki.trust(join(dir, 'plain-pki'), cert['adapter']!);
    pki.installCa(join(dir, 'plain-pki'), 'issuers');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await plain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A client that is not ours (node-opcua's own, as a plant IT tool would be), with an
   * application certificate the servers trust. It trusts whatever server it reaches: what is
   * under test here is the server's side.
   */
  async function rawClient(
    target: DeviceServer,
    app: TestCertificate,
  ): Promise<{ client: OPCUAClient; manager: OPCUACertificateManager }> {
    const manager = new OPCUACertificateManager({
      rootFolder: join(dir, 'tool-pki'),
      automaticallyAcceptUnknownCertificate: true,
    });
    const client = OPCUAClient.create({
      applicationUri: ADAPTER_URI,
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
      clientCertificateManager: manager,
      certificateFile: app.certificateFile,
      privateKeyFile: app.privateKeyFile,
    });
    try {
      await client.connect(target.endpointUrl);
    } catch (error) {
      await manager.dispose();
      throw error;
    }
    return { client, manager };
  }

  const x509 = (user: TestCertificate): UserIdentityInfo => ({
    type: UserTokenType.Certificate,
    certificateData: user.der,
    keyOperations: keyOperationsFromPrivateKey(readPrivateKey(user.privateKeyFile)),
  });

  /** Opens a session as `identity` and writes P-101's TargetValue; the write's status. */
  async function sessionWrite(target: DeviceServer, identity: UserIdentityInfo): Promise<string> {
    const { client, manager } = await rawClient(target, cert['adapter']!);
    try {
      const session = await client.createSession(identity);
      try {
        const map = target.nodeMap(devices[0]!.id);
        const namespaces = await session.readNamespaceArray();
        const ns = namespaces.indexOf(map.namespaceUri);
        const status = await session.write({
          nodeId: resolveNodeId(`ns=${ns};${map.setpoints['P-101']!.nodeId}`),
          attributeId: AttributeIds.Value,
          value: { value: { dataType: DataType.Double, value: 3 } },
        });
        return status.name;
      } finally {
        await session.close();
      }
    } finally {
      await client.disconnect();
      await manager.dispose();
    }
  }

  const connectAdapter = (
    app: TestCertificate,
    options: Partial<Parameters<typeof DeviceClient.connect>[0]> = {},
  ) =>
    DeviceClient.connect({
      nodeMap: server.nodeMap(devices[0]!.id),
      pkiFolder: clientPki,
      certificateFile: app.certificateFile,
      privateKeyFile: app.privateKeyFile,
      user: USER,
      ...options,
    });

  describe('the endpoints offer only the configured user identity tokens', () => {
    const offered = async (target: DeviceServer) => {
      const { client, manager } = await rawClient(target, cert['adapter']!);
      try {
        const endpoints = await client.getEndpoints();
        return [
          ...new Set(
            endpoints.flatMap((e) =>
              (e.userIdentityTokens ?? []).map((t) => UserTokenType[t.tokenType]),
            ),
          ),
        ].sort();
      } finally {
        await client.disconnect();
        await manager.dispose();
      }
    };

    it('user names only by default: no X509 token, no anonymous one', async () => {
      expect(await offered(plain)).toEqual(['UserName']);
    }, 30_000);

    it('user names and X509 certificates where both are configured', async () => {
      expect(await offered(server)).toEqual(['Certificate', 'UserName']);
    }, 30_000);

    it('refuses a server that would offer no identity at all, at start', async () => {
      await expect(
        DeviceServer.start({ devices, port: await freePort(), pkiFolder: join(dir, 'none') }),
      ).rejects.toThrow(OpcuaSecurityError);
    });
  });

  describe('mallory: a self-signed user certificate, no password, application certificates trusted', () => {
    it('cannot open a session where X509 users are not configured', async () => {
      // node-opcua's client itself declines: the endpoint lists no X509 policy.
      await expect(sessionWrite(plain, x509(cert['mallory']!))).rejects.toThrow(
        /Cannot find Certificate \(X509\) user token policy|BadIdentityToken/,
      );
    }, 30_000);

    it('is refused by the server too, from a client that ignores what the endpoint offers', async () => {
      const { client, manager } = await rawClient(plain, cert['adapter']!);
      try {
        const session = await client.createSession({
          type: UserTokenType.UserName,
          userName: USER.username,
          password: USER.password,
        });
        try {
          // Sends an X509 token anyway, under the policy id node-opcua's servers use by default.
          client.endpoint!.userIdentityTokens!.push(
            new UserTokenPolicy({
              policyId: 'certificateX509',
              tokenType: UserTokenType.Certificate,
            }),
          );
          const status = await session.changeUser(x509(cert['mallory']!));
          expect(status.name).toMatch(/BadIdentityToken(Invalid|Rejected)|BadUserAccessDenied/);
        } finally {
          await session.close();
        }
      } finally {
        await client.disconnect();
        await manager.dispose();
      }
    }, 30_000);

    it('cannot open a session where X509 users are configured: the certificate is unknown', async () => {
      await expect(sessionWrite(server, x509(cert['mallory']!))).rejects.toThrow(
        /BadIdentityTokenRejected/,
      );
      // Filed for an administrator to look at, not trusted.
      expect(readdirSync(join(userPki, 'rejected')).length).toBeGreaterThan(0);
      expect(readdirSync(join(userPki, 'trusted', 'certs'))).toHaveLength(3);
      // And still not on a second try.
      await expect(sessionWrite(server, x509(cert['mallory']!))).rejects.toThrow(
        /BadIdentityTokenRejected/,
      );
    }, 30_000);
  });

  describe("the server's user trust list", () => {
    it('accepts a trusted user certificate: the session writes a setpoint', async () => {
      expect(await sessionWrite(server, x509(cert['alice']!))).toBe('Good');
    }, 30_000);

    it('refuses a revoked user certificate (the CA lists it in its CRL)', async () => {
      await expect(sessionWrite(server, x509(cert['user-revoked']!))).rejects.toThrow(
        /BadIdentityTokenRejected/,
      );
    }, 30_000);

    it('refuses an expired user certificate', async () => {
      await expect(sessionWrite(server, x509(cert['user-expired']!))).rejects.toThrow(
        /BadIdentityTokenRejected/,
      );
    }, 30_000);

    it('still takes user names with their passwords', async () => {
      expect(
        await sessionWrite(server, {
          type: UserTokenType.UserName,
          userName: USER.username,
          password: USER.password,
        }),
      ).toBe('Good');
    }, 30_000);
  });

  describe("the server's application trust list (clients' certificates)", () => {
    it('accepts a trusted client certificate', async () => {
      const client = await connectAdapter(cert['adapter']!);
      await client.close();
    }, 30_000);

    it.each([
      ['unknown (self-signed, never trusted)', 'adapter-unknown'],
      ['revoked (trusted, but the CA revoked it)', 'adapter-revoked'],
      ['expired (trusted, but out of date)', 'adapter-expired'],
    ])(
      'refuses a client certificate that is %s',
      async (_what, name) => {
        await expect(connectAdapter(cert[name]!)).rejects.toThrow(
          /BadSecurityChecksFailed|BadCertificate/,
        );
      },
      30_000,
    );

    it('files an unknown client certificate under rejected/ and does not trust it', () => {
      const rejected = readdirSync(join(serverPki, 'rejected'));
      expect(rejected.some((file) => file.includes(cert['adapter-unknown']!.thumbprint))).toBe(
        true,
      );
    });
  });

  describe("the client's trust list (the server's certificate)", () => {
    /** A server presenting `app`, which the client's list trusts. */
    async function withServer(app: TestCertificate, test: (s: DeviceServer) => Promise<void>) {
      const pkiFolder = join(dir, `pki-${app.name}`);
      pki.trust(pkiFolder, cert['adapter']!);
      pki.installCa(pkiFolder, 'issuers');
      const other = await DeviceServer.start({
        devices,
        port: await freePort(),
        pkiFolder,
        certificateFile: app.certificateFile,
        privateKeyFile: app.privateKeyFile,
        security: { users: [USER] },
      });
      try {
        await test(other);
      } finally {
        await other.stop();
      }
    }

    it('refuses a server whose certificate it does not know', async () => {
      const strangerPki = join(dir, 'stranger-client-pki');
      pki.installCa(strangerPki, 'issuers'); // knows the CA, has not trusted the server
      await expect(connectAdapter(cert['adapter']!, { pkiFolder: strangerPki })).rejects.toThrow(
        /BadCertificateUntrusted/,
      );
      expect(existsSync(join(strangerPki, 'rejected'))).toBe(true);
      expect(readdirSync(join(strangerPki, 'rejected')).length).toBeGreaterThan(0);
    }, 30_000);

    it.each([
      ['revoked', 'server-revoked', /BadCertificateRevoked/],
      ['expired', 'server-expired', /BadCertificateTimeInvalid/],
    ])(
      'refuses a server whose certificate is %s',
      async (_what, name, status) => {
        pki.trust(clientPki, cert[name]!);
        await withServer(cert[name]!, async (other) => {
          await expect(
            connectAdapter(cert['adapter']!, { nodeMap: other.nodeMap(devices[0]!.id) }),
          ).rejects.toThrow(status);
        });
      },
      60_000,
    );
  });
});
