import {
  type SafetyShield,
  StepModeMachine,
  StepSpace,
  OperatorSetpoints,
  type ModeChange,
  type RequestedSource,
  type ShieldDecision,
  type StepMode,
  type StepReadings,
} from '@pipac/control';
import type { SensorReading } from '@pipac/contracts';
import { AgentTelemetry } from './agent-telemetry';
import { startReport, type CycleReport } from './cycle-report';
import { ModeRequestsHandler } from './mode-requests.handler';
import { PolicyFailureLog } from './policy-failure.log';
import { ReadingsTracker } from './readings-tracker';
import { StepAgentBus } from './step-agent.bus';
import type { StepAgentOptions } from './step-agent.options';
import { StepAgentPublisher } from './step-agent.publisher';
import { countInterventions, newStepAgentStats, type StepAgentStats } from './step-agent.stats';
import { StepControllers } from './step-controllers';
import { createStepShield } from './step-shield';
import { ThroughputTargetTracker } from './throughput-target.tracker';

export type { StepAgentOptions } from './step-agent.options';

/**
 * The step agent: reads its step's sensor events, and each control cycle builds the
 * observation, asks the deployed policy (ONNX), passes the proposal through the safety shield
 * (the PID on measured conversion as its fallback), and publishes setpoint commands carrying
 * the model version: see `setpointsFromReadings`. Modes follow MTP (StepModeMachine,
 * libs/control): in Offline and Operator it never writes; in Automatic the agent (or the
 * fallback) writes; an operator's own setpoint command, or a mode request, takes the step out
 * of Automatic at once: the operator always wins. A new policy in the models folder is loaded
 * without a restart, and refused (the old one kept) if it does not fit (PolicyLoader).
 */
export class StepAgent {
  readonly space: StepSpace;
  readonly cycleMs: number;
  readonly modeLog: readonly ModeChange[];
  readonly stats: StepAgentStats = newStepAgentStats();
  private readonly clock: () => number;
  private readonly modes: StepModeMachine;
  private readonly modeRequests: ModeRequestsHandler;
  private readonly tracker: ReadingsTracker;
  private readonly controllers: StepControllers;
  private readonly shield: SafetyShield;
  private readonly targets: ThroughputTargetTracker;
  private readonly telemetry: AgentTelemetry;
  private readonly bus: StepAgentBus;
  private readonly publisher: StepAgentPublisher;
  private readonly policyFailures = new PolicyFailureLog();
  /** The cycle's timer and the models folder's poller. */
  private readonly timers: NodeJS.Timeout[] = [];
  private cycling: Promise<CycleReport> | undefined;
  private cycleCount = 0;
  /** Who decided the last cycle, for the metrics. */
  private lastDecision: CycleReport['source'] = 'none';

  private constructor(private readonly options: StepAgentOptions) {
    const { model, step, site, cell } = options;
    this.space = new StepSpace(model, step);
    this.tracker = new ReadingsTracker(this.space);
    this.clock = options.clock ?? Date.now;
    this.cycleMs = options.cycleMs ?? 60_000;
    this.modes = new StepModeMachine({
      mode: options.mode ?? 'operator',
      setpointTags: (new OperatorSetpoints(model).of(step) ?? []).map((s) => s.tag),
      clock: this.clock,
    });
    this.modeLog = this.modes.log;
    this.modeRequests = new ModeRequestsHandler(this.modes, (change) => this.announce(change));
    this.controllers = new StepControllers({
      model,
      space: this.space,
      modelsDir: options.modelsDir,
      cycleMs: this.cycleMs,
      fallbackTuning: options.fallbackTuning,
      deadlineMs: options.policyDeadlineMs,
      onLoaded: (version) => this.policyLoaded(version),
      log: (line) => this.log(line),
    });
    const gates = this.tracker.gates();
    this.shield = createStepShield(this.space, gates);
    this.targets = new ThroughputTargetTracker(this.space, (line) => this.log(line));
    this.telemetry = new AgentTelemetry(this.space, this.tracker.conversionTag, gates, () => ({
      mode: this.modes.mode,
      source: this.lastDecision,
      modelVersion: this.modelVersion,
    }));
    this.bus = new StepAgentBus(options.bus, { site, cell, step }, options.group ?? 'step-agent');
    this.publisher = new StepAgentPublisher(this.bus, this.space, this.telemetry, this.modes, {
      clock: this.clock,
      cycleMs: this.cycleMs,
      timeFactor: options.timeFactor,
      floorWallMs: options.deadlineFloorMs,
    });
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

  /** Whether the coordinator has paused the step (MTP Pause: feed pumps off, reactor full). */
  get paused(): boolean {
    return this.targets.pausedBy !== undefined;
  }

  get mode(): StepMode {
    return this.modes.mode;
  }

  get modelVersion(): string {
    return this.controllers.policies.version;
  }

  get shadow(): boolean {
    return this.options.shadow ?? false;
  }

  /**
   * Changes the mode (MTP). Entering Automatic resets the controllers from the devices'
   * current setpoints, so control continues without a bump.
   */
  setMode(mode: StepMode, by: string, reason: string, source: RequestedSource = 'agent'): void {
    const change = this.modes.request(mode, by, reason, source);
    if (change) this.announce(change);
  }

  /** Loads the policy in the models folder if it is new; keeps the old one if the new does not fit. */
  reloadModel(): Promise<boolean> {
    return this.controllers.policies.reload();
  }

  /** One control cycle (the timer calls it; tests may too). Cycles never overlap. */
  cycle(): Promise<CycleReport> {
    this.cycling ??= this.telemetry
      .cycle(() => this.runCycle())
      .finally(() => (this.cycling = undefined));
    return this.cycling;
  }

  async stop(): Promise<void> {
    this.timers.forEach((timer) => clearInterval(timer));
    await this.cycling;
    await this.bus.close();
    await this.controllers.policies.release();
    this.stats.busConnected = false;
    this.telemetry.stop();
  }

  private async begin(): Promise<void> {
    await this.bus.ensureTopics();
    await this.reloadModel();
    await this.bus.subscribe({
      reading: (reading) => this.onReading(reading),
      target: (target) => this.targets.apply(target),
      modeRequest: (state) => this.modeRequests.onModeRequest(state),
      setpointCommand: (command) => this.modeRequests.onSetpointCommand(command),
    });
    this.stats.busConnected = true;
    if (this.options.autoCycle ?? true) {
      const cycle = setInterval(
        () => void this.cycle().catch((e: Error) => this.log(e.message)),
        this.cycleMs,
      );
      this.timers.push(cycle);
    }
    const poll = this.options.modelPollMs ?? 5000;
    if (poll > 0) this.timers.push(setInterval(() => void this.reloadModel(), poll));
    this.log(
      `step ${this.options.step}: ${this.modes.mode}${this.shadow ? ', shadow' : ''}, policy ${this.modelVersion || 'none (fallback only)'}`,
    );
  }

  private async runCycle(): Promise<CycleReport> {
    const now = this.clock();
    this.cycleCount++;
    this.stats.cycles++;
    this.targets.expire(now);
    const report = startReport(now, this.modes.mode, this.modelVersion);
    const readings = this.tracker.readings(now, this.targets.scale);
    if ('missing' in readings) {
      report.missing = readings.missing;
      await this.publishStatus(report);
      return report;
    }
    if (this.modes.controllersMayWrite) {
      await this.setpointsFromReadings(report, readings, now);
    } else {
      // Controllers track what the operator does, so Automatic picks up from there.
      this.controllers.startAfresh();
      this.publisher.noWriter();
    }
    await this.publishStatus(report, readings);
    return report;
  }

  /**
   * Where a reading becomes a setpoint: the step's readings go to the policy (the agent, or by
   * request the fallback), its proposal through the safety shield, and the shield's setpoints
   * out as commands (none in shadow mode). Paused, the shield takes the feed pumps to zero.
   */
  private async setpointsFromReadings(
    report: CycleReport,
    readings: StepReadings,
    now: number,
  ): Promise<void> {
    let decision: ShieldDecision;
    const pausedBy = this.targets.pausedBy;
    if (pausedBy !== undefined) {
      decision = this.pauseDecision(readings, pausedBy, now);
    } else {
      const proposal = await this.controllers.propose(readings, this.modes.source);
      decision = this.shield.decide({
        current: readings.setpoints,
        inputs: this.tracker.inputStatus(now),
        agent: proposal,
        fallback: () => this.controllers.fallback(readings),
        measured: readings,
      });
      // The fallback keeps integrating while the agent acts, so a hand-over is bumpless.
      if (decision.source !== 'fallback') this.controllers.fallback(readings);
      const line = this.policyFailures.observe(decision.interventions, this.modelVersion);
      if (line) this.log(line);
    }
    this.record(report, decision);
    const { setpoints, source } = decision;
    if (this.shadow || source === 'hold') return;
    const issued = { at: now, cycle: this.cycleCount, modelVersion: this.modelVersion };
    report.commands = await this.publisher.publishCommands(setpoints, source, readings, issued);
    this.stats.commands += report.commands;
  }

  /** Paused: the feed pumps go to zero through the shield (engineering limits, move limit). */
  private pauseDecision(readings: StepReadings, pausedBy: string, now: number): ShieldDecision {
    // Jacket and back-pressure hold; the controllers start afresh on resume.
    this.controllers.startAfresh();
    const pause = this.space.pauseSetpoints(readings.setpoints);
    return this.shield.decide({
      current: readings.setpoints,
      inputs: this.tracker.inputStatus(now),
      agent: new Error(`paused by the coordinator: ${pausedBy}`),
      fallback: () => pause,
      measured: readings,
    });
  }

  private record(report: CycleReport, decision: ShieldDecision): void {
    report.source = decision.source;
    report.setpoints = decision.setpoints;
    report.interventions = decision.interventions;
    countInterventions(this.stats, decision.interventions);
    this.telemetry.decided(decision.setpoints, decision.interventions);
  }

  private async publishStatus(report: CycleReport, readings?: StepReadings): Promise<void> {
    this.lastDecision = report.source;
    const { mode, source: requestedSource } = this.modes;
    await this.publisher.publishStatus(
      { report, mode, requestedSource, modelVersion: this.modelVersion, readings },
      { throughputTarget: this.targets.shown, inputs: this.tracker.inputStatus(report.at) },
    );
  }

  /** Logs a mode change and announces it on the step's state topic (MTP: VFbk to VReq). */
  private announce(change: ModeChange): void {
    if (change.mode === 'automatic') this.controllers.startAfresh();
    const source = change.mode === 'automatic' ? ` (${change.source})` : '';
    this.log(`mode ${change.mode}${source} by ${change.by}: ${change.reason}`);
    if (!this.stats.busConnected) return;
    void this.publisher
      .publishModeFeedback(change, this.modelVersion)
      .catch((error: Error) => this.log(`mode feedback not published: ${error.message}`));
  }

  private onReading(reading: SensorReading): void {
    this.tracker.update(reading);
    this.stats.readings++;
    this.stats.lastReadingAt = this.clock();
    this.telemetry.reading(reading.tag);
  }

  /** A new policy is in place (the controllers start afresh from it). */
  private policyLoaded(version: string): void {
    this.stats.modelVersion = version;
    this.stats.modelLoadedAt = this.clock();
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`step-agent: ${l}\n`)))(line);
  }
}
