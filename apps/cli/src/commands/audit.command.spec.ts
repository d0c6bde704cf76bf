import { ApiClientStore, AuditTrail } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { pipac } from '../testing/run-pipac';

describe('pipac audit verify', () => {
  it('verifies a chain and exits 3 naming the first entry changed', async () => {
    const scratch = scratchSqlite();
    const db = await scratch.open();
    const audit = new AuditTrail(db);
    for (let i = 0; i < 5; i++) {
      await audit.append({
        actor: { kind: 'user', id: 'op' },
        where: { cell: 'c' },
        kind: 'mode',
        object: 'nitration',
        newValue: i % 2 ? 'Automatic' : 'Operator',
        reason: 'shift change',
      });
    }
    const verified = await pipac('audit', 'verify', '--db', scratch.url);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/audit trail verified: 5 entries, head [0-9a-f]{64}/);
    await db.dataSource.query('DROP TRIGGER audit_entry_no_update');
    await db.dataSource.query(`UPDATE audit_entry SET actor = 'someone else' WHERE sequence = 4`);
    await db.close();
    const broken = await pipac('audit', 'verify', '--db', scratch.url, '--format', 'json');
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout)).toEqual({
      ok: false,
      entries: 3,
      broken: { sequence: 4, reason: 'its fields do not match its hash (the entry was changed)' },
    });
    expect(broken.stderr).toMatch(/audit trail broken at entry 4/);
    expect((await pipac('audit', 'verify', '--db', 'mysql://x')).code).toBe(2);
    await scratch.dispose();
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
