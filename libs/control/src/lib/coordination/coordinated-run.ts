import { Plant, type PlantModel, type Scenario } from '@pipac/twin';
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
  const { model, scenario } = options;
  const policy = options.policy ?? 'coordinated';
  const cycle = options.cycle ?? 60;
  const plant = new Plant(model, {
    dt: options.dt ?? 2,
    seed: options.seed ?? scenario.seed,
    scenario,
  });
  plant.warmUp(options.warmUp ?? 1800);
  const balancer = new ThroughputBalancer(model, { cycle, ...options.balancer });
  const loops = balancer.chain.steps.map((chainStep) => {
    const space = new StepSpace(model, chainStep.id);
    const tuning = options.tunings?.[chainStep.id] ?? tuneConversionPid(model, chainStep.id);
    return {
      id: chainStep.id,
      index: chainStep.index,
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
  });
  const tankIds = model.tanks.map((tank) => tank.id);
  const levelRange = Object.fromEntries(
    tankIds.map((id) => [id, { min: plant.tank(id).level, max: plant.tank(id).level }]),
  );
  const productIndex = model.productIndex;
  const molarMass = model.molarMass[productIndex]!;
  const order = options.order;
  const collected = () => plant.speciesCollected[productIndex]! * molarMass;
  let completedAt: number | undefined;
  const tankEvents = { empty: 0, overflow: 0, outOfBand: 0 };
  const trace: CoordinatedCycle[] = [];
  const outages = options.outages ?? [];
  const outOfService = (id: string, t: number) =>
    outages.some((o) => o.step === id && t >= o.start && t < o.start + o.duration);
  const setPumps = (loop: (typeof loops)[number], scale: number) => {
    for (const inlet of loop.space.step.inlets)
      plant.setSetpoint(inlet.pump, inlet.nominal * scale);
  };

  const cycles = Math.round(scenario.duration / cycle);
  for (let c = 0; c < cycles && completedAt === undefined; c++) {
    const t = plant.time;
    const readings = new Map<string, StepReadings>();
    const availability = new Map<string, StepAvailability>();
    for (const loop of loops) {
      const r = readStep(plant, loop.index, loop.target);
      readings.set(loop.id, r);
      loop.estimator.update(r);
      availability.set(loop.id, outOfService(loop.id, t) ? 'stopped' : 'running');
    }
    const levels = Object.fromEntries(tankIds.map((id) => [id, plant.tank(id).level]));
    const scaleOf = (loop: (typeof loops)[number]) =>
      loop.paused
        ? 0
        : (readings.get(loop.id)!.setpoints[loop.keyPump.pump] ?? 0) / loop.keyPump.nominal;
    let decision: BalanceDecision | undefined;
    if (policy === 'coordinated') {
      decision = balancer.balance({
        time: t,
        steps: Object.fromEntries(
          loops.map((loop) => [
            loop.id,
            {
              availability: availability.get(loop.id)!,
              capacity: loop.estimator.estimate.scale,
              scale: scaleOf(loop),
            },
          ]),
        ),
        tanks: levels,
        ...(order ? { order: { id: order.id, remaining: order.quantity - collected() } } : {}),
      });
    }
    const row: CoordinatedCycle = {
      t,
      levels,
      steps: {},
      bottleneck: decision?.bottleneck,
      product: collected(),
    };
    for (const [s, loop] of loops.entries()) {
      const stopped = availability.get(loop.id) === 'stopped';
      const target = decision?.targets[s];
      const action = stopped ? 'none' : (target?.action ?? 'run');
      const scale = stopped ? 0 : (target?.scale ?? 1);
      if (stopped || action === 'pause') {
        if (!loop.paused) setPumps(loop, 0);
        loop.paused = true;
      } else if (action === 'run') {
        loop.target = scale;
        if (loop.paused) {
          // Resume: the pumps back at the target, the controller restarted from them.
          setPumps(loop, scale);
          loop.paused = false;
          loop.controller.reset(readStep(plant, loop.index, scale));
        }
        const r = readStep(plant, loop.index, scale);
        const proposal = loop.controller.decide(r);
        const shielded = loop.shield.decide({
          current: r.setpoints,
          inputs: [],
          agent: proposal,
          fallback: () => undefined,
        });
        for (const [tag, value] of Object.entries(shielded.setpoints))
          plant.setSetpoint(tag, value);
      }
      row.steps[loop.id] = {
        target: stopped ? 0 : scale,
        scale: plant.getSetpoint(loop.keyPump.pump) / loop.keyPump.nominal,
        capacity: policy === 'coordinated' ? loop.estimator.estimate.scale : Number.NaN,
        capacityStatus: loop.estimator.estimate.status,
        conversion: plant.units[loop.index]!.conversion(),
        action,
        reason: stopped ? 'out of service' : (target?.reason ?? 'naive: scale 1'),
      };
    }
    plant.run(cycle, () => {
      for (const id of tankIds) {
        const level = plant.tank(id).level;
        const range = levelRange[id]!;
        if (level < range.min) range.min = level;
        if (level > range.max) range.max = level;
      }
      if (order && completedAt === undefined && collected() >= order.quantity)
        completedAt = plant.time;
    });
    for (const loop of loops) if (loop.paused) loop.idle += cycle;
    for (const event of plant.drainEvents()) {
      if (event.kind === 'tank-empty') tankEvents.empty++;
      else if (event.kind === 'tank-overflow') tankEvents.overflow++;
      else if (event.kind === 'violation' && event.tank) tankEvents.outOfBand++;
    }
    trace.push(row);
    options.onCycle?.(row, plant);
  }
  return {
    policy,
    scenario: scenario.name,
    duration: plant.time,
    trace,
    levelRange,
    tankEvents,
    product: collected(),
    completedAt,
    steps: Object.fromEntries(
      loops.map((loop) => {
        const unit = plant.units[loop.index]!;
        const m = model.molarMass[unit.step.productIndex]!;
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
