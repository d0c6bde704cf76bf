import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiClientStore,
  AuditEntryEntity,
  AuditTrail,
  Database,
  auditEntryHash,
  loadAuditKeys,
  parseDatabaseUrl,
} from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { pipac } from '../testing/run-pipac';

const entry = (i: number) => ({
  actor: { kind: 'user' as const, id: 'op' },
  where: { cell: 'c' },
  kind: 'mode',
  object: 'nitration',
  newValue: i % 2 ? 'Automatic' : 'Operator',
  reason: 'shift change',
});

describe('pipac audit verify', () => {
  it('verifies a chain and exits 3 naming the first entry changed', async () => {
    const scratch = scratchSqlite();
    const keys = mkdtempSync(join(tmpdir(), 'pipac-keys-'));
    const db = await scratch.open();
    const audit = new AuditTrail(db);
    for (let i = 0; i < 5; i++) await audit.append(entry(i));
    const verified = await pipac('audit', 'verify', '--db', scratch.url, '--keys', keys);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/audit trail verified: 5 entries, head [0-9a-f]{64}/);
    expect(verified.stdout).toMatch(/signatures not checked \(no keyring/);
    await db.dataSource.query('DROP TRIGGER audit_entry_no_update');
    await db.dataSource.query(`UPDATE audit_entry SET actor = 'someone else' WHERE sequence = 4`);
    await db.dataSource.query(`UPDATE audit_entry SET reason = 'x' WHERE sequence = 2`);
    await db.close();
    const broken = await pipac(
      'audit',
      'verify',
      '--db',
      scratch.url,
      '--keys',
      keys,
      '--format',
      'json',
    );
    expect(broken.code).toBe(3);
    // Both changes are named: the first break does not hide the second.
    expect(JSON.parse(broken.stdout)).toMatchObject({
      ok: false,
      entries: 5,
      findings: [
        {
          kind: 'chain',
          sequence: 2,
          message: 'its fields do not match its hash (the entry was changed)',
        },
        {
          kind: 'chain',
          sequence: 4,
          message: 'its fields do not match its hash (the entry was changed)',
        },
      ],
      broken: { sequence: 2, reason: 'its fields do not match its hash (the entry was changed)' },
    });
    expect(broken.stderr).toMatch(/audit trail broken: 2 finding\(s\), the first at entry 2/);
    expect((await pipac('audit', 'verify', '--db', 'mysql://x')).code).toBe(2);
    expect(
      (await pipac('audit', 'verify', '--db', scratch.url, '--keyring', join(keys, 'none.json')))
        .code,
    ).toBe(2);
    await scratch.dispose();
    rmSync(keys, { recursive: true, force: true });
  });

  it('signs with a key outside the database and finds truncation, forged appends and rewrites', async () => {
    const scratch = scratchSqlite();
    const keys = mkdtempSync(join(tmpdir(), 'pipac-keys-'));
    const made = await pipac('audit', 'rotate-key', '--keys', keys);
    expect(made.stdout).toMatch(/audit signing key [0-9a-f]{32} made in/);
    const open = () =>
      Database.open(parseDatabaseUrl(scratch.url), {
        audit: loadAuditKeys(keys, { create: false }),
      });
    let db = await open();
    let audit = new AuditTrail(db);
    for (let i = 0; i < 6; i++) await audit.append(entry(i));
    await db.close();
    const head = join(keys, 'head.json');
    expect((await pipac('audit', 'head', '--db', scratch.url, '--out', head)).code).toBe(0);
    expect(JSON.parse(readFileSync(head, 'utf8'))).toMatchObject({
      format: 'pipac-audit-checkpoint/1',
      sequence: 6,
    });
    const ok = await pipac('audit', 'verify', '--db', scratch.url, '--keys', keys);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/signed up to entry 6 \(key [0-9a-f]{32}/);

    // Rotation: entries after it are signed by the new key; both verify.
    const rotated = await pipac('audit', 'rotate-key', '--keys', keys);
    expect(rotated.stdout).toMatch(/; key [0-9a-f]{32} retired/);
    db = await open();
    audit = new AuditTrail(db);
    await audit.append(entry(6));
    await db.close();
    expect((await pipac('audit', 'verify', '--db', scratch.url, '--keys', keys)).code).toBe(0);

    // Someone with the database, not the key: deletes the last three entries and their
    // checkpoints, then appends a forged one that chains correctly.
    const raw = await scratch.open();
    for (const table of ['audit_entry', 'audit_checkpoint']) {
      await raw.dataSource.query(`DROP TRIGGER ${table}_no_delete`);
    }
    await raw.dataSource.query('DELETE FROM audit_entry WHERE sequence > 4');
    await raw.dataSource.query('DELETE FROM audit_checkpoint WHERE sequence > 4');
    const [last] = await raw.manager
      .getRepository(AuditEntryEntity)
      .find({ order: { sequence: 'DESC' }, take: 1 });
    const forged = raw.manager.getRepository(AuditEntryEntity).create({
      ...last!,
      sequence: 5,
      reason: 'released by QA',
      previousHash: last!.hash,
    });
    forged.hash = auditEntryHash(forged);
    await raw.manager.insert(AuditEntryEntity, forged);
    await raw.close();
    const found = await pipac('audit', 'verify', '--db', scratch.url, '--keys', keys);
    expect(found.code).toBe(3);
    expect(found.stdout).toMatch(/unsigned at entry 5: entry 5 is covered by no signed checkpoint/);
    expect(found.stdout).toMatch(
      /truncated at entry 6: the checkpoint kept outside the database .* covers 6 entries; the trail ends at 5/,
    );
    await scratch.dispose();
    rmSync(keys, { recursive: true, force: true });
  });
});

describe('pipac clients', () => {
  it('adds a client with its roles, prints its key once, lists and revokes it', async () => {
    const scratch = scratchSqlite();
    const added = await pipac(
      'clients',
      'add',
      'erp',
      '--roles',
      'erp,viewer',
      '--db',
      scratch.url,
    );
    expect(added.code).toBe(0);
    const key = added.stdout.match(/pipac_[0-9a-f]{8}_\S+/)?.[0];
    expect(key).toBeDefined();
    const db = await scratch.open();
    expect((await new ApiClientStore(db).authenticate(key!))?.roles).toEqual(['erp', 'viewer']);
    await db.close();
    const listed = await pipac('clients', 'list', '--db', scratch.url);
    expect(listed.stdout).toMatch(/erp\s+erp\s+erp,viewer/);
    expect(listed.stdout).not.toContain(key!);
    expect((await pipac('clients', 'revoke', 'erp', '--db', scratch.url)).code).toBe(0);
    expect((await pipac('clients', 'add', 'x', '--roles', 'root', '--db', scratch.url)).code).toBe(
      2,
    );
    await scratch.dispose();
  });
});
