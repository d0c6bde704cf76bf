import { SetMetadata } from '@nestjs/common';
import type { ApiClientEntity, Role } from '@pipac/persistence';

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
  client?: ApiClientEntity;
  headers: Record<string, string | string[] | undefined>;
}
