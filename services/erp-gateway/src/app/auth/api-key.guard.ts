import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@pipac/persistence';
import { Stores } from '../stores';
import { PUBLIC_KEY, ROLES_KEY, type AuthenticatedRequest } from './roles';

/**
 * Every call carries an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`):
 * unknown, malformed or revoked keys get 401, a client without the endpoint's role 403.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(Stores) private readonly stores: Stores,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = presentedKey(request.headers);
    if (!key) {
      throw new UnauthorizedException(
        'an API key is required: Authorization: Bearer <key> or X-API-Key',
      );
    }
    const client = await this.stores.clients.authenticate(key);
    if (!client) throw new UnauthorizedException('unknown or revoked API key');
    request.client = client;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.some((role) => client.roles.includes(role))) {
      throw new ForbiddenException(
        `client "${client.id}" (${client.roles.join(', ') || 'no roles'}) may not do this; it needs ${roles.join(' or ')}`,
      );
    }
    return true;
  }
}

function presentedKey(headers: AuthenticatedRequest['headers']): string | undefined {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    return match?.[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}
