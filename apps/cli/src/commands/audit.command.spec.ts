import { ApiClientStore, AuditTrail } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { main } from '../main';

describe('pipac audit verify', () => {
  const out: string[] = [];
  beforeEach(() => {
    out.length = 0;
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  });
  afterEach(() => jest.restoreAllMocks());

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
    expect(await main(['audit', 'verify', '--db', scratch.url])).toBe(0);
    expect(out.join('')).toMatch(/audit trail verified: 5 entries, head [0-9a-f]{64}/);
    await db.dataSource.query('DROP TRIGGER audit_entry_no_update');
    await db.dataSource.query(`UPDATE audit_entry SET actor = 'someone else' WHERE sequence = 4`);
    await db.close();
    out.length = 0;
    expect(await main(['audit', 'verify', '--db', scratch.url, '--format', 'json'])).toBe(3);
    expect(JSON.parse(out[0]!)).toEqual({
      ok: false,
      entries: 3,
      broken: { sequence: 4, reason: 'its fields do not match its hash (the entry was changed)' },
    });
    expect(await main(['audit', 'verify', '--db', 'mysql://x'])).toBe(2);
    await scratch.dispose();
  });
});

describe('pipac clients', () => {
  const out: string[] = [];
  beforeEach(() => {
    out.length = 0;
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  });
  afterEach(() => jest.restoreAllMocks());

  it('adds a client with its roles, prints its key once, lists and revokes it', async () => {
    const scratch = scratchSqlite();
    expect(
      await main(['clients', 'add', 'erp', '--roles', 'erp,viewer', '--db', scratch.url]),
    ).toBe(0);
    const key = out.join('').match(/pipac_[0-9a-f]{8}_\S+/)?.[0];
    expect(key).toBeDefined();
    const db = await scratch.open();
    expect((await new ApiClientStore(db).authenticate(key!))?.roles).toEqual(['erp', 'viewer']);
    await db.close();
    out.length = 0;
    expect(await main(['clients', 'list', '--db', scratch.url])).toBe(0);
    expect(out.join('')).toMatch(/erp\s+erp\s+erp,viewer/);
    expect(out.join('')).not.toContain(key!);
    expect(await main(['clients', 'revoke', 'erp', '--db', scratch.url])).toBe(0);
    expect(await main(['clients', 'add', 'x', '--roles', 'root', '--db', scratch.url])).toBe(2);
    await scratch.dispose();
  });
});
