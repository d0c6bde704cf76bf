import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  publishEvent,
  subscribeAll,
  subscribeEvents,
  type EventBus,
  type Subscription,
} from '@pipac/bus';
import {
  ConversionPidController,
  StepCapacityEstimator,
  type ShieldDecision,
  OperatorSetpoints,
  PolicyController,
  SafetyShield,
  StepSpace,
  loadStepPolicy,
  setpointTagOf,
  tuneConversionPid,
  type ConversionPidTuning,
  type Intervention,
  type LoadedPolicy,
  type StepReadings,
} from '@pipac/control';
import {
  AutomaticSource,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  SetpointCommandSchema,
  StepStatusSchema,
  deadLetterTopic,
  deviceStateCodec,
  sensorReadingCodec,
  setpointCommandCodec,
  stepStatusCodec,
  throughputTargetCodec,
  timestampMs,
  topicName,
  type DeviceState,
  type SetpointCommand,
  type ThroughputTarget,
} from '@pipac/contracts';
import type { PlantModel } from '@pipac/recipe';
import { AgentTelemetry } from './agent-telemetry';
import { CommandDeadline } from './command-deadline';
import { ReadingsTracker } from './readings-tracker';

/** NAMUR MTP operating modes of a step (VDI/VDE/NAMUR 2658-4: Offline, Operator, Automatic). */
export type StepMode = 'offline' | 'operator' | 'automatic';
/** Who writes in Automatic: the agent (the shield may still hand over to the fallback), or the fallback by request. */
export type RequestedSource = 'agent' | 'fallback';

export interface StepAgentOptions {
  site: string;
  cell: string;
  step: string;
  model: PlantModel;
  bus: EventBus;
  /** Deployed models: <modelsDir>/<step>/policy.onnx with its card. */
  modelsDir: string;
  /** Control cycle, ms. @default 60,000 */
  cycleMs?: number;
  /** Run cycles on a timer; tests call cycle() themselves. @default true */
  autoCycle?: boolean;
  /** Mode at start: a starting agent does not take control by itself. @default 'operator' */
  mode?: StepMode;
  /** Propose only: decide every cycle, publish status, never a command. @default false */
  shadow?: boolean;
  /** Check the models folder for a new policy this often, ms; 0 never. @default 5000 */
  modelPollMs?: number;
  /** PID fallback tuning. @default SIMC from a step test on the twin (tuneConversionPid) */
  fallbackTuning?: ConversionPidTuning;
  /** ms since the epoch. @default Date.now */
  clock?: () => number;
  /**
   * Plant ms per wall-clock ms, for the commands' deadlines. @default measured from `clock`
   * against the wall clock (see CommandDeadline)
   */
  timeFactor?: number;
  /**
   * Shortest life of a setpoint command, wall-clock ms; a command lives one cycle otherwise,
   * both in `clock`'s time. @default 2000
   */
  deadlineFloorMs?: number;
  /** Consumer group prefix. @default 'step-agent' */
  group?: string;
  log?: (line: string) => void;
}

export interface ModeChange {
  at: number;
  mode: StepMode;
  source: RequestedSource;
  by: string;
  reason: string;
}

export interface CycleReport {
  at: number;
  mode: StepMode;
  /** Who decided: the agent, the fallback, or nobody (hold: no inputs yet, or not in Automatic). */
  source: 'agent' | 'fallback' | 'hold' | 'none';
  setpoints: Record<string, number>;
  /** Commands published this cycle (none in shadow mode, Operator or Offline). */
  commands: number;
  interventions: Intervention[];
  modelVersion: string;
  missing?: string[];
}

export interface StepAgentStats {
  cycles: number;
  /** Sensor events taken in. */
  readings: number;
  commands: number;
  interventions: Record<string, number>;
  modelVersion: string;
  modelLoadedAt: number;
  lastReadingAt: number;
  busConnected: boolean;
}

const SOURCE_WIRE = { agent: AutomaticSource.AGENT, fallback: AutomaticSource.FALLBACK } as const;
const MODE_WIRE = {
  offline: Mode.OFFLINE,
  operator: Mode.OPERATOR,
  automatic: Mode.AUTOMATIC,
} as const;
const MODE_FROM_WIRE: Partial<Record<Mode, StepMode>> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/**
 * The step agent: reads its step's sensor events, and each control cycle builds the
 * observation, asks the deployed policy (ONNX), passes the proposal through the safety shield
 * (the PID on measured conversion as its fallback), and publishes setpoint commands carrying
 * the model version. Modes follow MTP: in Offline and Operator it never writes; in Automatic
 * the agent (or the fallback) writes; an operator's own setpoint command, or a mode request,
 * takes the step out of Automatic at once: the operator always wins. A new policy in the
 * models folder is loaded without a restart, and refused (the old one kept) if it does not fit.
 */
export class StepAgent {
  readonly space: StepSpace;
  private readonly tracker: ReadingsTracker;
  private readonly shield: SafetyShield;
  private readonly fallback: ConversionPidController;
  private readonly clock: () => number;
  readonly cycleMs: number;
  private readonly deadline: CommandDeadline;
  private readonly topics: Record<'sensors' | 'setpoints' | 'status' | 'state' | 'targets', string>;
  private readonly deadLetter: string;
  private readonly subscriptions: Subscription[] = [];
  private readonly instance = randomUUID().slice(0, 8);
  private readonly nominalOutletFlow: number;
  /** Every setpoint of the step a person may write (an operator's write ends Automatic). */
  private readonly setpointTags: ReadonlySet<string>;
  private loaded: LoadedPolicy | undefined;
  private agent: PolicyController | undefined;
  private loadedMtime = 0;
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private cycling: Promise<CycleReport> | undefined;
  private currentMode: StepMode;
  private requestedSource: RequestedSource = 'agent';
  private needsReset = true;
  private target = 1;
  private targetValidUntil = Number.POSITIVE_INFINITY;
  /** Why the coordinator paused the step (a target of 0), or undefined while it runs. */
  private pausedBy: string | undefined;
  private readonly capacity: StepCapacityEstimator;
  private readonly telemetry: AgentTelemetry;
  private cycleCount = 0;
  /** Who decided the last cycle, for the metrics. */
  private lastDecision: CycleReport['source'] = 'none';
  /** Who wrote last cycle: a hand-over writes every setpoint once, changed or not. */
  private lastSource: 'agent' | 'fallback' | undefined;
  readonly modeLog: ModeChange[] = [];
  readonly stats: StepAgentStats = {
    cycles: 0,
    readings: 0,
    commands: 0,
    interventions: {},
    modelVersion: '',
    modelLoadedAt: 0,
    lastReadingAt: 0,
    busConnected: false,
  };

  private constructor(private readonly options: StepAgentOptions) {
    const { model, step, site, cell } = options;
    this.space = new StepSpace(model, step);
    this.tracker = new ReadingsTracker(this.space);
    this.clock = options.clock ?? Date.now;
    this.cycleMs = options.cycleMs ?? 60_000;
    this.deadline = new CommandDeadline({
      clock: this.clock,
      cycleMs: this.cycleMs,
      ...(options.timeFactor !== undefined ? { timeFactor: options.timeFactor } : {}),
      ...(options.deadlineFloorMs !== undefined ? { floorWallMs: options.deadlineFloorMs } : {}),
    });
    this.currentMode = options.mode ?? 'operator';
    this.fallback = new ConversionPidController(
      this.space,
      options.fallbackTuning ?? tuneConversionPid(model, step),
    );
    const gates = this.tracker.gates();
    this.shield = new SafetyShield({ setpoints: this.space.shieldLimits(), inputs: gates });
    const topic = (stream: keyof StepAgent['topics']) => topicName({ site, cell, step, stream });
    this.topics = {
      sensors: topic('sensors'),
      setpoints: topic('setpoints'),
      status: topic('status'),
      state: topic('state'),
      targets: topic('targets'),
    };
    this.deadLetter = deadLetterTopic(site, cell);
    this.nominalOutletFlow = this.liquidFlow(this.space.nominalSetpoints());
    this.setpointTags = new Set(
      (new OperatorSetpoints(model).of(step) ?? []).map((setpoint) => setpoint.tag),
    );
    this.capacity = new StepCapacityEstimator(this.space);
    this.telemetry = new AgentTelemetry(this.space, this.tracker.conversionTag, gates, () => ({
      mode: this.currentMode,
      source: this.lastDecision,
      modelVersion: this.modelVersion,
    }));
  }

  /** Whether the coordinator has paused the step (MTP Pause: feed pumps off, reactor full). */
  get paused(): boolean {
    return this.pausedBy !== undefined;
  }

  static async start(options: StepAgentOptions): Promise<StepAgent> {
    const agent = new StepAgent(options);
    try {
      await agent.begin();
    } catch (error) {
      await agent.stop().catch(() => undefined); // leaves no consumer, timer or model behind
      throw error;
    }
    return agent;
  }

  get mode(): StepMode {
    return this.currentMode;
  }

  get modelVersion(): string {
    return this.loaded?.card.version ?? '';
  }

  get shadow(): boolean {
    return this.options.shadow ?? false;
  }

  /**
   * Changes the mode (MTP). Entering Automatic resets the controllers from the devices'
   * current setpoints, so control continues without a bump.
   */
  setMode(mode: StepMode, by: string, reason: string, source: RequestedSource = 'agent'): void {
    if (mode === this.currentMode && source === this.requestedSource) return;
    if (mode === 'automatic') this.needsReset = true;
    this.currentMode = mode;
    this.requestedSource = source;
    const change = { at: this.clock(), mode, source, by, reason };
    this.modeLog.push(change);
    this.log(`mode ${mode}${mode === 'automatic' ? ` (${source})` : ''} by ${by}: ${reason}`);
    if (this.stats.busConnected) {
      void this.publishModeFeedback(change).catch((error: Error) =>
        this.log(`mode feedback not published: ${error.message}`),
      );
    }
  }

  /**
   * Announces a mode change on the step's state topic (MTP: the feedback to a request, VFbk
   * to VReq): the mode taken, who asked and why, for the coordinator and the audit trail. A
   * request has an empty `state`; the feedback says `Running`, so agents never take one
   * for the other.
   */
  private async publishModeFeedback(change: ModeChange): Promise<void> {
    const person = change.by.startsWith('user:');
    await publishEvent(
      this.options.bus,
      this.topics.state,
      deviceStateCodec,
      this.options.step,
      create(DeviceStateSchema, {
        location: {
          site: this.options.site,
          cell: this.options.cell,
          step: this.options.step,
          device: '',
        },
        mode: MODE_WIRE[change.mode],
        source: change.source === 'fallback' ? AutomaticSource.FALLBACK : AutomaticSource.AGENT,
        state: STEP_MODE_FEEDBACK,
        connected: true,
        changedBy: person
          ? { kind: Issuer_Kind.USER, id: change.by.slice('user:'.length), modelVersion: '' }
          : { kind: Issuer_Kind.AGENT, id: change.by, modelVersion: this.modelVersion ?? '' },
        reason: change.reason,
        changedAt: timestampFromMs(change.at),
      }),
    );
  }

  /** Loads the policy in the models folder if it is new; keeps the old one if the new does not fit. */
  async reloadModel(): Promise<boolean> {
    const dir = this.options.modelsDir;
    const card = join(dir, this.space.step.id, 'policy.card.json');
    const mtime = await stat(card).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (mtime === 0 || mtime === this.loadedMtime) return false;
    try {
      const next = await loadStepPolicy(dir, this.space, this.options.model.recipe.metadata.name);
      this.loadedMtime = mtime;
      if (next.card.version === this.loaded?.card.version) {
        await next.policy.release();
        return false;
      }
      const previous = this.loaded;
      this.loaded = next;
      this.agent = new PolicyController(this.space, next.policy);
      this.needsReset = true;
      this.stats.modelVersion = next.card.version;
      this.stats.modelLoadedAt = this.clock();
      this.log(
        `policy ${next.card.version} loaded${previous ? ` (was ${previous.card.version})` : ''}`,
      );
      // Let a cycle in flight finish with the old session before it goes.
      if (previous) setTimeout(() => void previous.policy.release(), this.cycleMs).unref();
      return true;
    } catch (error) {
      this.loadedMtime = mtime;
      this.log(
        `policy in ${dir} refused, ${this.loaded ? `keeping ${this.loaded.card.version}` : 'running the fallback'}: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /** One control cycle (the timer calls it; tests may too). Cycles never overlap. */
  cycle(): Promise<CycleReport> {
    this.cycling ??= this.telemetry
      .cycle(() => this.runCycle())
      .finally(() => (this.cycling = undefined));
    return this.cycling;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.poller) clearInterval(this.poller);
    await this.cycling;
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions.length = 0;
    await this.loaded?.policy.release();
    this.loaded = undefined;
    this.stats.busConnected = false;
    this.telemetry.stop();
  }

  private async begin(): Promise<void> {
    const { bus, step } = this.options;
    await bus.ensureTopics([
      ...Object.entries(this.topics).map(([stream, name]) => ({
        name,
        compacted: stream === 'setpoints' || stream === 'state' || stream === 'targets',
      })),
      { name: this.deadLetter },
    ]);
    await this.reloadModel();
    // One consumer group per stream: a Kafka group's members share one subscription.
    // Named by site and cell too: cells that share a Kafka cluster never share a group.
    const { site, cell } = this.options;
    const group = (stream: string) =>
      `${this.options.group ?? 'step-agent'}.${site}.${cell}.${step}.${stream}`;
    this.subscriptions.push(
      // Joined in parallel: each consumer group's join takes seconds on Kafka.
      ...(await subscribeAll([
        subscribeEvents(bus, {
          group: group('sensors'),
          topic: this.topics.sensors,
          codec: sensorReadingCodec,
          deadLetterTopic: this.deadLetter,
          handler: async (reading) => {
            this.tracker.update(reading);
            this.stats.readings++;
            this.stats.lastReadingAt = this.clock();
            this.telemetry.reading(reading.tag);
          },
        }),
        subscribeEvents(bus, {
          group: group('targets'),
          topic: this.topics.targets,
          codec: throughputTargetCodec,
          deadLetterTopic: this.deadLetter,
          fromBeginning: true,
          handler: async (target) => this.onTarget(target),
        }),
        subscribeEvents(bus, {
          group: group('state'),
          topic: this.topics.state,
          codec: deviceStateCodec,
          deadLetterTopic: this.deadLetter,
          handler: async (state) => this.onModeRequest(state),
        }),
        subscribeEvents(bus, {
          group: group('setpoints'),
          topic: this.topics.setpoints,
          codec: setpointCommandCodec,
          deadLetterTopic: this.deadLetter,
          handler: async (command) => this.onSetpointCommand(command),
        }),
      ])),
    );
    this.stats.busConnected = true;
    if (this.options.autoCycle ?? true) {
      this.timer = setInterval(
        () => void this.cycle().catch((e: Error) => this.log(e.message)),
        this.cycleMs,
      );
    }
    const poll = this.options.modelPollMs ?? 5000;
    if (poll > 0) this.poller = setInterval(() => void this.reloadModel(), poll);
    this.log(
      `step ${step}: ${this.currentMode}${this.shadow ? ', shadow' : ''}, policy ${this.modelVersion || 'none (fallback only)'}`,
    );
  }

  private async runCycle(): Promise<CycleReport> {
    const now = this.clock();
    this.cycleCount++;
    this.stats.cycles++;
    if (now > this.targetValidUntil) {
      // The coordinator went quiet: run at the recipe's pace rather than hold a stale pause.
      this.target = 1;
      this.pausedBy = undefined;
    }
    const report: CycleReport = {
      at: now,
      mode: this.currentMode,
      source: 'none',
      setpoints: {},
      commands: 0,
      interventions: [],
      modelVersion: this.modelVersion,
    };
    const readings = this.tracker.readings(now, this.target);
    if ('missing' in readings) {
      report.missing = readings.missing;
      await this.publishStatus(report, undefined);
      return report;
    }
    if (this.currentMode !== 'automatic') {
      // Controllers track what the operator does, so Automatic picks up from there.
      this.needsReset = true;
      this.lastSource = undefined;
      await this.publishStatus(report, readings);
      return report;
    }
    if (this.pausedBy !== undefined) {
      // Paused: the feed pumps go to zero through the shield (engineering limits, move limit),
      // jacket and back-pressure hold; the controllers start afresh on resume.
      this.needsReset = true;
      const pause = this.space.pauseSetpoints(readings.setpoints);
      const decision = this.shield.decide({
        current: readings.setpoints,
        inputs: this.tracker.inputStatus(now),
        agent: new Error(`paused by the coordinator: ${this.pausedBy}`),
        fallback: () => pause,
      });
      return this.finishCycle(report, decision, readings, now);
    }
    if (this.needsReset) {
      this.fallback.reset(readings);
      this.agent?.reset();
      this.needsReset = false;
    }
    const proposal =
      this.requestedSource === 'fallback'
        ? new Error('the operator asked for the fallback controller')
        : this.agent
          ? await this.agent.decide(readings).catch((e: unknown) => e as Error)
          : new Error('no policy loaded');
    const decision = this.shield.decide({
      current: readings.setpoints,
      inputs: this.tracker.inputStatus(now),
      agent: proposal,
      fallback: () => this.fallback.decide(readings),
    });
    // The fallback keeps integrating while the agent acts, so a hand-over is bumpless.
    if (decision.source !== 'fallback') this.fallback.decide(readings);
    return this.finishCycle(report, decision, readings, now);
  }

  private async finishCycle(
    report: CycleReport,
    decision: ShieldDecision,
    readings: StepReadings,
    now: number,
  ): Promise<CycleReport> {
    report.source = decision.source;
    report.setpoints = decision.setpoints;
    report.interventions = decision.interventions;
    for (const i of decision.interventions) {
      this.stats.interventions[i.reason] = (this.stats.interventions[i.reason] ?? 0) + 1;
    }
    this.telemetry.decided(decision.setpoints, decision.interventions);
    if (!this.shadow && decision.source !== 'hold') {
      const handover = decision.source !== this.lastSource;
      report.commands = await this.publishCommands(
        decision.setpoints,
        readings,
        decision.source,
        now,
        handover,
      );
      this.lastSource = decision.source;
    }
    await this.publishStatus(report, readings);
    return report;
  }

  private async publishCommands(
    setpoints: Record<string, number>,
    readings: StepReadings,
    source: 'agent' | 'fallback',
    now: number,
    all: boolean,
  ): Promise<number> {
    const messages = Object.entries(setpoints).filter(([tag, value]) => {
      if (all) return true;
      const current = readings.setpoints[tag];
      return (
        current === undefined || Math.abs(value - current) > 1e-9 * Math.max(1, Math.abs(current))
      );
    });
    const units = new Map(this.space.manipulated.map((m) => [m.tag, m.unit]));
    for (const [tag, value] of messages) {
      const command: SetpointCommand = create(SetpointCommandSchema, {
        commandId: `${this.options.step}-${this.instance}-${this.cycleCount}-${tag}`,
        location: {
          site: this.options.site,
          cell: this.options.cell,
          step: this.options.step,
          device: '',
        },
        targetTag: tag,
        value,
        unit: units.get(tag) ?? '',
        issuer: {
          kind: source === 'agent' ? Issuer_Kind.AGENT : Issuer_Kind.FALLBACK_CONTROLLER,
          id: `step-agent.${this.options.step}`,
          modelVersion: source === 'agent' ? this.modelVersion : '',
        },
        reason: source === 'agent' ? 'agent' : 'fallback: PID on measured conversion',
        issuedAt: timestampFromMs(now),
        // On the agent's (plant) clock, which the adapter checks it on: cycleMs is wall clock.
        deadline: timestampFromMs(this.deadline.deadline(now)),
      });
      await publishEvent(
        this.options.bus,
        this.topics.setpoints,
        setpointCommandCodec,
        tag,
        command,
      );
      this.telemetry.commanded(tag, source);
    }
    this.stats.commands += messages.length;
    return messages.length;
  }

  private async publishStatus(
    report: CycleReport,
    readings: StepReadings | undefined,
  ): Promise<void> {
    const conversion = readings?.analyser?.values['conversion'] ?? Number.NaN;
    const outletFlow = readings ? this.liquidFlow(readings.setpoints) : 0;
    // Capacity from the analyser's results at the pace the step ran (libs/control).
    const capacity = readings ? this.capacity.update(readings) : this.capacity.estimate;
    const capacityKnown = capacity.status !== 'unknown' && Number.isFinite(capacity.scale);
    const product = readings?.analyser?.values[`concentration:${this.space.step.spec.product}`];
    this.lastDecision = report.source;
    const status = create(StepStatusSchema, {
      location: {
        site: this.options.site,
        cell: this.options.cell,
        step: this.options.step,
        device: '',
      },
      mode: MODE_WIRE[this.currentMode],
      source:
        report.source === 'fallback' || this.requestedSource === 'fallback'
          ? AutomaticSource.FALLBACK
          : SOURCE_WIRE.agent,
      // The contract's range; analyser noise reads a little past 1 near full conversion.
      conversion: Number.isFinite(conversion) ? Math.min(1, Math.max(0, conversion)) : 0,
      outletFlow,
      productionRate:
        product !== undefined && Number.isFinite(product) && product > 0
          ? (outletFlow / 60_000) * product
          : 0,
      capacity: capacityKnown ? capacity.scale * this.nominalOutletFlow : 0,
      capacityKnown,
      inSpec: Number.isFinite(conversion) && conversion >= this.space.step.minConversion,
      modelVersion: this.modelVersion,
      at: timestampFromMs(report.at),
    });
    this.telemetry.figures({
      conversion: status.conversion,
      productionRate: status.productionRate,
      inSpec: status.inSpec,
      throughputTarget: this.pausedBy === undefined ? this.target : 0,
      readings,
      inputs: this.tracker.inputStatus(report.at),
    });
    await publishEvent(
      this.options.bus,
      this.topics.status,
      stepStatusCodec,
      this.options.step,
      status,
    );
  }

  /** Outlet flow, mL/min: the sum of the liquid pumps' flows (gas leaves at the separator). */
  private liquidFlow(setpoints: Readonly<Record<string, number>>): number {
    return this.space.step.inlets
      .filter((i) => !i.gas)
      .reduce((sum, i) => sum + (setpoints[i.pump] ?? 0), 0);
  }

  /**
   * The coordinator's throughput target: a flow to run at, or 0 to pause (MTP Pause: feed
   * pumps off, jacket and back-pressure held, reactor full; a later flow resumes the step).
   */
  private onTarget(target: ThroughputTarget): void {
    if (!(target.outletFlow >= 0)) return;
    if (target.outletFlow === 0) {
      if (this.pausedBy === undefined) this.log(`paused by the coordinator: ${target.reason}`);
      this.pausedBy = target.reason || 'target 0';
    } else {
      if (this.pausedBy !== undefined) this.log(`resumed by the coordinator: ${target.reason}`);
      this.pausedBy = undefined;
      this.target = target.outletFlow / this.nominalOutletFlow;
    }
    this.targetValidUntil = target.validUntil
      ? timestampMs(target.validUntil)
      : Number.POSITIVE_INFINITY;
  }

  /** A mode request: a DeviceState for the step itself (no device), issued by a person. */
  private onModeRequest(state: DeviceState): void {
    if (state.location?.device || state.changedBy?.kind !== Issuer_Kind.USER) return;
    if (state.state === STEP_MODE_FEEDBACK) return; // an agent's feedback, not a request
    const mode = MODE_FROM_WIRE[state.mode];
    if (!mode) return;
    const source = state.source === AutomaticSource.FALLBACK ? 'fallback' : 'agent';
    this.setMode(mode, `user:${state.changedBy.id}`, state.reason || 'mode request', source);
  }

  /**
   * An operator writing any setpoint of this step (a pump, the jacket, the back-pressure; named
   * as `P-101` or `P-101.SP`) takes it out of Automatic: the operator wins.
   */
  private onSetpointCommand(command: SetpointCommand): void {
    if (command.issuer?.kind !== Issuer_Kind.USER) return;
    if (this.currentMode !== 'automatic') return;
    const tag = setpointTagOf(command.targetTag);
    if (!this.setpointTags.has(tag)) return;
    this.setMode(
      'operator',
      `user:${command.issuer.id}`,
      `operator set ${tag} to ${command.value} ${command.unit}: ${command.reason}`,
    );
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`step-agent: ${l}\n`)))(line);
  }
}
