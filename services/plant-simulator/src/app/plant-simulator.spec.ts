import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, type DeviceClientOptions, type TagSample } from '@pipac/opcua';
import { loadRecipe } from '@pipac/recipe';
import { freePort } from '@pipac/opcua/testing';
import { PlantSimulator } from './plant-simulator';

const USER = { username: 'plant-it', password: 'simulated but not anonymous' };

describe('PlantSimulator over OPC UA', () => {
  let dir: string;
  let simulator: PlantSimulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pipac-sim-'));
    simulator = await PlantSimulator.start({
      recipe: loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')),
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { users: [USER], acceptUnknownCertificates: true },
      timeFactor: 20,
      warmUp: 600,
      tickMs: 50,
    });
  }, 60_000);

  afterAll(async () => {
    await simulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every device of the recipe with its node map', () => {
    expect(simulator.nodeMaps().map((m) => m.device)).toEqual([
      'nitration-module',
      'AT-101',
      'hydrogenation-module',
      'AT-201',
      'acetylation-module',
      'AT-301',
    ]);
  });

  const connect = (device: string): Promise<DeviceClient> =>
    DeviceClient.connect({
      nodeMap: simulator.nodeMaps().find((m) => m.device === device)!,
      pkiFolder: join(dir, 'client-pki'),
      acceptUnknownCertificates: true,
      user: USER,
    } satisfies DeviceClientOptions);

  it('refuses NaN and ±Infinity before storing (BadOutOfRange): the device reports what the plant runs at', async () => {
    const client = await connect('nitration-module');
    try {
      expect((await client.writeSetpoint('TC-101', 30)).confirmed).toBe(true);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const outcome = await client.writeSetpoint('TC-101', bad);
        expect(outcome).toMatchObject({
          confirmed: false,
          writeStatus: 'BadOutOfRange',
          readBack: 30,
          readStatus: 'Good',
        });
      }
      expect(simulator.simulation.plant.getSetpoint('TC-101')).toBeCloseTo(30, 9);
      expect(simulator.server.value('TC-101.SP')).toBe(30);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('drives a pump from a written setpoint and reports its flow as it follows', async () => {
    const map = simulator.nodeMaps().find((m) => m.device === 'nitration-module')!;
    const client = await DeviceClient.connect({
      nodeMap: map,
      pkiFolder: join(dir, 'client-pki'),
      acceptUnknownCertificates: true,
      user: USER,
    });
    const flows: TagSample[] = [];
    try {
      await client.monitor((s) => {
        if (s.tag === 'P-101.PV') flows.push(s);
      });
      const outcome = await client.writeSetpoint('P-101', 8.5);
      expect(outcome.confirmed).toBe(true);
      expect(simulator.simulation.plant.getSetpoint('P-101')).toBe(8.5);
      const deadline = Date.now() + 10_000;
      while ((flows.at(-1)?.value ?? 0) <= 8.4 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(flows.at(-1)!.value).toBeGreaterThan(8.4);
      // The source time runs with the simulated clock: 20 s of plant per wall second.
      const first = flows[0]!;
      const last = flows.at(-1)!;
      expect(last.sourceTime! - first.sourceTime!).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('PlantSimulator for any recipe', () => {
  it('serves the devices of another plant (the 5 × 4 benchmark reactor) and drives them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipac-sim-any-'));
    const recipe = loadRecipe(join(__dirname, '../../../../recipes/benchmark-5x4.yaml'));
    const simulator = await PlantSimulator.start({
      recipe,
      port: await freePort(),
      pkiFolder: join(dir, 'server-pki'),
      security: { allowAnonymous: true, modes: ['None'], policies: ['None'] },
      timeFactor: 50,
      warmUp: 60,
      tickMs: 20,
    });
    try {
      const maps = simulator.nodeMaps();
      const steps = recipe.steps.length;
      const analysers = recipe.steps.filter((s) => s.analyser).length;
      expect(maps).toHaveLength(steps + analysers);
      const module = maps.find((m) => m.device.endsWith('-module'))!;
      expect(Object.keys(module.setpoints).length).toBeGreaterThan(0);
      // The twin moves on: a current value is updated with the simulated time.
      const tag = Object.keys(module.readings).find((t) => t.endsWith('.TI-out'))!;
      const first = simulator.server.tags.get(tag)!.variable.readValue().sourceTimestamp!.getTime();
      await new Promise((r) => setTimeout(r, 300));
      const later = simulator.server.tags.get(tag)!.variable.readValue().sourceTimestamp!.getTime();
      expect(later - first).toBeGreaterThanOrEqual(5_000); // ≥ 0.3 s × 50
    } finally {
      await simulator.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
