/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call --
   The scenarios read the REST answers as the ERP would: untyped JSON. */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribeEvents, type EventBus } from '@pipac/bus';
import {
  Issuer_Kind,
  deadLetterTopic,
  setpointCommandCodec,
  timestampMs,
  topicName,
} from '@pipac/contracts';
import { Stores, verifyWebhook } from '@pipac/erp-gateway';
import { restClient, type RestCall } from '@pipac/erp-gateway/testing';
import { AuditTrail } from '@pipac/persistence';
import { Cell } from '../app/cell';

const REPO = join(__dirname, '../../../..');

export interface CellTransport {
  bus: EventBus;
  /** `sqlite:<file>` or `postgres://…`, migrated on start. */
  database: string;
  site: string;
  dispose(): Promise<void>;
}

/**
 * The cell end to end, as plant IT and the ERP see it, in one suite that runs on the embedded
 * parts (in-process bus, SQLite) and on the real ones (Kafka, PostgreSQL); the plant is the
 * simulator's OPC UA server either way. An order posted over REST is made; its lots, genealogy
 * and batch record are complete; the ERP's webhook receiver gets each state change once; the
 * audit chain verifies, and a tampered row is found; an operator's mode request stops the
 * agent writing; bad input, unknown clients and wrong roles are refused.
 */
export function describeCellScenarios(name: string, transport: () => Promise<CellTransport>): void {
  describe(`the cell end to end (${name})`, () => {
    let io: CellTransport;
    let cell: Cell;
    let stateDir: string;
    let call: RestCall;
    const keys: Record<string, string> = {};
    let receiver: Server;
    let secret = '';
    const acknowledged: { id: string; state: string }[] = [];
    // The cell's log with seconds since the suite began: a failure shows what the cell did last.
    const began = Date.now();
    const trace: string[] = [];
    const note = (line: string) =>
      trace.push(`${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s  ${line}`);
    const recent = () => `\ncell log, last lines:\n${trace.slice(-40).join('\n')}`;

    beforeAll(async () => {
      io = await transport();
      stateDir = mkdtempSync(join(tmpdir(), 'pipac-cell-'));
      cell = await Cell.start({
        site: io.site,
        recipePath: join(REPO, 'recipes/paracetamol.yaml'),
        modelsDir: join(REPO, 'models/paracetamol'),
        bus: io.bus,
        database: io.database,
        stateDir,
        timeFactor: 240,
        warmUp: 1800,
        http: { host: '127.0.0.1', port: 0 },
        // The ERP's receiver below listens on loopback, which webhooks may not reach unless allowed.
        webhookAllowNetworks: ['127.0.0.0/8'],
        log: note,
      });
      note('cell started');
      call = restClient(`${cell.url}/api/v1`, 'x-api-key');
      const stores = cell.gateway.app.get(Stores);
      for (const [id, roles] of [
        ['erp', ['erp']],
        ['operator', ['operator']],
        ['viewer', ['viewer']],
      ] as const) {
        keys[id] = (await stores.clients.create(`${id}-${io.site}`, id, [...roles])).key;
      }
      // The ERP's webhook receiver: checks the signature, acknowledges each delivery.
      receiver = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          if (!verifyWebhook(secret, request.headers, body))
            return void response.writeHead(401).end();
          const event = JSON.parse(body);
          acknowledged.push({ id: event.id, state: event.data.state });
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const port = (receiver.address() as { port: number }).port;
      const subscription = await call('POST', '/webhooks', keys['erp'], {
        url: `http://127.0.0.1:${port}/pipac`,
      });
      secret = subscription.body.secret;
    }, 180_000);

    afterAll(async () => {
      // Each part only if it was made: a failed start must not hang the clean-up too.
      if (receiver) await new Promise((resolve) => receiver.close(resolve));
      await cell?.stop();
      await io?.dispose();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }, 60_000);

    async function until(
      condition: () => boolean | Promise<boolean>,
      what: string,
      timeoutMs = 120_000,
    ) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline)
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${recent()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    /** The step's promise, or an error naming the step if it takes longer than `timeoutMs`. */
    async function within<T>(what: string, step: Promise<T>, timeoutMs = 60_000): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: not done after ${timeoutMs} ms${recent()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([step, late]);
      } finally {
        clearTimeout(timer);
      }
    }

    it('refuses bad input, unknown clients and wrong roles, naming the field', async () => {
      const order = { erpReference: 'E2E-BAD', product: 'paracetamol', quantity: 5, unit: 'g' };
      expect((await call('GET', '/orders', undefined)).status).toBe(401);
      expect((await call('GET', '/orders', 'pipac_deadbeef_' + 'A'.repeat(43))).status).toBe(401);
      expect(
        (await call('POST', '/orders', keys['viewer'], order, { 'idempotency-key': 'bad-1' }))
          .status,
      ).toBe(403);
      expect(
        (await call('POST', '/steps/nitration/mode', keys['erp'], { mode: 'offline', reason: 'x' }))
          .status,
      ).toBe(403);
      const bad = await call(
        'POST',
        '/orders',
        keys['erp'],
        { ...order, quantity: 0 },
        { 'idempotency-key': 'bad-2' },
      );
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['quantity']);
      const noKey = await call('POST', '/orders', keys['erp'], order);
      expect(noKey.body.errors[0].field).toBe('Idempotency-Key');
    });

    it('makes an order posted over REST: lots, genealogy, batch record, each webhook once, a verified audit trail', async () => {
      const posted = await call(
        'POST',
        '/orders',
        keys['erp'],
        {
          erpReference: `E2E-${io.site}`,
          product: 'paracetamol',
          quantity: 8,
          unit: 'g',
          release: true,
        },
        { 'idempotency-key': `e2e-${io.site}` },
      );
      expect(posted.status).toBe(201);
      const id = posted.body.id as string;
      await until(
        async () => (await call('GET', `/orders/${id}`, keys['viewer'])).body.state === 'Completed',
        'the order to complete',
        150_000,
      );
      const order = (await call('GET', `/orders/${id}`, keys['viewer'])).body;
      expect(order.producedQuantity).toBeGreaterThanOrEqual(8);

      const lots = (await call('GET', `/orders/${id}/lots`, keys['viewer'])).body as {
        id: string;
        step: string | null;
      }[];
      // One lot a step makes, one per feed, and one per surge tank for what it held when the
      // order started (its opening inventory, a lot of its own).
      const opening = lots.filter((l) => l.id.endsWith('.opening'));
      expect(opening.length).toBe(cell.model.tanks.length);
      expect(
        lots
          .filter((l) => l.step && !opening.includes(l))
          .map((l) => l.step)
          .sort(),
      ).toEqual(['acetylation', 'hydrogenation', 'nitration']);
      expect(lots.filter((l) => !l.step).length).toBe(cell.model.feeds.length);
      const genealogy = (await call('GET', `/lots/${order.outputLotId}/genealogy`, keys['viewer']))
        .body;
      const ancestors = genealogy.ancestors.map((a: { fromLotId: string }) => a.fromLotId);
      expect(ancestors).toContain(
        lots.find((l) => l.step === 'hydrogenation' && !opening.includes(l))!.id,
      );
      expect(ancestors.some((a: string) => a.endsWith('acetic-anhydride-neat'))).toBe(true);

      await cell.coordinator.recorder.flush();
      const record = (await call('GET', `/lots/${order.outputLotId}/batch-record`, keys['viewer']))
        .body;
      expect(record.order.state).toBe('Completed');
      expect(record.orderEvents.map((e: { newValue: string }) => e.newValue)).toEqual([
        'Released',
        'Ready',
        'Running',
        'Completed',
      ]);
      expect(record.setpointChanges.length).toBeGreaterThan(0);
      expect(record.qualityResults.length).toBeGreaterThan(0);
      expect(record.modelVersions.length).toBeGreaterThan(0);
      expect(
        record.performance.find(
          (p: { step: string; kind: string }) => p.step === 'acetylation' && p.kind === 'produced',
        ).inSpecQuantity,
      ).toBeGreaterThanOrEqual(8);
      expect(record.auditTrail.ok).toBe(true);

      // The ERP heard of every state change of the order, once each, in order.
      await until(
        () => acknowledged.filter((a) => a.id.startsWith(id)).length >= 4,
        'four webhook deliveries',
        30_000,
      );
      const mine = acknowledged.filter((a) => a.id.startsWith(id));
      expect(mine.map((a) => a.state)).toEqual(['Released', 'Ready', 'Running', 'Completed']);
      expect(new Set(mine.map((a) => a.id)).size).toBe(mine.length);
    }, 240_000);

    it('stops the agent writing when an operator switches its step to Operator mode', async () => {
      const step = 'acetylation';
      const agent = cell.agents.find((a) => a.space.step.id === step)!;
      expect(agent.mode).toBe('automatic');
      /** Each command's issuer and issue time (the agent's clock, as its mode log). */
      const commands: { issuer: Issuer_Kind; issuedAt: number }[] = [];
      const subscription = await within(
        'subscribing to the setpoints',
        subscribeEvents(io.bus, {
          group: `e2e-watch-${io.site}`,
          topic: topicName({ site: io.site, cell: 'cell-1', step, stream: 'setpoints' }),
          codec: setpointCommandCodec,
          deadLetterTopic: deadLetterTopic(io.site, 'cell-1'),
          handler: async (c) =>
            void commands.push({
              issuer: c.issuer?.kind ?? Issuer_Kind.UNSPECIFIED,
              issuedAt: c.issuedAt ? timestampMs(c.issuedAt) : Number.NaN,
            }),
        }),
      );
      try {
        const asked = await within(
          'asking for Operator mode',
          call('POST', `/steps/${step}/mode`, keys['operator'], {
            mode: 'operator',
            reason: 'sampling for the lab',
          }),
        );
        expect(asked.status).toBe(202);
        await until(() => agent.mode === 'operator', 'the agent to take Operator mode', 30_000);
        const switched = agent.modeLog.at(-1)!.at;
        const cycles = agent.stats.cycles;
        await until(() => agent.stats.cycles >= cycles + 10, 'ten more agent cycles', 60_000);
        // Commands already in flight may land after the switch (the broker's delivery takes
        // what it takes on a busy machine); none is issued after it. Judged by the command's
        // own issue time, not its arrival. The plant clock moves in the simulator's ticks: a
        // cycle that ran before the switch within the same tick carries the switch's time
        // (under load, several cycles did), so only a later time is after it.
        const late = commands.filter(
          (c) => !(c.issuedAt <= switched) && c.issuer !== Issuer_Kind.USER,
        );
        expect(late).toEqual([]);
        await within('flushing the audit recorder', cell.coordinator.recorder.flush());
        const trail = await new AuditTrail(cell.db).entries({ kinds: ['mode'], limit: 1000 });
        expect(trail.at(-1)).toMatchObject({
          step,
          actorKind: 'user',
          actor: `operator-${io.site}`,
          newValue: 'Operator',
          reason: 'sampling for the lab',
        });
      } finally {
        await within('closing the subscription', subscription.close());
      }
    }, 240_000);

    it("applies an operator's setpoint over REST: confirmed by read-back, the agent yields and writes no more, every attempt audited", async () => {
      const step = 'nitration';
      const agent = cell.agents.find((a) => a.space.step.id === step)!;
      expect(agent.mode).toBe('automatic');
      const audit = new AuditTrail(cell.db);
      await within('flushing the audit recorder', cell.coordinator.recorder.flush());
      const before = (await entriesAfter(audit, 0)).at(-1)?.sequence ?? 0;
      const operator = `operator-${io.site}`;
      const override = (body: Record<string, unknown>, path = `/steps/${step}/setpoints`) =>
        within('posting a setpoint', call('POST', path, keys['operator'], body));

      // What the plant refuses is refused at the edge, naming the field and the reason.
      const refusals: [Record<string, unknown>, number, string, RegExp][] = [
        [
          { tag: 'P-101.SP', value: 1e308, unit: 'mL/min', reason: 'typo' },
          422,
          'value',
          /outside the engineering range of P-101, 0\.\.12 mL\/min/,
        ],
        [
          { tag: 'P-201.SP', value: 5, unit: 'mL/min', reason: 'wrong step' },
          422,
          'tag',
          /P-201 is a setpoint of step hydrogenation, not of nitration/,
        ],
        [
          { tag: 'P-101.SP', value: 5, unit: 'L/h', reason: 'wrong unit' },
          422,
          'unit',
          /P-101 takes mL\/min/,
        ],
      ];
      for (const [body, status, field, reason] of refusals) {
        const refused = await override(body);
        expect(refused.status).toBe(status);
        expect(refused.body.errors).toEqual([{ field, reason: expect.stringMatching(reason) }]);
      }
      const nowhere = await override(
        { tag: 'P-101.SP', value: 5, unit: 'mL/min', reason: 'no such step' },
        '/steps/cooking/setpoints',
      );
      expect(nowhere.status).toBe(404);
      expect(agent.mode).toBe('automatic');

      const commands: { issuer: Issuer_Kind; tag: string; at: number }[] = [];
      const subscription = await within(
        'subscribing to the setpoints',
        subscribeEvents(io.bus, {
          group: `e2e-override-${io.site}`,
          topic: topicName({ site: io.site, cell: 'cell-1', step, stream: 'setpoints' }),
          codec: setpointCommandCodec,
          deadLetterTopic: deadLetterTopic(io.site, 'cell-1'),
          handler: async (c) =>
            void commands.push({
              issuer: c.issuer?.kind ?? Issuer_Kind.UNSPECIFIED,
              tag: c.targetTag,
              at: Date.now(),
            }),
        }),
      );
      try {
        // 2.5 mL/min: inside P-101's engineering range (0..12), below the agent's (3..9).
        const accepted = await override({
          tag: 'P-101.SP',
          value: 2.5,
          unit: 'mL/min',
          reason: 'feed vessel running low',
        });
        expect(accepted.status).toBe(202);
        expect(accepted.body.location).toBe(
          `/api/v1/steps/${step}/setpoints/${accepted.body.commandId}`,
        );
        const path = (accepted.body.location as string).slice('/api/v1'.length);
        const outcome = async (): Promise<Record<string, unknown>> =>
          (await call('GET', path, keys['viewer'])).body as Record<string, unknown>;
        await until(
          async () => (await outcome()).state === 'applied',
          'the device to confirm',
          30_000,
        );
        expect(await outcome()).toMatchObject({
          commandId: accepted.body.commandId,
          tag: 'P-101',
          device: 'nitration-module',
          value: 2.5,
          issuedBy: operator,
          outcome: 'applied',
          valueReadBack: 2.5,
        });
        expect(cell.simulator.server.value('P-101.SP')).toBe(2.5);
        await until(() => agent.mode === 'operator', 'the agent to leave Automatic', 30_000);
        const switched = Date.now();
        const cycles = agent.stats.cycles;
        await until(() => agent.stats.cycles >= cycles + 10, 'ten more agent cycles', 60_000);
        // The agent wrote nothing after it yielded, and nothing it had on its way overwrote
        // the operator's value (the adapter refuses a controller's write out of Automatic).
        expect(
          commands.filter((c) => c.at > switched + 200 && c.issuer !== Issuer_Kind.USER),
        ).toEqual([]);
        expect(cell.simulator.server.value('P-101.SP')).toBe(2.5);
        await until(
          async () =>
            (await call('GET', '/steps', keys['viewer'])).body.find(
              (s: { step: string }) => s.step === step,
            )?.mode === 'operator',
          'GET /steps to show Operator',
          30_000,
        );

        await within('flushing the audit recorder', cell.coordinator.recorder.flush());
        const trail = (await entriesAfter(audit, before)).filter((e) => e.step === step || !e.step);
        // The agent may have had a write of its own applied before the operator's (it was in
        // Automatic until then); none after it.
        const applied = trail.filter((e) => e.kind === 'setpoint' && e.object === 'P-101');
        const byOperator = applied.findIndex((e) => e.actorKind === 'user');
        expect(applied.slice(byOperator)).toEqual([
          expect.objectContaining({
            actorKind: 'user',
            actor: operator,
            device: 'nitration-module',
            newValue: '2.5',
            unit: 'mL/min',
            reason: 'feed vessel running low',
            oldValue: expect.stringMatching(/^[0-9.]+$/),
          }),
        ]);
        expect(applied[byOperator]!.oldValue).not.toBe('2.5');
        expect(trail.filter((e) => e.kind === 'mode').at(-1)).toMatchObject({
          actorKind: 'user',
          actor: operator,
          newValue: 'Operator',
          reason: expect.stringMatching(/P-101 to 2.5 mL\/min: feed vessel running low$/),
        });
        const refused = trail.filter(
          (e) => e.kind === 'setpoint.refused' && e.actorKind === 'user',
        );
        expect(refused.map((e) => [e.actor, e.step, e.object, e.newValue, e.unit])).toEqual([
          [operator, step, 'P-101', '1e+308', 'mL/min'],
          [operator, step, 'P-201', '5', 'mL/min'],
          [operator, step, 'P-101', '5', 'L/h'],
          [operator, null, 'P-101', '5', 'mL/min'],
        ]);
        expect(refused[0]!.reason).toMatch(
          /^refused by the gateway: 1e\+308 mL\/min is outside the engineering range of P-101, 0\.\.12 mL\/min; reason given: typo$/,
        );
        expect(refused[3]!.reason).toMatch(/"cooking" is not a step of this cell.*no such step$/);
        expect((await audit.verify()).ok).toBe(true);
      } finally {
        await within('closing the subscription', subscription.close());
      }
    }, 240_000);

    it('finds a tampered audit row and names it', async () => {
      const audit = new AuditTrail(cell.db);
      const before = await audit.verify();
      // Signed by the cell's key, every entry covered (the cell signs from its first start).
      expect(before).toMatchObject({ ok: true, signatures: 'checked', unsignedPrefix: 0 });
      expect(before.signed?.sequence).toBe(before.entries);
      const victim = Math.max(1, Math.floor(before.entries / 2));
      const runner = cell.db.dataSource.createQueryRunner();
      try {
        // What an administrator with the rights to lift the protection could do.
        if (cell.db.isSqlite) await runner.query('DROP TRIGGER audit_entry_no_update');
        else await runner.query('ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change');
        await runner.query(
          `UPDATE audit_entry SET reason = 'nothing to see' WHERE sequence = ${victim}`,
        );
      } finally {
        await runner.release();
      }
      expect(await audit.verify()).toMatchObject({ ok: false, broken: { sequence: victim } });
    });
  });
}

/** Every audit entry after `sequence`, a page at a time. */
async function entriesAfter(audit: AuditTrail, sequence: number) {
  const all: Awaited<ReturnType<AuditTrail['entries']>> = [];
  let after = sequence;
  for (;;) {
    const page = await audit.entries({ after, limit: 10_000 });
    all.push(...page);
    if (page.length < 10_000) return all;
    after = page.at(-1)!.sequence;
  }
}
