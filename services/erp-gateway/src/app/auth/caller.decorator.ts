import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@pipac/persistence';
import type { AuthenticatedRequest } from './roles';

/** The authenticated API client as the audit trail's actor. */
export const Caller = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.client) throw new Error('Caller used on a public endpoint');
  return { kind: 'client', id: request.client.id };
});
