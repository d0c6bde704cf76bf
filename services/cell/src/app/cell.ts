import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
import { compilePlant, loadRecipe, type PlantModel } from '@pipac/recipe';
import { registerShippedModels } from './shipped-models';

export interface CellOptions {
  /** @default 'demo' */
  site?: string;
  /** @default 'cell-1' */
  cell?: string;
  recipePath: string;
  /** Trained models: <models>/<step>/policy.onnx and its card. */
  modelsDir: string;
  /** The event bus: an InProcessBus for one machine, a KafkaBus for a plant. */
  bus: EventBus;
  /** `sqlite:<file>` or `postgres://…` */
  database: string;
  /** Spools, journals and certificates. */
  stateDir: string;
  /**
   * The audit trail's signing key, keyring and exported head (made on first start), kept apart
   * from the database. @default `<stateDir>/audit`
   */
  auditKeys?: string;
  /** How often the signed head is exported to `<auditKeys>/head.json`, wall ms. @default 2000 */
  auditHeadMs?: number;
  /** Simulated seconds per wall-clock second. @default 120 */
  timeFactor?: number;
  /** Disturbance scenario of the simulated plant. @default none (nominal) */
  scenario?: { name: string; duration: number };
  /** @default 1 */
  seed?: number;
  /**
   * Networks (CIDR) the gateway's webhooks may reach although they are loopback or link-local
   * (its `webhooks.allowNetworks`), e.g. `['127.0.0.0/8']` for an ERP receiver on this
   * machine. @default none
   */
  webhookAllowNetworks?: string[];
  /** The REST API. @default 127.0.0.1:8090 (port 0: any free port) */
  http?: { host: string; port: number };
  /** Simulated seconds the plant runs at the recipe before the cell takes over. @default 3600 */
  warmUp?: number;
  log?: (line: string) => void;
}

/** One API client made at start, so a person (or the demo) can call the REST API at once. */
export interface CellClient {
  id: string;
  key: string;
  roles: Role[];
}

/**
 * The whole cell in one process (the embedded default of DESIGN.md): the plant simulator's
 * OPC UA devices on loopback, one device adapter per device, one step agent per step with
 * the trained models (in Automatic), the coordinator and the ERP gateway, all on one bus and
 * one database. Every part is the service itself, started as its own main would; only the
 * wiring is shared. Time runs `timeFactor` times faster than the wall clock: every part reads
 * the simulated clock, and the timers run at the wall-clock equivalent of their periods.
 */
export class Cell {
  private constructor(
    readonly model: PlantModel,
    readonly db: Database,
    readonly simulator: PlantSimulator,
    readonly adapters: DeviceAdapter[],
    readonly agents: StepAgent[],
    readonly coordinator: Coordinator,
    readonly gateway: ErpGatewayApp,
    readonly url: string,
    readonly client: CellClient,
    private readonly bus: EventBus,
    private readonly auditHead: { stop: () => Promise<unknown> },
  ) {}

  static async start(options: CellOptions): Promise<Cell> {
    const site = options.site ?? 'demo';
    const cellId = options.cell ?? 'cell-1';
    const timeFactor = options.timeFactor ?? 120;
    const log = options.log ?? (() => undefined);
    const recipe = loadRecipe(options.recipePath);
    const model = compilePlant(recipe);
    mkdirSync(options.stateDir, { recursive: true });
    const started: { stop: () => Promise<unknown> }[] = [];
    const stopAll = async () => {
      for (const part of started.reverse()) await part.stop().catch(() => undefined);
    };
    try {
      // Every append is signed with a key that lives outside the database; the newest signed
      // head is exported beside it, so a shortened trail shows (see docs/audit-trail.md).
      const auditKeys = options.auditKeys ?? join(options.stateDir, 'audit');
      const db = await Database.open(parseDatabaseUrl(options.database), {
        audit: loadAuditKeys(auditKeys, { create: true }),
      });
      started.push({ stop: () => db.close() });
      const auditHead = new AuditHeadExporter(
        new AuditTrail(db),
        auditKeyFiles(auditKeys).head,
      ).every(options.auditHeadMs ?? 2000, (e: unknown) => log(`audit head: ${String(e)}`));
      started.push(auditHead);
      await options.bus.connect();
      started.push({ stop: () => options.bus.disconnect() });

      // The plant: the twin behind LADS devices on one OPC UA server (SignAndEncrypt, a user).
      const user = { username: 'pipac-cell', password: randomBytes(12).toString('base64url') };
      log(`plant simulator: warming up ${options.warmUp ?? 3600} s at the recipe's setpoints`);
      const simulator = await PlantSimulator.start({
        recipe,
        port: await freePort(),
        pkiFolder: join(options.stateDir, 'pki', 'simulator'),
        security: { users: [user], acceptUnknownCertificates: true },
        timeFactor,
        warmUp: options.warmUp ?? 3600,
        tickMs: 100,
        seed: options.seed ?? 1,
        ...(options.scenario ? { scenario: options.scenario } : {}),
        log,
      });
      started.push(simulator);
      const simulation = simulator.simulation;
      const clock = () => simulation.timestamp(simulation.plant.time).getTime();
      const wallMs = (simulatedMs: number) => Math.max(10, simulatedMs / timeFactor);

      // Started together: each joins its consumer groups, which takes seconds on Kafka.
      const starting = await Promise.allSettled(
        model.steps.map((step) =>
          StepAgent.start({
            site,
            cell: cellId,
            step: step.id,
            model,
            bus: options.bus,
            modelsDir: options.modelsDir,
            mode: 'automatic',
            cycleMs: wallMs(60_000),
            modelPollMs: 5000,
            clock,
            log: (line) => log(`step-agent ${step.id}: ${line}`),
          }),
        ),
      );
      const agents = starting.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      started.push(...agents); // stopped below if another agent failed to start
      const failed = starting.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;

      const coordinator = await Coordinator.start({
        site,
        cell: cellId,
        model,
        bus: options.bus,
        db,
        clock,
        cycleMs: 60_000,
        timerMs: wallMs(60_000),
        log: (line) => log(`coordinator: ${line}`),
      });
      started.push(coordinator);

      // The devices last: every consumer is subscribed when the adapters publish their first values.
      const adapters: DeviceAdapter[] = [];
      for (const device of describePlantDevices(model)) {
        const adapter = await DeviceAdapter.start({
          site,
          cell: cellId,
          step: device.step,
          nodeMap: simulator.server.nodeMap(device.id),
          bus: options.bus,
          opcua: {
            pkiFolder: join(options.stateDir, 'pki', 'adapters'),
            acceptUnknownCertificates: true,
            user,
          },
          stateDir: join(options.stateDir, 'adapters', device.id),
          spoolSync: false,
          now: clock,
        });
        adapters.push(adapter);
        started.push(adapter);
      }
      log(`device adapters: ${adapters.length} OPC UA sessions to ${simulator.server.endpointUrl}`);

      const gateway = await createErpGateway(
        {
          site,
          cell: cellId,
          steps: model.steps.map((s) => s.id),
          recipe: recipe.metadata.name,
          product: model.speciesIds[model.productIndex]!,
          db,
          bus: options.bus,
          modelsDir: options.modelsDir,
          clock,
          plant: model,
          // A person's 30 s on the wall clock, in the cell's faster plant time.
          setpointDeadlineMs: 30_000 * timeFactor,
          webhooks: { allowNetworks: options.webhookAllowNetworks ?? [] },
        },
        { logger: ['error'] },
      );
      started.push({ stop: () => gateway.app.close() });
      const http = options.http ?? { host: '127.0.0.1', port: 8090 };
      await gateway.app.listen(http.port, http.host);
      const url = (await gateway.app.getUrl()).replace('[::1]', '127.0.0.1');

      await registerShippedModels(db, options.modelsDir, model, clock, cellId);
      const id = `cell-operator-${new Date(clock())
        .toISOString()
        .replace(/[^0-9]/g, '')
        .slice(0, 14)}`;
      const roles: Role[] = ['erp', 'operator', 'engineer', 'viewer'];
      const { key } = await gateway.app.get(Stores).clients.create(id, 'pipac start', roles);
      return new Cell(
        model,
        db,
        simulator,
        adapters,
        agents,
        coordinator,
        gateway,
        url,
        { id, key, roles },
        options.bus,
        auditHead,
      );
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  /** ms since the epoch on the simulated clock. */
  now(): number {
    const simulation = this.simulator.simulation;
    return simulation.timestamp(simulation.plant.time).getTime();
  }

  async stop(): Promise<void> {
    await this.gateway.app.close().catch(() => undefined);
    await this.coordinator.stop();
    for (const agent of this.agents) await agent.stop();
    for (const adapter of this.adapters) await adapter.stop();
    await this.simulator.stop();
    await this.bus.disconnect();
    await this.auditHead.stop();
    await this.db.close();
  }
}
