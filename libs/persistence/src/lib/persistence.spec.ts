import { describeDatabases } from '../testing/databases';
import { AuditTrail } from './audit/audit-trail';
import { ApiClientStore } from './clients/api-client-store';
import { AuditEntryEntity } from './entities/audit-entry.entity';
import { ApiClientEntity } from './entities/api-client.entity';
import { PersistenceError } from './errors';
import { LotStore } from './lots/lot-store';
import { ModelRegistry } from './models/model-registry';
import { OrderStore } from './orders/order-store';
import { WebhookStore } from './webhooks/webhook-store';

const erp = { kind: 'client', id: 'erp' } as const;
const operator = { kind: 'user', id: 'j.doe' } as const;
const order = { erpReference: 'SAP-4711', product: 'paracetamol', quantity: 50, unit: 'g' };

async function refused(promise: Promise<unknown>): Promise<PersistenceError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PersistenceError))
    throw new Error(`expected a PersistenceError, got ${String(error)}`);
  return error;
}

describeDatabases('persistence', (db) => {
  let now = Date.parse('2026-11-29T08:00:00.000Z');
  const clock = () => (now += 1000);

  it('migrates to exactly the schema the entities describe', async () => {
    const pending = await db().dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  describe('audit trail', () => {
    it('chains concurrent appends without gaps and verifies', async () => {
      const audit = new AuditTrail(db(), clock);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          audit.append({
            actor: { kind: 'agent', id: 'step-agent/nitration' },
            where: { cell: 'cell-1', step: 'nitration', device: 'P-101' },
            kind: 'setpoint',
            object: 'P-101.SP',
            oldValue: 1 + i / 100,
            newValue: 1 + (i + 1) / 100,
            unit: 'mL/min',
            reason: 'agent action',
            modelVersion: `sha256:${'a'.repeat(64)}`,
          }),
        ),
      );
      const entries = await audit.entries({ limit: 1000 });
      expect(entries.map((e) => e.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await audit.verify()).toMatchObject({
        ok: true,
        entries: 40,
        head: entries[39]!.hash,
      });
      // Paged verification gives the same answer.
      expect(await audit.verify({ pageSize: 7 })).toMatchObject({ ok: true, entries: 40 });
    });

    it('appends a burst in one transaction, in order', async () => {
      const audit = new AuditTrail(db(), clock);
      const record = (i: number) => ({
        actor: { kind: 'system' as const, id: 'coordinator' },
        where: { cell: 'cell-1', step: 'acetylation' },
        kind: 'target',
        object: 'acetylation/throughput',
        newValue: i,
        reason: `burst ${i}`,
      });
      const entries = await audit.appendMany([record(1), record(2), record(3)]);
      expect(entries.map((e) => e.sequence)).toEqual([41, 42, 43]);
      expect(entries[1]!.previousHash).toBe(entries[0]!.hash);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 43 });
    });

    it('refuses updates and deletes in the database', async () => {
      const repository = db().manager.getRepository(AuditEntryEntity);
      await expect(
        repository.update({ sequence: 3 }, { reason: 'nothing happened' }),
      ).rejects.toThrow(/append-only/);
      await expect(repository.delete({ sequence: 3 })).rejects.toThrow(/append-only/);
    });

    it('names the first entry changed behind its back', async () => {
      const audit = new AuditTrail(db(), clock);
      // What an administrator with the rights to lift the protection could do.
      await tamper(db().isSqlite, async (run) => {
        await run(`UPDATE audit_entry SET "newValue" = '9.99' WHERE sequence = 17`);
      });
      expect(await audit.verify()).toMatchObject({
        ok: false,
        entries: 43,
        broken: {
          sequence: 17,
          reason: 'its fields do not match its hash (the entry was changed)',
        },
      });
      await tamper(db().isSqlite, async (run) => {
        await run(`DELETE FROM audit_entry WHERE sequence >= 17 AND sequence <= 20`);
      });
      const verification = await audit.verify();
      expect(verification).toMatchObject({ ok: false, broken: { sequence: 21 } });
      expect((verification as { broken: { reason: string } }).broken.reason).toMatch(
        /sequence 21 where 17/,
      );
    });

    async function tamper(
      sqlite: boolean,
      edit: (run: (sql: string) => Promise<unknown>) => Promise<void>,
    ) {
      const runner = db().dataSource.createQueryRunner();
      const run = (sql: string) => runner.query(sql);
      try {
        if (sqlite) {
          await run('DROP TRIGGER audit_entry_no_update');
          await run('DROP TRIGGER audit_entry_no_delete');
        } else {
          await run('ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change');
        }
        await edit(run);
      } finally {
        if (sqlite) {
          await run(
            `CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END`,
          );
          await run(
            `CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END`,
          );
        } else {
          await run('ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_change');
        }
        await runner.release();
      }
    }
  });

  describe('orders', () => {
    it('creates once per idempotency key, also under concurrent calls', async () => {
      const orders = new OrderStore(db(), new AuditTrail(db(), clock), { cell: 'cell-1', clock });
      const results = await Promise.all(
        Array.from({ length: 5 }, () => orders.create(erp, 'key-1', order)),
      );
      expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const error = await refused(orders.create(erp, 'key-1', { ...order, quantity: 60 }));
      expect(error).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH', field: 'Idempotency-Key' });
      // Keys are per client.
      const other = await orders.create({ kind: 'client', id: 'erp-2' }, 'key-1', order);
      expect(other.created).toBe(true);
    });

    it('follows the ISA-95 states, audits each change and refuses the rest', async () => {
      const audit = new AuditTrail(db(), clock);
      const orders = new OrderStore(db(), audit, { cell: 'cell-1', clock });
      const seen: string[] = [];
      orders.onStateChange(async (_manager, change) => {
        seen.push(`${change.from ?? '∅'}→${change.to}`);
      });
      const { order: created } = await orders.create(erp, 'key-states', order);
      expect(created.state).toBe('Forecast');
      for (const command of ['release', 'prepare', 'start', 'hold', 'resume', 'start'] as const) {
        await orders.transition(
          created.id,
          command,
          command === 'hold' ? operator : erp,
          `${command} it`,
        );
      }
      expect(await refused(orders.transition(created.id, 'close', erp, 'too early'))).toMatchObject(
        { code: 'INVALID_TRANSITION', message: 'cannot close an order that is Running' },
      );
      const done = await orders.transition(
        created.id,
        'complete',
        { kind: 'system', id: 'coordinator' },
        'made',
      );
      expect(done).toMatchObject({ state: 'Completed', version: 8 });
      expect(done.startedAt).not.toBeNull();
      expect(done.endedAt).not.toBeNull();
      expect(seen).toEqual([
        '∅→Forecast',
        'Forecast→Released',
        'Released→Ready',
        'Ready→Running',
        'Running→Held',
        'Held→Ready',
        'Ready→Running',
        'Running→Completed',
      ]);
      const trail = await audit.entries({ orderId: created.id });
      expect(trail.map((e) => [e.actor, e.oldValue, e.newValue])).toEqual([
        ['erp', null, 'Forecast'],
        ['erp', 'Forecast', 'Released'],
        ['erp', 'Released', 'Ready'],
        ['erp', 'Ready', 'Running'],
        ['j.doe', 'Running', 'Held'],
        ['erp', 'Held', 'Ready'],
        ['erp', 'Ready', 'Running'],
        ['coordinator', 'Running', 'Completed'],
      ]);
      expect(await refused(orders.transition(created.id, 'close', erp, ' '))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'reason',
      });
      expect(
        await refused(
          orders.transition(created.id, 'close', erp, 'booked', { expectedVersion: 3 }),
        ),
      ).toMatchObject({ code: 'CONFLICT' });
    });

    it('rolls a change back when a listener fails (the outbox never misses one)', async () => {
      const audit = new AuditTrail(db(), clock);
      const orders = new OrderStore(db(), audit, { cell: 'cell-1', clock });
      const { order: created } = await orders.create(erp, 'key-rollback', {
        ...order,
        release: true,
      });
      orders.onStateChange(async () => {
        throw new Error('outbox unavailable');
      });
      await expect(orders.transition(created.id, 'hold', operator, 'check')).rejects.toThrow(
        'outbox unavailable',
      );
      expect((await orders.get(created.id)).state).toBe('Released');
      expect((await audit.entries({ orderId: created.id })).map((e) => e.newValue)).toEqual([
        'Released',
      ]);
    });

    it('pages through orders newest first without repeats', async () => {
      const orders = new OrderStore(db(), new AuditTrail(db(), clock), {
        cell: 'cell-page',
        clock,
      });
      const client = { kind: 'client', id: 'erp-page' } as const;
      for (let i = 0; i < 7; i++)
        await orders.create(client, `page-${i}`, { ...order, erpReference: `P-${i}` });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await orders.list({
          limit: 3,
          ...(cursor ? { cursor } : {}),
          states: ['Forecast'],
        });
        seen.push(...page.items.map((o) => o.erpReference).filter((r) => r.startsWith('P-')));
        cursor = page.next;
        pages++;
      } while (cursor);
      expect(seen).toEqual(['P-6', 'P-5', 'P-4', 'P-3', 'P-2', 'P-1', 'P-0']);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(await refused(orders.list({ cursor: 'garbage' }))).toMatchObject({ field: 'cursor' });
      expect(await refused(orders.list({ states: ['Done' as never] }))).toMatchObject({
        field: 'state',
      });
    });
  });

  it('keeps lot genealogy across the steps and sums production performance', async () => {
    const lots = new LotStore(db());
    const at = '2026-11-29T08:00:00.000Z';
    await lots.createLot(
      { id: 'PHENOL-B17', material: 'phenol-solution', unit: 'g', status: 'complete' },
      at,
    );
    for (const [id, material, step] of [
      ['L1/nitration', '4-nitrophenol', 'nitration'],
      ['L1/hydrogenation', '4-aminophenol', 'hydrogenation'],
      ['L1/acetylation', 'paracetamol', 'acetylation'],
    ] as const) {
      await lots.createLot({ id, material, step, orderId: 'order-1', unit: 'g' }, at);
    }
    const interval = (
      step: string,
      from: string,
      to: string,
      input: string,
      output: string,
      made: number,
    ) =>
      lots.recordInterval({
        orderId: 'order-1',
        step,
        from: at,
        to: at,
        produced: { lotId: to, material: output, quantity: made, inSpec: made * 0.9, unit: 'g' },
        consumed: [{ lotId: from, material: input, quantity: made * 1.2, unit: 'g' }],
      });
    for (let i = 0; i < 3; i++) {
      await interval(
        'nitration',
        'PHENOL-B17',
        'L1/nitration',
        'phenol-solution',
        '4-nitrophenol',
        10,
      );
      await interval(
        'hydrogenation',
        'L1/nitration',
        'L1/hydrogenation',
        '4-nitrophenol',
        '4-aminophenol',
        8,
      );
      await interval(
        'acetylation',
        'L1/hydrogenation',
        'L1/acetylation',
        '4-aminophenol',
        'paracetamol',
        9,
      );
    }
    const tree = await lots.genealogy('L1/acetylation');
    expect(tree.ancestors.map((l) => [l.fromLotId, l.step, l.quantity])).toEqual([
      ['L1/hydrogenation', 'acetylation', expect.closeTo(32.4, 9)],
      ['L1/nitration', 'hydrogenation', expect.closeTo(28.8, 9)],
      ['PHENOL-B17', 'nitration', expect.closeTo(36, 9)],
    ]);
    expect(tree.lot.quantity).toBeCloseTo(24.3, 9);
    expect((await lots.genealogy('PHENOL-B17')).descendants.map((l) => l.toLotId)).toEqual([
      'L1/nitration',
      'L1/hydrogenation',
      'L1/acetylation',
    ]);
    const totals = await lots.performance('order-1');
    const made = totals.find((t) => t.step === 'acetylation' && t.kind === 'produced');
    expect(made?.material).toBe('paracetamol');
    expect(made?.quantity).toBeCloseTo(27, 9);
    expect(made?.inSpecQuantity).toBeCloseTo(24.3, 9);
    expect(totals).toHaveLength(6);
    await expect(lots.genealogy('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stores API keys hashed and authenticates them', async () => {
    const clients = new ApiClientStore(db(), clock);
    const { key } = await clients.create('erp-main', 'SAP S/4HANA', ['erp']);
    expect(key).toMatch(/^pipac_[0-9a-f]{8}_/);
    expect((await clients.authenticate(key))?.roles).toEqual(['erp']);
    expect(
      await clients.authenticate(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`),
    ).toBeUndefined();
    expect(await clients.authenticate('Bearer nonsense')).toBeUndefined();
    const stored = await db()
      .manager.getRepository(ApiClientEntity)
      .findOneByOrFail({ id: 'erp-main' });
    // The secret part (after pipac_<prefix>_; base64url may itself hold '_') is nowhere in the row.
    expect(JSON.stringify(stored)).not.toContain(key.slice('pipac_12345678_'.length));
    await clients.revoke('erp-main');
    expect(await clients.authenticate(key)).toBeUndefined();
    expect(await refused(clients.create('erp-main', 'again', ['erp']))).toMatchObject({
      code: 'CONFLICT',
    });
    expect(await refused(clients.create('x', 'x', ['root' as never]))).toMatchObject({
      field: 'roles',
    });
  });

  it('deploys one model per step and audits it', async () => {
    const audit = new AuditTrail(db(), clock);
    const registry = new ModelRegistry(db(), audit, 'cell-1', clock);
    const engineer = { kind: 'user', id: 'a.engineer' } as const;
    // Versions as the agents report them: the file's SHA-256 with its algorithm.
    const [v1, v2, v3] = ['1', '2', '3'].map((d) => `sha256:${d.repeat(64)}`) as [
      string,
      string,
      string,
    ];
    const model = (version: string) => ({
      version,
      recipe: 'paracetamol',
      step: 'nitration',
      location: `models/${version}.onnx`,
      card: { features: ['x'], score: 0.9 },
    });
    await registry.register(model(v1), engineer);
    await registry.register(model(v2), engineer);
    await registry.deploy(v1, engineer, 'first deployment');
    await registry.deploy(v2, engineer, 'better under feed drift');
    expect((await registry.deployed('paracetamol', 'nitration'))?.version).toBe(v2);
    expect((await registry.list('paracetamol')).map((m) => m.status).sort()).toEqual([
      'deployed',
      'retired',
    ]);
    expect((await registry.list())[0]!.card).toEqual({ features: ['x'], score: 0.9 });
    const deployments = await audit.entries({ kinds: ['model.deployed'] });
    expect(deployments.map((e) => [e.oldValue, e.newValue])).toEqual([
      [null, v1],
      [v1, v2],
    ]);
    expect(await refused(registry.deploy(v3, engineer, 'x'))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('owes each event once per subscription and schedules retries', async () => {
    const webhooks = new WebhookStore(db(), clock);
    const all = await webhooks.subscribe('erp', 'http://127.0.0.1:9/hook');
    await webhooks.subscribe('erp', 'http://127.0.0.1:9/lots', ['lot.completed']);
    await db().transaction((m) =>
      webhooks.enqueue(m, { id: 'evt-1', type: 'order.state-changed', payload: '{"a":1}' }),
    );
    await expect(
      db().transaction((m) =>
        webhooks.enqueue(m, { id: 'evt-1', type: 'order.state-changed', payload: '{}' }),
      ),
    ).rejects.toThrow();
    const due = await webhooks.due();
    expect(due.map((d) => [d.subscriptionId, d.eventId])).toEqual([[all.id, 'evt-1']]);
    await webhooks.attemptFailed(due[0]!.id, 1, 'connection refused', now + 60_000);
    // A later event waits behind the one being retried: deliveries go out in order.
    await db().transaction((m) =>
      webhooks.enqueue(m, { id: 'evt-2', type: 'order.state-changed', payload: '{"a":2}' }),
    );
    expect(await webhooks.due()).toEqual([]);
    now += 61_000;
    expect((await webhooks.due()).map((d) => d.eventId)).toEqual(['evt-1']);
    await webhooks.delivered(due[0]!.id, 2);
    expect((await webhooks.deliveries('evt-1'))[0]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastError: null,
    });
    expect((await webhooks.due()).map((d) => d.eventId)).toEqual(['evt-2']);
  });
});
