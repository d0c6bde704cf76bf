/**
 * Why a bearer token was refused. All but PROVIDER_UNAVAILABLE are the token's fault
 * (RFC 6750 §3.1 `invalid_token`, 401); PROVIDER_UNAVAILABLE means the provider's keys could
 * not be fetched, and a retry may succeed (503).
 */
export type TokenErrorCode =
  | 'MALFORMED'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'WRONG_ISSUER'
  | 'WRONG_AUDIENCE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'MISSING_CLAIM'
  | 'NOT_ACCEPTED'
  | 'PROVIDER_UNAVAILABLE';

/** A refused bearer token: a machine-readable code and a sentence the caller may read. */
export class TokenError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: TokenErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'TokenError';
    this.retriable = code === 'PROVIDER_UNAVAILABLE';
  }
}
