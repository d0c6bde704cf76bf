import { describeDatabases } from '../../testing';
import { AuditTrail } from '../audit/audit-trail';
import { PersistenceError } from '../errors';
import { ApiClientStore, type ClientChange } from './api-client-store';

describeDatabases('ApiClientStore', (db) => {
  const change = (reason: string): ClientChange => ({
    actor: { kind: 'user', id: 'anna' },
    cell: 'cell-1',
    reason,
  });

  it('refuses to revoke a client that does not exist, and audits what it changes', async () => {
    const trail = new AuditTrail(db());
    const clients = new ApiClientStore(db(), () => Date.parse('2030-01-01T00:00:00Z'), trail);
    const { key } = await clients.create('mes', 'MES', ['viewer'], change('new client MES'));
    await expect(clients.revoke('mse', change('typo'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: 'id',
      message: 'no client "mse"',
    });
    await expect(clients.revoke('mse')).rejects.toBeInstanceOf(PersistenceError);
    expect(await clients.authenticate(key)).toBeDefined();
    expect(await clients.revoke('mes', change('contract ended'))).toEqual({
      revokedAt: '2030-01-01T00:00:00.000Z',
      already: false,
    });
    expect(await clients.authenticate(key)).toBeUndefined();
    expect((await clients.revoke('mes', change('again'))).already).toBe(true);
    const entries = await trail.entries({ kinds: ['client.added', 'client.revoked'] });
    expect(entries.map((e) => [e.kind, e.actor, e.object, e.newValue, e.reason])).toEqual([
      ['client.added', 'anna', 'client/mes', 'viewer', 'new client MES'],
      ['client.revoked', 'anna', 'client/mes', 'revoked', 'contract ended'],
    ]);
  });

  it('adds no client when its audit entry cannot be written', async () => {
    const clients = new ApiClientStore(db(), Date.now, new AuditTrail(db()));
    // A blank reason is refused by the trail: the client must not be left behind without one.
    await expect(clients.create('plc', 'PLC', ['viewer'], change(' '))).rejects.toThrow();
    expect((await clients.list()).map((c) => c.id)).not.toContain('plc');
  });
});
