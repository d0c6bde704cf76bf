import { Between, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { PersistenceError } from '../errors';
import { AuditCheckpointEntity } from '../entities/audit-checkpoint.entity';
import { AuditEntryEntity, type ActorKind } from '../entities/audit-entry.entity';
import { checkpointMessage, type AuditCheckpoint } from './audit-checkpoint';
import { GENESIS_HASH, auditEntryHash } from './audit-hash';
import { AuditKeyring, type AuditSigner } from './audit-signing';
import { checkAuditText } from './audit-text';
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

/** What verification found wrong, one kind per way a trail can be tampered with. */
export type AuditFindingKind =
  /** An entry's fields do not match its hash, its link to the entry before, or its number. */
  | 'chain'
  /** A signed checkpoint covers entries the trail no longer has (entries deleted at the end). */
  | 'truncated'
  /** An entry's hash differs from the one a checkpoint signed (rewritten, hashes recomputed). */
  | 'rewritten'
  /** Entries no valid signature covers: appended by someone without the signing key. */
  | 'unsigned'
  /** A checkpoint whose signature, key or range does not hold (forged or altered). */
  | 'bad-checkpoint';

export interface AuditFinding {
  kind: AuditFindingKind;
  /** The entry (or checkpoint) concerned. */
  sequence: number;
  message: string;
}

export interface AuditVerification {
  /** True when nothing was found. */
  ok: boolean;
  /** Entries read. */
  entries: number;
  /** The last entry's stored hash (the genesis hash for an empty trail). */
  head: string;
  /**
   * `checked`: checkpoints were verified against a keyring and every entry since signing began
   * must be covered; `not-configured`: no keyring, the hash chain alone was checked (it cannot
   * tell a consistent rewrite, a forged append or a truncation from the real thing).
   */
  signatures: 'checked' | 'not-configured';
  /** The newest checkpoint that verified, in the database or outside it. */
  signed: { sequence: number; at: string; keyId: string } | null;
  /** Entries before signing began, covered only through the first checkpoint's head. */
  unsignedPrefix: number;
  /** Everything found, in trail order, at most `MAX_FINDINGS`. */
  findings: AuditFinding[];
  /** More findings than were listed. */
  moreFindings: number;
  /** The first finding, when there is one. */
  broken?: { sequence: number; reason: string };
}

export interface AuditVerifyOptions {
  /** The public keys; @default the database options' keyring, or the signer's own key */
  keyring?: AuditKeyring | undefined;
  /** Checkpoints kept outside the database (an exported head file, the head topic). */
  external?: readonly AuditCheckpoint[];
  /** @default 2000 */
  pageSize?: number;
}

/** Findings listed before the rest are only counted. */
export const MAX_FINDINGS = 50;

/** Column lengths of the audit entry's text fields (the trail refuses longer ones). */
const TEXT_LIMITS = {
  actor: 128,
  cell: 64,
  step: 64,
  device: 64,
  orderId: 36,
  lotId: 64,
  kind: 32,
  object: 128,
  unit: 16,
  traceId: 32,
  modelVersion: 80,
} as const;

/** The PostgreSQL advisory lock that serialises appends across processes. */
const APPEND_LOCK = 0x70697061; // "pipa"

/**
 * The append-only, hash-chained audit trail. Each entry's hash covers its fields and the
 * previous entry's hash; appends are serialised (one writer at a time, across processes on
 * PostgreSQL) so the chain has no forks and no gaps. With a signing key (the database options'
 * `audit.signer`), each append also writes a checkpoint signed with Ed25519 over the new head,
 * in the same transaction. `verify` recomputes the chain, checks every checkpoint (and those kept
 * outside the database) against the keyring, and names everything that does not fit.
 */
export class AuditTrail {
  private readonly appended = counter(METRICS.auditEntries);

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  private get signer(): AuditSigner | undefined {
    return this.db.options.audit?.signer;
  }

  /** Appends in its own transaction, or inside `manager`'s (with the change it records). */
  async append(record: AuditRecord, manager?: EntityManager): Promise<AuditEntryEntity> {
    const [entry] = await this.appendMany([record], manager);
    return entry!;
  }

  /**
   * Appends several entries, in order, in one transaction (or `manager`'s): for recorders that
   * take events in bursts, one lock, one checkpoint and one commit instead of one per entry.
   * Every record is checked before any is written: one bad field refuses the batch.
   */
  async appendMany(records: AuditRecord[], manager?: EntityManager): Promise<AuditEntryEntity[]> {
    if (records.length === 0) return [];
    records.forEach(checkRecord);
    const run = async (m: EntityManager) => {
      const entries: AuditEntryEntity[] = [];
      for (const record of records) entries.push(await this.appendWithin(m, record));
      await this.checkpoint(m, entries[0]!.sequence, entries[entries.length - 1]!);
      return entries;
    };
    return manager ? run(manager) : this.db.transaction(run);
  }

  private async appendWithin(
    manager: EntityManager,
    record: AuditRecord,
  ): Promise<AuditEntryEntity> {
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

  /** Signs the head after this writer's entries `firstSequence..last`, in their transaction. */
  private async checkpoint(
    manager: EntityManager,
    firstSequence: number,
    last: AuditEntryEntity,
  ): Promise<void> {
    const signer = this.signer;
    if (!signer) return;
    const unsigned = {
      sequence: last.sequence,
      firstSequence,
      head: last.hash,
      at: new Date(this.clock()).toISOString(),
      keyId: signer.keyId,
    };
    const signature = signer.sign(checkpointMessage(unsigned));
    await manager.insert(AuditCheckpointEntity, { ...unsigned, signature });
  }

  /** The newest checkpoint in the database, to publish outside it; null before any. */
  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    // Committed only: a head that is then rolled back would read as a truncation later.
    const [latest] = await this.db.read((m) =>
      m.getRepository(AuditCheckpointEntity).find({ order: { sequence: 'DESC' }, take: 1 }),
    );
    return latest ?? null;
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
   * Walks the whole trail in sequence order, a page at a time, and reports everything that does
   * not fit rather than stopping at the first break (a break must not hide what follows it):
   * - each entry's hash must match its fields, its previous hash the entry before, and
   *   sequences must run 1, 2, 3, … (`chain`);
   * - with a keyring, each checkpoint's signature must verify (`bad-checkpoint`), the entry it
   *   names must still exist (`truncated`) with the hash it signed (`rewritten`), and every
   *   entry from the first checkpoint's range on must lie in some valid checkpoint's range
   *   (`unsigned`); checkpoints kept outside the database are checked the same way.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    const pageSize = options.pageSize ?? 2_000;
    const keyring = options.keyring ?? this.db.options.audit?.keyring ?? this.signerKeyring();
    const walk = new TrailWalk(keyring, options.external ?? []);
    // The trail may grow while it is read (the cell keeps running). An entry and its checkpoint
    // commit together, so: every checkpoint up to `signedEnd`, read first, had its entries
    // committed before `end` was read; checkpoints past `end` up to `signedEnd` name entries
    // that are gone (a truncation), and anything appended after `end` is left for the next run.
    // Each read sees committed data only (`Database.read`), a page at a time.
    const { end, signedEnd } = await this.db.read(async (m) => {
      const [lastCheckpoint] = keyring
        ? await m
            .getRepository(AuditCheckpointEntity)
            .find({ select: { sequence: true }, order: { sequence: 'DESC' }, take: 1 })
        : [];
      const [lastEntry] = await m
        .getRepository(AuditEntryEntity)
        .find({ select: { sequence: true }, order: { sequence: 'DESC' }, take: 1 });
      const last = lastEntry?.sequence ?? 0;
      return { end: last, signedEnd: Math.max(last, lastCheckpoint?.sequence ?? 0) };
    });
    let after = 0;
    for (;;) {
      const from = after + 1;
      const { page, covering, complete, last } = await this.db.read(async (m) => {
        const page = await m.getRepository(AuditEntryEntity).find({
          where: { sequence: Between(from, end) },
          order: { sequence: 'ASC' },
          take: pageSize,
        });
        const last = page[page.length - 1]?.sequence ?? end;
        const complete = page.length < pageSize || last >= end;
        // The last page also takes the checkpoints past the last entry (a truncated trail).
        const covering = keyring
          ? await m.getRepository(AuditCheckpointEntity).find({
              where: { sequence: Between(from, complete ? signedEnd : last) },
              order: { sequence: 'ASC' },
            })
          : [];
        return { page, covering, complete, last };
      });
      walk.page(page, covering);
      if (complete) break;
      after = last;
    }
    return walk.result();
  }

  private signerKeyring(): AuditKeyring | undefined {
    const signer = this.signer;
    return signer ? new AuditKeyring([signer.keyringEntry('')]) : undefined;
  }
}

/** The state of one verification, fed a page of entries (and their checkpoints) at a time. */
class TrailWalk {
  private expectedSequence = 1;
  private previousHash = GENESIS_HASH;
  private entries = 0;
  private readonly findings: AuditFinding[] = [];
  private moreFindings = 0;
  /** The first entry not yet inside a valid checkpoint's range. */
  private uncoveredFrom = 1;
  private sawValidCheckpoint = false;
  private unsignedPrefix = 0;
  private signed: AuditVerification['signed'] = null;
  /** Stored hashes of the entries external checkpoints name, by sequence. */
  private readonly externalBySequence = new Map<number, AuditCheckpoint[]>();

  constructor(
    private readonly keyring: AuditKeyring | undefined,
    external: readonly AuditCheckpoint[],
  ) {
    for (const checkpoint of external) {
      const problem = this.checkpointProblem(checkpoint);
      if (problem) {
        this.find('bad-checkpoint', checkpoint.sequence, `checkpoint kept outside: ${problem}`);
        continue;
      }
      const list = this.externalBySequence.get(checkpoint.sequence) ?? [];
      list.push(checkpoint);
      this.externalBySequence.set(checkpoint.sequence, list);
    }
  }

  page(entries: readonly AuditEntryEntity[], checkpoints: readonly AuditCheckpointEntity[]): void {
    const bySequence = new Map<number, AuditCheckpointEntity>();
    for (const checkpoint of checkpoints) {
      const problem = this.checkpointProblem(checkpoint);
      if (problem) this.find('bad-checkpoint', checkpoint.sequence, problem);
      else bySequence.set(checkpoint.sequence, checkpoint);
    }
    const present = new Set(entries.map((e) => e.sequence));
    for (const checkpoint of bySequence.values()) {
      if (!present.has(checkpoint.sequence)) {
        this.find(
          'truncated',
          checkpoint.sequence,
          `a checkpoint signed at ${checkpoint.at} names entry ${checkpoint.sequence}, which is gone`,
        );
      }
    }
    for (const entry of entries) {
      this.entry(entry);
      const own = bySequence.get(entry.sequence);
      if (own) this.covered(entry, own, 'a checkpoint');
      for (const outside of this.externalBySequence.get(entry.sequence) ?? []) {
        this.covered(entry, outside, 'the checkpoint kept outside the database');
      }
      this.externalBySequence.delete(entry.sequence);
    }
  }

  private entry(entry: AuditEntryEntity): void {
    this.entries++;
    if (entry.sequence !== this.expectedSequence) {
      this.find(
        'chain',
        entry.sequence,
        `sequence ${entry.sequence} where ${this.expectedSequence} was expected (entries missing)`,
      );
    } else if (entry.previousHash !== this.previousHash) {
      this.find(
        'chain',
        entry.sequence,
        'its previous hash is not the hash of the entry before it',
      );
    }
    if (auditEntryHash(entry) !== entry.hash) {
      this.find(
        'chain',
        entry.sequence,
        'its fields do not match its hash (the entry was changed)',
      );
    }
    // Carry on from what is stored, so one break does not hide the next.
    this.previousHash = entry.hash;
    this.expectedSequence = entry.sequence + 1;
  }

  /** `entry` is the last one `checkpoint` covers (the checkpoint's signature verified). */
  private covered(entry: AuditEntryEntity, checkpoint: AuditCheckpoint, what: string): void {
    if (checkpoint.head !== entry.hash) {
      this.find(
        'rewritten',
        entry.sequence,
        `${what} signed at ${checkpoint.at} has another hash for entry ${entry.sequence}: ` +
          'the trail up to it was rewritten',
      );
      return;
    }
    if (checkpoint.firstSequence > this.uncoveredFrom) {
      if (this.sawValidCheckpoint) {
        this.unsigned(this.uncoveredFrom, checkpoint.firstSequence - 1);
      } else {
        // Written before signing began: vouched for only by this first checkpoint's head.
        this.unsignedPrefix = checkpoint.firstSequence - 1;
      }
    }
    this.sawValidCheckpoint = true;
    this.uncoveredFrom = Math.max(this.uncoveredFrom, entry.sequence + 1);
    if (!this.signed || this.signed.sequence <= entry.sequence) {
      this.signed = { sequence: entry.sequence, at: checkpoint.at, keyId: checkpoint.keyId };
    }
  }

  private unsigned(from: number, to: number): void {
    this.find(
      'unsigned',
      from,
      from === to
        ? `entry ${from} is covered by no signed checkpoint (appended without the signing key)`
        : `entries ${from} to ${to} are covered by no signed checkpoint (appended without the signing key)`,
    );
  }

  private checkpointProblem(checkpoint: AuditCheckpoint): string | null {
    if (!this.keyring) return null;
    if (!(checkpoint.firstSequence >= 1 && checkpoint.firstSequence <= checkpoint.sequence)) {
      return `checkpoint ${checkpoint.sequence} names an impossible range from ${checkpoint.firstSequence}`;
    }
    return this.keyring.problem(
      checkpoint.keyId,
      checkpoint.at,
      checkpointMessage(checkpoint),
      checkpoint.signature,
    );
  }

  private find(kind: AuditFindingKind, sequence: number, message: string): void {
    if (this.findings.length < MAX_FINDINGS) this.findings.push({ kind, sequence, message });
    else this.moreFindings++;
  }

  result(): AuditVerification {
    if (this.keyring) {
      const last = this.expectedSequence - 1;
      if (this.entries > 0 && this.uncoveredFrom <= last) this.unsigned(this.uncoveredFrom, last);
      for (const [sequence, [outside]] of this.externalBySequence) {
        this.find(
          'truncated',
          sequence,
          `the checkpoint kept outside the database (signed at ${outside!.at}) covers ` +
            `${sequence} entries; the trail ends at ${last}`,
        );
      }
    }
    const findings = this.findings.sort((a, b) => a.sequence - b.sequence);
    const first = findings[0];
    return {
      ok: findings.length === 0,
      entries: this.entries,
      head: this.previousHash,
      signatures: this.keyring ? 'checked' : 'not-configured',
      signed: this.signed,
      unsignedPrefix: this.unsignedPrefix,
      findings,
      moreFindings: this.moreFindings,
      ...(first ? { broken: { sequence: first.sequence, reason: first.message } } : {}),
    };
  }
}

/** Refuses a record the trail could not hold faithfully, naming the field (see audit-text). */
function checkRecord(record: AuditRecord): void {
  if (!record.reason.trim()) {
    throw new PersistenceError('INVALID_ARGUMENT', 'an audit entry needs a reason', 'reason');
  }
  checkAuditText('reason', record.reason);
  checkAuditText('actor', record.actor.id, TEXT_LIMITS.actor);
  checkAuditText('object', record.object, TEXT_LIMITS.object);
  checkAuditText('kind', record.kind, TEXT_LIMITS.kind);
  for (const field of ['cell', 'step', 'device', 'orderId', 'lotId'] as const) {
    const value = record.where[field];
    if (value !== undefined) checkAuditText(field, value, TEXT_LIMITS[field]);
  }
  for (const field of ['unit', 'traceId', 'modelVersion'] as const) {
    const value = record[field];
    if (value !== undefined) checkAuditText(field, value, TEXT_LIMITS[field]);
  }
  for (const field of ['oldValue', 'newValue'] as const) {
    const value = record[field];
    if (typeof value === 'string') checkAuditText(field, value);
  }
  if (record.at !== undefined && !Number.isFinite(new Date(record.at).getTime())) {
    throw new PersistenceError('INVALID_ARGUMENT', `at ${record.at} is not a valid instant`, 'at');
  }
}

function text(value: AuditRecord['oldValue']): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : String(value);
}
