import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@pipac/config';
import { simulatorSecurity, type SecurityFlags } from './simulator.config';

describe('simulatorSecurity: the OPC UA security flags, checked at boot', () => {
  let dir: string;
  const flags = (more: Partial<SecurityFlags> = {}): SecurityFlags => ({
    pki: join(dir, 'pki'),
    allowAnonymous: false,
    acceptUnknownCertificates: false,
    securityMode: ['SignAndEncrypt'],
    userCertificates: false,
    ...more,
  });
  const USERS = { PIPAC_OPCUA_USERS: 'adapter:secret' };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-sim-config-'));
    writeFileSync(join(dir, 'server.pem'), 'certificate');
    writeFileSync(join(dir, 'server.key.pem'), 'key');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults: user names only, no X509 users, no anonymous, a user trust list under the PKI', () => {
    expect(simulatorSecurity(flags(), USERS)).toEqual({
      pkiFolder: join(dir, 'pki'),
      security: {
        modes: ['SignAndEncrypt'],
        users: [{ username: 'adapter', password: 'secret' }],
        allowAnonymous: false,
        acceptUnknownCertificates: false,
        userCertificates: false,
        userPkiFolder: join(dir, 'pki', 'user'),
      },
    });
  });

  it('X509 users only, with a user trust list of their own', () => {
    const config = simulatorSecurity(
      flags({ userCertificates: true, userPki: join(dir, 'users') }),
      {},
    );
    expect(config.security).toMatchObject({
      users: [],
      userCertificates: true,
      userPkiFolder: join(dir, 'users'),
    });
  });

  it("the server's own certificate and key, both or neither, readable", () => {
    const config = simulatorSecurity(
      flags({
        certificate: join(dir, 'server.pem'),
        privateKey: join(dir, 'server.key.pem'),
      }),
      USERS,
    );
    expect(config).toMatchObject({
      certificateFile: join(dir, 'server.pem'),
      privateKeyFile: join(dir, 'server.key.pem'),
    });
    expect(() => simulatorSecurity(flags({ certificate: join(dir, 'server.pem') }), USERS)).toThrow(
      /--certificate and --private-key go together/,
    );
    expect(() =>
      simulatorSecurity(
        flags({ certificate: join(dir, 'missing.pem'), privateKey: join(dir, 'server.key.pem') }),
        USERS,
      ),
    ).toThrow(/--certificate: cannot read/);
  });

  it.each<[string, Partial<SecurityFlags>, NodeJS.ProcessEnv, RegExp]>([
    ['no identity at all', {}, {}, /give users .* --user-certificates, or --allow-anonymous/],
    ['a user trust list without X509 users', { userPki: 'x' }, USERS, /--user-pki is only used/],
    ['a malformed user list', {}, { PIPAC_OPCUA_USERS: 'nocolon' }, /PIPAC_OPCUA_USERS/],
  ])('stops start-up on %s, naming the flag', (_what, more, env, message) => {
    let error: unknown;
    try {
      simulatorSecurity(flags(more), env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
