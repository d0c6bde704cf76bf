/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   The tests probe JSON answers as the ERP would: untyped. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus, publishEvent, subscribeEvents } from '@pipac/bus';
import {
  Issuer_Kind,
  WriteConfirmationSchema,
  WriteConfirmation_Outcome,
  create,
  deadLetterTopic,
  setpointCommandCodec,
  timestampFromMs,
  topicName,
  writeConfirmationCodec,
  type SetpointCommand,
} from '@pipac/contracts';
import { AuditTrail, type Database } from '@pipac/persistence';
import { scratchSqlite } from '@pipac/persistence/testing';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createErpGateway } from '../erp-gateway.app';
import { Stores } from '../stores';
import { restClient, type RestCall } from '../../testing/rest-client';

const REPO = join(__dirname, '../../../../..');
const plant = compilePlant(loadRecipe(join(REPO, 'recipes/paracetamol.yaml')));
const place = { site: 'demo', cell: 'cell-1' };
const topic = (step: string, stream: 'setpoints' | 'confirmations') =>
  topicName({ ...place, step, stream });

describe('operator setpoints over REST, checked against the plant', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let bus: InProcessBus;
  let app: NestExpressApplication;
  let call: RestCall;
  let operatorKey = '';
  let viewerKey = '';
  const sent: SetpointCommand[] = [];

  beforeAll(async () => {
    const scratch = scratchSqlite();
    db = await scratch.open();
    dispose = () => scratch.dispose();
    bus = new InProcessBus();
    await bus.connect();
    ({ app } = await createErpGateway(
      {
        ...place,
        steps: plant.steps.map((s) => s.id),
        recipe: 'paracetamol',
        product: 'paracetamol',
        db,
        bus,
        modelsDir: mkdtempSync(join(tmpdir(), 'pipac-models-')),
        plant,
      },
      { logger: false },
    ));
    await app.listen(0, '127.0.0.1');
    call = restClient(`${await app.getUrl()}/api/v1`.replace('[::1]', '127.0.0.1'));
    const stores = app.get(Stores);
    operatorKey = (await stores.clients.create('olga', 'olga', ['operator'])).key;
    viewerKey = (await stores.clients.create('vic', 'vic', ['viewer'])).key;
    for (const step of plant.steps.map((s) => s.id)) {
      await subscribeEvents(bus, {
        group: `test-${step}`,
        topic: topic(step, 'setpoints'),
        codec: setpointCommandCodec,
        deadLetterTopic: deadLetterTopic(place.site, place.cell),
        handler: async (c) => void sent.push(c),
      });
    }
  });

  afterAll(async () => {
    await app?.close();
    await bus?.disconnect();
    await db?.close();
    await dispose?.();
  });

  const post = (step: string, body: Record<string, unknown>) =>
    call('POST', `/steps/${step}/setpoints`, operatorKey, body);

  it("sends an accepted setpoint to the step's module under its setpoint tag, and follows it to the device's answer", async () => {
    const answer = await post('nitration', {
      tag: 'P-101.SP',
      value: 1.5,
      unit: 'mL/min',
      reason: 'slow down the feed',
    });
    expect(answer.status).toBe(202);
    const { commandId, location } = answer.body;
    expect(location).toBe(`/api/v1/steps/nitration/setpoints/${commandId}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.find((c) => c.commandId === commandId)).toMatchObject({
      location: { ...place, step: 'nitration', device: 'nitration-module' },
      targetTag: 'P-101',
      value: 1.5,
      unit: 'mL/min',
      issuer: { kind: Issuer_Kind.USER, id: 'olga' },
      reason: 'slow down the feed',
    });
    const path = `/steps/nitration/setpoints/${commandId}`;
    expect((await call('GET', path, viewerKey)).body).toMatchObject({
      commandId,
      state: 'pending',
      tag: 'P-101',
      value: 1.5,
      issuedBy: 'olga',
      outcome: null,
    });
    await publishEvent(
      bus,
      topic('nitration', 'confirmations'),
      writeConfirmationCodec,
      'P-101',
      create(WriteConfirmationSchema, {
        commandId,
        location: { ...place, step: 'nitration', device: 'nitration-module' },
        targetTag: 'P-101',
        outcome: WriteConfirmation_Outcome.APPLIED,
        valueReadBack: 1.5,
        unit: 'mL/min',
        receivedAt: timestampFromMs(Date.now()),
        confirmedAt: timestampFromMs(Date.now()),
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', path, viewerKey)).body).toMatchObject({
      state: 'applied',
      outcome: 'applied',
      valueReadBack: 1.5,
      detail: null,
    });
    expect(
      (await call('GET', `/steps/hydrogenation/setpoints/${commandId}`, viewerKey)).status,
    ).toBe(404);
    expect(
      (await call('GET', '/steps/nitration/setpoints/not-a-uuid', viewerKey)).body.errors,
    ).toEqual([{ field: 'commandId', reason: 'must be a command id (a UUID)' }]);
  });

  it('takes the jacket and the back-pressure too, each in its own unit', async () => {
    expect(
      (await post('hydrogenation', { tag: 'TC-201', value: 60, unit: '°C', reason: 'x' })).status,
    ).toBe(202);
    expect(
      (await post('hydrogenation', { tag: 'PCV-201', value: 8, unit: 'bar', reason: 'x' })).status,
    ).toBe(202);
    expect(
      (await post('hydrogenation', { tag: 'MFC-201', value: 0, unit: 'NmL/min', reason: 'x' }))
        .status,
    ).toBe(202);
  });

  it('refuses what the plant would refuse with a 4xx naming the field, sends nothing, and audits the attempt', async () => {
    const audit = new AuditTrail(db);
    const count = sent.length;
    const cases: [string, Record<string, unknown>, number, string, RegExp][] = [
      [
        'nitration',
        { tag: 'P-101.SP', value: 1e308 },
        422,
        'value',
        /outside the engineering range of P-101, 0\.\.12 mL\/min/,
      ],
      ['nitration', { tag: 'P-101.SP', value: 12.5 }, 422, 'value', /12\.5 mL\/min is outside/],
      ['nitration', { tag: 'P-101', value: -1 }, 422, 'value', /outside/],
      [
        'nitration',
        { tag: 'P-201.SP', value: 5 },
        422,
        'tag',
        /P-201 is a setpoint of step hydrogenation/,
      ],
      [
        'nitration',
        { tag: 'R-nitration.TI-hot', value: 5 },
        422,
        'tag',
        /is not a setpoint of step nitration/,
      ],
      ['nitration', { tag: 'P-101.PV', value: 5 }, 422, 'tag', /is not a setpoint/],
      [
        'nitration',
        { tag: 'P-101', value: 5, unit: 'L/h' },
        422,
        'unit',
        /P-101 takes mL\/min, not L\/h/,
      ],
      ['cooking', { tag: 'P-101', value: 5 }, 404, 'step', /"cooking" is not a step of this cell/],
    ];
    for (const [step, body, status, field, reason] of cases) {
      const answer = await post(step, { unit: 'mL/min', reason: `try ${field}`, ...body });
      expect([step, body, answer.status, answer.body.errors]).toEqual([
        step,
        body,
        status,
        [{ field, reason: expect.stringMatching(reason) }],
      ]);
    }
    // A number that is not one never gets this far (the body's schema), nor a malformed tag.
    expect(
      (await post('nitration', { tag: 'P-101', value: '5', unit: 'mL/min', reason: 'x' })).status,
    ).toBe(400);
    expect(
      (await post('nitration', { tag: 'P 101', value: 5, unit: 'mL/min', reason: 'x' })).status,
    ).toBe(400);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.length).toBe(count);
    const refused = await audit.entries({ kinds: ['setpoint.refused'] });
    expect(refused).toHaveLength(cases.length);
    expect(refused[0]).toMatchObject({
      actorKind: 'user',
      actor: 'olga',
      cell: 'cell-1',
      step: 'nitration',
      device: 'nitration-module',
      object: 'P-101',
      oldValue: null,
      newValue: '1e+308',
      unit: 'mL/min',
      reason:
        'refused by the gateway: 1e+308 mL/min is outside the engineering range of P-101, 0..12 mL/min; reason given: try value',
    });
    expect(refused[3]).toMatchObject({ step: 'nitration', device: null, object: 'P-201' });
    expect(refused.at(-1)).toMatchObject({ step: null, object: 'P-101' });
    expect((await audit.verify()).ok).toBe(true);
  });
});
