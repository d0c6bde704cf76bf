import type { Role } from '@pipac/persistence';

/** JWS algorithms a token may be signed with: asymmetric only (RFC 8725 §3.1, §3.2). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type TokenAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/**
 * Single sign-on: OAuth 2.0 / OpenID Connect bearer tokens (JWT access tokens, RFC 9068) from the
 * plant's identity provider, accepted beside API keys.
 */
export interface OidcOptions {
  /**
   * The provider's issuer identifier, exactly as its tokens' `iss` says (OpenID Connect
   * Discovery §4.3); its discovery document is `<issuer>/.well-known/openid-configuration`.
   * https, or http on a loopback host only. Required.
   */
  issuer: string;
  /** What a token's `aud` must hold (one of them when several): the gateway's resource. Required. */
  audience: string | string[];
  /** Where the signing keys are. @default the discovery document's `jwks_uri` */
  jwksUri?: string;
  /** Signature algorithms accepted; never `none` nor an HMAC. @default ['RS256', 'PS256', 'ES256', 'EdDSA'] */
  algorithms?: TokenAlgorithm[];
  /** Leeway for `exp`, `nbf` and `iat` between the provider's clock and the gateway's, s. @default 30 */
  clockSkewSeconds?: number;
  /**
   * The claim that lists the caller's groups or roles, a dotted path into the token
   * (`roles`, `groups`, `realm_access.roles`, `resource_access.pipac.roles`, `scope`): an array of
   * strings or one space-separated string. @default 'roles'
   */
  rolesClaim?: string;
  /**
   * What each value of the roles claim grants, e.g. `{ 'plant-operators': ['operator'] }`;
   * values not listed grant nothing. @default each gateway role name grants itself
   * (`{ erp: ['erp'], operator: ['operator'], engineer: ['engineer'], viewer: ['viewer'] }`)
   */
  roleMapping?: Record<string, Role[]>;
  /**
   * The claim that names the caller in the audit trail: `sub` is the provider's stable, unique
   * id (OpenID Connect Core §5.7: `preferred_username` may change and need not be unique).
   * @default 'sub'
   */
  actorClaim?: 'sub' | 'preferred_username' | 'email' | 'client_id';
  /** The least time between two JWKS fetches caused by an unknown `kid`, s. @default 30 */
  jwksCooldownSeconds?: number;
  /** How long fetched keys are used before they are fetched again, s. @default 600 */
  jwksMaxAgeSeconds?: number;
  /** Time limit of one request to the provider (discovery, JWKS), ms. @default 5000 */
  timeoutMs?: number;
}

/** The options with every default applied, checked. */
export type ResolvedOidcOptions = Required<Omit<OidcOptions, 'jwksUri' | 'audience'>> & {
  audience: string[];
  jwksUri: string | undefined;
};

export const DEFAULT_OIDC: Omit<ResolvedOidcOptions, 'issuer' | 'audience' | 'jwksUri'> = {
  algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  clockSkewSeconds: 30,
  rolesClaim: 'roles',
  roleMapping: { erp: ['erp'], operator: ['operator'], engineer: ['engineer'], viewer: ['viewer'] },
  actorClaim: 'sub',
  jwksCooldownSeconds: 30,
  jwksMaxAgeSeconds: 600,
  timeoutMs: 5000,
};

const GATEWAY_ROLES: readonly Role[] = ['erp', 'operator', 'engineer', 'viewer'];
const ACTOR_CLAIMS = ['sub', 'preferred_username', 'email', 'client_id'] as const;

/** A mistake in the `oidc` options; the message names the field. */
export class OidcConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
}

/** Applies the defaults and checks the options; a mistake throws OidcConfigError naming the field. */
export function resolveOidcOptions(options: OidcOptions): ResolvedOidcOptions {
  const fail = (field: string, reason: string): never => {
    throw new OidcConfigError(`oidc.${field}: ${reason}`);
  };
  const issuer = options.issuer;
  if (typeof issuer !== 'string' || issuer === '') fail('issuer', 'is required');
  checkProviderUrl(issuer, (reason) => fail('issuer', reason));
  if (options.jwksUri !== undefined) {
    checkProviderUrl(options.jwksUri, (reason) => fail('jwksUri', reason));
  }
  const audience = [options.audience ?? []].flat();
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
    fail(
      'audience',
      'is required: the gateway\'s resource identifier as the tokens\' "aud" holds it',
    );
  }
  const algorithms = options.algorithms ?? DEFAULT_OIDC.algorithms;
  if (algorithms.length === 0) fail('algorithms', 'must name at least one algorithm');
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      // RFC 8725 §3.1/§3.2: `none` and HMACs with a provider's public key are how tokens get forged.
      fail('algorithms', `"${String(alg)}" is not one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
    }
  }
  const roleMapping = options.roleMapping ?? DEFAULT_OIDC.roleMapping;
  for (const [value, roles] of Object.entries(roleMapping)) {
    if (!Array.isArray(roles) || roles.some((r) => !GATEWAY_ROLES.includes(r))) {
      fail(`roleMapping.${value}`, `must list roles among ${GATEWAY_ROLES.join(', ')}`);
    }
  }
  const rolesClaim = options.rolesClaim ?? DEFAULT_OIDC.rolesClaim;
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(rolesClaim)) {
    fail('rolesClaim', 'must be a claim name or a dotted path such as realm_access.roles');
  }
  const actorClaim = options.actorClaim ?? DEFAULT_OIDC.actorClaim;
  if (!ACTOR_CLAIMS.includes(actorClaim))
    fail('actorClaim', `must be one of ${ACTOR_CLAIMS.join(', ')}`);
  const seconds = (field: keyof OidcOptions, value: number, min: number): number => {
    if (!Number.isFinite(value) || value < min) fail(field, `must be a number ≥ ${min}`);
    return value;
  };
  return {
    issuer,
    audience,
    jwksUri: options.jwksUri,
    algorithms: [...algorithms],
    clockSkewSeconds: seconds(
      'clockSkewSeconds',
      options.clockSkewSeconds ?? DEFAULT_OIDC.clockSkewSeconds,
      0,
    ),
    rolesClaim,
    // A copy without a prototype: a claim value such as `constructor` must grant nothing.
    roleMapping: Object.assign(Object.create(null) as Record<string, Role[]>, roleMapping),
    actorClaim,
    jwksCooldownSeconds: seconds(
      'jwksCooldownSeconds',
      options.jwksCooldownSeconds ?? DEFAULT_OIDC.jwksCooldownSeconds,
      0,
    ),
    jwksMaxAgeSeconds: seconds(
      'jwksMaxAgeSeconds',
      options.jwksMaxAgeSeconds ?? DEFAULT_OIDC.jwksMaxAgeSeconds,
      1,
    ),
    timeoutMs: seconds('timeoutMs', options.timeoutMs ?? DEFAULT_OIDC.timeoutMs, 1),
  };
}

/** Tokens and keys over plain http could be swapped on the way, except on the host itself. */
function checkProviderUrl(value: string, fail: (reason: string) => never): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not a URL');
  }
  if (url.protocol === 'https:') return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol !== 'http:' || !loopback) fail('must be https (http only on a loopback host)');
}

/** The `oidc` block of the gateway's configuration file (JSON Schema; resolveOidcOptions checks the rest). */
export const OIDC_CONFIG_SCHEMA = {
  type: 'object',
  required: ['issuer', 'audience'],
  additionalProperties: false,
  properties: {
    issuer: { type: 'string', minLength: 1 },
    audience: {
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    jwksUri: { type: 'string', minLength: 1 },
    algorithms: { type: 'array', minItems: 1, items: { enum: [...ASYMMETRIC_ALGORITHMS] } },
    clockSkewSeconds: { type: 'number', minimum: 0, maximum: 600 },
    rolesClaim: { type: 'string', minLength: 1 },
    roleMapping: {
      type: 'object',
      additionalProperties: {
        type: 'array',
        items: { enum: ['erp', 'operator', 'engineer', 'viewer'] },
      },
    },
    actorClaim: { enum: [...ACTOR_CLAIMS] },
    jwksCooldownSeconds: { type: 'number', minimum: 0 },
    jwksMaxAgeSeconds: { type: 'number', minimum: 1 },
    timeoutMs: { type: 'integer', minimum: 1 },
  },
} as const;
