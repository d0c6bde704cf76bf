import { existsSync } from 'node:fs';
import { Command } from 'commander';
import {
  AuditTrail,
  Database,
  auditKeyFiles,
  loadAuditKeys,
  parseDatabaseUrl,
  readCheckpointFile,
  readKeyring,
  rotateAuditKey,
  writeCheckpointFile,
  type AuditCheckpoint,
  type AuditKeyring,
  type AuditVerification,
} from '@pipac/persistence';
import { UsageError } from '../format/usage.error';

/** The embedded cell's database (`pipac start`), relative to the working directory. */
export const DEFAULT_DATABASE = 'sqlite:.pipac/cell.sqlite';

/** The embedded cell's audit keys and exported head (`pipac start`), outside its database. */
export const DEFAULT_AUDIT_KEYS = '.pipac/audit';

/** Exit code of a chain that does not verify: the command ran, the evidence failed. */
export const EXIT_CHAIN_BROKEN = 3;

/** The chain did not verify (mapped to exit code 3 by the entry point). */
export class AuditChainBrokenError extends Error {
  readonly code = 'AUDIT_CHAIN_BROKEN';
}

/** `--db`: the cell database, from PIPAC_DATABASE_URL as the services take it, else the embedded cell's. */
export const dbOption = (command: Command) =>
  command.option(
    '--db <url>',
    `the cell database: sqlite:<file> or postgres://… (default: $PIPAC_DATABASE_URL, the services' setting, else ${DEFAULT_DATABASE})`,
    process.env['PIPAC_DATABASE_URL'] ?? DEFAULT_DATABASE,
  );

/**
 * Opens the cell database; with `keys`, a folder holding the audit signing key, what this
 * command appends to the trail is signed like the cell's own entries (an unsigned entry would
 * be reported by `pipac audit verify` as appended without the key).
 */
export async function openDatabase(url: string, keys?: string): Promise<Database> {
  let config;
  try {
    config = parseDatabaseUrl(url);
  } catch (error) {
    throw new UsageError(`--db: ${(error as Error).message}`);
  }
  const signing = keys !== undefined && existsSync(auditKeyFiles(keys).signingKey);
  if (keys !== undefined && !signing) {
    process.stderr.write(
      `pipac: no audit signing key in ${keys}: the entries this command writes are not signed\n`,
    );
  }
  return Database.open(config, signing ? { audit: loadAuditKeys(keys, { create: false }) } : {});
}

/**
 * `pipac audit`: verify the trail (hash chain, signed checkpoints, the head kept outside the
 * database), rotate its signing key, export its head.
 */
export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'The audit trail: verify it, rotate its signing key, export its head',
  );
  addVerifyCommand(audit);
  addRotateKeyCommand(audit);
  addHeadCommand(audit);
  return audit;
}

interface VerifyOptions {
  db: string;
  keys: string;
  keyring?: string;
  checkpoint?: string[];
  format: string;
}

function addVerifyCommand(audit: Command): void {
  dbOption(
    audit
      .command('verify')
      .description(
        'Walk the audit trail and check every entry against its hash and its predecessor, every ' +
          'signed checkpoint against the keyring, and the head kept outside the database; names ' +
          `everything that does not fit (truncation, forged appends, rewrites) and exits ${EXIT_CHAIN_BROKEN}.`,
      ),
  )
    .option(
      '--keys <dir>',
      'the folder with keyring.json and head.json (used when it exists)',
      DEFAULT_AUDIT_KEYS,
    )
    .option('--keyring <file>', 'the public keys (default: <keys>/keyring.json)')
    .option(
      '--checkpoint <file...>',
      'signed heads kept outside the database (default: <keys>/head.json)',
    )
    .option('--format <format>', 'table or json', 'table')
    .action(verify);
}

async function verify(options: VerifyOptions): Promise<void> {
  if (options.format !== 'table' && options.format !== 'json') {
    throw new UsageError(`--format: "${options.format}" is not table or json`);
  }
  const files = auditKeyFiles(options.keys);
  const keyring = readOptional('--keyring', options.keyring, files.keyring, readKeyring);
  const external =
    options.checkpoint?.flatMap((file) => readRequired('--checkpoint', file, readCheckpointFile)) ??
    readOptional('--checkpoint', undefined, files.head, readCheckpointFile) ??
    [];
  const db = await openDatabase(options.db);
  let result: AuditVerification;
  try {
    result = await new AuditTrail(db).verify({ keyring, external });
  } finally {
    await db.close();
  }
  process.stdout.write(
    options.format === 'json' ? `${JSON.stringify(result)}\n` : describe(result, keyring),
  );
  if (!result.ok) {
    throw new AuditChainBrokenError(
      `audit trail broken: ${result.findings.length + result.moreFindings} finding(s), the first at entry ${result.broken!.sequence}`,
    );
  }
}

function addRotateKeyCommand(audit: Command): void {
  audit
    .command('rotate-key')
    .description(
      'Make a new Ed25519 signing key in <keys> and add it to the keyring; the key there before is ' +
        'retired (its public key stays, so what it signed still verifies). Restart the processes ' +
        'that append (they read the key at start).',
    )
    .option(
      '--keys <dir>',
      'the folder that holds signing-key.pem and keyring.json',
      DEFAULT_AUDIT_KEYS,
    )
    .action((options: { keys: string }) => {
      const { signer, retired } = rotateAuditKey(options.keys, new Date());
      process.stdout.write(
        `audit signing key ${signer.keyId} made in ${options.keys}` +
          (retired ? `; key ${retired} retired` : '') +
          '\n',
      );
    });
}

function addHeadCommand(audit: Command): void {
  dbOption(
    audit
      .command('head')
      .description(
        'Export the newest signed checkpoint (the head of the trail) as JSON, to keep outside the ' +
          'database; verify it later with --checkpoint.',
      ),
  )
    .option('--out <file>', 'write it to this file (atomically) instead of standard output')
    .action(exportHead);
}

async function exportHead(options: { db: string; out?: string }): Promise<void> {
  const db = await openDatabase(options.db);
  let latest: AuditCheckpoint | null;
  try {
    latest = await new AuditTrail(db).latestCheckpoint();
  } finally {
    await db.close();
  }
  if (!latest) {
    throw new UsageError('the audit trail has no signed checkpoint (no signing key configured)');
  }
  if (options.out) writeCheckpointFile(options.out, latest);
  else process.stdout.write(`${JSON.stringify(latest, null, 2)}\n`);
}

function readRequired<T>(option: string, file: string, read: (file: string) => T): T {
  try {
    return read(file);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

/** An explicit file must exist; the default one is used only when it does. */
function readOptional<T>(
  option: string,
  explicit: string | undefined,
  fallback: string,
  read: (file: string) => T,
): T | undefined {
  if (explicit) return readRequired(option, explicit, read);
  return existsSync(fallback) ? readRequired(option, fallback, read) : undefined;
}

function describe(result: AuditVerification, keyring: AuditKeyring | undefined): string {
  const lines: string[] = [];
  const signatures =
    result.signatures === 'checked'
      ? result.signed
        ? `signed up to entry ${result.signed.sequence} (key ${result.signed.keyId}, ${result.signed.at})` +
          (result.unsignedPrefix ? `; entries 1 to ${result.unsignedPrefix} predate signing` : '')
        : 'no valid signed checkpoint'
      : 'signatures not checked (no keyring: a consistent rewrite, a forged append or a truncation would not show)';
  if (result.ok) {
    lines.push(`audit trail verified: ${result.entries} entries, head ${result.head}`);
  } else {
    lines.push(
      `audit trail BROKEN: ${result.findings.length + result.moreFindings} finding(s) in ${result.entries} entries`,
    );
    for (const finding of result.findings) {
      lines.push(`  ${finding.kind} at entry ${finding.sequence}: ${finding.message}`);
    }
    if (result.moreFindings) lines.push(`  … and ${result.moreFindings} more`);
  }
  lines.push(`${signatures}${keyring ? ` (${keyring.size} key(s) in the keyring)` : ''}`);
  return `${lines.join('\n')}\n`;
}
