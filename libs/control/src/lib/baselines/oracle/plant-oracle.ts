import type { Plant } from '@pipac/twin';
import type { StepController } from '../../step/step-controller';
import type { StepReadings } from '../../step/step-readings';
import type { StepSpace } from '../../step/step-space';
import {
  StepOptimum,
  type StepOperatingPoint,
  type StepOptimumOptions,
  type TrueStep,
} from './step-optimum';
import { planThroughputs, type LpSolver, type StepCurve, type TankBand } from './throughput-plan';

/** The evaluation's prices (its `ProductValuation`), by step index, g of final product per mol. */
export interface OracleValuation {
  /** Per mol of each step's key reactant drawn (and fed from fresh feeds past the target). */
  readonly perKeyMole: readonly number[];
  /** Per mol of each step's product. */
  readonly perProductMole: readonly number[];
  /** mol/s of key reactant each step takes from fresh feeds at nominal (0: fed from a tank). */
  readonly nominalFreshKeyRate: readonly number[];
}

export interface PlantOracleOptions {
  valuation: OracleValuation;
  lp: LpSolver;
  /** Plant time at which the run, and so the score, ends, s. */
  end: number;
  /** The control cycle, s (the throughput target is asked once per cycle). @default 60 */
  cycle?: number;
  /** Layer 2 (the plant-wide throughput plan) is solved again this often, s. @default 3600 */
  replanEvery?: number;
  /** Layer 1 (each step's operating point) follows the true parameters this often, s. @default 600 */
  resolveEvery?: number;
  /** Throughputs per step in the plan's LP. @default 6 */
  breakpoints?: number;
  /** L kept inside each tank's level limits at the end of the horizon. @default 0.05 */
  tankMargin?: number;
  /**
   * Largest change of a step's key throughput per cycle, fraction of nominal: the oracle moves
   * between plans through steady states in spec, not in one jump the reactor cannot follow
   * (a jacket lags its setpoint by minutes; a flow does not). @default 0.01
   */
  rampPerCycle?: number;
  /** A tank this far off its planned level re-plans at once, L. @default 0.05 */
  tankTolerance?: number;
  step?: StepOptimumOptions;
}

interface StepState {
  space: StepSpace;
  optimum: StepOptimum;
  /** Planned key throughput, fraction of nominal. */
  scale: number;
  /** Key throughput on the way to the plan's, fraction of nominal. */
  ramp: number;
  point: StepOperatingPoint | undefined;
  /** The last plan's breakpoints: the next plan searches from them. */
  breakpoints: StepOperatingPoint[];
  nextResolve: number;
  /** mol of key reactant the throughput target asked of it from fresh feeds before this cycle. */
  asked: number;
}

/**
 * The yardstick of `pipac eval`: a controller for the whole plant that knows everything the
 * twin knows now (catalyst activity, rate constants, heat transfer, feed strengths, pump
 * calibration, tank levels and compositions, what was fed so far) and optimises the score
 * the evaluation ranks by, on the twin's own reactor model. Two layers:
 *
 * 1. per step, the best steady state at a given key throughput (`StepOptimum`), re-solved
 *    every `resolveEvery` as the true parameters move;
 * 2. plant-wide, the key throughput of every step for the rest of the run (`planThroughputs`,
 *    an LP over layer 1's breakpoints): product and inventory at the evaluation's prices, feed
 *    past the target charged, surge tanks kept inside their bands; re-planned hourly, or when
 *    a tank strays from the plan.
 *
 * What it does not know is the future: it plans with the parameters as they are now and
 * re-plans as they change (so does every controller it is compared with). Its moves are
 * steps between steady states; the shield's move limits make them ramps. It is the ceiling of
 * the evaluation, not a controller for a plant: no plant can read its own rate constants.
 */
export class PlantOracle {
  private readonly steps: StepState[];
  private readonly cycle: number;
  private readonly replanEvery: number;
  private readonly resolveEvery: number;
  private readonly breakpoints: number;
  private readonly tankMargin: number;
  private readonly tankTolerance: number;
  private readonly rampPerCycle: number;
  private nextPlan = Number.NEGATIVE_INFINITY;
  private planTime = 0;
  /** Per tank: level at the plan and its planned rate, L and L/s. */
  private tankPlan: { level: number; rate: number }[] = [];
  /** Plans made so far (layer 2 LPs solved). */
  plans = 0;
  /**
   * The first plan's value over the whole run, g: what the score would be at steady state on
   * the parameters of t = 0 (the realised score differs by transients and by what changed).
   */
  plannedScore = Number.NaN;

  constructor(
    private readonly plant: Plant,
    spaces: readonly StepSpace[],
    private readonly options: PlantOracleOptions,
  ) {
    this.cycle = options.cycle ?? 60;
    this.replanEvery = options.replanEvery ?? 3600;
    this.resolveEvery = options.resolveEvery ?? 600;
    this.breakpoints = Math.max(2, options.breakpoints ?? 6);
    this.tankMargin = options.tankMargin ?? 0.05;
    this.tankTolerance = options.tankTolerance ?? 0.05;
    this.rampPerCycle = options.rampPerCycle ?? 0.01;
    this.steps = spaces.map((space) => ({
      space,
      optimum: new StepOptimum(space, options.step),
      scale: 1,
      ramp: deliveredScale(plant, space),
      point: undefined,
      breakpoints: [],
      nextResolve: Number.NEGATIVE_INFINITY,
      asked: 0,
    }));
  }

  /** One controller per step, by step id, each a view of this oracle. */
  controllers(): Record<string, StepController> {
    return Object.fromEntries(
      this.steps.map((state, s) => [
        state.space.step.id,
        {
          name: 'oracle',
          decide: (readings: StepReadings) => this.decide(s, readings),
          reset: () => undefined,
        } satisfies StepController,
      ]),
    );
  }

  /** Cells solves so far, all steps (cost accounting). */
  get solves(): number {
    return this.steps.reduce((sum, s) => sum + s.optimum.solves, 0);
  }

  private decide(s: number, readings: StepReadings): Record<string, number> {
    const state = this.steps[s]!;
    const time = readings.time;
    if (s === 0 && (time >= this.nextPlan || this.offPlan(time))) this.replan(readings);
    state.asked +=
      readings.throughputTarget * this.options.valuation.nominalFreshKeyRate[s]! * this.cycle;
    const step = Math.max(
      -this.rampPerCycle,
      Math.min(this.rampPerCycle, state.scale - state.ramp),
    );
    if (step !== 0 || time >= state.nextResolve) {
      state.nextResolve = time + this.resolveEvery;
      state.point = this.operatingPoint(s, state.ramp + step);
      state.ramp = state.point?.scale ?? state.ramp;
    }
    // Nothing in spec and safe at any throughput: hold what is applied (the shield keeps it safe).
    if (!state.point) return { ...readings.setpoints };
    return this.onTheWay(s, state.point, readings.setpoints);
  }

  /**
   * The setpoints for this cycle on the way to `point`. The shield moves each pump by at most
   * its maxMove a cycle, so a small reagent pump can take twenty cycles to reach a ratio the
   * jacket reaches in five; cooled for the final ratio too early, the step runs out of spec.
   * While the pumps are still on their way, the jacket is the best one for the flows they
   * will have reached this cycle.
   */
  private onTheWay(
    s: number,
    point: StepOperatingPoint,
    applied: Readonly<Record<string, number>>,
  ): Record<string, number> {
    const space = this.steps[s]!.space;
    const reached: Record<string, number> = {};
    let arriving = true;
    for (const m of space.manipulated) {
      if (m.kind !== 'pump') continue;
      const target = point.setpoints[m.tag]!;
      const now = applied[m.tag] ?? target;
      reached[m.tag] = now + Math.max(-m.maxMove, Math.min(m.maxMove, target - now));
      if (Math.abs(reached[m.tag]! - target) > 1e-9 * Math.max(1, Math.abs(target)))
        arriving = false;
    }
    if (arriving) return { ...point.setpoints };
    const tag = space.step.thermostat.tag;
    const jacket = this.steps[s]!.optimum.jacketFor(this.trueStep(s), reached, point.jacket);
    return { ...point.setpoints, [tag]: jacket ?? point.jacket };
  }

  /** Layer 2: every step's throughput for the rest of the run. */
  private replan(readings: StepReadings): void {
    const time = readings.time;
    const horizon = Math.max(this.options.end - time, this.cycle);
    const curves = this.steps.map((_, s) => this.curve(s, horizon, readings.throughputTarget));
    const model = this.plant.model;
    const tanks: TankBand[] = model.tanks.map((tank) => ({
      level: this.plant.tank(tank.id).level,
      low: tank.minLevel + this.tankMargin,
      high: tank.maxLevel - this.tankMargin,
    }));
    const plan = planThroughputs(curves, tanks, horizon, this.options.lp);
    if (this.plans === 0) this.plannedScore = plan.value;
    this.plans++;
    this.tankPlan = tanks.map((tank) => ({ level: tank.level, rate: 0 }));
    curves.forEach((curve, s) => {
      const weights = plan.weights[s]!;
      const state = this.steps[s]!;
      state.scale = curve.points.reduce((sum, p, i) => sum + weights[i]! * p.scale, 0);
      curve.points.forEach((p, i) => {
        if (curve.outletTank >= 0) this.tankPlan[curve.outletTank]!.rate += weights[i]! * p.outflow;
        for (const [j, draw] of Object.entries(p.draws))
          this.tankPlan[Number(j)]!.rate -= weights[i]! * draw;
      });
    });
    this.planTime = time;
    this.nextPlan = time + this.replanEvery;
  }

  /** Layer 1 at `breakpoints` throughputs from the pumps' lowest to the largest in spec. */
  private curve(s: number, horizon: number, target: number): StepCurve {
    const state = this.steps[s]!;
    const truth = this.trueStep(s);
    const range = state.optimum.scaleRange(truth);
    const high = state.optimum.maxScale(truth, range.low, range.high);
    const points: StepOperatingPoint[] = [];
    if (high !== undefined) {
      for (let i = 0; i < this.breakpoints; i++) {
        const scale = range.low + ((high - range.low) * i) / (this.breakpoints - 1);
        const point = state.optimum.at(truth, scale, nearest(state.breakpoints, scale));
        if (point) points.push(point);
      }
    }
    state.breakpoints = points.slice();
    if (points.length === 0) points.push(this.stopped(state));
    const { valuation } = this.options;
    const fresh = valuation.nominalFreshKeyRate[s]!;
    const unit = this.plant.units[s]!;
    const productPrice = valuation.perProductMole[s]!;
    const keyPrice = valuation.perKeyMole[s]!;
    return {
      points,
      productPrice,
      keyPrice,
      freshBudgetRate:
        fresh > 0 ? (state.asked - unit.totals.keyIn) / horizon + target * fresh : undefined,
      // At least what the best of these points makes of a mole of key: the evaluation's
      // charge when the run's yield beats the recipe's.
      overBudgetPrice: Math.max(
        keyPrice,
        ...points.map((p) => (p.keyReactant > 0 ? (productPrice * p.product) / p.keyReactant : 0)),
      ),
      outletTank: state.space.step.outletTank,
    };
  }

  /** The step's best point at `scale`, or at the largest throughput below it that has one. */
  private operatingPoint(s: number, scale: number): StepOperatingPoint | undefined {
    const state = this.steps[s]!;
    const truth = this.trueStep(s);
    // From the last point: the conditions and the throughput moved a little since.
    const point = state.optimum.at(truth, scale, state.point);
    if (point) return point;
    const range = state.optimum.scaleRange(truth);
    const high = state.optimum.maxScale(truth, range.low, Math.max(range.low, scale));
    return high === undefined ? undefined : state.optimum.at(truth, high);
  }

  /** A tank further from its planned level than the tolerance: the plan no longer holds. */
  private offPlan(time: number): boolean {
    return this.plant.model.tanks.some((tank, j) => {
      const plan = this.tankPlan[j];
      if (!plan) return false;
      const expected = plan.level + plan.rate * (time - this.planTime);
      return Math.abs(this.plant.tank(tank.id).level - expected) > this.tankTolerance;
    });
  }

  /** All pumps off: the point of a step that has no safe, in-spec steady state. */
  private stopped(state: StepState): StepOperatingPoint {
    const step = state.space.step;
    const setpoints: Record<string, number> = Object.fromEntries(
      step.inlets.map((inlet) => [inlet.pump, 0]),
    );
    setpoints[step.thermostat.tag] = this.plant.getSetpoint(step.thermostat.tag);
    return {
      scale: 0,
      ratio: 1,
      jacket: setpoints[step.thermostat.tag]!,
      setpoints,
      conversion: 0,
      product: 0,
      keyReactant: 0,
      outflow: 0,
      draws: {},
    };
  }

  /** The twin's true parameters of step `s` now. */
  private trueStep(s: number): TrueStep {
    const plant = this.plant;
    const model = plant.model;
    const unit = plant.units[s]!;
    const record = (c: ArrayLike<number>) =>
      Object.fromEntries(model.speciesIds.map((id, i) => [id, c[i]!]));
    return {
      conditions: {
        backPressure: unit.backPressure,
        // Without a catalyst the activity stands for the step's rates (deactivation scenario).
        catalystActivity: unit.activity,
        rateMultiplier: unit.rateMultiplier * (unit.step.catalyst ? 1 : unit.activity),
        heatTransferFactor: unit.heatTransferFactor,
        feedConcentrations: Object.fromEntries(
          model.feeds.map((feed, f) => [feed.id, record(plant.feedConcentrations[f]!)]),
        ),
        tankCompositions: Object.fromEntries(
          model.tanks.map((tank) => [tank.id, record(plant.tank(tank.id).concentrations)]),
        ),
      },
      pumpFactor: Array.from(unit.pumpFactor),
      pressureDropFactor: unit.pressureDropFactor,
    };
  }
}

/** The step's key-reactant flow reaching the reactor now, fraction of nominal. */
function deliveredScale(plant: Plant, space: StepSpace): number {
  const unit = plant.units[space.step.index]!;
  let flow = 0;
  let nominal = 0;
  space.step.inlets.forEach((inlet, k) => {
    if (!space.keyPumps.has(inlet.pump)) return;
    flow += unit.flow[k]!;
    nominal += inlet.nominal;
  });
  return nominal > 0 ? flow / nominal : 1;
}

/** The point of `points` closest in throughput to `scale` (undefined if none). */
function nearest(
  points: readonly StepOperatingPoint[],
  scale: number,
): StepOperatingPoint | undefined {
  let best: StepOperatingPoint | undefined;
  for (const p of points)
    if (!best || Math.abs(p.scale - scale) < Math.abs(best.scale - scale)) best = p;
  return best;
}
