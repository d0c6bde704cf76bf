import {
  ForbiddenException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@pipac/persistence';
import type { Response } from 'express';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { STATUS_TITLES } from '../http/problem';
import { Stores } from '../stores';
import { bearerChallenge } from './bearer-challenge';
import { OidcTokenVerifier, looksLikeJwt, type TokenVerifier } from './oidc-token.verifier';
import type { Principal } from './principal';
import { PUBLIC_KEY, ROLES_KEY, type AuthenticatedRequest } from './roles';
import { TokenError } from './token.error';

/**
 * Every call carries an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`) or, where
 * single sign-on is configured, a JWT access token from the plant's OpenID provider
 * (`Authorization: Bearer <jwt>`, told from a key by its shape). Unknown, malformed or revoked
 * keys and tokens that fail verification get 401 with an RFC 6750 challenge; a caller without
 * the endpoint's role 403.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly tokens: TokenVerifier | undefined;

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(Stores) private readonly stores: Stores,
    @Inject(GATEWAY_OPTIONS) options: ErpGatewayOptions,
  ) {
    // Built here, so a bad `oidc` block stops start-up naming the field.
    this.tokens = options.oidc ? new OidcTokenVerifier(options.oidc, options.clock) : undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<Response>();
    const principal = await this.authenticate(request, response);
    request.principal = principal;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (principal.via === 'oidc' && principal.roles.length === 0) {
      // A valid token whose claims map onto no gateway role: known to the provider, not to us.
      throw forbidden(
        response,
        `"${principal.id}" has no gateway role (check the roles claim and roleMapping)`,
      );
    }
    if (roles && !roles.some((role) => principal.roles.includes(role))) {
      const who = principal.via === 'api-key' ? `client "${principal.id}"` : `"${principal.id}"`;
      throw forbidden(
        response,
        `${who} (${principal.roles.join(', ') || 'no roles'}) may not do this; it needs ${roles.join(' or ')}`,
        principal.via === 'oidc',
      );
    }
    return true;
  }

  private async authenticate(
    request: AuthenticatedRequest,
    response: Response,
  ): Promise<Principal> {
    const credential = presentedCredential(request.headers);
    if (!credential) {
      response.setHeader('WWW-Authenticate', bearerChallenge());
      throw new UnauthorizedException(
        this.tokens
          ? 'an API key or an access token is required: Authorization: Bearer <key or token>, or X-API-Key'
          : 'an API key is required: Authorization: Bearer <key> or X-API-Key',
      );
    }
    if (credential.bearer && looksLikeJwt(credential.value)) {
      return this.verifyToken(credential.value, response);
    }
    const client = await this.stores.clients.authenticate(credential.value);
    if (!client) {
      response.setHeader(
        'WWW-Authenticate',
        bearerChallenge('invalid_token', 'unknown or revoked API key'),
      );
      throw new UnauthorizedException('unknown or revoked API key');
    }
    request.client = client;
    return { kind: 'client', id: client.id, roles: client.roles, via: 'api-key' };
  }

  private async verifyToken(token: string, response: Response): Promise<Principal> {
    if (!this.tokens) {
      const reason = 'access tokens are not accepted: single sign-on is not configured';
      response.setHeader('WWW-Authenticate', bearerChallenge('invalid_token', reason));
      throw new UnauthorizedException(reason);
    }
    try {
      return await this.tokens.verify(token);
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      if (error.retriable) {
        throw new ServiceUnavailableException(problem(503, error.message, error.code));
      }
      response.setHeader('WWW-Authenticate', bearerChallenge('invalid_token', error.message));
      throw new UnauthorizedException(problem(401, error.message, error.code));
    }
  }
}

/** The problem details of a refused token, with its TokenError code for programs. */
function problem(status: number, detail: string, code: string) {
  return { type: 'about:blank', title: STATUS_TITLES[status] ?? 'Error', status, detail, code };
}

function forbidden(response: Response, detail: string, challenge = true): ForbiddenException {
  // RFC 6750 §3.1: a valid token lacking what the resource needs is `insufficient_scope`.
  if (challenge)
    response.setHeader('WWW-Authenticate', bearerChallenge('insufficient_scope', detail));
  return new ForbiddenException(detail);
}

function presentedCredential(
  headers: AuthenticatedRequest['headers'],
): { value: string; bearer: boolean } | undefined {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    return match?.[1] ? { value: match[1], bearer: true } : undefined;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? { value: apiKey.trim(), bearer: false } : undefined;
}
