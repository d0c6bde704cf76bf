import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@pipac/persistence';
import type { AuthenticatedRequest } from './roles';

/**
 * The authenticated caller as the audit trail's actor: an API client (`client`, its id), or the
 * subject of an access token (`user` for a person, `client` for a client-credentials token).
 */
export const Caller = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('Caller used on a public endpoint');
  return { kind: request.principal.kind, id: request.principal.id };
});
