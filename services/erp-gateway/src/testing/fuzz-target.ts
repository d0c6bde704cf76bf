import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@pipac/bus';
import type { Database, Role } from '@pipac/persistence';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { createErpGateway } from '../app/erp-gateway.app';
import { Stores } from '../app/stores';

const REPO = join(__dirname, '../../../..');

/** What a fuzzer needs of a running gateway: where it is, a key, and real objects to name. */
export interface FuzzTarget {
  /** The gateway's origin, e.g. http://127.0.0.1:40123 (the API is under /api/v1). */
  origin: string;
  /** An API key with every role (erp, operator, engineer, viewer). */
  key: string;
  /** Ids of objects that exist, per path parameter, so fuzzed paths can hit them. */
  seeded: {
    orderIds: string[];
    lotIds: string[];
    modelVersions: string[];
    subscriptionIds: string[];
    commandIds: string[];
    steps: string[];
  };
  /** Another API client, with the roles given. */
  createClient(roles: Role[]): Promise<{ key: string }>;
  close(): Promise<void>;
}

/**
 * Starts the real gateway on `db` for an API fuzzer: the in-process bus, the paracetamol
 * plant (setpoints are checked as in a cell), a fresh API client holding every role, and a
 * little data: orders in several states, lots with a genealogy, performance and a quality
 * result, a registered model, a webhook subscription and a setpoint command, so that path
 * parameters can name real objects.
 */
export async function startFuzzTarget(db: Database): Promise<FuzzTarget> {
  const plant = compilePlant(loadRecipe(join(REPO, 'recipes/paracetamol.yaml')));
  const steps = plant.steps.map((s) => s.id);
  const bus = new InProcessBus();
  await bus.connect();
  const modelsDir = mkdtempSync(join(tmpdir(), 'pipac-fuzz-models-'));
  cpSync(join(REPO, 'models/paracetamol/nitration'), join(modelsDir, 'candidates'), {
    recursive: true,
  });
  const { app } = await createErpGateway(
    {
      site: 'fuzz',
      cell: 'cell-1',
      steps,
      recipe: 'paracetamol',
      product: 'paracetamol',
      db,
      bus,
      modelsDir,
      plant,
      // Nothing listens at the subscribed URLs: give up on a delivery at once.
      webhooks: { maxAttempts: 1, timeoutMs: 200, pollMs: 200 },
    },
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const stores = app.get(Stores);
  let clients = 0;
  const createClient = async (roles: Role[]) => {
    const { key } = await stores.clients.create(`fuzz-${++clients}`, 'fuzzer', roles);
    return { key };
  };
  const { key } = await createClient(['erp', 'operator', 'engineer', 'viewer']);
  const actor = { kind: 'user' as const, id: 'fuzz-seed' };

  const orderIds: string[] = [];
  for (const [n, release] of [
    [1, false],
    [2, true],
    [3, true],
  ] as const) {
    const { order } = await stores.orders.create(actor, `fuzz-seed-${n}`, {
      erpReference: `FUZZ-${n}`,
      product: 'paracetamol',
      quantity: 10 * n,
      unit: 'g',
      ...(release ? { release: true } : {}),
    });
    orderIds.push(order.id);
  }
  const orderId = orderIds[1]!;
  const at = new Date().toISOString();
  const lotIds = ['FUZZ-1/nitration/1', 'FUZZ-1/hydrogenation/1', 'FUZZ-1/acetylation/1'];
  const materials = ['4-nitrophenol', '4-aminophenol', 'paracetamol'];
  await stores.lots.createLot(
    { id: 'RM-phenol-0001', material: 'phenol', unit: 'g', status: 'complete', quantity: 100 },
    at,
  );
  for (const [i, id] of lotIds.entries()) {
    await stores.lots.createLot(
      { id, material: materials[i]!, step: steps[i] ?? null, orderId, unit: 'g' },
      at,
    );
  }
  for (const [i, id] of lotIds.entries()) {
    await stores.lots.recordInterval({
      orderId,
      step: steps[i]!,
      from: at,
      to: at,
      produced: {
        lotId: id,
        material: materials[i]!,
        quantity: 2,
        inSpec: 1.9,
        unit: 'g',
        keyMoles: 0.013,
      },
      consumed: [
        {
          lotId: i === 0 ? 'RM-phenol-0001' : lotIds[i - 1]!,
          material: i === 0 ? 'phenol' : materials[i - 1]!,
          quantity: 2.5,
          unit: 'g',
          keyMoles: 0.018,
        },
      ],
    });
  }
  await stores.lots.recordQuality({
    orderId,
    lotId: lotIds[2]!,
    step: steps[2]!,
    tag: 'AT-301.conversion',
    value: 0.97,
    unit: '1',
    inSpec: true,
    sampledAt: at,
  });

  const call = (method: string, path: string, body: unknown) =>
    fetch(`${origin}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  const model = await call('POST', '/models', { location: 'candidates/alternate-2.onnx' });
  const subscription = await call('POST', '/webhooks', { url: 'https://203.0.113.7/pipac/events' });
  const setpoint = await call('POST', '/steps/nitration/setpoints', {
    tag: 'P-101.SP',
    value: 5,
    unit: 'mL/min',
    reason: 'fuzz seed',
  });
  for (const [what, answer, status] of [
    ['model', model, 201],
    ['subscription', subscription, 201],
    ['setpoint', setpoint, 202],
  ] as const) {
    if (answer.status !== status) {
      throw new Error(
        `seeding the ${what} failed: ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
  }

  return {
    origin,
    key,
    seeded: {
      orderIds,
      lotIds: ['RM-phenol-0001', ...lotIds],
      modelVersions: [model.body['version'] as string],
      subscriptionIds: [subscription.body['id'] as string],
      commandIds: [setpoint.body['commandId'] as string],
      steps,
    },
    createClient,
    close: async () => {
      await app.close();
      await bus.disconnect();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
