import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { subscribeEvents, type EventBus, type Subscription } from '@pipac/bus';
import { deadLetterTopic, topicName, writeConfirmationCodec } from '@pipac/contracts';
import { DeviceAdapter } from '@pipac/device-adapter';
import { freePort } from '@pipac/opcua/testing';
import { PlantSimulator } from '@pipac/plant-simulator';
import { StepAgent } from '@pipac/step-agent';
import { compilePlant, loadRecipe } from '@pipac/recipe';

const REPO = join(__dirname, '..', '..', '..', '..');
const USER = { username: 'loop', password: 'loop password' };

export interface ControlLoopRigOptions {
  bus: EventBus;
  /** Topic namespace; unique per run on a long-lived broker. */
  site: string;
  /** @default 'hydrogenation' */
  step?: string;
  /** The adapters' OPC UA publishing interval, ms. @default 50 */
  publishingMs?: number;
}

export interface LoopSample {
  /** Device value change → the write confirmation of the first command, ms. */
  total: number;
  /** Device value change → the reading at the agent, ms. */
  toAgent: number;
  /** The agent's cycle: observe, policy, shield, publish, ms. */
  decide: number;
}

/**
 * One step's control loop on the real parts: the plant simulator's OPC UA server (twin frozen
 * after its warm-up, so only injected changes move values), the step's two device adapters
 * (module and analyser, SignAndEncrypt), and its agent in Automatic with the shipped model,
 * cycled by hand as soon as a new value arrives (in service it decides on its 60 s cycle;
 * that wait is not latency). The control-loop benchmark and the trace test run on it.
 */
export class ControlLoopRig {
  private constructor(
    readonly simulator: PlantSimulator,
    readonly agent: StepAgent,
    readonly adapters: DeviceAdapter[],
    private readonly watch: Subscription,
    /** When each write confirmation arrived (performance.now()). */
    private readonly confirmations: number[],
    private readonly dir: string,
    readonly analyserTag: string,
  ) {}

  static async start(options: ControlLoopRigOptions): Promise<ControlLoopRig> {
    const step = options.step ?? 'hydrogenation';
    const { bus, site } = options;
    const dir = mkdtempSync(join(tmpdir(), 'pipac-loop-'));
    const recipe = loadRecipe(join(REPO, 'recipes/paracetamol.yaml'));
    const model = compilePlant(recipe);
    const spec = model.steps.find((s) => s.id === step)!.spec;
    const analyser = spec.analyser!.tag;
    const simulator = await PlantSimulator.start({
      recipe,
      port: await freePort(),
      pkiFolder: join(dir, 'pki-server'),
      security: { users: [USER], acceptUnknownCertificates: true },
      warmUp: 1800,
      tickMs: 3_600_000,
    });
    // The agent first: it is subscribed when the adapters publish every tag's first value.
    const agent = await StepAgent.start({
      site,
      cell: 'cell-1',
      step,
      model,
      bus,
      modelsDir: join(REPO, 'models', recipe.metadata.name),
      mode: 'automatic',
      autoCycle: false,
      modelPollMs: 0,
      group: `loop-agent-${site}`,
      log: () => undefined,
    });
    const adapters: DeviceAdapter[] = [];
    for (const device of [`${step}-module`, analyser]) {
      adapters.push(
        await DeviceAdapter.start({
          site,
          cell: 'cell-1',
          step,
          nodeMap: simulator.server.nodeMap(device),
          bus,
          opcua: {
            pkiFolder: join(dir, 'pki-adapters'),
            acceptUnknownCertificates: true,
            user: USER,
            publishingIntervalMs: options.publishingMs ?? 50,
          },
          stateDir: join(dir, device),
          spoolSync: false,
          refreshMs: 0,
        }),
      );
    }
    const confirmations: number[] = [];
    const watch = await subscribeEvents(bus, {
      group: `loop-${site}`,
      topic: topicName({ site, cell: 'cell-1', step, stream: 'confirmations' }),
      codec: writeConfirmationCodec,
      deadLetterTopic: deadLetterTopic(site, 'cell-1'),
      handler: async () => void confirmations.push(performance.now()),
    });
    const rig = new ControlLoopRig(simulator, agent, adapters, watch, confirmations, dir, analyser);
    // Every tag once, so the agent has a complete picture before the first sample.
    for (let tries = 0; (await agent.cycle()).missing; tries++) {
      if (tries > 300) throw new Error('the agent never had every reading');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2000));
    return rig;
  }

  /**
   * One sample: the analyser's conversion changes at the device, the agent decides as soon as
   * it holds the new value, and the first write confirmation closes the loop; or why there is
   * no sample (the agent issued no command, or a hop timed out).
   */
  async sample(conversion: number): Promise<LoopSample | 'no command' | 'timed out'> {
    const { agent } = this;
    const readingsBefore = agent.stats.readings;
    const confirmedBefore = this.confirmations.length;
    const commandsBefore = agent.stats.commands;
    const t0 = performance.now();
    this.simulator.server.update(`${this.analyserTag}.conversion`, {
      value: conversion,
      sourceTime: new Date(),
    });
    if (!(await waitFor(() => agent.stats.readings > readingsBefore, 5000))) return 'timed out';
    const t1 = performance.now();
    await agent.cycle();
    const t2 = performance.now();
    if (agent.stats.commands === commandsBefore) return 'no command';
    if (!(await waitFor(() => this.confirmations.length > confirmedBefore, 5000)))
      return 'timed out';
    const sample = {
      total: this.confirmations[confirmedBefore]! - t0,
      toAgent: t1 - t0,
      decide: t2 - t1,
    };
    // Let every confirmation of this cycle land before the next sample.
    await new Promise((r) => setTimeout(r, 30));
    return sample;
  }

  async stop(): Promise<void> {
    await this.watch.close();
    await this.agent.stop();
    for (const adapter of this.adapters) await adapter.stop();
    await this.simulator.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls without a timer's granularity (setImmediate), so the wait adds no latency. */
async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setImmediate(r));
  }
  return true;
}
