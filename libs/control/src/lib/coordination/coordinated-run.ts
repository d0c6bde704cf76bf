import type { PlantModel } from '@pipac/recipe';
import { Plant, type Scenario } from '@pipac/twin';
import {
  ConversionPidController,
  tuneConversionPid,
  type ConversionPidTuning,
} from '../baselines/conversion-pid.controller';
import { SafetyShield } from '../safety-shield';
import { readStep, type StepReadings } from '../step/step-readings';
import { StepSpace } from '../step/step-space';
import {
  StepCapacityEstimator,
  type CapacityStatus,
  type StepCapacityOptions,
} from './step-capacity';
import {
  ThroughputBalancer,
  type BalanceDecision,
  type StepAvailability,
  type StepTarget,
  type ThroughputBalancerOptions,
} from './throughput-balancer';

/** A step out of service: its pumps at zero from `start` for `duration` s, then back. */
export interface StepOutage {
  step: string;
  start: number;
  duration: number;
}

export interface CoordinatedRunOptions {
  model: PlantModel;
  /** Disturbances and the run's length (`duration`, s). */
  scenario: Scenario;
  /**
   * `coordinated`: the balancer sets every step's throughput target each cycle from the
   * capacity estimates and the tank levels; `naive`: every step is asked for scale 1 whatever
   * the tanks do (the plant without a coordinator). @default 'coordinated'
   */
  policy?: 'coordinated' | 'naive';
  /** PID tunings by step id (each tuning is a one-hour step test: tune once, share). @default tuned here */
  tunings?: Readonly<Record<string, ConversionPidTuning>>;
  /** Steps taken out of service for a while (a fault, maintenance). @default none */
  outages?: StepOutage[];
  /** An order for this much plant product, g; the run ends when it is collected. @default none */
  order?: { id: string; quantity: number };
  /** Integration step, s. @default 2 */
  dt?: number;
  /** Control cycle, s. @default 60 */
  cycle?: number;
  /** Warm-up at the recipe's setpoints before t = 0, s. @default 1800 */
  warmUp?: number;
  /** Seed of the plant's noise. @default the scenario's */
  seed?: number;
  balancer?: ThroughputBalancerOptions;
  capacity?: StepCapacityOptions;
  /** Called after every cycle with its trace row and the plant (to look at what no agent sees). */
  onCycle?: (row: CoordinatedCycle, plant: Plant) => void;
}

/** One control cycle of a coordinated run, as decided and as it turned out. */
export interface CoordinatedCycle {
  /** s, when the decision was taken */
  t: number;
  /** L, at the decision */
  levels: Record<string, number>;
  steps: Record<
    string,
    {
      /** Throughput target, scale (0: paused or stopped). */
      target: number;
      /** Key-pump setpoint over its nominal after the cycle's writes. */
      scale: number;
      /** The estimate the coordinator used (NaN: unknown, or the naive policy), and its status. */
      capacity: number;
      capacityStatus: CapacityStatus;
      /** True (hidden) outlet conversion at the decision. */
      conversion: number;
      action: 'run' | 'pause' | 'none';
      reason: string;
    }
  >;
  bottleneck: string | undefined;
  /** g of plant product collected so far. */
  product: number;
}

export interface CoordinatedRunResult {
  policy: 'coordinated' | 'naive';
  scenario: string;
  /** s of plant time run. */
  duration: number;
  trace: CoordinatedCycle[];
  /** Lowest and highest level of each tank, L, over every plant step. */
  levelRange: Record<string, { min: number; max: number }>;
  /** Edge-triggered tank events from the plant. */
  tankEvents: { empty: number; overflow: number; outOfBand: number };
  /** g of plant product collected. */
  product: number;
  /** s: when the order's quantity was collected; undefined if it was not. */
  completedAt: number | undefined;
  /** Per step id. */
  steps: Record<
    string,
    {
      /** g of the step's product made while its true conversion met its minimum, and not. */
      productInSpec: number;
      productOffSpec: number;
      /** s with its pumps at zero (paused by the coordinator or stopped). */
      idle: number;
    }
  >;
}

/**
 * The plant under its coordinator, on the twin: one PID baseline per step behind its safety
 * shield (as the step agents run it: read, decide, shield, write every cycle), a capacity
 * estimator per step fed with what the agent sees, and the `ThroughputBalancer` setting the
 * throughput targets from the estimates and the tank levels. A target of 0 pauses a step as
 * MTP's Pause would: its feed pumps go to zero at once (no move limit: it is a state change,
 * not a setpoint move) and its controller rests; resuming puts the pumps back at the target
 * and restarts the controller bumplessly. An outage does the same, from outside.
 */
export function runCoordinated(options: CoordinatedRunOptions): CoordinatedRunResult {
  const run = new CoordinatedRun(options);
  const cycles = Math.round(options.scenario.duration / run.cycle);
  for (let c = 0; c < cycles && run.completedAt === undefined; c++) {
    const row = run.controlCycle();
    options.onCycle?.(row, run.plant);
  }
  return run.result();
}

/** One step's loop as the step agent runs it, with the coordinator's view of it. */
interface StepLoop {
  id: string;
  /** The step's index in the plant. */
  index: number;
  space: StepSpace;
  controller: ConversionPidController;
  shield: SafetyShield;
  estimator: StepCapacityEstimator;
  /** The key reactant's pump: its setpoint over its nominal is the step's scale. */
  keyPump: StepSpace['step']['inlets'][number];
  /** Pumps at zero: paused by the coordinator, or out of service. */
  paused: boolean;
  /** The last throughput target it ran at, scale. */
  target: number;
  /** s paused so far. */
  idle: number;
}

/** What a cycle reads from the plant before anything is decided. */
interface CycleReadings {
  readings: Map<string, StepReadings>;
  availability: Map<string, StepAvailability>;
  /** L, by tank id */
  levels: Record<string, number>;
}

type CycleStep = CoordinatedCycle['steps'][string];

/** The plant, its loops and the balancer, and what the run has seen so far. */
class CoordinatedRun {
  readonly plant: Plant;
  readonly cycle: number;
  completedAt: number | undefined;
  private readonly model: PlantModel;
  private readonly policy: 'coordinated' | 'naive';
  private readonly balancer: ThroughputBalancer;
  private readonly loops: StepLoop[];
  private readonly tankIds: string[];
  private readonly levelRange: Record<string, { min: number; max: number }>;
  private readonly tankEvents = { empty: 0, overflow: 0, outOfBand: 0 };
  private readonly trace: CoordinatedCycle[] = [];

  constructor(private readonly options: CoordinatedRunOptions) {
    const { model, scenario } = options;
    this.model = model;
    this.policy = options.policy ?? 'coordinated';
    this.cycle = options.cycle ?? 60;
    this.plant = new Plant(model, {
      dt: options.dt ?? 2,
      seed: options.seed ?? scenario.seed,
      scenario,
    });
    this.plant.warmUp(options.warmUp ?? 1800);
    this.balancer = new ThroughputBalancer(model, { cycle: this.cycle, ...options.balancer });
    this.loops = this.balancer.chain.steps.map((chainStep) =>
      stepLoop(model, chainStep.id, chainStep.index, options),
    );
    this.tankIds = model.tanks.map((tank) => tank.id);
    const level = (id: string) => this.plant.tank(id).level;
    this.levelRange = Object.fromEntries(
      this.tankIds.map((id) => [id, { min: level(id), max: level(id) }]),
    );
  }

  /** g of plant product collected so far. */
  collected(): number {
    const productIndex = this.model.productIndex;
    return this.plant.speciesCollected[productIndex]! * this.model.molarMass[productIndex]!;
  }

  /** Read, decide, write every step, then run the plant for one cycle. */
  controlCycle(): CoordinatedCycle {
    const t = this.plant.time;
    const read = this.read(t);
    const decision = this.policy === 'coordinated' ? this.balance(t, read) : undefined;
    const row: CoordinatedCycle = {
      t,
      levels: read.levels,
      steps: {},
      bottleneck: decision?.bottleneck,
      product: this.collected(),
    };
    for (const [s, loop] of this.loops.entries()) {
      const stopped = read.availability.get(loop.id) === 'stopped';
      row.steps[loop.id] = this.applyTarget(loop, stopped, decision?.targets[s]);
    }
    this.runPlant();
    for (const loop of this.loops) if (loop.paused) loop.idle += this.cycle;
    this.countTankEvents();
    this.trace.push(row);
    return row;
  }

  /** Every step's readings (its capacity estimator fed with them), availability, and the levels. */
  private read(t: number): CycleReadings {
    const readings = new Map<string, StepReadings>();
    const availability = new Map<string, StepAvailability>();
    const outages = this.options.outages ?? [];
    const outOfService = (id: string) =>
      outages.some((o) => o.step === id && t >= o.start && t < o.start + o.duration);
    for (const loop of this.loops) {
      const r = readStep(this.plant, loop.index, loop.target);
      readings.set(loop.id, r);
      loop.estimator.update(r);
      availability.set(loop.id, outOfService(loop.id) ? 'stopped' : 'running');
    }
    const levels = Object.fromEntries(this.tankIds.map((id) => [id, this.plant.tank(id).level]));
    return { readings, availability, levels };
  }

  /** The balancer's decision on what this cycle read. */
  private balance(t: number, { readings, availability, levels }: CycleReadings): BalanceDecision {
    const order = this.options.order;
    const scaleOf = (loop: StepLoop) =>
      loop.paused
        ? 0
        : (readings.get(loop.id)!.setpoints[loop.keyPump.pump] ?? 0) / loop.keyPump.nominal;
    return this.balancer.balance({
      time: t,
      steps: Object.fromEntries(
        this.loops.map((loop) => [
          loop.id,
          {
            availability: availability.get(loop.id)!,
            capacity: loop.estimator.estimate.scale,
            scale: scaleOf(loop),
          },
        ]),
      ),
      tanks: levels,
      ...(order ? { order: { id: order.id, remaining: order.quantity - this.collected() } } : {}),
    });
  }

  /**
   * One step's target: pause it, or run it at the target (resuming it first where it was
   * paused); without a decision (the naive policy) every step runs at scale 1.
   */
  private applyTarget(loop: StepLoop, stopped: boolean, target: StepTarget | undefined): CycleStep {
    const action = stopped ? 'none' : (target?.action ?? 'run');
    const scale = stopped ? 0 : (target?.scale ?? 1);
    if (stopped || action === 'pause') {
      if (!loop.paused) this.setPumps(loop, 0);
      loop.paused = true;
    } else if (action === 'run') this.runAt(loop, scale);
    return {
      target: stopped ? 0 : scale,
      scale: this.plant.getSetpoint(loop.keyPump.pump) / loop.keyPump.nominal,
      capacity: this.policy === 'coordinated' ? loop.estimator.estimate.scale : Number.NaN,
      capacityStatus: loop.estimator.estimate.status,
      conversion: this.plant.units[loop.index]!.conversion(),
      action,
      reason: stopped ? 'out of service' : (target?.reason ?? 'naive: scale 1'),
    };
  }

  /** The step's PID decides at this scale, behind its shield, and the plant takes the setpoints. */
  private runAt(loop: StepLoop, scale: number): void {
    loop.target = scale;
    if (loop.paused) {
      // Resume: the pumps back at the target, the controller restarted from them.
      this.setPumps(loop, scale);
      loop.paused = false;
      loop.controller.reset(readStep(this.plant, loop.index, scale));
    }
    const r = readStep(this.plant, loop.index, scale);
    const proposal = loop.controller.decide(r);
    const shielded = loop.shield.decide({
      current: r.setpoints,
      inputs: [],
      agent: proposal,
      fallback: () => undefined,
    });
    for (const [tag, value] of Object.entries(shielded.setpoints))
      this.plant.setSetpoint(tag, value);
  }

  private setPumps(loop: StepLoop, scale: number): void {
    for (const inlet of loop.space.step.inlets)
      this.plant.setSetpoint(inlet.pump, inlet.nominal * scale);
  }

  /** One cycle of plant time, watching every tank's level and the order after each plant step. */
  private runPlant(): void {
    const order = this.options.order;
    this.plant.run(this.cycle, () => {
      for (const id of this.tankIds) {
        const level = this.plant.tank(id).level;
        const range = this.levelRange[id]!;
        if (level < range.min) range.min = level;
        if (level > range.max) range.max = level;
      }
      if (order && this.completedAt === undefined && this.collected() >= order.quantity)
        this.completedAt = this.plant.time;
    });
  }

  private countTankEvents(): void {
    for (const event of this.plant.drainEvents()) {
      if (event.kind === 'tank-empty') this.tankEvents.empty++;
      else if (event.kind === 'tank-overflow') this.tankEvents.overflow++;
      else if (event.kind === 'violation' && event.tank) this.tankEvents.outOfBand++;
    }
  }

  result(): CoordinatedRunResult {
    return {
      policy: this.policy,
      scenario: this.options.scenario.name,
      duration: this.plant.time,
      trace: this.trace,
      levelRange: this.levelRange,
      tankEvents: this.tankEvents,
      product: this.collected(),
      completedAt: this.completedAt,
      steps: Object.fromEntries(
        this.loops.map((loop) => {
          const unit = this.plant.units[loop.index]!;
          const m = this.model.molarMass[unit.step.productIndex]!;
          return [
            loop.id,
            {
              productInSpec: unit.totals.productInSpec * m,
              productOffSpec: unit.totals.productOffSpec * m,
              idle: loop.idle,
            },
          ];
        }),
      ),
    };
  }
}

/** A step's PID baseline behind its shield and its capacity estimator, running at scale 1. */
function stepLoop(
  model: PlantModel,
  id: string,
  index: number,
  options: CoordinatedRunOptions,
): StepLoop {
  const space = new StepSpace(model, id);
  const tuning = options.tunings?.[id] ?? tuneConversionPid(model, id);
  return {
    id,
    index,
    space,
    controller: new ConversionPidController(space, tuning),
    shield: new SafetyShield({
      // Baselines are held to the engineering ranges only, as in the closed-loop evaluation.
      setpoints: space.shieldLimits().map((limit) => ({ ...limit, agent: limit.engineering })),
      inputs: [],
    }),
    estimator: new StepCapacityEstimator(space, options.capacity),
    keyPump: space.step.inlets.find((inlet) => space.keyPumps.has(inlet.pump))!,
    paused: false,
    target: 1,
    idle: 0,
  };
}
