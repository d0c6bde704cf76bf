import { claimValues, isClientToken, principalFromClaims } from './oidc-claims';
import { DEFAULT_OIDC } from './oidc.options';
import { TokenError } from './token.error';

describe('principalFromClaims', () => {
  const options = {
    actorClaim: 'sub' as const,
    rolesClaim: 'realm_access.roles',
    roleMapping: { 'pipac-operators': ['operator' as const, 'viewer' as const] },
  };

  it('names a person by sub as a user, with the mapped roles', () => {
    // A Keycloak access token of a person signed in at the authorization endpoint.
    const claims = {
      sub: 'f3c1e2a4-1b2c-4d5e-8f90-123456789abc',
      azp: 'pipac-console',
      preferred_username: 'j.doe',
      realm_access: { roles: ['pipac-operators', 'offline_access', 'constructor'] },
    };
    expect(principalFromClaims(claims, options)).toEqual({
      kind: 'user',
      id: 'f3c1e2a4-1b2c-4d5e-8f90-123456789abc',
      roles: ['operator', 'viewer'],
      via: 'oidc',
    });
    expect(principalFromClaims(claims, { ...options, actorClaim: 'preferred_username' }).id).toBe(
      'j.doe',
    );
  });

  it('tells client-credentials tokens from the ways providers mark them', () => {
    expect(isClientToken({ sub: 'sap-erp', client_id: 'sap-erp' })).toBe(true); // RFC 9068
    expect(isClientToken({ sub: 'x', gty: 'client-credentials' })).toBe(true); // Auth0
    expect(isClientToken({ sub: 'x', idtyp: 'app' })).toBe(true); // Entra ID
    expect(isClientToken({ sub: 'x', preferred_username: 'service-account-mes' })).toBe(true);
    expect(isClientToken({ sub: 'alice', client_id: 'pipac-console' })).toBe(false);
  });

  it('reads roles from arrays, space-separated strings and dotted paths, never from the prototype', () => {
    expect(claimValues({ scope: 'openid erp  viewer' }, 'scope')).toEqual([
      'openid',
      'erp',
      'viewer',
    ]);
    expect(
      claimValues(
        { resource_access: { pipac: { roles: ['a', 1, 'b'] } } },
        'resource_access.pipac.roles',
      ),
    ).toEqual(['a', 'b']);
    expect(claimValues({ roles: 'erp' }, 'roles.length')).toEqual([]);
    expect(claimValues({}, 'constructor.name')).toEqual([]);
    const defaults = { ...options, rolesClaim: 'roles', roleMapping: DEFAULT_OIDC.roleMapping };
    expect(
      principalFromClaims({ sub: 'a', roles: ['toString', 'viewer'] }, defaults).roles,
    ).toEqual(['viewer']);
  });

  it('refuses an actor the audit trail could not keep', () => {
    const refusal = (claims: Record<string, unknown>) => {
      try {
        principalFromClaims(claims, options);
      } catch (error) {
        return error instanceof TokenError ? error.code : error;
      }
      return undefined;
    };
    expect(refusal({})).toBe('MISSING_CLAIM');
    for (const sub of ['x'.repeat(65), 'a\u0000b', 'a\ud800', 'line\nbreak']) {
      expect([sub, refusal({ sub })]).toEqual([sub, 'NOT_ACCEPTED']);
    }
    expect(refusal({ sub: 'x'.repeat(64) })).toBeUndefined();
  });
});
