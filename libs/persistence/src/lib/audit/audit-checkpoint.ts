import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AuditCheckpointEntity } from '../entities/audit-checkpoint.entity';
import { PersistenceError } from '../errors';

/** A signed checkpoint, as stored, exported to a file or published outside the database. */
export type AuditCheckpoint = Pick<
  AuditCheckpointEntity,
  'sequence' | 'firstSequence' | 'head' | 'at' | 'keyId' | 'signature'
>;

/** The version tag that starts every signed message (a new layout is a new version). */
export const CHECKPOINT_FORMAT = 'pipac-audit-checkpoint/1';

/**
 * What a checkpoint's signature covers: every field but the signature, one per line, after the
 * format tag. Plain ASCII (numbers, hex, an ISO instant, a hex key id), so there is exactly one
 * encoding of it.
 */
export function checkpointMessage(checkpoint: Omit<AuditCheckpoint, 'signature'>): string {
  return [
    CHECKPOINT_FORMAT,
    checkpoint.firstSequence,
    checkpoint.sequence,
    checkpoint.head,
    checkpoint.at,
    checkpoint.keyId,
  ].join('\n');
}

/** Checkpoints kept outside the database: one JSON object, or an array of them. */
export function readCheckpointFile(path: string): AuditCheckpoint[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.map((item, index) => {
    const where = `${path}${Array.isArray(parsed) ? ` [${index}]` : ''}`;
    const c = item as Partial<AuditCheckpoint> & { format?: unknown };
    if (c.format !== undefined && c.format !== CHECKPOINT_FORMAT) {
      throw new PersistenceError(
        'INVALID_ARGUMENT',
        `${where}: format ${JSON.stringify(c.format)} is not ${CHECKPOINT_FORMAT}`,
      );
    }
    for (const key of ['sequence', 'firstSequence'] as const) {
      if (!Number.isSafeInteger(c[key]))
        throw new PersistenceError('INVALID_ARGUMENT', `${where}: ${key} must be an integer`);
    }
    for (const key of ['head', 'at', 'keyId', 'signature'] as const) {
      if (typeof c[key] !== 'string')
        throw new PersistenceError('INVALID_ARGUMENT', `${where}: ${key} must be a string`);
    }
    return {
      sequence: c.sequence!,
      firstSequence: c.firstSequence!,
      head: c.head!,
      at: c.at!,
      keyId: c.keyId!,
      signature: c.signature!,
    };
  });
}

/**
 * Writes `checkpoint` to `path` atomically (a temporary file renamed over it), so a reader never
 * sees half a file and a crash leaves the previous head.
 */
export function writeCheckpointFile(path: string, checkpoint: AuditCheckpoint): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(
    temporary,
    `${JSON.stringify({ format: CHECKPOINT_FORMAT, ...pickCheckpoint(checkpoint) }, null, 2)}\n`,
  );
  renameSync(temporary, path);
}

export function pickCheckpoint(c: AuditCheckpoint): AuditCheckpoint {
  return {
    sequence: c.sequence,
    firstSequence: c.firstSequence,
    head: c.head,
    at: c.at,
    keyId: c.keyId,
    signature: c.signature,
  };
}
