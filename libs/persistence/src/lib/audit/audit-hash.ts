import { createHash } from 'node:crypto';
import type { AuditEntryEntity } from '../entities/audit-entry.entity';

/** The previous hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an entry's hash covers, in a fixed order (adding one is a new chain version). */
const HASHED_FIELDS = [
  'sequence',
  'at',
  'actorKind',
  'actor',
  'cell',
  'step',
  'device',
  'orderId',
  'lotId',
  'kind',
  'object',
  'oldValue',
  'newValue',
  'unit',
  'reason',
  'traceId',
  'modelVersion',
  'previousHash',
] as const satisfies readonly (keyof AuditEntryEntity)[];

export type HashedAuditFields = Pick<AuditEntryEntity, (typeof HASHED_FIELDS)[number]>;

/**
 * SHA-256 over the entry's fields as a JSON array in a fixed order: unambiguous (JSON quotes
 * and escapes every string, null stays null) and independent of the database's column order.
 */
export function auditEntryHash(entry: HashedAuditFields): string {
  const canonical = JSON.stringify(HASHED_FIELDS.map((field) => entry[field] ?? null));
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
