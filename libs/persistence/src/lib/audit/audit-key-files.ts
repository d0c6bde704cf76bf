import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PersistenceError } from '../errors';
import { writeCheckpointFile } from './audit-checkpoint';
import type { AuditTrail } from './audit-trail';
import { AuditKeyring, AuditSigner } from './audit-signing';

/**
 * The audit trail's keys and exported head in one folder, kept apart from the database (the
 * embedded cell's `.pipac/audit`; in Kubernetes a Secret for the key and a volume for the head):
 * - `signing-key.pem`: the Ed25519 private key (mode 0600), for the processes that append;
 * - `keyring.json`: every public key that ever signed, the retired ones with their date;
 * - `head.json`: the newest signed checkpoint, exported so a truncation shows.
 */
export interface AuditKeyFiles {
  signingKey: string;
  keyring: string;
  head: string;
}

export function auditKeyFiles(dir: string): AuditKeyFiles {
  return {
    signingKey: join(dir, 'signing-key.pem'),
    keyring: join(dir, 'keyring.json'),
    head: join(dir, 'head.json'),
  };
}

export function readKeyring(path: string): AuditKeyring {
  try {
    return AuditKeyring.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PersistenceError(
      'INVALID_ARGUMENT',
      `audit keyring ${path}: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * Makes a new signing key in `dir` and adds its public key to the keyring. A key already there
 * is rotated out: its public key stays in the keyring, marked retired at `now`, so the
 * checkpoints it signed still verify; its private key is overwritten.
 */
export function rotateAuditKey(dir: string, now: Date): { signer: AuditSigner; retired?: string } {
  const files = auditKeyFiles(dir);
  mkdirSync(dir, { recursive: true });
  let keyring = existsSync(files.keyring) ? readKeyring(files.keyring) : new AuditKeyring();
  let retired: string | undefined;
  if (existsSync(files.signingKey)) {
    const old = AuditSigner.fromPem(readFileSync(files.signingKey, 'utf8'));
    const entry = keyring.toJSON().keys.find((k) => k.id === old.keyId);
    keyring = keyring.with({
      ...(entry ?? old.keyringEntry(now.toISOString())),
      retired: now.toISOString(),
    });
    retired = old.keyId;
  }
  const { signer, privateKeyPem } = AuditSigner.generate();
  keyring = keyring.with(signer.keyringEntry(now.toISOString()));
  writeFileSync(files.keyring, `${JSON.stringify(keyring, null, 2)}\n`);
  writeFileSync(files.signingKey, privateKeyPem, { mode: 0o600 });
  chmodSync(files.signingKey, 0o600);
  return { signer, ...(retired ? { retired } : {}) };
}

/**
 * The signer and keyring in `dir`; with `create`, a first key is made when there is none (the
 * embedded cell's first start). A key that is not in the keyring is refused: it would sign
 * checkpoints nobody could verify.
 */
export function loadAuditKeys(
  dir: string,
  options: { create: boolean; now?: Date },
): { signer: AuditSigner; keyring: AuditKeyring } {
  const files = auditKeyFiles(dir);
  if (!existsSync(files.signingKey)) {
    if (!options.create)
      throw new PersistenceError('NOT_FOUND', `no audit signing key at ${files.signingKey}`);
    rotateAuditKey(dir, options.now ?? new Date());
  }
  const signer = AuditSigner.fromPem(readFileSync(files.signingKey, 'utf8'));
  const keyring = readKeyring(files.keyring);
  if (!keyring.has(signer.keyId)) {
    throw new PersistenceError(
      'NOT_FOUND',
      `audit signing key ${signer.keyId} is not in ${files.keyring}`,
    );
  }
  return { signer, keyring };
}

/**
 * Publishes the trail's newest checkpoint outside the database, to a file (atomically),
 * whenever it moved since the last export. Run it on a timer (`every`) and once at shutdown; a
 * truncation is visible from the last published head on.
 */
export class AuditHeadExporter {
  private published = 0;

  constructor(
    private readonly trail: AuditTrail,
    private readonly file: string,
  ) {}

  /** The sequence last published (0 before any). */
  get sequence(): number {
    return this.published;
  }

  async export(): Promise<boolean> {
    const latest = await this.trail.latestCheckpoint();
    if (!latest || latest.sequence <= this.published) return false;
    writeCheckpointFile(this.file, latest);
    this.published = latest.sequence;
    return true;
  }

  /**
   * Exports every `periodMs` (an unref'd timer: it keeps no process alive), reporting a failed
   * export to `onError` and going on; `stop` ends the timer and exports once more.
   */
  every(periodMs: number, onError: (error: unknown) => void): { stop: () => Promise<void> } {
    const run = () => this.export().then(() => undefined, onError);
    const timer = setInterval(() => void run(), periodMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await run();
      },
    };
  }
}
