import type { Role } from '@pipac/persistence';

/** Who made a call, as the guard established it: the audit trail's actor and its roles. */
export interface Principal {
  /** `user` for a person signed in at the identity provider, `client` for a program. */
  kind: 'user' | 'client';
  /** The API client's id, or the token's actor claim (OidcOptions.actorClaim, `sub` by default). */
  id: string;
  roles: Role[];
  /** An API key, or a token from the identity provider. */
  via: 'api-key' | 'oidc';
}
