import type { Role } from '@pipac/persistence';
import type { ResolvedOidcOptions } from './oidc.options';
import type { Principal } from './principal';
import { TokenError } from './token.error';

/**
 * Longest actor id: the audit trail keeps 128 characters, orders and webhook subscriptions key
 * on 64. Providers' subjects are far shorter (UUIDs, 20-character ids).
 */
export const MAX_ACTOR_LENGTH = 64;

/** Text the audit trail could not store as it hashed it (issue 13, item 1). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The caller a verified token names: its actor claim, whether a person or a program, and the
 * gateway roles its roles claim grants through the mapping.
 */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
  options: Pick<ResolvedOidcOptions, 'actorClaim' | 'rolesClaim' | 'roleMapping'>,
): Principal {
  const id = claims[options.actorClaim];
  if (typeof id !== 'string' || id === '') {
    throw new TokenError('MISSING_CLAIM', `the token has no "${options.actorClaim}" claim`);
  }
  if (id.length > MAX_ACTOR_LENGTH || LONE_SURROGATE.test(id) || /\p{Cc}/u.test(id)) {
    throw new TokenError(
      'NOT_ACCEPTED',
      `the "${options.actorClaim}" claim must be printable text of at most ${MAX_ACTOR_LENGTH} characters`,
    );
  }
  return {
    kind: isClientToken(claims) ? 'client' : 'user',
    id,
    roles: mappedRoles(claimValues(claims, options.rolesClaim), options.roleMapping),
    via: 'oidc',
  };
}

/**
 * Whether the token was issued to a program for itself (client credentials) rather than to a
 * person. Providers say so in different ways; any of these counts:
 * - RFC 9068 §2.2: without a resource owner, `sub` is the client's id (`client_id`, or `azp`);
 * - Auth0: `gty: client-credentials`; Microsoft Entra ID: `idtyp: app`;
 * - Keycloak: the service account's `preferred_username` is `service-account-<client>`.
 */
export function isClientToken(claims: Readonly<Record<string, unknown>>): boolean {
  const sub = claims['sub'];
  if (typeof sub === 'string' && (sub === claims['client_id'] || sub === claims['azp']))
    return true;
  if (claims['gty'] === 'client-credentials' || claims['idtyp'] === 'app') return true;
  const username = claims['preferred_username'];
  return typeof username === 'string' && username.startsWith('service-account-');
}

/** The strings at a dotted claim path: an array's strings, or a space-separated string's words. */
export function claimValues(claims: Readonly<Record<string, unknown>>, path: string): string[] {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
    if (!Object.prototype.hasOwnProperty.call(value, part)) return [];
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return value.split(' ').filter((v) => v !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function mappedRoles(values: string[], mapping: Readonly<Record<string, Role[]>>): Role[] {
  const roles = new Set<Role>();
  for (const value of values) {
    if (!Object.prototype.hasOwnProperty.call(mapping, value)) continue;
    for (const role of mapping[value] ?? []) roles.add(role);
  }
  return [...roles];
}
