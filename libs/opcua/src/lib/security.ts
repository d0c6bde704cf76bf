import { timingSafeEqual, createHash } from 'node:crypto';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua';

/** OPC UA message security, by the names the specification uses (Part 4 §7.20, Part 7). */
export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName =
  'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

/** User identity token types a server may offer (OPC UA Part 4 §7.41; IssuedToken is not supported). */
export type UserTokenTypeName = 'Anonymous' | 'UserName' | 'Certificate';

/** An OPC UA security setting that cannot work (asked for nothing, or half of a pair). */
export class OpcuaSecurityError extends Error {
  readonly code = 'OPCUA_SECURITY_INVALID';
  readonly retriable = false;

  constructor(message: string) {
    super(message);
    this.name = 'OpcuaSecurityError';
  }
}

export interface UserCredential {
  username: string;
  password: string;
}

export const SECURITY_MODES: Record<SecurityModeName, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

export const SECURITY_POLICIES: Record<SecurityPolicyName, SecurityPolicy> = {
  None: SecurityPolicy.None,
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

function lookup<T>(table: Record<string, T>, name: string, what: string): T {
  const value = table[name];
  if (value === undefined) {
    throw new OpcuaSecurityError(
      `unknown ${what} "${name}"; use one of ${Object.keys(table).join(', ')}`,
    );
  }
  return value;
}

export function securityMode(name: string): MessageSecurityMode {
  return lookup(SECURITY_MODES, name, 'security mode');
}

export function securityPolicy(name: string): SecurityPolicy {
  return lookup(SECURITY_POLICIES, name, 'security policy');
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks a user name and password against the configured users in constant time (both are
 * hashed first, so neither their lengths nor their contents leak through timing).
 */
export function passwordChecker(
  users: UserCredential[],
): (username: string, password: string) => boolean {
  const table = users.map((u) => ({ user: digest(u.username), password: digest(u.password) }));
  return (username, password) => {
    const user = digest(username);
    const pass = digest(password);
    let ok = false;
    for (const entry of table) {
      // Every entry is compared, so the time does not depend on which user matched.
      const match = timingSafeEqual(entry.user, user) && timingSafeEqual(entry.password, pass);
      ok = ok || match;
    }
    return ok;
  };
}
