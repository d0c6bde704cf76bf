import { MoreThan, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { AuditEntryEntity, type ActorKind } from '../entities/audit-entry.entity';
import { GENESIS_HASH, auditEntryHash } from './audit-hash';
import { METRICS, counter } from '@pipac/telemetry';

export interface Actor {
  kind: ActorKind;
  /** A user name, an API client id, an agent (`step-agent/nitration`) or a service. */
  id: string;
}

/** What to record: the entry less its sequence, time and hashes. */
export interface AuditRecord {
  actor: Actor;
  where: {
    cell: string;
    step?: string | undefined;
    device?: string | undefined;
    orderId?: string | undefined;
    lotId?: string | undefined;
  };
  kind: string;
  object: string;
  oldValue?: string | number | boolean | null | undefined;
  newValue?: string | number | boolean | null | undefined;
  unit?: string | undefined;
  /** Why: always given (Part 11 asks for the reason of a change). */
  reason: string;
  traceId?: string | undefined;
  modelVersion?: string | undefined;
  /** When it happened, ms since the epoch. @default the trail's clock */
  at?: number | undefined;
}

export interface AuditQuery {
  orderId?: string;
  lotId?: string;
  kinds?: string[];
  /** Entries after this sequence number (keyset pagination). */
  after?: number;
  /** @default 100 */
  limit?: number;
}

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | {
      ok: false;
      entries: number;
      /** The first entry that does not verify, and why. */
      broken: { sequence: number; reason: string };
    };

/** The PostgreSQL advisory lock that serialises appends across processes. */
const APPEND_LOCK = 0x70697061; // "pipa"

/**
 * The append-only, hash-chained audit trail. Each entry's hash covers its fields and the
 * previous entry's hash; appends are serialised (one writer at a time, across processes on
 * PostgreSQL) so the chain has no forks and no gaps. `verify` recomputes the chain and names
 * the first entry that does not fit.
 */
export class AuditTrail {
  private readonly appended = counter(METRICS.auditEntries);

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Appends in its own transaction, or inside `manager`'s (with the change it records). */
  async append(record: AuditRecord, manager?: EntityManager): Promise<AuditEntryEntity> {
    if (manager) return this.appendWithin(manager, record);
    return this.db.transaction((m) => this.appendWithin(m, record));
  }

  /**
   * Appends several entries, in order, in one transaction (or `manager`'s): for recorders that
   * take events in bursts, one lock and one commit instead of one per entry.
   */
  async appendMany(records: AuditRecord[], manager?: EntityManager): Promise<AuditEntryEntity[]> {
    if (records.length === 0) return [];
    const run = async (m: EntityManager) => {
      const entries: AuditEntryEntity[] = [];
      for (const record of records) entries.push(await this.appendWithin(m, record));
      return entries;
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  private async appendWithin(
    manager: EntityManager,
    record: AuditRecord,
  ): Promise<AuditEntryEntity> {
    if (!record.reason.trim()) throw new Error('an audit entry needs a reason');
    this.appended.add(1, { kind: record.kind });
    if (!this.db.isSqlite) {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    }
    const last = await manager.getRepository(AuditEntryEntity).find({
      select: { sequence: true, hash: true },
      order: { sequence: 'DESC' },
      take: 1,
    });
    const previous = last[0];
    const entry = manager.getRepository(AuditEntryEntity).create({
      sequence: (previous?.sequence ?? 0) + 1,
      at: new Date(record.at ?? this.clock()).toISOString(),
      actorKind: record.actor.kind,
      actor: record.actor.id,
      cell: record.where.cell,
      step: record.where.step ?? null,
      device: record.where.device ?? null,
      orderId: record.where.orderId ?? null,
      lotId: record.where.lotId ?? null,
      kind: record.kind,
      object: record.object,
      oldValue: text(record.oldValue),
      newValue: text(record.newValue),
      unit: record.unit ?? null,
      reason: record.reason,
      traceId: record.traceId ?? null,
      modelVersion: record.modelVersion ?? null,
      previousHash: previous?.hash ?? GENESIS_HASH,
      hash: '',
    });
    entry.hash = auditEntryHash(entry);
    await manager.insert(AuditEntryEntity, entry);
    return entry;
  }

  /** Entries in sequence order, filtered, one page at a time. */
  async entries(query: AuditQuery = {}): Promise<AuditEntryEntity[]> {
    const builder = this.db.manager
      .getRepository(AuditEntryEntity)
      .createQueryBuilder('e')
      .orderBy('e.sequence', 'ASC')
      .take(Math.min(query.limit ?? 100, 10_000));
    if (query.after !== undefined) builder.andWhere('e.sequence > :after', { after: query.after });
    if (query.orderId) builder.andWhere('e.orderId = :orderId', { orderId: query.orderId });
    if (query.lotId) builder.andWhere('e.lotId = :lotId', { lotId: query.lotId });
    if (query.kinds?.length) builder.andWhere('e.kind IN (:...kinds)', { kinds: query.kinds });
    return builder.getMany();
  }

  /**
   * Walks the whole chain in sequence order, a page at a time: each entry's hash must match
   * its fields, its previous hash the entry before, and sequences must run 1, 2, 3, …
   */
  async verify(pageSize = 2_000): Promise<AuditVerification> {
    let expectedSequence = 1;
    let previousHash = GENESIS_HASH;
    let after = 0;
    for (;;) {
      const page = await this.db.manager.getRepository(AuditEntryEntity).find({
        where: { sequence: MoreThan(after) },
        order: { sequence: 'ASC' },
        take: pageSize,
      });
      for (const entry of page) {
        const broken = (reason: string): AuditVerification => ({
          ok: false,
          entries: expectedSequence - 1,
          broken: { sequence: entry.sequence, reason },
        });
        if (entry.sequence !== expectedSequence) {
          return broken(
            `sequence ${entry.sequence} where ${expectedSequence} was expected (entries missing)`,
          );
        }
        if (entry.previousHash !== previousHash) {
          return broken('its previous hash is not the hash of the entry before it');
        }
        if (auditEntryHash(entry) !== entry.hash) {
          return broken('its fields do not match its hash (the entry was changed)');
        }
        previousHash = entry.hash;
        expectedSequence++;
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1]!.sequence;
    }
    return { ok: true, entries: expectedSequence - 1, head: previousHash };
  }
}

function text(value: AuditRecord['oldValue']): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : String(value);
}
