/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   The tests probe JSON answers as the ERP would: untyped. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { InProcessBus, subscribeEvents } from '@pipac/bus';
import {
  deadLetterTopic,
  deviceStateCodec,
  Issuer_Kind,
  topicName,
  type DeviceState,
} from '@pipac/contracts';
import type { Database, Role } from '@pipac/persistence';
import { scratchSqlite, type ScratchDatabase } from '@pipac/persistence/testing';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import type { Configuration } from 'oidc-provider' with { 'resolution-mode': 'import' };
import { createErpGateway } from '../erp-gateway.app';
import { loadGatewayConfig } from '../gateway.config';
import { Stores } from '../stores';
import { OidcTokenVerifier } from './oidc-token.verifier';
import { resolveOidcOptions } from './oidc.options';

/**
 * Single sign-on against a real OpenID provider (oidc-provider, certified) on loopback: it
 * issues JWT access tokens by the client credentials grant for the gateway's resource, and the
 * real gateway checks them over HTTP.
 */

const AUDIENCE = 'https://erp-gateway.pipac.test';
const OTHER_AUDIENCE = 'https://historian.pipac.test';
/** Plant IT's groups, as the provider puts them in `realm_access.roles` (Keycloak's place). */
const CLIENT_GROUPS: Record<string, string[]> = {
  'sap-erp': ['pipac-erp'],
  'line-1-operator': ['pipac-operators', 'everyone'],
  'line-1-display': ['pipac-viewers'],
  'coffee-machine': ['everyone'],
};
const ROLE_MAPPING: Record<string, Role[]> = {
  'pipac-erp': ['erp', 'viewer'],
  'pipac-operators': ['operator', 'viewer'],
  'pipac-viewers': ['viewer'],
};
/** The provider's access-token lifetime, s. */
const TOKEN_TTL = 60;

type Jose = typeof JoseModule;

/** An OpenID provider on 127.0.0.1 with the given signing keys (the first signs). */
interface TestProvider {
  issuer: string;
  /** Requests for the JWKS since start. */
  jwksFetches: () => number;
  /** Another provider, same issuer and clients, now answering on the same port. */
  swap: (keys: JWK[]) => Promise<void>;
  close: () => Promise<void>;
}

async function startProvider(keys: JWK[]): Promise<TestProvider> {
  const { default: Provider } = await import('oidc-provider');
  let handler: RequestListener = (_, res) => res.writeHead(503).end();
  let jwks = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) jwks += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const build = (signing: JWK[]) => {
    const configuration: Configuration = {
      clients: Object.keys(CLIENT_GROUPS).map((id) => ({
        client_id: id,
        client_secret: `${id}-secret`,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        // The provider's only key is an EC key (its default, RS256, would need an RSA one).
        id_token_signed_response_alg: 'ES256',
      })),
      jwks: { keys: signing },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // RFC 8707: a token for one resource server, as a JWT access token (RFC 9068).
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUDIENCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => ({
            scope: 'pipac',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: TOKEN_TTL,
            jwt: { sign: { alg: 'ES256' } },
          }),
        },
      },
      ttl: { ClientCredentials: TOKEN_TTL },
      extraTokenClaims: (_ctx, token) => ({
        realm_access: { roles: CLIENT_GROUPS[token.clientId ?? ''] ?? [] },
      }),
    };
    const provider = new Provider(issuer, configuration);
    return provider.callback() as RequestListener;
  };
  handler = build(keys);
  return {
    issuer,
    jwksFetches: () => jwks,
    swap: async (next) => {
      handler = build(next);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A real token from the provider, by the client credentials grant (RFC 6749 §4.4). */
async function clientToken(issuer: string, client: string, resource = AUDIENCE): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'pipac' }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`no token for ${client}: ${JSON.stringify(body)}`);
  return body.access_token;
}

async function signingKey(jose: Jose, kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  return {
    privateJwk: { ...(await jose.exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
    publicJwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

/**
 * oidc-provider's notices (Node 20 is below the runtimes it supports; the in-memory adapter is
 * for development): expected in this test, so kept out of its output.
 */
function quietProvider(): void {
  for (const level of ['warn', 'info'] as const) {
    const original = console[level].bind(console);
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      original(...args);
    });
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('erp-gateway single sign-on (a real OpenID provider)', () => {
  let jose: Jose;
  let provider: TestProvider;
  let stranger: TestProvider;
  let providerKey: { privateJwk: JWK; publicJwk: JWK };
  let scratch: ScratchDatabase;
  let db: Database;
  let bus: InProcessBus;
  let app: NestExpressApplication;
  let base: string;
  let stores: Stores;
  let apiKey: string;
  /** The gateway's clock runs this far ahead of the wall clock (the provider's). */
  let offsetMs = 0;

  beforeAll(async () => {
    quietProvider();
    jose = await import('jose');
    providerKey = await signingKey(jose, 'plant-key-1');
    provider = await startProvider([providerKey.privateJwk]);
    stranger = await startProvider([(await signingKey(jose, 'stranger-key')).privateJwk]);
    scratch = scratchSqlite();
    db = await scratch.open();
    bus = new InProcessBus();
    await bus.connect();
    ({ app } = await createErpGateway(
      {
        site: 'demo',
        cell: 'cell-1',
        steps: ['nitration', 'hydrogenation', 'acetylation'],
        recipe: 'paracetamol',
        product: 'paracetamol',
        db,
        bus,
        modelsDir: mkdtempSync(join(tmpdir(), 'pipac-models-')),
        clock: () => Date.now() + offsetMs,
        oidc: {
          issuer: provider.issuer,
          audience: AUDIENCE,
          rolesClaim: 'realm_access.roles',
          roleMapping: ROLE_MAPPING,
          jwksCooldownSeconds: 1,
        },
      },
      { logger: false },
    ));
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');
    stores = app.get(Stores);
    apiKey = (await stores.clients.create('mes', 'MES', ['erp'])).key;
  });

  afterAll(async () => {
    await app?.close();
    await bus?.disconnect();
    await db?.close();
    await scratch?.dispose();
    await provider?.close();
    await stranger?.close();
  });

  afterEach(() => {
    offsetMs = 0;
  });

  async function call(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      challenge: response.headers.get('www-authenticate'),
      // Untyped JSON, as the ERP reads it.
      body: text ? JSON.parse(text) : undefined,
    };
  }

  const order = { erpReference: 'SAP-SSO-1', product: 'paracetamol', quantity: 25, unit: 'g' };

  it('lets an ERP token create and release an order, and audits the token subject as a client', async () => {
    const token = await clientToken(provider.issuer, 'sap-erp');
    expect(jose.decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: 'plant-key-1' });
    const created = await call('POST', '/orders', token, order, { 'idempotency-key': 'sso-1' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const released = await call('POST', `/orders/${id}/release`, token, { reason: 'planned' });
    expect(released).toMatchObject({ status: 200, body: { state: 'Released' } });
    const operator = await clientToken(provider.issuer, 'line-1-operator');
    const held = await call('POST', `/orders/${id}/hold`, operator, { reason: 'pump check' });
    expect(held).toMatchObject({ status: 200, body: { state: 'Held' } });
    const trail = await stores.audit.entries({ orderId: id });
    // RFC 9068 §2.2: a client credentials token's `sub` is the client's id.
    expect(trail.map((e) => [e.actorKind, e.actor, e.newValue, e.reason])).toEqual([
      ['client', 'sap-erp', 'Forecast', 'order SAP-SSO-1 received'],
      ['client', 'sap-erp', 'Released', 'planned'],
      ['client', 'line-1-operator', 'Held', 'pump check'],
    ]);
  });

  it("lets an operator token request a mode, naming the token's subject", async () => {
    const seen: DeviceState[] = [];
    const sub = await subscribeEvents(bus, {
      group: 'sso-state',
      topic: topicName({ site: 'demo', cell: 'cell-1', step: 'nitration', stream: 'state' }),
      codec: deviceStateCodec,
      deadLetterTopic: deadLetterTopic('demo', 'cell-1'),
      handler: async (e) => void seen.push(e),
    });
    try {
      const token = await clientToken(provider.issuer, 'line-1-operator');
      const answer = await call('POST', '/steps/nitration/mode', token, {
        mode: 'operator',
        reason: 'sampling',
      });
      expect(answer.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen[0]).toMatchObject({
        reason: 'sampling',
        changedBy: { kind: Issuer_Kind.USER, id: 'line-1-operator' },
      });
    } finally {
      await sub.close();
    }
  });

  it('answers 403 to a valid token without the role, and to one that maps onto no role', async () => {
    const viewer = await clientToken(provider.issuer, 'line-1-display');
    expect((await call('GET', '/orders', viewer)).status).toBe(200);
    const write = await call('POST', '/orders', viewer, order, { 'idempotency-key': 'sso-v' });
    expect(write).toMatchObject({
      status: 403,
      body: { detail: expect.stringMatching(/needs erp/) },
    });
    expect(write.challenge).toMatch(/^Bearer realm="pipac", error="insufficient_scope"/);
    const mode = await call('POST', '/steps/nitration/mode', viewer, {
      mode: 'operator',
      reason: 'x',
    });
    expect(mode.status).toBe(403);
    const nobody = await clientToken(provider.issuer, 'coffee-machine');
    const read = await call('GET', '/orders', nobody);
    expect(read).toMatchObject({
      status: 403,
      body: { detail: expect.stringMatching(/no gateway role/) },
    });
  });

  /** A 401 with problem details and an RFC 6750 §3 challenge naming the same reason. */
  async function expectRefused(token: string, code: string, reason: RegExp): Promise<void> {
    const answer = await call('GET', '/orders', token);
    expect(answer.status).toBe(401);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ status: 401, code, detail: expect.stringMatching(reason) });
    const description = (answer.body.detail as string).replace(/"/g, "'");
    expect(answer.challenge).toBe(
      `Bearer realm="pipac", error="invalid_token", error_description="${description}"`,
    );
  }

  it('refuses an expired token, within the clock skew only', async () => {
    const token = await clientToken(provider.issuer, 'line-1-display');
    const { exp } = jose.decodeJwt(token);
    expect(exp! - jose.decodeJwt(token).iat!).toBe(TOKEN_TTL);
    // 20 s past expiry is inside the 30 s default skew; 31 s past is not.
    offsetMs = (exp! + 20) * 1000 - Date.now();
    expect((await call('GET', '/orders', token)).status).toBe(200);
    offsetMs = (exp! + 31) * 1000 - Date.now();
    await expectRefused(token, 'EXPIRED', /the token expired at \d{4}-/);
  });

  it('refuses a token not yet valid', async () => {
    const token = await clientToken(provider.issuer, 'line-1-display');
    const { iat } = jose.decodeJwt(token);
    const forged = await new jose.SignJWT({ ...jose.decodeJwt(token), nbf: iat! + 120 })
      .setProtectedHeader({ alg: 'ES256', kid: 'plant-key-1' })
      .sign(await jose.importJWK(providerKey.privateJwk, 'ES256'));
    await expectRefused(forged, 'NOT_YET_VALID', /not valid before/);
  });

  it('refuses a token for another audience', async () => {
    const token = await clientToken(provider.issuer, 'line-1-operator', OTHER_AUDIENCE);
    expect(jose.decodeJwt(token).aud).toBe(OTHER_AUDIENCE);
    await expectRefused(token, 'WRONG_AUDIENCE', /not meant for this gateway/);
  });

  it('refuses a token of another issuer', async () => {
    const token = await clientToken(stranger.issuer, 'line-1-operator');
    await expectRefused(token, 'WRONG_ISSUER', /issued by "http:\/\/127\.0\.0\.1:\d+", not by/);
  });

  it('refuses a token signed by another key under the provider key id', async () => {
    const claims = jose.decodeJwt(await clientToken(provider.issuer, 'line-1-operator'));
    const impostor = await signingKey(jose, 'plant-key-1');
    const forged = await new jose.SignJWT({ ...claims, realm_access: { roles: ['pipac-erp'] } })
      .setProtectedHeader({ alg: 'ES256', kid: 'plant-key-1', typ: 'at+jwt' })
      .sign(await jose.importJWK(impostor.privateJwk, 'ES256'));
    await expectRefused(forged, 'BAD_SIGNATURE', /signature does not verify/);
    // The same token with its signature altered.
    const real = await clientToken(provider.issuer, 'line-1-operator');
    const [head, body, signature] = real.split('.') as [string, string, string];
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    await expectRefused(`${head}.${body}.${flipped}`, 'BAD_SIGNATURE', /signature does not verify/);
  });

  it('refuses alg none and HS256 keyed with the public key (algorithm confusion)', async () => {
    const claims = jose.decodeJwt(await clientToken(provider.issuer, 'line-1-operator'));
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;
    await expectRefused(none, 'ALGORITHM_NOT_ALLOWED', /signed with "none"; accepted: RS256/);
    const published = (await (await fetch(`${provider.issuer}/jwks`)).json()) as { keys: JWK[] };
    const confused = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'plant-key-1' })
      .sign(new TextEncoder().encode(JSON.stringify(published.keys[0])));
    await expectRefused(confused, 'ALGORITHM_NOT_ALLOWED', /signed with "HS256"/);
  });

  it('refuses an unknown key id, fetching the JWKS again at most once per cooldown', async () => {
    const claims = jose.decodeJwt(await clientToken(provider.issuer, 'line-1-operator'));
    const rogue = await signingKey(jose, 'rogue-key');
    const forged = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'rogue-key' })
      .sign(await jose.importJWK(rogue.privateJwk, 'ES256'));
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the 1 s cooldown
    const before = provider.jwksFetches();
    for (let i = 0; i < 5; i += 1) {
      await expectRefused(forged, 'UNKNOWN_KEY', /key "rogue-key" is not one the issuer publishes/);
    }
    expect(provider.jwksFetches() - before).toBe(1);
  });

  it('picks up a rotated signing key from the JWKS on its unknown kid', async () => {
    const next = await signingKey(jose, 'plant-key-2');
    await provider.swap([next.privateJwk, providerKey.privateJwk]);
    try {
      const token = await clientToken(provider.issuer, 'line-1-display');
      expect(jose.decodeProtectedHeader(token).kid).toBe('plant-key-2');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await call('GET', '/orders', token)).status).toBe(200);
    } finally {
      await provider.swap([providerKey.privateJwk]);
    }
  });

  it('refuses a malformed bearer token', async () => {
    await expectRefused(
      'eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln',
      'MALFORMED',
      /not a well-formed JWT/,
    );
  });

  it('keeps API keys working beside tokens, as bearer and in X-API-Key', async () => {
    expect((await call('GET', '/orders', apiKey)).status).toBe(200);
    expect(
      (await call('GET', '/orders', undefined, undefined, { 'x-api-key': apiKey })).status,
    ).toBe(200);
    const created = await call(
      'POST',
      '/orders',
      apiKey,
      { ...order, erpReference: 'MES-1' },
      {
        'idempotency-key': 'mes-1',
      },
    );
    expect(created.status).toBe(201);
    const unknown = await call('GET', '/orders', 'pipac_00000000_' + 'x'.repeat(43));
    expect(unknown).toMatchObject({ status: 401, body: { detail: 'unknown or revoked API key' } });
    const none = await call('GET', '/orders', undefined);
    expect(none.status).toBe(401);
    expect(none.challenge).toBe('Bearer realm="pipac"');
    const trail = await stores.audit.entries({ orderId: created.body.id as string });
    expect(trail.map((e) => [e.actorKind, e.actor])).toEqual([['client', 'mes']]);
  });
});

describe('OidcTokenVerifier', () => {
  it('answers 503-worthy PROVIDER_UNAVAILABLE while the provider cannot be reached, without hammering it', async () => {
    const jose = await import('jose');
    const server = createServer((_, res) => res.writeHead(500).end());
    let hits = 0;
    server.on('request', () => (hits += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const key = await signingKey(jose, 'k');
      const token = await new jose.SignJWT({ sub: 'alice', aud: AUDIENCE })
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime('1m')
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .sign(await jose.importJWK(key.privateJwk, 'ES256'));
      const verifier = new OidcTokenVerifier({ issuer, audience: AUDIENCE });
      for (let i = 0; i < 3; i += 1) {
        await expect(verifier.verify(token)).rejects.toMatchObject({
          code: 'PROVIDER_UNAVAILABLE',
          retriable: true,
        });
      }
      expect(hits).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reads the configuration file's oidc block, naming the file and the field at fault", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pipac-gw-')), 'gateway.yaml');
    const head =
      'site: demo\ncell: cell-1\nrecipe: r.yaml\nmodels: models\ndatabase: sqlite:c.sqlite\nkafkaBrokers: [127.0.0.1:9092]\n';
    writeFileSync(file, head);
    expect(loadGatewayConfig(file, {}).oidc).toBeUndefined();
    writeFileSync(
      file,
      `${head}oidc:\n  issuer: https://login.plant.example/realms/pipac\n  audience: pipac-erp-gateway\n  rolesClaim: realm_access.roles\n  roleMapping: { pipac-operators: [operator, viewer] }\n`,
    );
    expect(loadGatewayConfig(file, {}).oidc).toEqual({
      issuer: 'https://login.plant.example/realms/pipac',
      audience: 'pipac-erp-gateway',
      rolesClaim: 'realm_access.roles',
      roleMapping: { 'pipac-operators': ['operator', 'viewer'] },
    });
    writeFileSync(file, `${head}oidc:\n  issuer: http://login.plant.example\n  audience: x\n`);
    expect(() => loadGatewayConfig(file, {})).toThrow(
      `${file}: oidc.issuer: must be https (http only on a loopback host)`,
    );
    writeFileSync(
      file,
      `${head}oidc:\n  issuer: https://idp\n  audience: x\n  algorithms: [HS256]\n`,
    );
    expect(() => loadGatewayConfig(file, {})).toThrow(`${file}: /oidc/algorithms/0`);
  });

  it('refuses unsafe configurations, naming the field', () => {
    const ok = { issuer: 'https://login.plant.example/realms/pipac', audience: AUDIENCE };
    expect(resolveOidcOptions(ok)).toMatchObject({
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      clockSkewSeconds: 30,
      rolesClaim: 'roles',
      actorClaim: 'sub',
    });
    expect(() => resolveOidcOptions({ ...ok, issuer: 'http://login.plant.example' })).toThrow(
      /^oidc\.issuer: must be https/,
    );
    expect(() => resolveOidcOptions({ ...ok, algorithms: ['HS256' as 'RS256'] })).toThrow(
      /^oidc\.algorithms: "HS256" is not one of/,
    );
    expect(() => resolveOidcOptions({ ...ok, audience: [] })).toThrow(
      /^oidc\.audience: is required/,
    );
    expect(() => resolveOidcOptions({ ...ok, roleMapping: { admins: ['root' as Role] } })).toThrow(
      /^oidc\.roleMapping\.admins: must list roles among/,
    );
  });
});
