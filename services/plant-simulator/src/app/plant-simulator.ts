import {
  DeviceServer,
  describePlantDevices,
  type DeviceServerSecurity,
  type NodeMap,
} from '@pipac/opcua';
import { compilePlant, type Recipe } from '@pipac/recipe';
import { Plant, buildScenario } from '@pipac/twin';
import { PlantSimulation } from './plant-simulation';

export interface PlantSimulatorOptions {
  recipe: Recipe;
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Host names and addresses clients reach the simulator by: its endpoints and its
   * self-signed certificate's subjectAltName name them. @default [host]
   */
  hostnames?: string[];
  pkiFolder: string;
  security: DeviceServerSecurity;
  /** The server's application certificate and key (PEM). @default self-signed, in `<pkiFolder>/own` */
  certificateFile?: string;
  privateKeyFile?: string;
  /** Simulated seconds per wall-clock second. @default 1 */
  timeFactor?: number;
  /** Disturbance scenario and its length, s. @default nominal */
  scenario?: { name: string; duration: number };
  /** @default 1 */
  seed?: number;
  /** Plant step, s. @default 1 */
  dt?: number;
  /** Simulated seconds at the setpoints before serving, so the plant starts at operating conditions. @default 7200 */
  warmUp?: number;
  /** Wall-clock period of the simulation loop, ms. @default 100 */
  tickMs?: number;
  /** Wall clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Where the simulator says that the plant's clock slipped (at most every 10 s). @default none */
  log?: (line: string) => void;
}

/**
 * The plant simulator: the twin of a recipe's plant, warmed up, served by one OPC UA server
 * whose devices are those of `describePlantDevices` and driven in real time or at a time
 * factor. Writes to a device's target values go to the twin.
 */
export class PlantSimulator {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly server: DeviceServer,
    readonly simulation: PlantSimulation,
    private readonly tickMs: number,
  ) {}

  static async start(options: PlantSimulatorOptions): Promise<PlantSimulator> {
    const model = compilePlant(options.recipe);
    const seed = options.seed ?? 1;
    const scenario = options.scenario
      ? buildScenario(options.scenario.name, model, seed, options.scenario.duration)
      : undefined;
    const plant = new Plant(model, {
      dt: options.dt ?? 1,
      seed,
      ...(scenario ? { scenario } : {}),
    });
    plant.warmUp(options.warmUp ?? 7200);
    const devices = describePlantDevices(model);
    // Writes reach the twin through the simulation, which needs the server first.
    const target: { simulation?: PlantSimulation } = {};
    const server = await DeviceServer.start({
      devices,
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      ...(options.hostnames ? { hostnames: options.hostnames } : {}),
      namespaceUri: `urn:pipac:plant-simulator:${model.recipe.metadata.name}`,
      pkiFolder: options.pkiFolder,
      security: options.security,
      applicationUri: 'urn:pipac:plant-simulator',
      applicationName: 'pipac plant simulator',
      productUri: 'urn:pipac:plant-simulator',
      // One clock for the whole server: the plant's. Values are stamped with plant time, and so
      // are the server timestamps and ServerStatus.CurrentTime, so at a time factor above one no
      // value is ahead of the server's own time (docs/devices.md, "Timestamps").
      clock: () =>
        target.simulation ? target.simulation.clock() : new Date((options.now ?? Date.now)()),
      // Applied to the plant before the server stores it, so a device never reports a target
      // the plant does not run at; none is taken before the simulation is there.
      onTargetWritten: (tag, value) => {
        if (!target.simulation) throw new Error('the plant simulator is still starting');
        target.simulation.applySetpoint(tag, value);
      },
      ...(options.certificateFile && options.privateKeyFile
        ? { certificateFile: options.certificateFile, privateKeyFile: options.privateKeyFile }
        : {}),
    });
    const tickMs = options.tickMs ?? 100;
    const simulation = new PlantSimulation(plant, devices, server, {
      timeFactor: options.timeFactor ?? 1,
      ...(options.now ? { now: options.now } : {}),
      // Half of every tick at most: the OPC UA server has the rest.
      tickBudgetMs: tickMs / 2,
    });
    target.simulation = simulation;
    const simulator = new PlantSimulator(server, simulation, tickMs);
    simulation.start();
    const log = options.log;
    let reported = 0;
    let reportedAt = 0;
    simulator.timer = setInterval(() => {
      simulation.tick();
      const slipped = simulation.slippedSteps;
      if (!log || slipped === reported || Date.now() - reportedAt < 10_000) return;
      const plantSeconds = (slipped - reported) * plant.dt;
      // The reactors' reaction substeps per plant step say which one is stiff (up to 2000).
      const substeps = plant.units.map((u) => `${u.step.id} ${u.substeps}`).join(', ');
      log(
        `plant simulator: cannot keep up with ${simulation.timeFactor}x; its clock slipped ` +
          `${plantSeconds} s of plant time (${slipped * plant.dt} s in all); ` +
          `reaction substeps per step: ${substeps}`,
      );
      reported = slipped;
      reportedAt = Date.now();
    }, simulator.tickMs);
    return simulator;
  }

  get endpointUrl(): string {
    return this.server.endpointUrl;
  }

  /** Node maps of every device, for the device adapters' configuration. */
  nodeMaps(): NodeMap[] {
    const devices = new Set([...this.server.tags.values()].map((node) => node.device));
    return [...devices].map((device) => this.server.nodeMap(device));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.server.stop();
  }
}
