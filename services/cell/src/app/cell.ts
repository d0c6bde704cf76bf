import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EventBus } from '@pipac/bus';
import type { Coordinator } from '@pipac/coordinator';
import type { DeviceAdapter } from '@pipac/device-adapter';
import type { ErpGatewayApp } from '@pipac/erp-gateway';
import type { Database, Role } from '@pipac/persistence';
import type { PlantSimulator } from '@pipac/plant-simulator';
import type { StepAgent } from '@pipac/step-agent';
import { compilePlant, loadRecipe, type PlantModel, type Recipe } from '@pipac/recipe';
import {
  createStartClient,
  openAuditedDatabase,
  startCoordinator,
  startDeviceAdapters,
  startGateway,
  startPlantSimulator,
  startStepAgents,
  type CellWiring,
  type OpcuaUser,
} from './cell-parts';
import { registerShippedModels } from './shipped-models';
import { StartedParts, type Stoppable } from './started-parts';

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
/** The running parts of a cell, as `Cell.start` made them. */
interface CellParts {
  model: PlantModel;
  db: Database;
  simulator: PlantSimulator;
  adapters: DeviceAdapter[];
  agents: StepAgent[];
  coordinator: Coordinator;
  gateway: ErpGatewayApp;
  url: string;
  client: CellClient;
  bus: EventBus;
  auditHead: Stoppable;
}

export class Cell {
  readonly model: PlantModel;
  readonly db: Database;
  readonly simulator: PlantSimulator;
  readonly adapters: DeviceAdapter[];
  readonly agents: StepAgent[];
  readonly coordinator: Coordinator;
  readonly gateway: ErpGatewayApp;
  readonly url: string;
  readonly client: CellClient;
  private readonly bus: EventBus;
  private readonly auditHead: Stoppable;

  private constructor(parts: CellParts) {
    this.model = parts.model;
    this.db = parts.db;
    this.simulator = parts.simulator;
    this.adapters = parts.adapters;
    this.agents = parts.agents;
    this.coordinator = parts.coordinator;
    this.gateway = parts.gateway;
    this.url = parts.url;
    this.client = parts.client;
    this.bus = parts.bus;
    this.auditHead = parts.auditHead;
  }

  /**
   * Starts the parts in the order they depend on each other: the database and the bus, the
   * plant, the step agents and the coordinator, the devices, and the REST API last. If one
   * fails, those already started are stopped again.
   */
  static async start(options: CellOptions): Promise<Cell> {
    const recipe = loadRecipe(options.recipePath);
    const model = compilePlant(recipe);
    mkdirSync(options.stateDir, { recursive: true });
    const log = options.log ?? (() => undefined);
    const started = new StartedParts();
    try {
      const { db, auditHead } = await openAuditedDatabase(
        {
          database: options.database,
          auditKeys: options.auditKeys ?? join(options.stateDir, 'audit'),
          auditHeadMs: options.auditHeadMs ?? 2000,
        },
        started,
        log,
      );
      await options.bus.connect();
      started.add({ stop: () => options.bus.disconnect() });
      const user = { username: 'pipac-cell', password: randomBytes(12).toString('base64url') };
      const simulator = started.add(await startSimulator(options, recipe, user, log));
      const wiring = cellWiring(options, model, simulator, log);
      const agents = await startStepAgents(wiring, started);
      const coordinator = started.add(await startCoordinator(wiring, db));
      // The devices last: every consumer is subscribed when the adapters publish their first values.
      const adapters = await startDeviceAdapters(wiring, simulator, user, started);
      const { gateway, url } = await startGateway(
        wiring,
        {
          recipe: recipe.metadata.name,
          db,
          webhookAllowNetworks: options.webhookAllowNetworks ?? [],
          http: options.http ?? { host: '127.0.0.1', port: 8090 },
        },
        started,
      );
      await registerShippedModels(db, options.modelsDir, model, wiring.clock, wiring.cell);
      const client = await createStartClient(gateway, wiring.clock);
      const bus = options.bus;
      return new Cell({
        model,
        db,
        simulator,
        adapters,
        agents,
        coordinator,
        gateway,
        url,
        client,
        bus,
        auditHead,
      });
    } catch (error) {
      await started.stopAll();
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

function startSimulator(
  options: CellOptions,
  recipe: Recipe,
  user: OpcuaUser,
  log: (line: string) => void,
): Promise<PlantSimulator> {
  return startPlantSimulator(
    {
      recipe,
      stateDir: options.stateDir,
      user,
      timeFactor: options.timeFactor ?? 120,
      warmUp: options.warmUp ?? 3600,
      seed: options.seed ?? 1,
      ...(options.scenario ? { scenario: options.scenario } : {}),
    },
    log,
  );
}

/** Every part reads the simulated clock of the plant. */
function cellWiring(
  options: CellOptions,
  model: PlantModel,
  simulator: PlantSimulator,
  log: (line: string) => void,
): CellWiring {
  const simulation = simulator.simulation;
  return {
    site: options.site ?? 'demo',
    cell: options.cell ?? 'cell-1',
    model,
    bus: options.bus,
    modelsDir: options.modelsDir,
    stateDir: options.stateDir,
    timeFactor: options.timeFactor ?? 120,
    clock: () => simulation.timestamp(simulation.plant.time).getTime(),
    log,
  };
}
