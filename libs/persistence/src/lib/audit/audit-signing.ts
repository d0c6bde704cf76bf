import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { PersistenceError } from '../errors';

/**
 * The audit trail's signing keys: Ed25519 (RFC 8032), from node:crypto. The private key lives
 * outside the database (a file or a Kubernetes secret), so whoever can write the database can
 * recompute the hash chain but cannot sign a checkpoint over it.
 */

/** A key's id: the first 16 bytes of SHA-256 over its public key (SPKI DER), hex. */
export function auditKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

/** Holds the private key and signs checkpoints with it. */
export class AuditSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new PersistenceError(
        'INVALID_ARGUMENT',
        `the audit signing key must be Ed25519, not ${privateKey.asymmetricKeyType}`,
      );
    }
    this.publicKey = createPublicKey(privateKey);
    this.keyId = auditKeyId(this.publicKey);
  }

  /** From a PKCS#8 PEM private key (what `generateAuditKey` writes). */
  static fromPem(pem: string): AuditSigner {
    return new AuditSigner(createPrivateKey(pem));
  }

  /** A fresh key, and its private half as PKCS#8 PEM to keep. */
  static generate(): { signer: AuditSigner; privateKeyPem: string } {
    const { privateKey } = generateKeyPairSync('ed25519');
    return {
      signer: new AuditSigner(privateKey),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  /** The public half as a keyring entry. */
  keyringEntry(created: string): AuditKeyringEntry {
    return {
      id: this.keyId,
      publicKey: this.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      created,
    };
  }

  /** Ed25519 signature over `message`, base64. */
  sign(message: string): string {
    return sign(null, Buffer.from(message, 'utf8'), this.privateKey).toString('base64');
  }
}

/** One public key of the keyring (a JSON file kept apart from the database). */
export interface AuditKeyringEntry {
  id: string;
  /** SPKI PEM. */
  publicKey: string;
  /** When the key was made, ISO 8601. */
  created: string;
  /**
   * When the key was retired (rotated out), ISO 8601: checkpoints it signs dated after this are
   * refused. Absent while the key is in use.
   */
  retired?: string;
}

export interface AuditKeyringFile {
  keys: AuditKeyringEntry[];
}

/** The public keys that may have signed checkpoints, old ones included (key rotation). */
export class AuditKeyring {
  private readonly keys = new Map<string, { entry: AuditKeyringEntry; key: KeyObject }>();

  constructor(entries: readonly AuditKeyringEntry[] = []) {
    for (const entry of entries) {
      const key = createPublicKey(entry.publicKey);
      const id = auditKeyId(key);
      if (id !== entry.id) {
        throw new PersistenceError(
          'INVALID_ARGUMENT',
          `keyring entry ${entry.id}: its public key has the id ${id}`,
        );
      }
      this.keys.set(id, { entry, key });
    }
  }

  /** Parses a keyring file's text; a malformed file is an error naming what is wrong. */
  static parse(text: string): AuditKeyring {
    const file = JSON.parse(text) as Partial<AuditKeyringFile>;
    if (!Array.isArray(file.keys))
      throw new PersistenceError('INVALID_ARGUMENT', 'an audit keyring needs a "keys" array');
    return new AuditKeyring(file.keys);
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  get size(): number {
    return this.keys.size;
  }

  toJSON(): AuditKeyringFile {
    return { keys: [...this.keys.values()].map(({ entry }) => entry) };
  }

  /** With `entry` added (or replaced, by id). */
  with(entry: AuditKeyringEntry): AuditKeyring {
    return new AuditKeyring([...this.toJSON().keys.filter((k) => k.id !== entry.id), entry]);
  }

  /**
   * Why `signature` over `message`, made by `keyId` at `at`, is not to be trusted, or null when
   * it is.
   */
  problem(keyId: string, at: string, message: string, signature: string): string | null {
    const known = this.keys.get(keyId);
    if (!known) return `signed by key ${keyId}, which is not in the keyring`;
    if (known.entry.retired && at > known.entry.retired) {
      return `signed by key ${keyId} at ${at}, after it was retired (${known.entry.retired})`;
    }
    const valid = verify(
      null,
      Buffer.from(message, 'utf8'),
      known.key,
      Buffer.from(signature, 'base64'),
    );
    return valid ? null : `its signature does not verify with key ${keyId}`;
  }
}
