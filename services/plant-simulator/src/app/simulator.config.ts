import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@pipac/config';
import type { DeviceServerSecurity, SecurityModeName, UserCredential } from '@pipac/opcua';

/** The simulator's OPC UA security flags, as the command line gives them. */
export interface SecurityFlags {
  /** Application certificate and trust lists. */
  pki: string;
  /** YAML or JSON list of { username, password }; else PIPAC_OPCUA_USERS. @default none */
  usersFile?: string;
  /** @default false */
  allowAnonymous: boolean;
  /** Trust every client application certificate on first contact (development only). @default false */
  acceptUnknownCertificates: boolean;
  /** @default ['SignAndEncrypt'] */
  securityMode: SecurityModeName[];
  /** Offer X509 user identity tokens, checked against the user trust list. @default false */
  userCertificates: boolean;
  /** The user trust list. @default `<pki>/user` */
  userPki?: string;
  /** The server's application certificate and key (PEM), both or neither. @default self-signed, in `<pki>/own` */
  certificate?: string;
  privateKey?: string;
}

/** What the simulator's OPC UA server is started with. */
export interface SimulatorSecurity {
  pkiFolder: string;
  security: DeviceServerSecurity;
  certificateFile?: string;
  privateKeyFile?: string;
}

/**
 * Checks the security flags at boot, before any server starts: a mistake stops start-up with
 * a message naming the flag. Only the identity types asked for are offered (user names when
 * users are given, anonymous with --allow-anonymous, X509 users with --user-certificates);
 * unknown user certificates are always refused.
 */
export function simulatorSecurity(
  flags: SecurityFlags,
  env: NodeJS.ProcessEnv = process.env,
): SimulatorSecurity {
  const users = readUsers(flags.usersFile, env);
  if (users.length === 0 && !flags.allowAnonymous && !flags.userCertificates) {
    throw new ConfigError(
      'give users (--users-file or PIPAC_OPCUA_USERS), --user-certificates, or --allow-anonymous',
    );
  }
  if ((flags.certificate === undefined) !== (flags.privateKey === undefined)) {
    throw new ConfigError('--certificate and --private-key go together');
  }
  for (const [flag, file] of [
    ['--certificate', flags.certificate],
    ['--private-key', flags.privateKey],
  ] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new ConfigError(`${flag}: cannot read ${file}`);
    }
  }
  if (flags.userPki !== undefined && !flags.userCertificates) {
    throw new ConfigError('--user-pki is only used with --user-certificates');
  }
  const pkiFolder = resolve(flags.pki);
  return {
    pkiFolder,
    security: {
      modes: flags.securityMode,
      users,
      allowAnonymous: flags.allowAnonymous,
      acceptUnknownCertificates: flags.acceptUnknownCertificates,
      userCertificates: flags.userCertificates,
      userPkiFolder: resolve(flags.userPki ?? join(pkiFolder, 'user')),
    },
    ...(flags.certificate && flags.privateKey
      ? { certificateFile: resolve(flags.certificate), privateKeyFile: resolve(flags.privateKey) }
      : {}),
  };
}

/**
 * Users who may open a session: a YAML or JSON list of { username, password } from a file
 * (mounted from a Secret), or PIPAC_OPCUA_USERS="name:password,…".
 */
function readUsers(file: string | undefined, env: NodeJS.ProcessEnv): UserCredential[] {
  if (file) {
    let document: unknown;
    try {
      document = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`--users-file ${file}: ${(error as Error).message}`);
    }
    if (
      !Array.isArray(document) ||
      !document.every(
        (u: unknown) =>
          typeof u === 'object' &&
          u !== null &&
          typeof (u as UserCredential).username === 'string' &&
          typeof (u as UserCredential).password === 'string',
      )
    ) {
      throw new ConfigError(`--users-file ${file}: expected a list of { username, password }`);
    }
    return document as UserCredential[];
  }
  const list = env['PIPAC_OPCUA_USERS'];
  if (!list) return [];
  return list.split(',').map((pair) => {
    const at = pair.indexOf(':');
    if (at <= 0) throw new ConfigError('PIPAC_OPCUA_USERS must be name:password,…');
    return { username: pair.slice(0, at), password: pair.slice(at + 1) };
  });
}

/** A DNS host name (RFC 1123 labels). */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The --hostname list, checked at boot: each a DNS name or an IP address (they go into the
 * certificate's subjectAltName). Undefined when none is given (the server's default applies).
 */
export function simulatorHostnames(names: string[] | undefined): string[] | undefined {
  if (names === undefined || names.length === 0) return undefined;
  for (const name of names) {
    if (isIP(name) === 0 && !HOST_NAME.test(name)) {
      throw new ConfigError(`--hostname: "${name}" is neither a host name nor an IP address`);
    }
  }
  return [...new Set(names)];
}
