import { join } from 'node:path';
import type { EventBus } from '@pipac/bus';
import { Coordinator } from '@pipac/coordinator';
import { DeviceAdapter } from '@pipac/device-adapter';
import { Stores, createErpGateway, type ErpGatewayApp } from '@pipac/erp-gateway';
import { describePlantDevices, freePort } from '@pipac/opcua';
import {
  AuditHeadExporter,
  AuditTrail,
  Database,
  auditKeyFiles,
  loadAuditKeys,
  parseDatabaseUrl,
  type Role,
} from '@pipac/persistence';
import { PlantSimulator } from '@pipac/plant-simulator';
import { StepAgent } from '@pipac/step-agent';
import type { PlantModel, Recipe } from '@pipac/recipe';
import type { StartedParts, Stoppable } from './started-parts';

/**
 * How each part of the embedded cell is started: every part is the service itself, started as
 * its own main would, with the cell's wiring (one bus, one database, the simulated clock).
 */

/** What every part of the cell shares once the plant runs. */
export interface CellWiring {
  site: string;
  cell: string;
  model: PlantModel;
  bus: EventBus;
  modelsDir: string;
  /** Spools, journals and certificates. */
  stateDir: string;
  /** Simulated seconds per wall-clock second. */
  timeFactor: number;
  /** ms since the epoch on the simulated clock. */
  clock: () => number;
  log: (line: string) => void;
}

/** The one OPC UA user of the simulator's server, which every device adapter logs in as. */
export interface OpcuaUser {
  username: string;
  password: string;
}

/** The wall-clock period of a simulated one, ms (10 ms at least, so a timer never spins). */
function wallMs(wiring: CellWiring, simulatedMs: number): number {
  return Math.max(10, simulatedMs / wiring.timeFactor);
}

/**
 * Opens the database with its audit trail. Every append is signed with a key that lives
 * outside the database; the newest signed head is exported beside it, so a shortened trail
 * shows (see docs/audit-trail.md).
 */
export async function openAuditedDatabase(
  options: { database: string; auditKeys: string; auditHeadMs: number },
  started: StartedParts,
  log: (line: string) => void,
): Promise<{ db: Database; auditHead: Stoppable }> {
  const db = await Database.open(parseDatabaseUrl(options.database), {
    audit: loadAuditKeys(options.auditKeys, { create: true }),
  });
  started.add({ stop: () => db.close() });
  const auditHead = new AuditHeadExporter(
    new AuditTrail(db),
    auditKeyFiles(options.auditKeys).head,
  ).every(options.auditHeadMs, (e: unknown) => log(`audit head: ${String(e)}`));
  started.add(auditHead);
  return { db, auditHead };
}

/** Starts every step's agent, in Automatic with the trained models. */
export async function startStepAgents(
  wiring: CellWiring,
  started: StartedParts,
): Promise<StepAgent[]> {
  // Started together: each joins its consumer groups, which takes seconds on Kafka.
  const starting = await Promise.allSettled(
    wiring.model.steps.map((step) =>
      StepAgent.start({
        site: wiring.site,
        cell: wiring.cell,
        step: step.id,
        model: wiring.model,
        bus: wiring.bus,
        modelsDir: wiring.modelsDir,
        mode: 'automatic',
        cycleMs: wallMs(wiring, 60_000),
        modelPollMs: 5000,
        clock: wiring.clock,
        log: (line) => wiring.log(`step-agent ${step.id}: ${line}`),
      }),
    ),
  );
  const agents = starting.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const agent of agents) started.add(agent); // stopped again if another agent failed to start
  const failed = starting.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return agents;
}

export function startCoordinator(wiring: CellWiring, db: Database): Promise<Coordinator> {
  return Coordinator.start({
    site: wiring.site,
    cell: wiring.cell,
    model: wiring.model,
    bus: wiring.bus,
    db,
    clock: wiring.clock,
    cycleMs: 60_000,
    timerMs: wallMs(wiring, 60_000),
    log: (line) => wiring.log(`coordinator: ${line}`),
  });
}

/** One device adapter per device of the simulator, each with its own OPC UA session. */
export async function startDeviceAdapters(
  wiring: CellWiring,
  simulator: PlantSimulator,
  user: OpcuaUser,
  started: StartedParts,
): Promise<DeviceAdapter[]> {
  const adapters: DeviceAdapter[] = [];
  for (const device of describePlantDevices(wiring.model)) {
    const adapter = await DeviceAdapter.start({
      site: wiring.site,
      cell: wiring.cell,
      step: device.step,
      nodeMap: simulator.server.nodeMap(device.id),
      bus: wiring.bus,
      opcua: {
        pkiFolder: join(wiring.stateDir, 'pki', 'adapters'),
        acceptUnknownCertificates: true,
        user,
      },
      stateDir: join(wiring.stateDir, 'adapters', device.id),
      spoolSync: false,
      now: wiring.clock,
    });
    adapters.push(started.add(adapter));
  }
  wiring.log(
    `device adapters: ${adapters.length} OPC UA sessions to ${simulator.server.endpointUrl}`,
  );
  return adapters;
}

/** Starts the ERP gateway's REST API; resolves with the gateway and the URL it listens on. */
export async function startGateway(
  wiring: CellWiring,
  options: {
    recipe: string;
    db: Database;
    webhookAllowNetworks: string[];
    http: { host: string; port: number };
  },
  started: StartedParts,
): Promise<{ gateway: ErpGatewayApp; url: string }> {
  const { model } = wiring;
  const gateway = await createErpGateway(
    {
      site: wiring.site,
      cell: wiring.cell,
      steps: model.steps.map((s) => s.id),
      recipe: options.recipe,
      product: model.speciesIds[model.productIndex]!,
      db: options.db,
      bus: wiring.bus,
      modelsDir: wiring.modelsDir,
      clock: wiring.clock,
      plant: model,
      // A person's 30 s on the wall clock, in the cell's faster plant time.
      setpointDeadlineMs: 30_000 * wiring.timeFactor,
      webhooks: { allowNetworks: options.webhookAllowNetworks },
    },
    { logger: ['error'] },
  );
  started.add({ stop: () => gateway.app.close() });
  await gateway.app.listen(options.http.port, options.http.host);
  const url = (await gateway.app.getUrl()).replace('[::1]', '127.0.0.1');
  return { gateway, url };
}

/** One API client with every role, so a person (or the demo) can call the REST API at once. */
export async function createStartClient(
  gateway: ErpGatewayApp,
  clock: () => number,
): Promise<{ id: string; key: string; roles: Role[] }> {
  const id = `cell-operator-${new Date(clock())
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)}`;
  const roles: Role[] = ['erp', 'operator', 'engineer', 'viewer'];
  const { key } = await gateway.app.get(Stores).clients.create(id, 'pipac start', roles);
  return { id, key, roles };
}

/** The plant: the twin behind LADS devices on one OPC UA server (SignAndEncrypt, a user). */
export async function startPlantSimulator(
  options: {
    recipe: Recipe;
    stateDir: string;
    user: OpcuaUser;
    timeFactor: number;
    warmUp: number;
    seed: number;
    scenario?: { name: string; duration: number };
  },
  log: (line: string) => void,
): Promise<PlantSimulator> {
  log(`plant simulator: warming up ${options.warmUp} s at the recipe's setpoints`);
  return PlantSimulator.start({
    recipe: options.recipe,
    port: await freePort(),
    pkiFolder: join(options.stateDir, 'pki', 'simulator'),
    security: { users: [options.user], acceptUnknownCertificates: true },
    timeFactor: options.timeFactor,
    warmUp: options.warmUp,
    tickMs: 100,
    seed: options.seed,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    log,
  });
}
