/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   The tests probe JSON answers as the ERP would: untyped. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus, subscribeEvents } from '@pipac/bus';
import {
  Issuer_Kind,
  Mode,
  deadLetterTopic,
  deviceStateCodec,
  setpointCommandCodec,
  topicName,
  type DeviceState,
  type SetpointCommand,
} from '@pipac/contracts';
import { describeDatabases } from '@pipac/persistence/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createErpGateway } from './erp-gateway.app';
import type { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { WebhookDispatcher as Dispatcher } from './webhooks/webhook-dispatcher';
import { Stores } from './stores';
import { verifyWebhook } from './webhooks/webhook-signature';
import { restClient, type RestAnswer, type RestCall } from '../testing/rest-client';

const REPO = join(__dirname, '../../../..');
const STEPS = ['nitration', 'hydrogenation', 'acetylation'];

describeDatabases('erp-gateway', (db) => {
  let app: NestExpressApplication;
  let base: string;
  let call: RestCall;
  let bus: InProcessBus;
  let stores: Stores;
  let dispatcher: WebhookDispatcher;
  const keys: Record<string, string> = {};
  let modelsDir: string;

  beforeAll(async () => {
    bus = new InProcessBus();
    await bus.connect();
    modelsDir = mkdtempSync(join(tmpdir(), 'pipac-models-'));
    ({ app } = await createErpGateway(
      {
        site: 'demo',
        cell: 'cell-1',
        steps: STEPS,
        recipe: 'paracetamol',
        product: 'paracetamol',
        db: db(),
        bus,
        modelsDir,
        webhooks: {
          initialDelayMs: 20,
          pollMs: 20,
          maxAttempts: 5,
          timeoutMs: 2000,
          // The tests' receiver listens on loopback, which webhooks may not reach by default.
          allowNetworks: ['127.0.0.0/8'],
        },
      },
      { logger: false },
    ));
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1');
    call = restClient(base);
    stores = app.get(Stores);
    dispatcher = app.get(Dispatcher);
    for (const [id, roles] of [
      ['erp', ['erp']],
      ['op', ['operator']],
      ['eng', ['engineer']],
      ['viewer', ['viewer']],
    ] as const) {
      keys[id] = (await stores.clients.create(id, id, [...roles])).key;
    }
  });

  afterAll(async () => {
    await app.close();
    await bus.disconnect();
  });

  const order = { erpReference: 'SAP-4711', product: 'paracetamol', quantity: 25, unit: 'g' };

  it('serves its OpenAPI 3 document', async () => {
    const { status, body } = await call('GET', '/openapi.json', undefined);
    expect(status).toBe(200);
    expect(body['openapi']).toMatch(/^3\./);
    expect(Object.keys(body['paths'] as object)).toEqual(
      expect.arrayContaining([
        '/api/v1/orders',
        '/api/v1/orders/{id}/hold',
        '/api/v1/lots/{lotId}/batch-record',
        '/api/v1/webhooks',
        '/api/v1/steps/{step}/mode',
        '/api/v1/models/{version}/deploy',
      ]),
    );
    expect(body['components']['schemas']['CreateOrderDto']['required']).toEqual(
      expect.arrayContaining(['erpReference', 'product', 'quantity', 'unit']),
    );
    // Every operation declares its path parameters, its refusals as problem details, and both
    // ways to present a credential (the schemathesis e2e suite checks the answers themselves).
    interface Parameter {
      name: string;
      in: string;
      schema?: { pattern?: string };
    }
    interface Operation {
      parameters?: Parameter[];
      responses: Record<string, { content?: unknown }>;
      security?: unknown[];
    }
    const paths = body['paths'] as Record<string, Record<string, Operation>>;
    const problem = { $ref: '#/components/schemas/ProblemView' };
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const declared = (operation.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect([method, path, declared]).toEqual([method, path, inPath]);
        for (const status of ['401', '403']) {
          expect([method, path, operation.responses[status]?.content]).toEqual([
            method,
            path,
            { 'application/problem+json': { schema: problem } },
          ]);
        }
        expect(operation.security).toEqual(
          expect.arrayContaining([{ apiKey: [] }, { bearer: [] }]),
        );
      }
    }
    const registerModel = Object.keys(paths['/api/v1/models']!['post']!.responses);
    expect(registerModel).toContain('201');
    expect(registerModel).not.toContain('200');
    const pattern = paths['/api/v1/orders']!['post']!.parameters!.find(
      (p) => p.name === 'Idempotency-Key',
    )!.schema!.pattern!;
    expect(new RegExp(pattern).test('erp-1')).toBe(true);
    expect(new RegExp(pattern).test('with space')).toBe(false);
  });

  it('refuses unknown clients and wrong roles', async () => {
    expect((await call('GET', '/orders', undefined)).status).toBe(401);
    const unknown = await call('GET', '/orders', 'pipac_00000000_' + 'x'.repeat(43));
    expect(unknown).toMatchObject({ status: 401, body: { detail: 'unknown or revoked API key' } });
    expect(unknown.type).toContain('application/problem+json');
    const wrongRole = await call('POST', '/orders', keys['viewer'], order, {
      'idempotency-key': 'v-1',
    });
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body['detail']).toMatch(/needs erp/);
    expect(
      (await call('POST', '/orders', keys['op'], order, { 'idempotency-key': 'o-1' })).status,
    ).toBe(403);
    expect((await call('GET', '/orders', keys['viewer'])).status).toBe(200);
    const live = await fetch(`${base.replace('/api/v1', '')}/health/ready`);
    expect(live.status).toBe(200);
  });

  it('creates orders idempotently and names the field of bad input', async () => {
    const first = await call('POST', '/orders', keys['erp'], order, { 'idempotency-key': 'erp-1' });
    expect(first).toMatchObject({
      status: 201,
      body: { state: 'Forecast', quantity: 25, progress: 0, version: 1 },
    });
    const replay = await call('POST', '/orders', keys['erp'], order, {
      'idempotency-key': 'erp-1',
    });
    expect(replay).toMatchObject({ status: 200, body: { id: first.body['id'] } });
    const changed = await call(
      'POST',
      '/orders',
      keys['erp'],
      { ...order, quantity: 26 },
      { 'idempotency-key': 'erp-1' },
    );
    expect(changed).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'Idempotency-Key' }] },
    });
    const cases: [unknown, Record<string, string>, number, string][] = [
      [order, {}, 400, 'Idempotency-Key'],
      [{ ...order, quantity: -1 }, { 'idempotency-key': 'b1' }, 400, 'quantity'],
      [{ ...order, quantity: '25' }, { 'idempotency-key': 'b2' }, 400, 'quantity'],
      [{ ...order, unit: 'lb' }, { 'idempotency-key': 'b3' }, 400, 'unit'],
      [{ ...order, colour: 'blue' }, { 'idempotency-key': 'b4' }, 400, 'colour'],
      [{ ...order, dueAt: 'tomorrow' }, { 'idempotency-key': 'b5' }, 400, 'dueAt'],
      [{ ...order, product: 'ibuprofen' }, { 'idempotency-key': 'b6' }, 422, 'product'],
      ['{"erpReference": ', { 'idempotency-key': 'b7' }, 400, ''],
    ];
    for (const [body, headers, status, field] of cases) {
      const answer = await call('POST', '/orders', keys['erp'], body, headers);
      expect({ field, status: answer.status }).toEqual({ field, status });
      if (field)
        expect(answer.body['errors'].map((e: { field: string }) => e.field)).toContain(field);
      expect(answer.body['detail']).toEqual(expect.any(String));
    }
    expect((await call('GET', '/orders/not-a-uuid', keys['erp'])).body['errors']).toEqual([
      { field: 'id', reason: 'must be an order id (a UUID)' },
    ]);
    expect(
      (await call('GET', '/orders/6f1c8a8e-4a8e-4c4e-9a55-0d6b1c3f2a11', keys['erp'])).status,
    ).toBe(404);
  });

  it('moves orders through their states by role, with a reason, and pages the list', async () => {
    const { body: created } = await call(
      'POST',
      '/orders',
      keys['erp'],
      { ...order, erpReference: 'SAP-5000' },
      { 'idempotency-key': 'erp-states' },
    );
    const id = created['id'] as string;
    expect(
      (await call('POST', `/orders/${id}/release`, keys['erp'], {})).body['errors'][0]['field'],
    ).toBe('reason');
    expect((await call('POST', `/orders/${id}/release`, keys['op'], { reason: 'x' })).status).toBe(
      403,
    );
    expect(
      (await call('POST', `/orders/${id}/release`, keys['erp'], { reason: 'planned' })).body[
        'state'
      ],
    ).toBe('Released');
    expect(
      (await call('POST', `/orders/${id}/hold`, keys['op'], { reason: 'pump check' })).body[
        'state'
      ],
    ).toBe('Held');
    const invalid = await call('POST', `/orders/${id}/close`, keys['erp'], { reason: 'done?' });
    expect(invalid).toMatchObject({
      status: 409,
      body: { detail: 'cannot close an order that is Held' },
    });
    const stale = await call('POST', `/orders/${id}/resume`, keys['op'], {
      reason: 'ok',
      expectedVersion: 1,
    });
    expect(stale.status).toBe(409);
    expect(
      (await call('POST', `/orders/${id}/abort`, keys['erp'], { reason: 'cancelled' })).body[
        'state'
      ],
    ).toBe('Aborted');
    const trail = await stores.audit.entries({ orderId: id });
    expect(trail.map((e) => [e.actor, e.newValue, e.reason])).toEqual([
      ['erp', 'Forecast', 'order SAP-5000 received'],
      ['erp', 'Released', 'planned'],
      ['op', 'Held', 'pump check'],
      ['erp', 'Aborted', 'cancelled'],
    ]);
    const first = await call('GET', '/orders?limit=1', keys['viewer']);
    expect(first.body['items']).toHaveLength(1);
    const second = await call(
      'GET',
      `/orders?limit=1&cursor=${first.body['next']}`,
      keys['viewer'],
    );
    expect(second.body['items'][0]['id']).not.toBe(first.body['items'][0]['id']);
    expect(
      (await call('GET', '/orders?state=Aborted', keys['viewer'])).body['items'].map(
        (o: { id: string }) => o.id,
      ),
    ).toEqual([id]);
    expect(
      (await call('GET', '/orders?state=Done', keys['viewer'])).body['errors'][0]['field'],
    ).toBe('state');
    expect((await call('GET', '/orders?limit=0', keys['viewer'])).body['errors'][0]['field']).toBe(
      'limit',
    );
  });

  it('delivers each state change to the ERP, signed, retrying until acknowledged', async () => {
    const received: { id: string; body: string; ok: boolean }[] = [];
    let failuresLeft = 2;
    let secret = '';
    const server: Server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const valid = verifyWebhook(secret, request.headers, body);
        const ok = valid && failuresLeft-- <= 0;
        received.push({ id: String(request.headers['pipac-event-id']), body, ok });
        response.writeHead(ok ? 204 : valid ? 503 : 401).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const subscribed = await call('POST', '/webhooks', keys['erp'], {
        url: `http://127.0.0.1:${port}/events`,
      });
      expect(subscribed.status).toBe(201);
      secret = subscribed.body['secret'] as string;
      expect(
        (await call('POST', '/webhooks', keys['erp'], { url: 'ftp://x' })).body['errors'][0][
          'field'
        ],
      ).toBe('url');
      const { body: created } = await call(
        'POST',
        '/orders',
        keys['erp'],
        { ...order, erpReference: 'SAP-6000', release: true },
        { 'idempotency-key': 'erp-hooks' },
      );
      const id = created['id'] as string;
      await call('POST', `/orders/${id}/hold`, keys['op'], { reason: 'lab check' });
      await call('POST', `/orders/${id}/resume`, keys['op'], { reason: 'lab ok' });
      for (let i = 0; i < 100 && received.filter((r) => r.ok).length < 3; i++) {
        await dispatcher.flush();
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const acknowledged = received.filter((r) => r.ok);
      expect(acknowledged.map((r) => r.id)).toEqual([`${id}.1`, `${id}.2`, `${id}.3`]);
      expect(received.filter((r) => !r.ok)).toHaveLength(2);
      expect(acknowledged.map((r) => JSON.parse(r.body).data.state)).toEqual([
        'Released',
        'Held',
        'Ready',
      ]);
      const deliveries = await stores.webhooks.deliveries(`${id}.1`);
      expect(deliveries[0]).toMatchObject({ status: 'delivered', attempts: 3 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      for (const s of await stores.webhooks.subscriptions())
        await stores.webhooks.unsubscribe(s.id);
    }
  });

  it('puts operator mode requests and setpoints on the step topics as a person', async () => {
    const seen: (DeviceState | SetpointCommand)[] = [];
    const subs = await Promise.all([
      subscribeEvents(bus, {
        group: 'test-state',
        topic: topicName({ site: 'demo', cell: 'cell-1', step: 'nitration', stream: 'state' }),
        codec: deviceStateCodec,
        deadLetterTopic: deadLetterTopic('demo', 'cell-1'),
        handler: async (e) => void seen.push(e),
      }),
      subscribeEvents(bus, {
        group: 'test-setpoints',
        topic: topicName({ site: 'demo', cell: 'cell-1', step: 'nitration', stream: 'setpoints' }),
        codec: setpointCommandCodec,
        deadLetterTopic: deadLetterTopic('demo', 'cell-1'),
        handler: async (e) => void seen.push(e),
      }),
    ]);
    try {
      expect(
        (
          await call('POST', '/steps/nitration/mode', keys['erp'], {
            mode: 'operator',
            reason: 'x',
          })
        ).status,
      ).toBe(403);
      expect(
        (await call('POST', '/steps/cooking/mode', keys['op'], { mode: 'operator', reason: 'x' }))
          .status,
      ).toBe(404);
      expect(
        (await call('POST', '/steps/nitration/mode', keys['op'], { mode: 'manual', reason: 'x' }))
          .body['errors'][0]['field'],
      ).toBe('mode');
      expect(
        (
          await call('POST', '/steps/nitration/mode', keys['op'], {
            mode: 'operator',
            reason: 'sampling',
          })
        ).status,
      ).toBe(202);
      const setpoint = await call('POST', '/steps/nitration/setpoints', keys['op'], {
        tag: 'P-101.SP',
        value: 2.5,
        unit: 'mL/min',
        reason: 'sampling',
      });
      expect(setpoint.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [state, command] = seen as [DeviceState, SetpointCommand];
      expect(state).toMatchObject({
        mode: Mode.OPERATOR,
        reason: 'sampling',
        changedBy: { kind: Issuer_Kind.USER, id: 'op' },
      });
      expect(command).toMatchObject({
        commandId: setpoint.body['commandId'],
        targetTag: 'P-101.SP',
        value: 2.5,
        issuer: { kind: Issuer_Kind.USER, id: 'op' },
      });
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });

  it('registers and deploys a model by role, and audits it', async () => {
    // Models are registered from inside the models directory only.
    cpSync(join(REPO, 'models/paracetamol/nitration'), join(modelsDir, 'candidates'), {
      recursive: true,
    });
    const location = 'candidates/alternate-2.onnx';
    expect((await call('POST', '/models', keys['erp'], { location })).status).toBe(403);
    expect(
      (await call('POST', '/models', keys['eng'], { location: 'candidates/missing.onnx' })).status,
    ).toBe(422);
    const registered = await call('POST', '/models', keys['eng'], { location });
    expect(registered.status).toBe(201);
    expect(registered.body['location']).toBe(location);
    const version = registered.body['version'] as string;
    expect(version).toMatch(/^sha256:[0-9a-f]{64}$/);
    const deployed = await call('POST', `/models/${version}/deploy`, keys['eng'], {
      reason: 'better on feed drift',
    });
    expect(deployed).toMatchObject({
      status: 200,
      body: { status: 'deployed', deployedBy: 'eng', location },
    });
    expect(readFileSync(join(modelsDir, 'nitration/policy.onnx'))).toEqual(
      readFileSync(join(modelsDir, location)),
    );
    expect(existsSync(join(modelsDir, 'nitration/policy.card.json'))).toBe(true);
    const audit = await stores.audit.entries({ kinds: ['model.deployed'] });
    expect(audit.map((e) => [e.actor, e.newValue, e.reason])).toEqual([
      ['eng', version, 'better on feed drift'],
    ]);
  });

  /** A request with a raw body and content type, as a misbehaving client would send it. */
  async function raw(
    path: string,
    body: string,
    contentType: string | undefined,
    key = keys['erp'],
  ): Promise<RestAnswer> {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'idempotency-key': `raw-${Math.random()}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      body,
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: JSON.parse(await response.text()),
    };
  }

  const fields = (answer: RestAnswer) =>
    (answer.body['errors'] ?? []).map((e: { field: string }) => e.field);

  it('answers bodies it cannot take with 413, 415 or 400 problem details, never a 500', async () => {
    const json = JSON.stringify(order);
    const cases: [string, string, string | undefined, number, string][] = [
      [
        '10 MB',
        JSON.stringify({ ...order, pad: 'x'.repeat(10_000_000) }),
        'application/json',
        413,
        'body',
      ],
      ['Latin-1', json, 'application/json; charset=iso-8859-1', 415, 'Content-Type'],
      ['UTF-16', json, 'application/json; charset=utf-16', 415, 'Content-Type'],
      ['text', json, 'text/plain', 415, 'Content-Type'],
      [
        'form',
        'erpReference=SAP-1&quantity=25',
        'application/x-www-form-urlencoded',
        415,
        'Content-Type',
      ],
      ['XML', '<order><quantity>25</quantity></order>', 'application/xml', 415, 'Content-Type'],
      ['untyped', json, undefined, 415, 'Content-Type'],
      ['30 KB of [', '['.repeat(15_000) + ']'.repeat(15_000), 'application/json', 400, '0.0.0.0.0'],
      [
        'deep object',
        '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
        'application/json',
        400,
        'a.a.a.a',
      ],
    ];
    for (const [what, body, type, status, field] of cases) {
      const answer = await raw('/orders', body, type);
      expect({ what, status: answer.status }).toEqual({ what, status });
      expect(answer.type).toContain('application/problem+json');
      expect({ what, detail: answer.body['detail'] }).toEqual({ what, detail: expect.any(String) });
      expect({ what, field: fields(answer)[0] }).toEqual({
        what,
        field: expect.stringContaining(field),
      });
    }
    expect((await raw('/orders', json, 'application/json; charset=UTF-8')).status).toBe(201);
  });

  it('refuses prototype keys, control characters and ill-formed Unicode, naming the field', async () => {
    const { body: created } = await call(
      'POST',
      '/orders',
      keys['erp'],
      { ...order, erpReference: 'SAP-8000' },
      { 'idempotency-key': 'erp-text' },
    );
    const id = created['id'] as string;
    const json = JSON.stringify(order).slice(0, -1);
    const cases: [string, string, string][] = [
      ['/orders', `${json},"__proto__":{"admin":true}}`, '__proto__'],
      ['/orders', `${json},"constructor":{"prototype":{}}}`, 'constructor'],
      ['/orders', JSON.stringify({ ...order, product: 'para\u0000cetamol' }), 'product'],
      // A lone surrogate, as the JSON escape an ERP would send (issue 13, item 1).
      [`/orders/${id}/release`, '{"reason":"x \\ud800"}', 'reason'],
      [`/orders/${id}/release`, '{"reason":"x \\udc00 y"}', 'reason'],
      [`/orders/${id}/release`, JSON.stringify({ reason: 'planned\u0000' }), 'reason'],
      [`/orders/${id}/release`, JSON.stringify({ reason: 'planned\r\nforged line' }), 'reason'],
      [`/orders/${id}/release`, JSON.stringify({ reason: 'ok', ['x\ud800']: 1 }), 'x'],
      ['/webhooks', JSON.stringify({ url: 'https://erp.example/\ud800' }), 'url'],
    ];
    for (const [path, body, field] of cases) {
      const answer = await raw(path, body, 'application/json');
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect({ body, fields: fields(answer) }).toEqual({
        body,
        fields: [expect.stringContaining(field)],
      });
    }
    // Nothing of it reached the order or its trail; a well-formed reason still does.
    expect((await stores.audit.entries({ orderId: id })).map((e) => e.newValue)).toEqual([
      'Forecast',
    ]);
    const released = await call('POST', `/orders/${id}/release`, keys['erp'], {
      reason: 'Freigabe durch Planung 🧪',
    });
    expect(released.body['state']).toBe('Released');
    const trail = await stores.audit.entries({ orderId: id });
    expect(trail.at(-1)?.reason).toBe('Freigabe durch Planung 🧪');
  });

  it('refuses malformed path parameters and out-of-range numbers with a 400', async () => {
    const cases: [string, string, string][] = [
      ['GET', '/lots/L-1%00x', 'lotId'],
      ['GET', `/lots/${'L'.repeat(65)}/genealogy`, 'lotId'],
      ['GET', '/lots/%ED%A0%80/batch-record', ''],
      ['DELETE', '/webhooks/not-a-uuid', 'id'],
      ['POST', '/models/sha256%3Ax%00/deploy', 'version'],
      ['GET', '/orders?cursor=a%00b', 'cursor'],
    ];
    for (const [method, path, field] of cases) {
      const answer = await call(
        method,
        path,
        method === 'GET' || method === 'DELETE' ? keys['erp'] : keys['eng'],
        method === 'POST' ? { reason: 'x' } : undefined,
      );
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      if (field) expect({ path, fields: fields(answer) }).toEqual({ path, fields: [field] });
    }
    const { body: created } = await call(
      'POST',
      '/orders',
      keys['erp'],
      { ...order, erpReference: 'SAP-8100' },
      { 'idempotency-key': 'erp-version' },
    );
    const stale = await call('POST', `/orders/${created['id']}/hold`, keys['op'], {
      reason: 'x',
      expectedVersion: 1e300,
    });
    expect({ status: stale.status, fields: fields(stale) }).toEqual({
      status: 400,
      fields: ['expectedVersion'],
    });
  });

  it('bounds order quantities as masses, after unit conversion, in whole milligrams', async () => {
    const cases: [number, string, number][] = [
      [-1, 'kg', 400],
      [5e-324, 'g', 400],
      [0.0009, 'g', 400],
      [25.0001, 'g', 400],
      [1_000_000, 'kg', 400],
      [1_000_001, 'g', 400],
      [1_000, 'kg', 201],
      [1_000_000, 'g', 201],
      [0.001, 'g', 201],
      [0.000001, 'kg', 201],
      [30.1, 'g', 201],
    ];
    for (const [quantity, unit, status] of cases) {
      const answer = await call(
        'POST',
        '/orders',
        keys['erp'],
        { ...order, erpReference: 'SAP-9000', quantity, unit },
        { 'idempotency-key': `q-${quantity}-${unit}` },
      );
      expect({ quantity, unit, status: answer.status }).toEqual({ quantity, unit, status });
      // One reason, not one per validator.
      if (status === 400) expect(fields(answer)).toEqual(['quantity']);
    }
  });

  it('confines model locations to the models directory and shows no host paths', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'pipac-outside-'));
    cpSync(join(REPO, 'models/paracetamol/nitration'), outside, { recursive: true });
    const refusals = await Promise.all(
      [
        join(outside, 'alternate-2.onnx'), // exists
        join(outside, 'nothing-here.onnx'), // does not
        '../' + join(outside, 'alternate-2.onnx'),
        `../${outside.split('/').pop()}/alternate-2.onnx`,
        'candidates/../../x.onnx',
        '/etc/passwd.onnx',
      ].map((location) => call('POST', '/models', keys['eng'], { location })),
    );
    // One answer whether or not the file exists: nothing to learn about the host.
    for (const answer of refusals) {
      expect(answer.status).toBe(400);
      expect(answer.body['errors']).toEqual([
        {
          field: 'location',
          reason: 'must be a path inside the models directory (relative, without ..)',
        },
      ]);
    }
    // A card holding `null` (or not JSON) is bad input, not a server error.
    mkdirSync(join(modelsDir, 'broken'), { recursive: true });
    cpSync(join(outside, 'alternate-2.onnx'), join(modelsDir, 'broken/a.onnx'));
    writeFileSync(join(modelsDir, 'broken/a.card.json'), 'null');
    const nullCard = await call('POST', '/models', keys['eng'], { location: 'broken/a.onnx' });
    expect(nullCard).toMatchObject({ status: 400, body: { errors: [{ field: 'location' }] } });
    expect(nullCard.body['detail']).toMatch(/not a JSON object/);
    const listed = await call('GET', '/models', keys['viewer']);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(modelsDir);
    expect(JSON.stringify(listed.body)).not.toContain(tmpdir());
  });

  it('refuses webhooks to loopback, link-local and metadata addresses it was not allowed', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[::1]:8080/hooks',
      'http://[::ffff:169.254.169.254]/',
      'http://0.0.0.0:8080/',
      'http://[fe80::1]/',
    ]) {
      const answer = await call('POST', '/webhooks', keys['erp'], { url });
      expect({ url, status: answer.status }).toEqual({ url, status: 400 });
      expect(answer.body['errors'][0]).toMatchObject({
        field: 'url',
        reason: expect.stringMatching(/is (a|not a) .*address/),
      });
    }
    // 127.0.0.0/8 is allowed in this suite's configuration.
    const allowed = await call('POST', '/webhooks', keys['erp'], { url: 'http://127.0.0.1:9/x' });
    expect(allowed.status).toBe(201);
    await stores.webhooks.unsubscribe(allowed.body['id'] as string);
  });

  it('assembles the batch record of a lot and verifies the trail behind it', async () => {
    const { body: created } = await call(
      'POST',
      '/orders',
      keys['erp'],
      { ...order, erpReference: 'SAP-7000', release: true },
      { 'idempotency-key': 'erp-batch' },
    );
    const id = created['id'] as string;
    const at = new Date().toISOString();
    await stores.lots.createLot(
      {
        id: 'L-7000-acetylation',
        material: 'paracetamol',
        step: 'acetylation',
        orderId: id,
        unit: 'g',
      },
      at,
    );
    await stores.lots.createLot(
      {
        id: 'L-7000-hydrogenation',
        material: '4-aminophenol',
        step: 'hydrogenation',
        orderId: id,
        unit: 'g',
      },
      at,
    );
    await stores.lots.recordInterval({
      orderId: id,
      step: 'acetylation',
      from: at,
      to: at,
      produced: {
        lotId: 'L-7000-acetylation',
        material: 'paracetamol',
        quantity: 2,
        inSpec: 1.9,
        unit: 'g',
      },
      consumed: [
        { lotId: 'L-7000-hydrogenation', material: '4-aminophenol', quantity: 1.5, unit: 'g' },
      ],
    });
    await stores.lots.recordQuality({
      orderId: id,
      lotId: 'L-7000-acetylation',
      step: 'acetylation',
      tag: 'AT-301.conversion',
      value: 0.97,
      unit: '1',
      inSpec: true,
      sampledAt: at,
    });
    await stores.audit.append({
      actor: { kind: 'agent', id: 'step-agent/acetylation' },
      where: {
        cell: 'cell-1',
        step: 'acetylation',
        device: 'P-301',
        orderId: id,
        lotId: 'L-7000-acetylation',
      },
      kind: 'setpoint',
      object: 'P-301.SP',
      oldValue: 3.1,
      newValue: 3.2,
      unit: 'mL/min',
      reason: 'agent action',
      modelVersion: 'sha256:' + 'c'.repeat(64),
    });
    const record = await call('GET', '/lots/L-7000-acetylation/batch-record', keys['viewer']);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      lot: { id: 'L-7000-acetylation', quantity: 1.9 },
      order: { id, erpReference: 'SAP-7000' },
      genealogy: { ancestors: [{ fromLotId: 'L-7000-hydrogenation', quantity: 1.5 }] },
      setpointChanges: [
        { object: 'P-301.SP', oldValue: '3.1', newValue: '3.2', actor: 'step-agent/acetylation' },
      ],
      modelVersions: [{ step: 'acetylation', version: 'sha256:' + 'c'.repeat(64) }],
      qualityResults: [{ tag: 'AT-301.conversion', value: 0.97 }],
      auditTrail: { ok: true },
    });
    expect(record.body['orderEvents'].map((e: { newValue: string }) => e.newValue)).toEqual([
      'Released',
    ]);
    expect((await call('GET', '/lots/nope/batch-record', keys['viewer'])).status).toBe(404);
    expect(
      (await call('GET', `/orders/${id}/lots`, keys['viewer'])).body.map(
        (l: { id: string }) => l.id,
      ),
    ).toHaveLength(2);
  });
});
