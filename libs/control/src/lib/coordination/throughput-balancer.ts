import type { PlantModel } from '@pipac/recipe';
import { CoordinationError } from './coordination.error';
import { derivePlantChain, type PlantChain } from './plant-chain';

/**
 * What the coordinator may do with a step:
 * - `running`: in Automatic, following the coordinator's targets (including a step the
 *   coordinator has paused itself: it reports scale 0 and may be resumed);
 * - `held`: running, but not following targets (Operator mode, or its agent holding its
 *   setpoints): its current scale is taken as given and the others work around it;
 * - `stopped`: not producing (Offline, a fault, maintenance): its scale is 0, whatever it says.
 */
export type StepAvailability = 'running' | 'held' | 'stopped';

/** One step as the coordinator sees it this cycle (from its StepStatus). */
export interface StepState {
  availability: StepAvailability;
  /**
   * Largest throughput scale at which it meets its minimum conversion (see
   * `StepCapacityEstimator`); NaN when unknown.
   */
  capacity: number;
  /** The scale it runs at now (its key pumps' setpoints over their nominal flows); 0 while paused. */
  scale: number;
}

/** The production order being served. */
export interface OrderState {
  id: string;
  /** g of the plant product still to deliver (ordered minus collected); ≤ 0 when done. */
  remaining: number;
  /**
   * g of product one litre drawn from a tank will give, by tank id, where it was measured.
   * @default the chain's nominal `productPerLitre`
   */
  productPerLitre?: Readonly<Record<string, number>>;
}

/** Everything `balance` decides from. */
export interface BalanceSnapshot {
  /** s */
  time: number;
  /** By step id; every step of the plant. */
  steps: Readonly<Record<string, StepState>>;
  /** Level, L, by tank id; every tank of the plant. */
  tanks: Readonly<Record<string, number>>;
  /** Without an order the line runs on (continuous production, no end game). */
  order?: OrderState;
}

/**
 * The coordinator's word to one step. `scale` is the throughput target as a fraction of the
 * step's nominal pump flows (what `StepReadings.throughputTarget` carries); `outletFlow` is the
 * same in mL/min (what `ThroughputTarget.outlet_flow` carries).
 */
export interface StepTarget {
  step: string;
  /**
   * - `run`: run at `scale`, inside the turndown range;
   * - `pause`: scale 0. Stop every feed pump of the step (key reactant and reagents together),
   *   keep the jacket and back-pressure at their setpoints and the reactor full, ready to resume
   *   (NAMUR MTP "Pause", not "Stop": no shutdown, no flush). A later `run` resumes it;
   * - `none`: the step is held or stopped; nothing is asked of it (scale reports what it does).
   */
  action: 'run' | 'pause' | 'none';
  scale: number;
  /**
   * Scales the step may use for the next `bandHorizon` without any tank leaving its guard
   * levels while the others run at their targets; it holds `scale`. {0, 0} when paused.
   */
  band: { min: number; max: number };
  /** mL/min, liquid outlet flow: scale × the step's nominal outlet flow. */
  outletFlow: number;
  outletFlowMin: number;
  outletFlowMax: number;
  /** Short and human-readable: "bottleneck hydrogenation 0.84", "tank-1 high 1.74 L: paused". */
  reason: string;
}

export interface BalanceDecision {
  /** s, the snapshot's */
  time: number;
  /** In flow order. */
  targets: StepTarget[];
  /** The step that sets the pace (running at its capacity, or held), if any. */
  bottleneck: string | undefined;
  /** The pace, in the head step's scale (NaN when nothing can run). */
  chainRate: number;
  order?: {
    id: string;
    remaining: number;
    /** g of product the usable tank contents will give, downstream of the head step. */
    inProcess: number;
    /**
     * The end of the order is in sight: an upstream step is paused because what is in process
     * covers it, or a tank after the bottleneck is being drawn down to finish sooner.
     */
    endGame: boolean;
    complete: boolean;
  };
}

export interface ThroughputBalancerOptions {
  /** Each tank's level setpoint, as a fraction of its band minLevel..maxLevel. @default 0.5 */
  levelSetpoint?: number;
  /**
   * Guard levels sit this fraction of the band inside minLevel and maxLevel: the coordinator
   * throttles or pauses so that no tank is predicted past them. @default 0.05
   */
  guardMargin?: number;
  /**
   * Averaging level control: the chain-rate change per unit of level error, the error being
   * (level − setpoint) / half the band. At 0.5 a tank at its bound moves its step by half the
   * nominal flow (the whole turndown range below scale 1). @default 0.5
   */
  levelGain?: number;
  /** Scales a running step is asked to run at; below the low end it is paused. @default [0.5, 1.5] */
  turndown?: [number, number];
  /** The control cycle, s: how often `balance` is called. @default 60 */
  cycle?: number;
  /** The guard looks this many cycles ahead. @default 2 */
  guardCycles?: number;
  /**
   * A step paused for a tank resumes once that tank is this fraction of its band inside the
   * guard level (hysteresis: no pause–resume chatter). @default 0.1
   */
  resumeMargin?: number;
  /** Horizon of each target's band, s. @default 600 */
  bandHorizon?: number;
  /** Capacity assumed for a running step whose capacity is NaN (the recipe's design point). @default 1 */
  unknownCapacity?: number;
  /**
   * An upstream step pauses for the end of an order once the product in process downstream
   * of it exceeds what remains by this fraction (the yields are estimates). @default 0.03
   */
  orderMargin?: number;
}

type Role = 'run' | 'held' | 'stopped' | 'order-pause' | 'complete';

interface Plan {
  role: Role;
  /** Turndown range, scale. */
  lo: number;
  hi: number;
  capacity: number;
  current: number;
  /** Planned scale. */
  u: number;
  /** Draws its inlet tank down at capacity (the end of an order). */
  drain: boolean;
  reason: string;
}

/** One call of `balance`, laid out in flow order: index s is a step, t a tank (between s = t and t + 1). */
interface BalanceState {
  order: OrderState | undefined;
  /** The order is delivered: every running step pauses. */
  complete: boolean;
  /** L */
  levels: number[];
  guards: { low: number; high: number; setpoint: number }[];
  /** maxLevel − minLevel, L */
  bands: number[];
  plans: Plan[];
  /** g of plant product a litre of each tank will give. */
  yields: number[];
  /** L that each tank's drawer takes at its lowest pace over one guard horizon. */
  slugs: number[];
  /** L of each tank that counts towards the order (above the low guard and the slug). */
  usable: number[];
  /** g of plant product the tanks downstream of each step will give. */
  inProcess: number[];
}

/** The bottleneck of the line and the pace it sets. */
interface Pace {
  /** Index of the step that sets the pace; -1 when nothing can run. */
  step: number;
  /** The pace, in the head step's scale (NaN when nothing can run). */
  chainRate: number;
  /** How the reasons name it: "hydrogenation 0.84", "nitration (held) 1.00". */
  setter: string;
}

/** The chain rate each step is asked for after averaging level control, and its notes. */
interface LevelSteering {
  rate: number[];
  notes: string[][];
}

/** The scale a step will run at as planned: its target, a held step's own, else 0. */
function scaleOf(plan: Plan): number {
  return plan.role === 'run' ? plan.u : plan.role === 'held' ? plan.current : 0;
}

/** A running step the guards may still move. */
function adjustable(plan: Plan): boolean {
  return plan.role === 'run' && plan.u > 0;
}

/**
 * The coordinator's balancing algorithm (docs/coordinator.md): from each step's availability,
 * capacity and current scale, the tank levels and the order, a throughput target per step.
 * Pure and deterministic: `balance` keeps no state between calls (a step's own pause is read
 * back from its scale 0), so the same snapshot always gives the same targets.
 *
 * 1. The chain runs at the bottleneck's pace: r* = min over the steps of capacity / ratio
 *    (a held step: its scale; a stopped step: its last capacity, so nothing speeds up because
 *    it stopped). The bottleneck is the throughput manipulator and runs at its capacity.
 * 2. Averaging level control radiates from it (Price, Lyman and Georgakis, "Throughput
 *    manipulation in plantwide control structures", Ind. Eng. Chem. Res. 33 (1994) 1197):
 *    tanks upstream of the bottleneck are steered by the step that fills them, tanks
 *    downstream by the step that draws them, each by levelGain × error in chain rate; where
 *    that step cannot act (held, stopped, paused) the step on the other side takes over.
 * 3. Guards: no tank may be predicted past a guard level within guardCycles cycles; the step
 *    that fills a high tank (draws a low one) is throttled and, below its turndown, paused. A
 *    paused step resumes only once its tanks are resumeMargin inside the guard levels.
 * 4. Orders: a step pauses once the product its downstream tanks will give covers what
 *    remains, and the steps after it draw their tanks down at capacity; a tank after the
 *    bottleneck is drawn down as soon as the order would end before it could be emptied;
 *    every step pauses when the order is complete.
 */
export class ThroughputBalancer {
  readonly chain: PlantChain;
  private readonly levelSetpoint: number;
  private readonly guardMargin: number;
  private readonly levelGain: number;
  private readonly turndown: [number, number];
  private readonly horizon: number;
  private readonly resumeMargin: number;
  private readonly bandHorizon: number;
  private readonly unknownCapacity: number;
  private readonly orderMargin: number;

  constructor(
    readonly model: PlantModel,
    options: ThroughputBalancerOptions = {},
  ) {
    this.chain = derivePlantChain(model);
    this.levelSetpoint = options.levelSetpoint ?? 0.5;
    this.guardMargin = options.guardMargin ?? 0.05;
    this.levelGain = options.levelGain ?? 0.5;
    this.turndown = options.turndown ?? [0.5, 1.5];
    this.horizon = (options.cycle ?? 60) * (options.guardCycles ?? 2);
    this.resumeMargin = options.resumeMargin ?? 0.1;
    this.bandHorizon = options.bandHorizon ?? 600;
    this.unknownCapacity = options.unknownCapacity ?? 1;
    this.orderMargin = options.orderMargin ?? 0.03;
    const [lo, hi] = this.turndown;
    if (!(lo > 0 && lo < hi))
      throw new RangeError(`turndown ${lo}..${hi} must be positive and not empty`);
    if (!(this.guardMargin >= 0 && this.guardMargin + this.resumeMargin < 0.5))
      throw new RangeError('guardMargin + resumeMargin must stay below half the band');
    if (!(this.levelSetpoint > this.guardMargin && this.levelSetpoint < 1 - this.guardMargin))
      throw new RangeError(`levelSetpoint ${this.levelSetpoint} must lie between the guard levels`);
    if (!(this.horizon > 0)) throw new RangeError('cycle and guardCycles must be positive');
  }

  /** A tank's guard levels and setpoint, L. */
  levels(tankId: string): { low: number; high: number; setpoint: number } {
    const tank = this.chain.tanks.find((t) => t.id === tankId);
    if (!tank) throw new CoordinationError('BAD_SNAPSHOT', `unknown tank "${tankId}"`);
    const band = tank.maxLevel - tank.minLevel;
    return {
      low: tank.minLevel + this.guardMargin * band,
      high: tank.maxLevel - this.guardMargin * band,
      setpoint: tank.minLevel + this.levelSetpoint * band,
    };
  }

  balance(snapshot: BalanceSnapshot): BalanceDecision {
    const state = this.readSnapshot(snapshot);
    if (state.order) this.pauseForOrder(state, state.order);
    const pace = this.pace(state.plans);
    this.drawDownBeforeOrderEnd(state, pace);
    this.followPace(state, pace, this.steerLevels(state, pace));
    this.waitForRoom(state);
    this.guardTanks(state);
    return this.decision(snapshot, state, pace);
  }

  /**
   * The snapshot checked and laid out in flow order, with what the tanks downstream of each
   * step will still give towards the order.
   */
  private readSnapshot(snapshot: BalanceSnapshot): BalanceState {
    const { steps, tanks } = this.chain;
    const levels = tanks.map((tank) => this.level(snapshot, tank.id));
    const guards = tanks.map((tank) => this.levels(tank.id));
    const bands = tanks.map((tank) => tank.maxLevel - tank.minLevel);
    const plans = steps.map((step) => this.plan(snapshot, step.id));
    const order = snapshot.order;
    const yields = tanks.map((tank) => {
      const measured = order?.productPerLitre?.[tank.id];
      return measured !== undefined && measured > 0 ? measured : tank.productPerLitre;
    });
    // What the drawer takes at its lowest pace over one guard horizon: less than that it
    // cannot draw without passing the guard, so it does not count as usable.
    const slugs = tanks.map((tank) => this.turndown[0] * tank.draw * this.horizon);
    const usable = tanks.map((_, t) => Math.max(0, levels[t]! - guards[t]!.low - slugs[t]!));
    const inProcess = steps.map((_, s) => {
      let sum = 0;
      for (let t = s; t < tanks.length; t++) sum += usable[t]! * yields[t]!;
      return sum;
    });
    const complete = order !== undefined && !(order.remaining > 0);
    return { order, complete, levels, guards, bands, plans, yields, slugs, usable, inProcess };
  }

  /**
   * Orders: every running step pauses once the order is complete; before that, a step pauses
   * once what is in process downstream of it covers what remains, and the steps after the last
   * such step draw their inlet tanks down.
   */
  private pauseForOrder(state: BalanceState, order: OrderState): void {
    const { plans, inProcess, complete } = state;
    const n = plans.length;
    let lastOrderPause = -1;
    const grams = (g: number) => `${g.toFixed(1)} g`;
    plans.forEach((plan, s) => {
      if (plan.role !== 'run') return;
      if (complete) {
        plan.role = 'complete';
        plan.reason = `order ${order.id} complete`;
        return;
      }
      if (s === n - 1) return;
      // Hysteresis: a step paused for the order stays paused while the tanks still cover it.
      const enough = order.remaining * (plan.current > 0 ? 1 + this.orderMargin : 1);
      if (inProcess[s]! >= enough) {
        plan.role = 'order-pause';
        plan.reason = `order ${order.id}: ${grams(inProcess[s]!)} in process covers the ${grams(order.remaining)} still to make`;
        lastOrderPause = s;
      }
    });
    for (let s = lastOrderPause + 1; s < n && lastOrderPause >= 0; s++) plans[s]!.drain = true;
  }

  /**
   * The pace: the bottleneck of the line. A held step runs at a pace it is given. A stopped
   * step still bounds the pace the line can keep up (what piles up before it must pass it once
   * it restarts), so its last capacity counts: the steps around it do not speed up because it
   * stopped.
   */
  private pace(plans: readonly Plan[]): Pace {
    const { steps } = this.chain;
    let chainRate = Number.POSITIVE_INFINITY;
    let pace = -1;
    plans.forEach((plan, s) => {
      const ratio = steps[s]!.ratio;
      const rate =
        plan.role === 'run' || plan.role === 'stopped'
          ? plan.hi / ratio
          : plan.role === 'held'
            ? plan.current / ratio
            : Number.NaN;
      if (rate < chainRate) {
        chainRate = rate;
        pace = s;
      }
    });
    if (pace < 0) chainRate = Number.NaN;
    const setter =
      pace < 0
        ? 'none running'
        : plans[pace]!.role === 'run'
          ? `${steps[pace]!.id} ${plans[pace]!.hi.toFixed(2)}`
          : `${steps[pace]!.id} (${plans[pace]!.role}) ${(chainRate * steps[pace]!.ratio).toFixed(2)}`;
    return { step: pace, chainRate, setter };
  }

  /**
   * Downstream of the pace a tank's content only delays the order's last gram: once the
   * order would end before its drawer could empty it (at capacity, against the pace
   * filling it), the drawer draws it down from now on.
   */
  private drawDownBeforeOrderEnd(state: BalanceState, pace: Pace): void {
    const { order, plans, yields, usable } = state;
    const { steps, tanks } = this.chain;
    const n = steps.length;
    const { chainRate } = pace;
    if (!order || state.complete || pace.step < 0 || tanks.length === 0) return;
    const last = tanks.length - 1;
    const productRate = yields[last]! * tanks[last]!.draw * steps[n - 1]!.ratio * chainRate; // g/s
    const timeLeft = order.remaining / productRate;
    for (let t = pace.step; t < tanks.length; t++) {
      const drawer = plans[t + 1]!;
      if (drawer.role !== 'run' || drawer.drain) continue;
      const net = tanks[t]!.draw * drawer.hi - tanks[t]!.fill * steps[t]!.ratio * chainRate;
      if (net > 0 && usable[t]! / net >= timeLeft) drawer.drain = true;
    }
  }

  /**
   * Averaging level control: each step's chain rate (the pace, or its capacity while it draws
   * a tank down), moved by levelGain × level error of the tanks it steers, with a note for
   * each tank it steers that is well off its setpoint.
   */
  private steerLevels(state: BalanceState, pace: Pace): LevelSteering {
    const { plans, levels, guards, bands } = state;
    const { steps, tanks } = this.chain;
    const rate = plans.map((plan, s) => (plan.drain ? plan.hi / steps[s]!.ratio : pace.chainRate));
    const notes = plans.map(() => [] as string[]);
    const canSteer = (s: number) => plans[s]!.role === 'run' && plans[s]!.current > 0;
    tanks.forEach((tank, t) => {
      if (plans[t + 1]!.drain || pace.step < 0) return;
      const fillerCan = canSteer(t);
      const drawerCan = canSteer(t + 1);
      if (!fillerCan && !drawerCan) return;
      // Upstream of the pace the filler steers, downstream the drawer; else whoever can.
      const byFiller = t < pace.step ? fillerCan : !drawerCan;
      const error = (levels[t]! - guards[t]!.setpoint) / (bands[t]! / 2);
      const change = this.levelGain * error;
      if (byFiller) rate[t]! -= change;
      else rate[t + 1]! += change;
      if (Math.abs(error) >= 0.1) {
        const note = `${tank.id} ${error > 0 ? 'high' : 'low'} ${levels[t]!.toFixed(2)} L`;
        notes[byFiller ? t : t + 1]!.push(note);
      }
    });
    return { rate, notes };
  }

  /** Base targets: each running step at its steered rate, inside its turndown range, and why. */
  private followPace(state: BalanceState, pace: Pace, { rate, notes }: LevelSteering): void {
    const { steps, tanks } = this.chain;
    state.plans.forEach((plan, s) => {
      if (plan.role !== 'run') return;
      const ratio = steps[s]!.ratio;
      plan.u = Math.min(plan.hi, Math.max(plan.lo, ratio * rate[s]!));
      const limited =
        plan.capacity < plan.lo ? `; capacity ${plan.capacity.toFixed(2)} below turndown` : '';
      if (plan.drain) {
        const tank = tanks[steps[s]!.inletTank]?.id ?? 'its feeds';
        plan.reason = `order ${state.order!.id}: drawing down ${tank} at capacity ${plan.hi.toFixed(2)}`;
      } else if (s === pace.step) plan.reason = `bottleneck ${pace.setter}`;
      else plan.reason = `follows bottleneck ${pace.setter}`;
      plan.reason += limited;
      if (notes[s]!.length > 0) plan.reason += `; ${notes[s]!.join(', ')}`;
    });
  }

  /** Resume a paused step only with room on both sides (hysteresis). */
  private waitForRoom(state: BalanceState): void {
    const { order, plans, levels, guards, bands, yields, slugs } = state;
    const { steps, tanks } = this.chain;
    plans.forEach((plan, s) => {
      if (plan.role !== 'run' || plan.current > 0) return;
      const step = steps[s]!;
      const waits: string[] = [];
      if (step.inletTank >= 0) {
        const t = step.inletTank;
        let margin = this.resumeMargin * bands[t]!;
        // At the end of an order, a little may be all that is still needed; but at least
        // what one guard horizon at the lowest pace draws, or the guard pauses it at once.
        if (plan.drain && order) margin = Math.min(margin, order.remaining / yields[t]!);
        margin = Math.max(margin, slugs[t]!);
        if (levels[t]! < guards[t]!.low + margin)
          waits.push(`${tanks[t]!.id} low ${levels[t]!.toFixed(2)} L`);
      }
      if (step.outletTank >= 0) {
        const t = step.outletTank;
        if (levels[t]! > guards[t]!.high - this.resumeMargin * bands[t]!)
          waits.push(`${tanks[t]!.id} high ${levels[t]!.toFixed(2)} L`);
      }
      if (waits.length > 0) {
        plan.u = 0;
        plan.reason = `paused: ${waits.join(', ')}`;
      }
    });
  }

  /**
   * Guards: throttle or pause whatever would take a tank past a guard level. A change at one
   * tank moves the next one's inflow or draw: repeat until nothing moves (limits only lower a
   * scale, so this settles within a few passes).
   */
  private guardTanks(state: BalanceState): void {
    const n = this.chain.steps.length;
    for (let pass = 0; pass < 4 * n; pass++) {
      let changed = false;
      for (let t = 0; t < this.chain.tanks.length; t++)
        changed = this.guardTank(state, t) || changed;
      if (!changed) break;
    }
  }

  /**
   * One tank: true when a step had to change. A high tank slows its filler (or, where that
   * cannot act, speeds its drawer); a low tank slows its drawer (or speeds its filler).
   */
  private guardTank(state: BalanceState, t: number): boolean {
    const { plans } = state;
    const tank = this.chain.tanks[t]!;
    const level = state.levels[t]!;
    const { low, high } = state.guards[t]!;
    const inflow = tank.fill * scaleOf(plans[t]!);
    const outflow = tank.draw * scaleOf(plans[t + 1]!);
    const predicted = level + this.horizon * (inflow - outflow);
    const filler = adjustable(plans[t]!) ? plans[t]! : undefined;
    const drawer = adjustable(plans[t + 1]!) ? plans[t + 1]! : undefined;
    if (predicted > high + 1e-12) {
      const why = `${tank.id} high ${level.toFixed(2)} L`;
      if (filler)
        return this.limit(filler, (outflow + (high - level) / this.horizon) / tank.fill, why);
      if (drawer)
        return this.raise(drawer, (inflow - (high - level) / this.horizon) / tank.draw, why);
    } else if (predicted < low - 1e-12) {
      const why = `${tank.id} low ${level.toFixed(2)} L`;
      if (drawer)
        return this.limit(drawer, (inflow + (level - low) / this.horizon) / tank.draw, why);
      if (filler)
        return this.raise(filler, (outflow - (level - low) / this.horizon) / tank.fill, why);
    }
    return false;
  }

  /** Targets and their bands, in flow order, and the decision around them. */
  private decision(snapshot: BalanceSnapshot, state: BalanceState, pace: Pace): BalanceDecision {
    const { order, plans } = state;
    return {
      time: snapshot.time,
      targets: this.chain.steps.map((_, s) => this.target(state, s)),
      bottleneck: pace.step >= 0 ? this.chain.steps[pace.step]!.id : undefined,
      chainRate: pace.chainRate,
      ...(order
        ? {
            order: {
              id: order.id,
              remaining: order.remaining,
              inProcess: state.inProcess[0] ?? 0,
              endGame: plans.some((plan) => plan.drain || plan.role === 'order-pause'),
              complete: state.complete,
            },
          }
        : {}),
    };
  }

  private target(state: BalanceState, s: number): StepTarget {
    const step = this.chain.steps[s]!;
    const plan = state.plans[s]!;
    const scale = scaleOf(plan);
    let action: StepTarget['action'] = 'none';
    let band = { min: scale, max: scale };
    if (plan.role === 'run' && plan.u > 0) {
      action = 'run';
      band = this.band(s, state);
    } else if (plan.role !== 'held' && plan.role !== 'stopped') action = 'pause';
    return {
      step: step.id,
      action,
      scale,
      band,
      outletFlow: scale * step.nominalOutletFlow,
      outletFlowMin: band.min * step.nominalOutletFlow,
      outletFlowMax: band.max * step.nominalOutletFlow,
      reason: plan.reason,
    };
  }

  /** Caps a running step at `cap`; below its turndown it pauses. True when it changed. */
  private limit(plan: Plan, cap: number, why: string): boolean {
    if (!(cap < plan.u - 1e-12)) return false;
    if (cap < plan.lo) {
      plan.u = 0;
      plan.reason = `${why}: paused`;
    } else {
      plan.u = cap;
      plan.reason = `${why}: throttled to ${cap.toFixed(2)}`;
    }
    return true;
  }

  /** Raises a running step towards `floor`, no higher than its capacity. True when it changed. */
  private raise(plan: Plan, floor: number, why: string): boolean {
    const u = Math.min(plan.hi, floor);
    if (!(u > plan.u + 1e-12)) return false;
    plan.u = u;
    plan.reason = `${why}: raised to ${u.toFixed(2)}`;
    return true;
  }

  /** The scales step s may use over the band horizon with its neighbours at their targets. */
  private band(s: number, state: BalanceState): { min: number; max: number } {
    const { plans, levels, guards } = state;
    const plan = plans[s]!;
    const step = this.chain.steps[s]!;
    const h = this.bandHorizon;
    let min = plan.lo;
    let max = plan.hi;
    if (step.outletTank >= 0) {
      const t = step.outletTank;
      const tank = this.chain.tanks[t]!;
      const out = tank.draw * scaleOf(plans[s + 1]!);
      max = Math.min(max, (out + (guards[t]!.high - levels[t]!) / h) / tank.fill);
      min = Math.max(min, (out - (levels[t]! - guards[t]!.low) / h) / tank.fill);
    }
    if (step.inletTank >= 0) {
      const t = step.inletTank;
      const tank = this.chain.tanks[t]!;
      const into = tank.fill * scaleOf(plans[s - 1]!);
      max = Math.min(max, (into + (levels[t]! - guards[t]!.low) / h) / tank.draw);
      min = Math.max(min, (into - (guards[t]!.high - levels[t]!) / h) / tank.draw);
    }
    return { min: Math.min(min, plan.u), max: Math.max(max, plan.u) };
  }

  private level(snapshot: BalanceSnapshot, id: string): number {
    const level = snapshot.tanks[id];
    if (level === undefined || !Number.isFinite(level))
      throw new CoordinationError('BAD_SNAPSHOT', `tank ${id}: level ${level} is not a number`);
    return level;
  }

  private plan(snapshot: BalanceSnapshot, id: string): Plan {
    const state = snapshot.steps[id];
    if (!state) throw new CoordinationError('BAD_SNAPSHOT', `the snapshot has no step ${id}`);
    const current = state.scale;
    if (!(Number.isFinite(current) && current >= 0))
      throw new CoordinationError(
        'BAD_SNAPSHOT',
        `step ${id}: scale ${current} is not a number ≥ 0`,
      );
    const [lo, hi] = this.turndown;
    const capacity = Number.isNaN(state.capacity)
      ? this.unknownCapacity
      : Math.max(0, state.capacity);
    const base = {
      lo,
      hi: Math.min(hi, Math.max(lo, capacity)),
      capacity,
      current,
      u: 0,
      drain: false,
    };
    switch (state.availability) {
      case 'running':
        return { ...base, role: 'run', reason: '' };
      case 'held':
        return {
          ...base,
          role: 'held',
          u: current,
          reason: `held at ${current.toFixed(2)}, not under the coordinator`,
        };
      case 'stopped':
        return { ...base, role: 'stopped', current: 0, reason: 'stopped' };
      default:
        throw new CoordinationError(
          'BAD_SNAPSHOT',
          `step ${id}: availability "${String(state.availability)}" is not running, held or stopped`,
        );
    }
  }
}
