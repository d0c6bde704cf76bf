/** The realm the gateway's challenges name (RFC 6750 §3). */
export const REALM = 'pipac';

/**
 * The `WWW-Authenticate` value of a refusal (RFC 6750 §3): without an error code when no
 * credentials came, `invalid_token` (401) or `insufficient_scope` (403) otherwise. The
 * description keeps to the characters §3 allows in it (%x20-21 / %x23-5B / %x5D-7E):
 * double quotes become single ones, backslashes slashes, anything else `?`.
 */
export function bearerChallenge(
  error?: 'invalid_token' | 'insufficient_scope',
  description?: string,
): string {
  const parts = [`realm="${REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (error && description) {
    const safe = description
      .replace(/"/g, "'")
      .replace(/\\/g, '/')
      .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
      .slice(0, 300);
    parts.push(`error_description="${safe}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}
