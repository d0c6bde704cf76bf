import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWTPayload, JWTVerifyGetKey, ProtectedHeaderParameters } from 'jose' with {
  'resolution-mode': 'import',
};
import { principalFromClaims } from './oidc-claims';
import { resolveOidcOptions, type OidcOptions, type ResolvedOidcOptions } from './oidc.options';
import type { Principal } from './principal';
import { TokenError } from './token.error';

/** Checks a bearer token and names the caller; refusals are TokenErrors. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * A JWT is three base64url parts joined by dots (RFC 7515 §7.1; the third is empty for
 * `alg: none`). API keys (`pipac_<prefix>_<secret>`) have no dot, so the two never mix up.
 */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

type Jose = typeof JoseModule;

/**
 * Verifies OpenID Connect access tokens (JWT, RFC 9068) with jose: the signature against the
 * issuer's JWKS (from its discovery document unless `jwksUri` is set; cached, fetched again for
 * an unknown `kid` at most once per cooldown), an allowed asymmetric algorithm, `iss`, `aud`,
 * `exp` and `nbf` within the clock skew, on the injected clock.
 */
export class OidcTokenVerifier implements TokenVerifier {
  readonly options: ResolvedOidcOptions;
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private lastFailure: { at: number; error: TokenError } | undefined;

  constructor(
    options: OidcOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.options = resolveOidcOptions(options);
  }

  async verify(token: string): Promise<Principal> {
    const jose = await loadJose();
    const { header, claims } = peek(jose, token);
    // Before any key is looked up: a forged `alg` or a foreign issuer costs no JWKS fetch.
    const alg = header.alg;
    if (typeof alg !== 'string' || !(this.options.algorithms as string[]).includes(alg)) {
      throw new TokenError(
        'ALGORITHM_NOT_ALLOWED',
        `the token is signed with "${String(alg)}"; accepted: ${this.options.algorithms.join(', ')}`,
      );
    }
    if (claims.iss !== this.options.issuer) {
      throw new TokenError(
        'WRONG_ISSUER',
        `the token was issued by "${String(claims.iss)}", not by ${this.options.issuer}`,
      );
    }
    const keys = await this.signingKeys(jose);
    try {
      const { payload } = await jose.jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.algorithms,
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: new Date(this.clock()),
        requiredClaims: ['exp', this.options.actorClaim],
      });
      return principalFromClaims(payload, this.options);
    } catch (error) {
      if (error instanceof TokenError) throw error;
      throw this.refusal(error, header, claims);
    }
  }

  /** The issuer's keys: discovery once (again after a failure, at most once per cooldown). */
  private async signingKeys(jose: Jose): Promise<JWTVerifyGetKey> {
    const failed = this.lastFailure;
    if (failed && this.clock() < failed.at + this.options.jwksCooldownSeconds * 1000) {
      throw failed.error;
    }
    this.keys ??= this.discoverKeys(jose);
    try {
      return await this.keys;
    } catch (error) {
      this.keys = undefined;
      const refusal = new TokenError(
        'PROVIDER_UNAVAILABLE',
        `the identity provider's keys could not be fetched: ${(error as Error).message}`,
        { cause: error },
      );
      this.lastFailure = { at: this.clock(), error: refusal };
      throw refusal;
    }
  }

  private async discoverKeys(jose: Jose): Promise<JWTVerifyGetKey> {
    const jwksUri = this.options.jwksUri ?? (await this.discoveredJwksUri());
    return jose.createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: this.options.jwksCooldownSeconds * 1000,
      cacheMaxAge: this.options.jwksMaxAgeSeconds * 1000,
      timeoutDuration: this.options.timeoutMs,
    });
  }

  /** OpenID Connect Discovery 1.0 §4: `<issuer>/.well-known/openid-configuration`. */
  private async discoveredJwksUri(): Promise<string> {
    const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // §4.3: the document's issuer must be the one asked for, or its keys are someone else's.
    if (document.issuer !== this.options.issuer) {
      throw new Error(`${url} names issuer "${String(document.issuer)}"`);
    }
    if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    resolveOidcOptions({ ...this.options, jwksUri: document.jwks_uri });
    return document.jwks_uri;
  }

  /** jose's error, as the reason a caller reads. */
  private refusal(
    error: unknown,
    header: ProtectedHeaderParameters,
    claims: JWTPayload,
  ): TokenError {
    const code = (error as { code?: unknown }).code;
    const at = (seconds: unknown) =>
      typeof seconds === 'number' && Number.isFinite(seconds)
        ? new Date(seconds * 1000).toISOString()
        : String(seconds);
    switch (code) {
      case 'ERR_JWT_EXPIRED':
        return new TokenError('EXPIRED', `the token expired at ${at(claims.exp)}`, {
          cause: error,
        });
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
        const { claim, reason } = error as { claim: string; reason: string };
        if (reason === 'missing') {
          return new TokenError('MISSING_CLAIM', `the token has no "${claim}" claim`, {
            cause: error,
          });
        }
        if (claim === 'aud') {
          return new TokenError(
            'WRONG_AUDIENCE',
            `the token is not meant for this gateway: its audience must include ${this.options.audience.join(' or ')}`,
            { cause: error },
          );
        }
        if (claim === 'iss') {
          return new TokenError(
            'WRONG_ISSUER',
            `the token was not issued by ${this.options.issuer}`,
            {
              cause: error,
            },
          );
        }
        if (claim === 'nbf') {
          return new TokenError(
            'NOT_YET_VALID',
            `the token is not valid before ${at(claims.nbf)}`,
            {
              cause: error,
            },
          );
        }
        return new TokenError('NOT_ACCEPTED', `the token's "${claim}" claim is not valid`, {
          cause: error,
        });
      }
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
      case 'ERR_JOSE_NOT_SUPPORTED':
        return new TokenError(
          'ALGORITHM_NOT_ALLOWED',
          `the token's algorithm "${String(header.alg)}" is not accepted`,
          { cause: error },
        );
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return new TokenError(
          'UNKNOWN_KEY',
          header.kid === undefined
            ? 'the token names no key (kid) that the issuer publishes'
            : `the token's key "${header.kid}" is not one the issuer publishes`,
          { cause: error },
        );
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return new TokenError('BAD_SIGNATURE', "the token's signature does not verify", {
          cause: error,
        });
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
        return new TokenError('MALFORMED', 'the bearer token is not a well-formed JWT', {
          cause: error,
        });
      default:
        // The JWKS fetched again for an unknown kid could not be had: not the token's fault.
        return new TokenError(
          'PROVIDER_UNAVAILABLE',
          `the identity provider's keys could not be fetched: ${(error as Error).message}`,
          { cause: error },
        );
    }
  }
}

/** The header and claims before verification, only to refuse early and to explain refusals. */
function peek(
  jose: Jose,
  token: string,
): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  try {
    return { header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) };
  } catch (error) {
    throw new TokenError('MALFORMED', 'the bearer token is not a well-formed JWT', {
      cause: error,
    });
  }
}

let jose: Promise<Jose> | undefined;

/** jose ships only ES modules; the gateway is CommonJS, so it is imported, once, when first needed. */
function loadJose(): Promise<Jose> {
  jose ??= import('jose');
  return jose;
}
