import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDatabases, scratchSqlite } from '../../testing/databases';
import { Database, parseDatabaseUrl } from '../database';
import { AuditEntryEntity } from '../entities/audit-entry.entity';
import { PersistenceError } from '../errors';
import { readCheckpointFile, writeCheckpointFile } from './audit-checkpoint';
import { AuditHeadExporter } from './audit-key-files';
import { auditEntryHash } from './audit-hash';
import { AuditKeyring, AuditSigner } from './audit-signing';
import { AuditTrail, type AuditRecord, type AuditVerification } from './audit-trail';

const record = (i: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  actor: { kind: 'user', id: 'j.doe' },
  where: { cell: 'cell-1', step: 'nitration', device: 'P-101' },
  kind: 'setpoint',
  object: 'P-101',
  oldValue: i,
  newValue: i + 1,
  unit: 'mL/min',
  reason: `change ${i}`,
  ...extra,
});

describeDatabases('audit trail records', (db) => {
  let now = Date.parse('2026-12-01T08:00:00.000Z');
  const clock = () => (now += 1000);

  it('refuses text it could not read back as it hashed it, naming the field', async () => {
    const audit = new AuditTrail(db(), clock);
    const cases: [Partial<AuditRecord>, string, RegExp][] = [
      [{ reason: 'x \ud800' }, 'reason', /not well-formed Unicode/],
      [{ reason: 'trailing \udfff half' }, 'reason', /not well-formed Unicode/],
      [{ reason: 'a\u0000b' }, 'reason', /control character U\+0000/],
      [{ newValue: 'bell\u0007' }, 'newValue', /control character U\+0007/],
      [
        { actor: { kind: 'user', id: 'x'.repeat(129) } },
        'actor',
        /129 characters long; at most 128/,
      ],
      [{ where: { cell: 'cell-1', lotId: '\ud83d' } }, 'lotId', /well-formed/],
      [{ at: Number.NaN }, 'at', /not a valid instant/],
    ];
    for (const [change, field, message] of cases) {
      const error = await audit.append(record(0, change)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PersistenceError);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
      expect((error as Error).message).toMatch(message);
    }
    // Nothing was written, by any of them; one bad record refuses its whole batch.
    await expect(audit.appendMany([record(1), record(2, { reason: 'x \ud800' })])).rejects.toThrow(
      /reason/,
    );
    expect(await audit.entries()).toEqual([]);
  });

  it('hashes and reads back any well-formed text identically', async () => {
    const audit = new AuditTrail(db(), clock);
    const reasons = [
      'Überdruck – Ventil geprüft ✓',
      'emoji 😀 and a pair \ud83d\ude00',
      '测试 décomposé e\u0301 (not normalised)',
      'tabs\tand\nlines\r\n',
      '"quotes" \\ and </script>',
    ];
    for (const reason of reasons) await audit.append(record(1, { reason }));
    const stored = await audit.entries();
    expect(stored.map((e) => e.reason)).toEqual(reasons);
    expect(await audit.verify()).toMatchObject({ ok: true, entries: reasons.length });
  });
});

describeDatabases('audit trail signatures', (db, scratch) => {
  let now = Date.parse('2026-12-01T09:00:00.000Z');
  const clock = () => (now += 1000);
  const keyA = AuditSigner.generate().signer;
  const keyB = AuditSigner.generate().signer;
  const keyring = new AuditKeyring([keyA.keyringEntry('2026-12-01T00:00:00.000Z')]);
  let signed: Database;
  let dir: string;

  beforeAll(async () => {
    signed = await Database.open(parseDatabaseUrl(scratch().url), {
      audit: { signer: keyA, keyring },
    });
    dir = mkdtempSync(join(tmpdir(), 'pipac-audit-'));
  });
  afterAll(async () => {
    await signed.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What an administrator who can lift the tables' protection can do. */
  async function tamper(
    edit: (run: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>,
  ) {
    const sqlite = db().isSqlite;
    const runner = db().dataSource.createQueryRunner();
    const run = (sql: string, params?: unknown[]) => runner.query(sql, params);
    const tables = ['audit_entry', 'audit_checkpoint'];
    try {
      for (const table of tables) {
        if (sqlite) {
          await run(`DROP TRIGGER ${table}_no_update`);
          await run(`DROP TRIGGER ${table}_no_delete`);
        } else {
          await run(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
        }
      }
      await edit(run);
    } finally {
      for (const table of tables) {
        if (sqlite) {
          for (const op of ['update', 'delete']) {
            await run(
              `CREATE TRIGGER ${table}_no_${op} BEFORE ${op.toUpperCase()} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
            );
          }
        } else {
          await run(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
        }
      }
      await runner.release();
    }
  }

  const p = (sqlite: boolean, i: number) => (sqlite ? '?' : `$${i}`);

  /** Appends an entry as someone with database rights but no key would: chain intact, no signature. */
  async function forgeAppend(reason: string): Promise<number> {
    const [last] = await db()
      .manager.getRepository(AuditEntryEntity)
      .find({ order: { sequence: 'DESC' }, take: 1 });
    const forged = db()
      .manager.getRepository(AuditEntryEntity)
      .create({
        ...last!,
        sequence: last!.sequence + 1,
        reason,
        previousHash: last!.hash,
      });
    forged.hash = auditEntryHash(forged);
    await db().manager.insert(AuditEntryEntity, forged);
    return forged.sequence;
  }

  /** Rewrites entry `from`'s reason and recomputes every hash after it: a consistent rewrite. */
  async function rewriteFrom(from: number): Promise<void> {
    const sqlite = db().isSqlite;
    const entries = await db()
      .manager.getRepository(AuditEntryEntity)
      .find({ order: { sequence: 'ASC' } });
    await tamper(async (run) => {
      let previous = entries[from - 2]!.hash;
      for (const entry of entries.slice(from - 1)) {
        if (entry.sequence === from) entry.reason = 'nothing to see here';
        entry.previousHash = previous;
        entry.hash = auditEntryHash(entry);
        previous = entry.hash;
        await run(
          `UPDATE audit_entry SET reason = ${p(sqlite, 1)}, "previousHash" = ${p(sqlite, 2)}, hash = ${p(sqlite, 3)} WHERE sequence = ${p(sqlite, 4)}`,
          [entry.reason, entry.previousHash, entry.hash, entry.sequence],
        );
      }
    });
  }

  it('signs every append in its transaction and verifies against the keyring', async () => {
    const audit = new AuditTrail(signed, clock);
    await Promise.all(Array.from({ length: 8 }, (_, i) => audit.append(record(i))));
    await audit.appendMany([record(8), record(9), record(10)]);
    const result = await audit.verify();
    expect(result).toMatchObject({
      ok: true,
      entries: 11,
      signatures: 'checked',
      signed: { sequence: 11, keyId: keyA.keyId },
      findings: [],
    });
    const latest = await audit.latestCheckpoint();
    expect(latest).toMatchObject({ sequence: 11, firstSequence: 9, head: result.head });
    // A trail read without any keys says so instead of vouching for the signatures.
    expect(await new AuditTrail(db()).verify()).toMatchObject({
      ok: true,
      signatures: 'not-configured',
      signed: null,
    });
    const head = join(dir, 'head.json');
    writeCheckpointFile(head, latest!);
    expect(readCheckpointFile(head)).toEqual([latest]);
  });

  it('detects entries deleted at the end through the head kept outside the database', async () => {
    const audit = new AuditTrail(signed, clock);
    const outside = readCheckpointFile(join(dir, 'head.json'));
    expect(await audit.verify({ external: outside })).toMatchObject({ ok: true });
    const sqlite = db().isSqlite;
    await tamper(async (run) => {
      await run(`DELETE FROM audit_entry WHERE sequence > ${p(sqlite, 1)}`, [8]);
      await run(`DELETE FROM audit_checkpoint WHERE sequence > ${p(sqlite, 1)}`, [8]);
    });
    // Inside the database the shortened trail is consistent: only the head outside tells.
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 8 });
    const result = await audit.verify({ external: outside });
    expect(result.ok).toBe(false);
    expect(result.findings.map(({ kind, sequence }) => ({ kind, sequence }))).toEqual([
      { kind: 'truncated', sequence: 11 },
    ]);
    expect(result.findings[0]!.message).toMatch(/covers 11 entries; the trail ends at 8/);
    // The trail goes on from 8; the entries after it are new and signed.
    await audit.appendMany([record(11), record(12), record(13)]);
  });

  it('detects an entry appended without the key, also when a signed append follows it', async () => {
    const audit = new AuditTrail(signed, clock);
    const forged = await forgeAppend('approved by QA');
    let result = await audit.verify();
    expect(result.findings.map(({ kind, sequence }) => ({ kind, sequence }))).toEqual([
      { kind: 'unsigned', sequence: forged },
    ]);
    await audit.append(record(20));
    result = await audit.verify();
    expect(result).toMatchObject({ ok: false, signed: { sequence: forged + 1 } });
    expect(result.findings).toEqual([
      {
        kind: 'unsigned',
        sequence: forged,
        message: `entry ${forged} is covered by no signed checkpoint (appended without the signing key)`,
      },
    ]);
  });

  it('detects a rewritten suffix with every hash recomputed, and a forged checkpoint', async () => {
    const audit = new AuditTrail(signed, clock);
    const before = await audit.verify();
    await rewriteFrom(3);
    const result = await audit.verify();
    expect(result.findings.map((f) => f.kind)).toContain('rewritten');
    // The chain itself is consistent: only the signatures tell.
    expect(result.findings.filter((f) => f.kind === 'chain')).toEqual([]);
    expect(result.ok).toBe(false);
    const rewritten = result.findings.filter((f) => f.kind === 'rewritten').map((f) => f.sequence);
    expect(Math.min(...rewritten)).toBeGreaterThanOrEqual(3);
    expect(rewritten).toContain(before.signed!.sequence);

    // Re-signing the rewritten head with a key of one's own does not help.
    const sqlite = db().isSqlite;
    const malloryDb = await Database.open(parseDatabaseUrl(scratch().url), {
      audit: { signer: keyB },
    });
    await new AuditTrail(malloryDb, clock).append(record(30)).finally(() => malloryDb.close());
    const after = await audit.verify();
    const forged = after.findings.find((f) => f.kind === 'bad-checkpoint');
    expect(forged?.sequence).toBe(before.entries + 1);
    expect(forged?.message).toMatch(/not in the keyring/);
    // Nor does hiding the mismatching checkpoints: the entries they covered lose their cover.
    await tamper(async (run) => {
      await run(`DELETE FROM audit_checkpoint WHERE sequence >= ${p(sqlite, 1)}`, [3]);
    });
    const hidden = await audit.verify();
    expect(hidden.findings.map((f) => f.kind)).toEqual(['unsigned']);
    expect(hidden.findings[0]!.sequence).toBeLessThanOrEqual(3);
  });
});

describeDatabases('audit trail read while it grows', (_db, scratch) => {
  it('verifies clean while appends commit during the walk (no false truncation or unsigned entries)', async () => {
    const { signer } = AuditSigner.generate();
    const keyring = new AuditKeyring([signer.keyringEntry('2026-12-01T00:00:00.000Z')]);
    const db = await Database.open(parseDatabaseUrl(scratch().url), { audit: { signer, keyring } });
    try {
      const audit = new AuditTrail(db);
      let writing = true;
      let written = false;
      const writer = (async () => {
        for (let i = 0; writing && i < 400; i++) await audit.append(record(i));
        written = true;
      })();
      // At least 15 walks, and on until the trail grew between two of them: a busy machine
      // may run the first walks before the writer's first commit (seen in CI: 15 walks, one
      // count), which would test nothing. The writer's 400 appends bound it.
      const results: AuditVerification[] = [];
      const counts = () => new Set(results.map((r) => r.entries)).size;
      while (results.length < 15 || (counts() < 2 && !written))
        results.push(await audit.verify({ pageSize: 7 }));
      writing = false;
      await writer;
      expect(results.map((r) => r.findings)).toEqual(results.map(() => []));
      expect(new Set(results.map((r) => r.entries)).size).toBeGreaterThan(1);
    } finally {
      await db.close();
    }
  });
});

describeDatabases('audit trail read beside an open write', (_db, scratch) => {
  it('reads committed entries and heads only: an append rolled back is never exported or verified', async () => {
    const { signer } = AuditSigner.generate();
    const db = await Database.open(parseDatabaseUrl(scratch().url), { audit: { signer } });
    try {
      const audit = new AuditTrail(db);
      await audit.append(record(1));
      const committed = await audit.latestCheckpoint();
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // A change recorded in its own transaction, which then fails after the append.
      const change = db.transaction(async (manager) => {
        await audit.append(record(2), manager);
        inside();
        await gate;
        throw new Error('the change failed after its audit entry');
      });
      await entered;
      const head = audit.latestCheckpoint();
      const verified = audit.verify();
      release();
      await expect(change).rejects.toThrow(/failed after its audit entry/);
      expect(await head).toEqual(committed);
      expect(await verified).toMatchObject({ ok: true, entries: 1, signed: { sequence: 1 } });
    } finally {
      await db.close();
    }
  });
});

describe('the head exported outside the database', () => {
  it('writes the newest checkpoint when it moved, on a timer and once more at stop', async () => {
    const scratch = scratchSqlite();
    const dir = mkdtempSync(join(tmpdir(), 'pipac-head-'));
    const { signer } = AuditSigner.generate();
    const db = await Database.open(parseDatabaseUrl(scratch.url), { audit: { signer } });
    try {
      const audit = new AuditTrail(db);
      const file = join(dir, 'head.json');
      const exporter = new AuditHeadExporter(audit, file);
      expect(await exporter.export()).toBe(false); // nothing signed yet, nothing written
      await audit.append(record(1));
      expect(await exporter.export()).toBe(true);
      expect(await exporter.export()).toBe(false); // unchanged head: not written again
      const errors: unknown[] = [];
      const running = exporter.every(60_000, (e) => errors.push(e));
      await audit.appendMany([record(2), record(3)]);
      await running.stop(); // the final export, without waiting for the timer
      expect(readCheckpointFile(file)).toEqual([await audit.latestCheckpoint()]);
      expect(exporter.sequence).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await db.close();
      await scratch.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('audit signing keys', () => {
  it('rotates: old checkpoints verify with the retired key, new ones need the new key', () => {
    const { signer: a } = AuditSigner.generate();
    const { signer: b, privateKeyPem } = AuditSigner.generate();
    expect(AuditSigner.fromPem(privateKeyPem).keyId).toBe(b.keyId);
    const ring = new AuditKeyring([
      { ...a.keyringEntry('2026-01-01T00:00:00.000Z'), retired: '2026-06-01T00:00:00.000Z' },
      b.keyringEntry('2026-06-01T00:00:00.000Z'),
    ]);
    const round = AuditKeyring.parse(JSON.stringify(ring));
    const old = a.sign('m');
    expect(round.problem(a.keyId, '2026-05-01T00:00:00.000Z', 'm', old)).toBeNull();
    expect(round.problem(a.keyId, '2026-07-01T00:00:00.000Z', 'm', a.sign('m'))).toMatch(
      /after it was retired/,
    );
    expect(round.problem(b.keyId, '2026-07-01T00:00:00.000Z', 'm', b.sign('m'))).toBeNull();
    expect(round.problem(b.keyId, '2026-07-01T00:00:00.000Z', 'n', b.sign('m'))).toMatch(
      /does not verify/,
    );
    expect(() => new AuditKeyring([{ ...b.keyringEntry('x'), id: a.keyId }])).toThrow(/has the id/);
  });
});
