import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { ApiClientStore, AuditTrail } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { pipac } from '../testing/run-pipac';

function osUser(): string {
  try {
    return userInfo().username || 'system';
  } catch {
    return 'system';
  }
}

describe('pipac clients add / revoke', () => {
  it('fails on a client that does not exist, naming it, and leaves the real key live', async () => {
    const scratch = scratchSqlite();
    const added = await pipac('clients', 'add', 'erp-main', '--roles', 'erp', '--db', scratch.url);
    expect(added.code).toBe(0);
    const key = added.stdout.match(/pipac_[0-9a-f]{8}_\S+/)![0];
    const typo = await pipac('clients', 'revoke', 'erp-mian', '--db', scratch.url);
    expect(typo.code).toBe(2);
    expect(typo.stdout).not.toMatch(/revoked/);
    expect(typo.stderr).toContain('no client "erp-mian"');
    const db = await scratch.open();
    expect(await new ApiClientStore(db).authenticate(key)).toBeDefined();
    await db.close();
    const again = await pipac('clients', 'add', 'erp-main', '--roles', 'erp', '--db', scratch.url);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('client "erp-main" exists');
    await scratch.dispose();
  });

  it('records additions and revocations in the audit trail: who, what, why', async () => {
    const scratch = scratchSqlite();
    expect(
      (
        await pipac(
          'clients',
          'add',
          'sap',
          '--roles',
          'erp,viewer',
          '--name',
          'SAP S/4HANA',
          '--db',
          scratch.url,
        )
      ).code,
    ).toBe(0);
    const revoked = await pipac(
      'clients',
      'revoke',
      'sap',
      '--reason',
      'key leaked in a ticket',
      '--cell',
      'cell-7',
      '--db',
      scratch.url,
    );
    expect(revoked).toMatchObject({ code: 0, stdout: 'client sap revoked\n' });
    const twice = await pipac('clients', 'revoke', 'sap', '--reason', 'again', '--db', scratch.url);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/already revoked/);
    expect(
      (await pipac('clients', 'revoke', 'sap', '--reason', ' ', '--db', scratch.url)).code,
    ).toBe(2);
    // A bad option is bad input (exit 2), not an exit from inside the argument parser.
    expect((await pipac('clients', 'revoke', 'sap', '--bogus', '--db', scratch.url)).code).toBe(2);
    const db = await scratch.open();
    const trail = new AuditTrail(db);
    const entries = await trail.entries({ kinds: ['client.added', 'client.revoked'] });
    expect(
      entries.map((e) => [
        e.kind,
        e.actorKind,
        e.actor,
        e.cell,
        e.object,
        e.oldValue,
        e.newValue,
        e.reason,
      ]),
    ).toEqual([
      [
        'client.added',
        expect.any(String),
        osUser(),
        'cell-1',
        'client/sap',
        null,
        'erp,viewer',
        'new client SAP S/4HANA',
      ],
      [
        'client.revoked',
        expect.any(String),
        osUser(),
        'cell-7',
        'client/sap',
        'erp,viewer',
        'revoked',
        'key leaked in a ticket',
      ],
    ]);
    expect((await trail.verify()).ok).toBe(true);
    await db.close();
    await scratch.dispose();
  });

  it("signs its audit entries with the cell's key, so the trail still verifies", async () => {
    const scratch = scratchSqlite();
    const keys = mkdtempSync(join(tmpdir(), 'pipac-keys-'));
    const unsigned = await pipac(
      'clients',
      'add',
      'a',
      '--roles',
      'erp',
      '--db',
      scratch.url,
      '--keys',
      keys,
    );
    expect(unsigned.stderr).toMatch(
      /no audit signing key in .*: the entries this command writes are not signed/,
    );
    expect((await pipac('audit', 'rotate-key', '--keys', keys)).code).toBe(0);
    const signed = ['--db', scratch.url, '--keys', keys];
    expect((await pipac('clients', 'add', 'b', '--roles', 'viewer', ...signed)).stderr).toBe('');
    expect(
      (await pipac('clients', 'revoke', 'b', '--reason', 'contract ended', ...signed)).code,
    ).toBe(0);
    const verified = await pipac(
      'audit',
      'verify',
      '--db',
      scratch.url,
      '--keys',
      keys,
      '--format',
      'json',
    );
    expect(verified.code).toBe(0);
    // The entry from before the key existed is vouched for by the first signed head only.
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      entries: 3,
      unsignedPrefix: 1,
      signed: { sequence: 3 },
    });
    await scratch.dispose();
    rmSync(keys, { recursive: true, force: true });
  });
});
