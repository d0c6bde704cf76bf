import {
  publishEvent,
  subscribeAll,
  subscribeEvents,
  type EventBus,
  type Subscription,
} from '@pipac/bus';
import {
  ThroughputBalancer,
  type BalanceDecision,
  type BalanceSnapshot,
  type StepState,
  type ThroughputBalancerOptions,
} from '@pipac/control';
import {
  Mode,
  ThroughputTargetSchema,
  create,
  deadLetterTopic,
  sensorReadingCodec,
  stepStatusCodec,
  stepTopics,
  tankLevelTag,
  throughputTargetCodec,
  timestampFromMs,
  topicName,
} from '@pipac/contracts';
import {
  AuditTrail,
  LotStore,
  OrderStore,
  WebhookStore,
  notifyOrderStateChanges,
  type Database,
} from '@pipac/persistence';
import { METRICS, counter, gauge, observableGauge, observe } from '@pipac/telemetry';
import type { PlantModel } from '@pipac/recipe';
import { AuditRecorder } from './audit-recorder';
import { CellReadings } from './cell-readings';
import { OrderKeeper, type OrderProgress } from './order-keeper';
import { ProductionLedger } from './production-ledger';

export interface CoordinatorOptions {
  site: string;
  cell: string;
  model: PlantModel;
  bus: EventBus;
  db: Database;
  /** ms since the epoch; the simulated clock when the plant runs faster than real time. @default Date.now */
  clock?: () => number;
  /** Balancing cycle, ms of `clock` time. @default 60_000 */
  cycleMs?: number;
  /** Run cycles on a timer (false: the caller calls cycle()). @default true */
  autoCycle?: boolean;
  /** Wall-clock ms between timer cycles. @default cycleMs */
  timerMs?: number;
  balancer?: ThroughputBalancerOptions;
  /** Consumer-group prefix. @default 'coordinator' */
  group?: string;
  log?: (line: string) => void;
}

export interface CoordinatorReport {
  at: number;
  decision?: BalanceDecision;
  /** Why nothing was decided this cycle (a tank level not yet known). */
  waiting?: string;
  progress?: OrderProgress;
  tanks: Record<string, number>;
  steps: Record<string, StepState & { mode: string; conversion: number | undefined }>;
}

const COORDINATOR = { kind: 'system' as const, id: 'coordinator' };
const MODES: Record<number, string> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/**
 * The coordinator: every cycle it reads the steps' statuses (mode, capacity, pace) and the
 * surge tanks' levels, balances the line (libs/control's ThroughputBalancer) for the running
 * order and publishes each step's throughput target; it keeps the orders' lifecycle, lots and
 * production performance (OrderKeeper), and writes what happens on the cell's topics into
 * the audit trail (AuditRecorder). Decisions live in the libraries; this wires them to the bus
 * and the database.
 */
export class Coordinator {
  readonly readings = new CellReadings();
  readonly keeper: OrderKeeper;
  readonly recorder: AuditRecorder;
  readonly audit: AuditTrail;
  private readonly balancer: ThroughputBalancer;
  private readonly clock: () => number;
  private readonly cycleMs: number;
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cycling: Promise<CoordinatorReport> | undefined;
  private lastCycleAt: number | undefined;
  private readonly lastTargets = new Map<string, string>();
  private readonly metrics = {
    cycles: counter(METRICS.coordinatorCycles),
    tankLevel: gauge(METRICS.tankLevel),
    targetFlow: gauge(METRICS.coordinatorTargetFlow),
    progress: gauge(METRICS.orderProgress),
    orderActive: gauge(METRICS.orderActive),
    produced: counter(METRICS.producedProduct),
  };
  private stopObserving: (() => void) | undefined;
  last: CoordinatorReport | undefined;

  private constructor(private readonly options: CoordinatorOptions) {
    this.clock = options.clock ?? Date.now;
    this.cycleMs = options.cycleMs ?? 60_000;
    this.balancer = new ThroughputBalancer(options.model, {
      cycle: this.cycleMs / 1000,
      ...options.balancer,
    });
    this.audit = new AuditTrail(options.db, this.clock);
    const ledger = new ProductionLedger(options.model);
    const orders = new OrderStore(options.db, this.audit, {
      cell: options.cell,
      clock: this.clock,
    });
    // The ERP hears of the states the coordinator sets (the gateway delivers from the outbox).
    // (Deliveries are scheduled on the wall clock, as the gateway's are.)
    notifyOrderStateChanges(orders, new WebhookStore(options.db));
    this.keeper = new OrderKeeper({
      model: options.model,
      orders,
      lots: new LotStore(options.db),
      ledger,
      clock: this.clock,
    });
    this.recorder = new AuditRecorder({
      site: options.site,
      cell: options.cell,
      steps: options.model.steps.map((s) => s.id),
      bus: options.bus,
      audit: this.audit,
      context: (step) => this.keeper.context(step),
      ...(options.group ? { group: options.group } : {}),
    });
    this.readings.onReading = (step, tag, value) =>
      void this.keeper
        .recordQuality(step, tag, value)
        .catch((e: Error) => this.log(`quality result not recorded: ${e.message}`));
  }

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const coordinator = new Coordinator(options);
    try {
      await coordinator.begin();
    } catch (error) {
      await coordinator.stop().catch(() => undefined); // leaves no consumer, timer or model behind
      throw error;
    }
    return coordinator;
  }

  private async begin(): Promise<void> {
    const { site, cell, bus, model } = this.options;
    const deadLetter = deadLetterTopic(site, cell);
    await bus.ensureTopics([
      ...model.steps.flatMap((s) => stepTopics(site, cell, s.id)),
      { name: deadLetter },
    ]);
    // One consumer group per step and stream: a Kafka group's members share one subscription.
    const group = (step: string, stream: string) =>
      `${this.options.group ?? 'coordinator'}.${site}.${cell}.${step}.${stream}`;
    // Joined in parallel: each consumer group's join takes seconds on Kafka.
    this.subscriptions.push(
      ...(await subscribeAll(
        model.steps.flatMap((step) => [
          subscribeEvents(bus, {
            group: group(step.id, 'sensors'),
            topic: topicName({ site, cell, step: step.id, stream: 'sensors' }),
            codec: sensorReadingCodec,
            deadLetterTopic: deadLetter,
            handler: async (reading) => this.readings.update(step.id, reading),
          }),
          subscribeEvents(bus, {
            group: group(step.id, 'status'),
            topic: topicName({ site, cell, step: step.id, stream: 'status' }),
            codec: stepStatusCodec,
            deadLetterTopic: deadLetter,
            handler: async (status) => this.readings.updateStatus(step.id, status),
          }),
        ]),
      )),
    );
    await this.recorder.start();
    this.stopObserving = this.observeTankBands();
    if (this.options.autoCycle ?? true) {
      this.timer = setInterval(
        () => void this.cycle().catch((e: Error) => this.log(`cycle failed: ${e.message}`)),
        this.options.timerMs ?? this.cycleMs,
      );
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.cycling;
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions.length = 0;
    await this.recorder.stop();
    this.stopObserving?.();
    this.stopObserving = undefined;
  }

  /** Each tank's lines for Prometheus (constant; read at scrape time). */
  private observeTankBands(): () => void {
    const band = observableGauge(METRICS.tankLevelBand);
    return observe([band], (result) => {
      for (const tank of this.balancer.chain.tanks) {
        const { low, high, setpoint } = this.balancer.levels(tank.id);
        const lines = { min: tank.minLevel, low, setpoint, high, max: tank.maxLevel };
        for (const [line, liters] of Object.entries(lines))
          result.observe(band, liters, { tank: tank.id, line });
      }
    });
  }

  /** One balancing cycle (the timer calls it; tests and `pipac start` may too). Never overlaps. */
  cycle(): Promise<CoordinatorReport> {
    this.cycling ??= this.runCycle().finally(() => (this.cycling = undefined));
    return this.cycling;
  }

  private async runCycle(): Promise<CoordinatorReport> {
    const now = this.clock();
    const seconds =
      this.lastCycleAt === undefined ? 0 : Math.max(0, (now - this.lastCycleAt) / 1000);
    this.lastCycleAt = now;
    const progress = await this.keeper.cycle(this.readings, seconds);
    this.record(progress);
    const report: CoordinatorReport = {
      at: now,
      tanks: {},
      steps: {},
      ...(progress ? { progress } : {}),
    };
    for (const tank of this.balancer.chain.tanks) {
      const level = this.readings.good(tankLevelTag(tank.id));
      if (level !== undefined) {
        report.tanks[tank.id] = level;
        this.metrics.tankLevel.record(level, { tank: tank.id });
      }
    }
    for (const step of this.balancer.chain.steps) {
      const status = this.readings.status(step.id);
      const mode = status ? (MODES[status.mode] ?? 'unknown') : 'unknown';
      report.steps[step.id] = {
        mode,
        conversion: status && Number.isFinite(status.conversion) ? status.conversion : undefined,
        availability: mode === 'automatic' ? 'running' : mode === 'operator' ? 'held' : 'stopped',
        capacity: status?.capacityKnown ? status.capacity / step.nominalOutletFlow : Number.NaN,
        scale: status ? status.outletFlow / step.nominalOutletFlow : 0,
      };
    }
    const unknown = this.balancer.chain.tanks.filter((t) => report.tanks[t.id] === undefined);
    if (unknown.length > 0) {
      report.waiting = `no level reading yet from ${unknown.map((t) => tankLevelTag(t.id)).join(', ')}`;
      this.last = report;
      return report;
    }
    const remaining = this.keeper.remaining();
    const active = this.keeper.active;
    const snapshot: BalanceSnapshot = {
      time: now / 1000,
      steps: report.steps,
      tanks: report.tanks,
      ...(remaining !== undefined && active ? { order: { id: active.order.id, remaining } } : {}),
    };
    report.decision = this.balancer.balance(snapshot);
    await this.publishTargets(report.decision, now);
    this.last = report;
    return report;
  }

  /** The cycle's figures for Prometheus: order progress and the final product booked. */
  private record(progress: OrderProgress | undefined): void {
    this.metrics.cycles.add(1);
    this.metrics.progress.record(progress ? Math.min(1, progress.produced / progress.target) : 0);
    this.metrics.orderActive.record(this.keeper.active ? 1 : 0);
    const last = progress?.actuals.find((a) => a.step === this.balancer.chain.steps.at(-1)?.id);
    if (!progress || !last) return;
    const product = progress.order.product;
    this.metrics.produced.add(last.inSpec, { product, in_spec: 'true' });
    this.metrics.produced.add(Math.max(0, last.produced - last.inSpec), {
      product,
      in_spec: 'false',
    });
  }

  private async publishTargets(decision: BalanceDecision, now: number): Promise<void> {
    const { site, cell, bus } = this.options;
    const orderId = this.keeper.active?.order.id ?? '';
    const changes = [];
    for (const target of decision.targets) {
      if (target.action === 'none') continue;
      // mL/min → L/s
      this.metrics.targetFlow.record(target.outletFlow / 60_000, { step: target.step });
      await publishEvent(
        bus,
        topicName({ site, cell, step: target.step, stream: 'targets' }),
        throughputTargetCodec,
        target.step,
        create(ThroughputTargetSchema, {
          location: { site, cell, step: target.step, device: '' },
          outletFlow: target.outletFlow,
          outletFlowMin: target.outletFlowMin,
          outletFlowMax: target.outletFlowMax,
          orderId,
          reason: target.reason,
          issuedAt: timestampFromMs(now),
          // Three cycles: a coordinator that stops is noticed, and the agents fall back to the recipe's pace.
          validUntil: timestampFromMs(now + 3 * this.cycleMs),
        }),
      );
      // The audit trail gets a target when it changes by 2 % of nominal or more, or pauses/resumes.
      const shown = target.action === 'pause' ? 'paused' : target.scale.toFixed(2);
      const previous = this.lastTargets.get(target.step);
      if (
        previous === undefined ||
        previous === 'paused' ||
        shown === 'paused' ||
        Math.abs(Number(previous) - target.scale) >= 0.02
      ) {
        this.lastTargets.set(target.step, shown);
        const context = this.keeper.context(target.step);
        changes.push({
          actor: COORDINATOR,
          where: { cell, step: target.step, orderId: context.orderId, lotId: context.lotId },
          kind: 'target',
          object: `step/${target.step}/throughput`,
          oldValue: previous ?? null,
          newValue: shown,
          unit: 'of nominal',
          reason: target.reason,
          at: now,
        });
      }
    }
    if (changes.length > 0) await this.audit.appendMany(changes);
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`coordinator: ${l}\n`)))(line);
  }
}
