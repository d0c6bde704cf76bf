import { SetMetadata } from '@nestjs/common';
import type { ApiClientEntity, Role } from '@pipac/persistence';
import type { Principal } from './principal';

export const ROLES_KEY = 'pipac:roles';

/**
 * Who may call an endpoint. The ERP manages orders; an operator changes modes, overrides
 * setpoints and may hold or abort; an engineer deploys models; every authenticated client may
 * read. No decorator: any authenticated client.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Endpoints that need no key (health probes, the OpenAPI document). */
export const PUBLIC_KEY = 'pipac:public';
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The authenticated caller, put on the request by the guard. */
export interface AuthenticatedRequest {
  /** Who called, by API key or by access token. */
  principal?: Principal;
  /** The API client, when the call came with an API key. */
  client?: ApiClientEntity;
  headers: Record<string, string | string[] | undefined>;
}
