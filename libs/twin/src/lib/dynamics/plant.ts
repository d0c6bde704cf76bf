import { ManualClock } from '../clock/manual-clock';
import {
  type PlantModel,
  NORMAL_MOLAR_VOLUME,
  ZERO_CELSIUS,
  celsiusToKelvin,
  kelvinToCelsius,
} from '@pipac/recipe';
import { SeededRandom } from '../random/seeded-random';
import {
  limitState,
  stepLimitTable,
  stepLimitValues,
  violation,
  type LimitSpec,
  type LimitViolation,
  type StepSafetyState,
} from '../safety/limits';
import { ConditionsError } from '../steady/conditions.error';
import { solvePlantSteadyState } from '../steady/steady-state';
import type { PlantConditions } from '../steady/steady-state.types';
import { ramp, type Disturbance, type Scenario } from './disturbances';
import type { Analyser } from './analyser';
import { SimulationError } from './simulation.error';
import { StepUnit } from './step-unit';
import { stepsReaching } from './step-dependencies';

/** Undrained events kept at most. */
export const MAX_PENDING_EVENTS = 10_000;

export interface PlantOptions {
  /** Fixed step, s. @default 1 */
  dt?: number;
  /** Seed of every random draw in the run (analyser noise). @default 1 */
  seed?: number;
  /** Set by the plant as it advances; share it with controllers under test. @default a new ManualClock at 0 */
  clock?: ManualClock;
  /** Disturbances to apply. @default none */
  scenario?: Scenario;
  /**
   * Advance only this step and the steps that can reach it (`stepsReaching`: those filling or
   * sharing its tanks and feeds); the others hold their state, with no readings, limits or
   * totals. What this step sees is bit for bit what the whole plant gives it, for less work:
   * a step's training environment needs nothing downstream of it. @default every step
   */
  focus?: string;
  /**
   * With `focus`: the other steps it needs advance in steps of this many seconds (a multiple
   * of dt), once every upstreamDt / dt plant steps, delivering their outflow for the whole
   * step at its start. In training they hold their setpoints, so only the scenario moves them
   * and a coarse step costs little accuracy (the cell scheme's steady state does not depend
   * on the step; StepEnv's specs bound the difference); the focus step's run is then no
   * longer bit for bit the whole plant's. @default dt
   */
  upstreamDt?: number;
}

/** Something the plant reports as it happens (edge-triggered: once when raised, once when cleared). */
export interface PlantEvent {
  /** s */
  t: number;
  kind:
    | 'violation'
    | 'violation-cleared'
    | 'feed-exhausted'
    | 'tank-empty'
    | 'tank-refilled'
    | 'tank-overflow'
    | 'analyser-fault'
    | 'analyser-recovered';
  step?: string;
  tank?: string;
  feed?: string;
  violation?: LimitViolation;
  message: string;
}

interface TankState {
  level: number;
  c: Float64Array;
  /**
   * Fraction of the content made in spec at every step so far (0..1). The tank is taken as
   * well mixed, so every draw carries this fraction: an in-spec/off-spec inventory split.
   */
  inSpecFraction: number;
  empty: boolean;
  overflowing: boolean;
  levelState: -1 | 0 | 1;
  spec: LimitSpec;
}

/** Where a setpoint tag points. */
type Actuator =
  | { kind: 'pump'; unit: StepUnit; inlet: number }
  | { kind: 'thermostat'; unit: StepUnit }
  | { kind: 'back-pressure'; unit: StepUnit };

/**
 * The dynamic digital twin of a whole plant: feeds drawn down by pumps, one StepUnit per
 * reaction step, surge tanks between them, product collection at the end. Advances by a
 * fixed dt; time comes only from the step count (t = n·dt), so runs replay bit for bit.
 */
export class Plant {
  readonly dt: number;
  readonly clock: ManualClock;
  readonly units: StepUnit[];
  /** The units advanced: all, or those a focus step needs (PlantOptions.focus). */
  private readonly advanced: StepUnit[];
  /** Plant steps per step of each unit: 1, or upstreamDt / dt for a coarse upstream unit. */
  private readonly period: Int32Array;
  /** Current concentrations of each feed (drift changes them). */
  readonly feedConcentrations: Float64Array[];
  /** Each feed's temperature as it enters, K, by feed index (`setFeedTemperature`). */
  readonly feedTemperatures: Float64Array;
  /** Remaining inventory of each feed, L or NL. */
  readonly feedInventory: Float64Array;
  /** Cumulative moles of each species entering from feeds, leaving to collection, spilled. */
  readonly speciesFed: Float64Array;
  readonly speciesCollected: Float64Array;
  readonly speciesSpilled: Float64Array;
  /** Moles of each species in reactors and tanks when the run started (t = 0). */
  initialHoldup: Float64Array;
  /** kg of fresh feed that entered; L of product stream collected. */
  freshMass = 0;
  collectedVolume = 0;
  private readonly tanks: TankState[];
  private readonly tankConcentrations: (Float64Array | undefined)[];
  private readonly actuators = new Map<string, Actuator>();
  private readonly limitTables: LimitSpec[][];
  private readonly limitValues: Float64Array[];
  private readonly limitStates: Int8Array[];
  private readonly safetyState: StepSafetyState = {
    maxTemperature: 0,
    mtsr: 0,
    pressure: 0,
    flows: new Float64Array(0),
    jacketTemperature: 0,
    backPressure: 0,
  };
  private readonly delivered: Float64Array[];
  private readonly events: PlantEvent[] = [];
  private disturbances: Disturbance[] = [];
  private appliers: ((t: number) => void)[] = [];
  private readonly feedExhausted: boolean[];
  private stepCount = 0;
  /** True inside warmUp (see routeOutlet). */
  private warming = false;
  private readonly t0: number;

  constructor(
    readonly model: PlantModel,
    options: PlantOptions = {},
  ) {
    this.dt = options.dt ?? 1;
    if (!(this.dt > 0))
      throw new SimulationError('OPTIONS_INVALID', `dt must be positive, got ${this.dt}`);
    this.clock = options.clock ?? new ManualClock(0);
    this.t0 = this.clock.now();
    const random = new SeededRandom(options.seed ?? 1);
    const n = model.speciesIds.length;
    const needed = options.focus === undefined ? undefined : stepsReaching(model, options.focus);
    const coarse = this.coarsePeriod(options);
    this.period = Int32Array.from(model.steps, (step, s) =>
      needed?.[s] && step.id !== options.focus ? coarse : 1,
    );
    this.units = model.steps.map(
      (step, s) => new StepUnit(model, step, this.dt * this.period[s]!, random),
    );
    this.advanced = this.units.filter((_, s) => needed?.[s] ?? true);
    this.feedConcentrations = model.feeds.map((f) => Float64Array.from(f.concentrations));
    this.feedTemperatures = Float64Array.from(model.feeds, (f) => f.temperature);
    this.feedInventory = Float64Array.from(model.feeds, (f) => f.inventory);
    this.feedExhausted = model.feeds.map(() => false);
    this.speciesFed = new Float64Array(n);
    this.speciesCollected = new Float64Array(n);
    this.speciesSpilled = new Float64Array(n);
    this.tanks = model.tanks.map((tank) => ({
      level: tank.initialLevel,
      c: new Float64Array(n),
      inSpecFraction: 1,
      empty: tank.initialLevel <= 0,
      overflowing: false,
      levelState: 0,
      spec: { quantity: 'level', unit: 'L', min: tank.minLevel, max: tank.maxLevel },
    }));
    this.tankConcentrations = this.tanks.map((t) => t.c);
    this.limitTables = this.units.map((u) => stepLimitTable(u.step));
    this.limitValues = this.limitTables.map((table) => new Float64Array(table.length));
    this.limitStates = this.limitTables.map((table) => new Int8Array(table.length));
    this.delivered = this.units.map((u) => new Float64Array(u.flow.length));
    for (const unit of this.units) {
      unit.step.inlets.forEach((inlet, k) =>
        this.actuators.set(inlet.pump, { kind: 'pump', unit, inlet: k }),
      );
      this.actuators.set(unit.step.thermostat.tag, { kind: 'thermostat', unit });
      this.actuators.set(unit.step.backPressure.tag, { kind: 'back-pressure', unit });
    }
    this.setDisturbances(options.scenario?.disturbances ?? []);
    this.applyDisturbances(0);
    this.initialHoldup = this.holdup();
  }

  /** Plant steps per coarse upstream step (PlantOptions.upstreamDt), checked. */
  private coarsePeriod(options: PlantOptions): number {
    const upstreamDt = options.upstreamDt ?? this.dt;
    const period = Math.round(upstreamDt / this.dt);
    if (period < 1 || Math.abs(period * this.dt - upstreamDt) > 1e-9 * upstreamDt)
      throw new SimulationError(
        'OPTIONS_INVALID',
        `upstreamDt must be a whole multiple of dt (${this.dt} s), got ${upstreamDt}`,
      );
    if (period > 1 && options.focus === undefined)
      throw new SimulationError('OPTIONS_INVALID', 'upstreamDt needs a focus step');
    return period;
  }

  /** Seconds since the run started (n·dt, exact). */
  get time(): number {
    return this.stepCount * this.dt;
  }

  /** Device tags that take setpoints: pumps (mL/min, NmL/min), thermostats (°C), back-pressure regulators (bar). */
  get setpointTags(): string[] {
    return [...this.actuators.keys()];
  }

  /**
   * Conditions a feed to a temperature, °C, from now on (a pre-heater or chiller on its line):
   * its inlets mix at it. Not a device setpoint: the recipe names no actuator for it.
   */
  setFeedTemperature(feedId: string, celsius: number): void {
    const index = this.model.feeds.findIndex((feed) => feed.id === feedId);
    if (index < 0)
      throw new ConditionsError(
        `unknown feed "${feedId}"; the recipe has ${this.model.feeds.map((f) => f.id).join(', ')}`,
      );
    if (!Number.isFinite(celsius) || celsiusToKelvin(celsius) <= 0)
      throw new ConditionsError(`feed ${feedId}: ${celsius} °C is not a temperature`);
    this.feedTemperatures[index] = celsiusToKelvin(celsius);
  }

  /**
   * Writes a setpoint as a device would receive it. Values outside the engineering range are
   * applied and reported as violations, never clipped: clamping is the safety shield's job.
   */
  setSetpoint(tag: string, value: number): void {
    const actuator = this.actuators.get(tag);
    if (!actuator)
      throw new ConditionsError(
        `unknown setpoint tag "${tag}"; known: ${this.setpointTags.join(', ')}`,
      );
    if (!Number.isFinite(value))
      throw new ConditionsError(`setpoint for ${tag} must be a finite number, got ${value}`);
    if (actuator.kind === 'thermostat' && value <= -ZERO_CELSIUS) {
      throw new ConditionsError(`setpoint for ${tag}: ${value} °C is at or below absolute zero`);
    }
    if (actuator.kind === 'pump') actuator.unit.flowSetpoint[actuator.inlet] = value;
    else if (actuator.kind === 'thermostat') actuator.unit.jacketSetpoint = celsiusToKelvin(value);
    else actuator.unit.backPressure = value;
  }

  /** The current setpoint of a tag, in its recipe unit. */
  getSetpoint(tag: string): number {
    const actuator = this.actuators.get(tag);
    if (!actuator) throw new ConditionsError(`unknown setpoint tag "${tag}"`);
    if (actuator.kind === 'pump') return actuator.unit.flowSetpoint[actuator.inlet]!;
    if (actuator.kind === 'thermostat') return kelvinToCelsius(actuator.unit.jacketSetpoint);
    return actuator.unit.backPressure;
  }

  /** Advances the plant by one dt. */
  step(): void {
    const dt = this.dt;
    const t = this.time;
    // Disturbances for t were set at the end of the previous step (or at construction).
    for (const unit of this.advanced) {
      const s = unit.step.index;
      // A coarse upstream unit steps once per period, at its start.
      if (this.stepCount % this.period[s]! !== 0) continue;
      unit.updateActuators();
      this.limitSupply(unit);
      const delivered = unit.deliveredFlows(this.delivered[s]!);
      this.drawSources(unit, delivered);
      unit.inletInSpecFraction = this.tankDrawInSpecFraction(unit, delivered);
      unit.advance(
        delivered,
        this.feedConcentrations,
        this.tankConcentrations,
        this.feedTemperatures,
      );
      this.freshMass += unit.inlet.freshMassFlow * unit.dt;
      this.routeOutlet(unit);
      this.monitorLimits(s, t + dt);
    }
    // Readings at t + dt see the disturbances in force then (an outage starting at t + dt
    // already stops that sample); applying them is idempotent, the next step starts so.
    this.applyDisturbances(t + dt);
    for (const unit of this.advanced) {
      // A coarse unit's analyser is not read (PlantOptions.upstreamDt): it keeps no samples.
      if (this.period[unit.step.index]! > 1) continue;
      unit.analyser?.update(t + dt, unit.c, (unit.cells - 1) * unit.stride, unit.tracer);
    }
    this.monitorTanks(t + dt);
    this.stepCount++;
    this.clock.set(this.t0 + this.time);
  }

  /**
   * Runs the plant at its current setpoints for `seconds` without disturbances, then makes
   * that state time zero: reactors and tank compositions keep the warmed-up state, while
   * tank levels, feed inventories, totals and events are reset. Use it to start a run at
   * operating conditions instead of from reactors full of solvent.
   */
  warmUp(seconds: number): void {
    const levels = this.tanks.map((t) => t.level);
    const inventory = Float64Array.from(this.feedInventory);
    const activity = this.units.map((u) => u.activity);
    // Tanks hold hours of flow: start them at the steady composition for the current
    // setpoints, so the warm-up only has to settle the reactors (minutes).
    this.fillTanksAtSteadyState();
    // Warm up undisturbed; a kinetic mismatch is a property of the real plant, not an
    // event in time, so it stays.
    const disturbances = this.disturbances;
    this.setDisturbances(disturbances.filter((d) => d.kind === 'kinetic-mismatch'));
    this.resetDisturbedParameters();
    this.warming = true;
    try {
      this.run(seconds);
    } finally {
      this.warming = false;
    }
    const shift = this.time;
    this.setDisturbances(disturbances);
    this.stepCount = 0;
    this.clock.set(this.t0);
    this.tanks.forEach((tank, i) => {
      tank.level = levels[i]!;
      // The run starts from released intermediate, the same for every controller.
      tank.inSpecFraction = 1;
      tank.empty = tank.level <= 1e-12;
      tank.overflowing = false;
    });
    // The catalyst starts the run as fresh as it was; the warm-up did not use it up.
    this.units.forEach((unit, i) => (unit.activity = activity[i]!));
    this.feedInventory.set(inventory);
    this.feedExhausted.fill(false);
    this.speciesFed.fill(0);
    this.speciesCollected.fill(0);
    this.speciesSpilled.fill(0);
    this.freshMass = 0;
    this.collectedVolume = 0;
    for (const unit of this.units) {
      unit.resetTotals();
      unit.analyser?.shiftTime(-shift);
    }
    // Events start over: what is still out of its band at t = 0 is reported again then.
    this.events.length = 0;
    this.droppedEvents = 0;
    this.applyDisturbances(0);
    for (const states of this.limitStates) states.fill(0);
    for (const tank of this.tanks) tank.levelState = 0;
    for (const unit of this.advanced) this.monitorLimits(unit.step.index, 0);
    this.monitorTanks(0);
    this.initialHoldup = this.holdup();
  }

  /** Each tank at the outlet composition of the step that fills it, at steady state ('cells'). */
  private fillTanksAtSteadyState(): void {
    if (this.tanks.length === 0) return;
    const steps: NonNullable<PlantConditions['steps']> = {};
    // Only the feeds conditioned away from the recipe's (the others exactly as before).
    const feedTemperatures = Object.fromEntries(
      this.model.feeds.flatMap((feed, f) =>
        this.feedTemperatures[f] === feed.temperature
          ? []
          : [[feed.id, kelvinToCelsius(this.feedTemperatures[f]!)]],
      ),
    );
    for (const unit of this.units) {
      const step = unit.step;
      steps[step.id] = {
        flows: Object.fromEntries(
          step.inlets.map((inlet, k) => [inlet.pump, unit.flowSetpoint[k]!]),
        ),
        jacketTemperature: kelvinToCelsius(unit.jacketSetpoint),
        backPressure: unit.backPressure,
        ...(step.catalyst ? { catalystActivity: unit.activity } : {}),
        feedTemperatures,
      };
    }
    const steady = solvePlantSteadyState(this.model, { steps }, { model: 'cells' });
    for (const step of this.model.steps) {
      if (step.outletTank < 0) continue;
      const outlet = steady.steps[step.index]!.outlet;
      const c = this.tanks[step.outletTank]!.c;
      this.model.speciesIds.forEach((id, i) => (c[i] = outlet[id] ?? 0));
    }
  }

  /** Advances by whole steps until `seconds` more have passed. */
  run(seconds: number, onStep?: (plant: Plant) => void): void {
    const steps = Math.round(seconds / this.dt);
    for (let i = 0; i < steps; i++) {
      this.step();
      onStep?.(this);
    }
  }

  /** Events dropped because nobody drained them (the oldest go first). */
  droppedEvents = 0;

  private emit(event: PlantEvent): void {
    // A run nobody drains (training) must not grow without bound.
    if (this.events.length >= MAX_PENDING_EVENTS) {
      const drop = MAX_PENDING_EVENTS / 10;
      this.events.splice(0, drop);
      this.droppedEvents += drop;
    }
    this.events.push(event);
  }

  /** Events since the last call (at most MAX_PENDING_EVENTS; see droppedEvents). */
  drainEvents(): PlantEvent[] {
    return this.events.splice(0, this.events.length);
  }

  /**
   * Tank level, L, composition, mol/L (a view: copy to keep), and the fraction of the
   * content made in spec at every step so far.
   */
  tank(id: string): { level: number; concentrations: Float64Array; inSpecFraction: number } {
    const index = this.model.tanks.findIndex((t) => t.id === id);
    const tank = this.tanks[index];
    if (!tank) throw new SimulationError('UNKNOWN_TANK', `unknown tank "${id}"`);
    return { level: tank.level, concentrations: tank.c, inSpecFraction: tank.inSpecFraction };
  }

  /** Moles of each species held in reactors and tanks now. */
  holdup(): Float64Array {
    const n = this.model.speciesIds.length;
    const total = new Float64Array(n);
    for (const unit of this.units) {
      const cellVolume = unit.step.liquidVolume / unit.cells;
      for (let cell = 0; cell < unit.cells; cell++) {
        for (let i = 0; i < n; i++) total[i]! += unit.c[cell * unit.stride + i]! * cellVolume;
      }
    }
    for (const tank of this.tanks) for (let i = 0; i < n; i++) total[i]! += tank.c[i]! * tank.level;
    return total;
  }

  /** Scales a unit's deliveries down to what feeds and tanks can give this step. */
  private limitSupply(unit: StepUnit): void {
    const dt = unit.dt;
    const inlets = unit.step.inlets;
    let liquid = 0;
    // Tanks can be drawn by several pumps: share what is there in proportion to demand.
    // Liquids first: gas is only dosed into flowing liquid (see mixInlets).
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < inlets.length; k++) {
        const inlet = inlets[k]!;
        if (inlet.gas !== (pass === 1)) continue;
        this.limitInlet(unit, k, dt);
        if (!inlet.gas) liquid += unit.flow[k]! * unit.supply[k]!;
        else if (liquid <= 0) unit.supply[k] = 0;
      }
    }
  }

  /** The fraction of inlet k's demand its feed vessel or tank can give this step. */
  private limitInlet(unit: StepUnit, k: number, dt: number): void {
    const inlets = unit.step.inlets;
    const inlet = inlets[k]!;
    const demand = unit.flow[k]! * inlet.toInternal * dt; // L, or mol for gas
    if (inlet.source === 'feed') {
      const available = this.feedInventory[inlet.sourceIndex]!;
      const need = inlet.gas ? demand * NORMAL_MOLAR_VOLUME : demand;
      unit.supply[k] = need <= 0 || need <= available ? 1 : Math.max(0, available / need);
      return;
    }
    const tank = this.tanks[inlet.sourceIndex]!;
    let tankDemand = 0;
    for (let j = 0; j < inlets.length; j++) {
      if (inlets[j]!.source === 'tank' && inlets[j]!.sourceIndex === inlet.sourceIndex) {
        tankDemand += unit.flow[j]! * inlets[j]!.toInternal * dt;
      }
    }
    unit.supply[k] =
      tankDemand <= 0 || tankDemand <= tank.level ? 1 : Math.max(0, tank.level / tankDemand);
  }

  /** In-spec fraction of what the unit draws from tanks this step, by volume (1 for feeds only). */
  private tankDrawInSpecFraction(unit: StepUnit, delivered: Float64Array): number {
    let volume = 0;
    let good = 0;
    unit.step.inlets.forEach((inlet, k) => {
      if (inlet.source !== 'tank') return;
      const amount = delivered[k]! * inlet.toInternal;
      volume += amount;
      good += amount * this.tanks[inlet.sourceIndex]!.inSpecFraction;
    });
    return volume > 0 ? good / volume : 1;
  }

  /** Takes this step's deliveries out of feed vessels and tanks, and books what was fed. */
  private drawSources(unit: StepUnit, delivered: Float64Array): void {
    const dt = unit.dt;
    const n = this.model.speciesIds.length;
    const inlets = unit.step.inlets;
    for (let k = 0; k < inlets.length; k++) {
      const inlet = inlets[k]!;
      const amount = delivered[k]! * inlet.toInternal * dt; // L, or mol for gas
      if (amount <= 0) continue;
      if (inlet.source === 'feed') {
        const feed = this.model.feeds[inlet.sourceIndex]!;
        const c = this.feedConcentrations[inlet.sourceIndex]!;
        for (let i = 0; i < n; i++) this.speciesFed[i]! += c[i]! * amount;
        const used = inlet.gas ? amount * NORMAL_MOLAR_VOLUME : amount;
        this.feedInventory[inlet.sourceIndex] = Math.max(
          0,
          this.feedInventory[inlet.sourceIndex]! - used,
        );
        if (
          this.feedInventory[inlet.sourceIndex]! <= 1e-12 &&
          !this.feedExhausted[inlet.sourceIndex]
        ) {
          this.feedExhausted[inlet.sourceIndex] = true;
          this.emit({
            t: this.time + this.dt,
            kind: 'feed-exhausted',
            feed: feed.id,
            message: `feed ${feed.id} is empty`,
          });
        }
      } else if (!this.warming) {
        // (While warming up, tanks hold level and composition; see routeOutlet.)
        const tank = this.tanks[inlet.sourceIndex]!;
        tank.level = Math.max(0, tank.level - amount);
      }
    }
  }

  /** Sends the step's outflow to its surge tank or to product collection. */
  private routeOutlet(unit: StepUnit): void {
    const n = this.model.speciesIds.length;
    const q = unit.inlet.flow;
    const volume = q * unit.dt;
    const integral = unit.outletIntegral;
    const tankIndex = unit.step.outletTank;
    // While warming up the tanks hold their steady composition: the reactors' start-up
    // flush goes to drain instead of diluting them.
    if (this.warming && tankIndex >= 0) return;
    if (tankIndex < 0) {
      for (let i = 0; i < n; i++) this.speciesCollected[i]! += q * integral[i]!;
      this.collectedVolume += volume;
      return;
    }
    const tank = this.tanks[tankIndex]!;
    const spec = this.model.tanks[tankIndex]!;
    const level = tank.level + volume;
    if (level > 0) {
      for (let i = 0; i < n; i++) tank.c[i] = (tank.c[i]! * tank.level + q * integral[i]!) / level;
      tank.inSpecFraction =
        (tank.inSpecFraction * tank.level + volume * unit.outletInSpecFraction) / level;
    }
    tank.level = level;
    const overflowing = level > spec.capacity;
    if (overflowing) {
      const spilled = level - spec.capacity;
      for (let i = 0; i < n; i++) this.speciesSpilled[i]! += tank.c[i]! * spilled;
      tank.level = spec.capacity;
    }
    if (overflowing !== tank.overflowing) {
      tank.overflowing = overflowing;
      if (overflowing) {
        this.emit({
          t: this.time + this.dt,
          kind: 'tank-overflow',
          tank: spec.id,
          message: `tank ${spec.id} overflows its ${spec.capacity} L`,
        });
      }
    }
  }

  /** Edge-triggered engineering-limit events for a step and the tanks. */
  private monitorLimits(s: number, t: number): void {
    const unit = this.units[s]!;
    const table = this.limitTables[s]!;
    // Filled in place: this runs every step, so it allocates nothing.
    const state = this.safetyState;
    state.maxTemperature = unit.maxTemperature;
    state.mtsr = unit.mtsr;
    state.pressure = unit.pressure;
    state.flows = unit.flowSetpoint;
    state.jacketTemperature = unit.jacketSetpoint;
    state.backPressure = unit.backPressure;
    const values = stepLimitValues(unit.step, state, this.limitValues[s]!);
    const states = this.limitStates[s]!;
    for (let i = 0; i < table.length; i++) {
      const state = limitState(table[i]!, values[i]!);
      if (state === states[i]) continue;
      states[i] = state;
      this.pushLimitEvent(t, table[i]!, values[i]!, state, { step: unit.step.id });
    }
  }

  /** Tanks running empty or refilling, and levels against their bands, once every step has filled and drawn. */
  private monitorTanks(t: number): void {
    for (let index = 0; index < this.tanks.length; index++) {
      const tank = this.tanks[index]!;
      const empty = tank.level <= 1e-12;
      if (empty !== tank.empty) {
        tank.empty = empty;
        const id = this.model.tanks[index]!.id;
        this.emit({
          t,
          kind: empty ? 'tank-empty' : 'tank-refilled',
          tank: id,
          message: `tank ${id} ${empty ? 'ran empty' : 'has liquid again'}`,
        });
      }
      const state = limitState(tank.spec, tank.level);
      if (state === tank.levelState) continue;
      tank.levelState = state;
      this.pushLimitEvent(t, tank.spec, tank.level, state, { tank: this.model.tanks[index]!.id });
    }
  }

  private pushLimitEvent(
    t: number,
    spec: LimitSpec,
    value: number,
    state: number,
    where: { step?: string; tank?: string },
  ): void {
    if (state !== 0) {
      const v = violation(spec, value, where);
      this.emit({ t, kind: 'violation', ...where, violation: v, message: v.message });
    } else {
      this.emit({
        t,
        kind: 'violation-cleared',
        ...where,
        message: `${where.step ?? where.tank} ${spec.quantity} back within limits`,
      });
    }
  }

  /** Sets every disturbed parameter from the scenario for time t (idempotent). */
  private applyDisturbances(t: number): void {
    for (const apply of this.appliers) apply(t);
  }

  /**
   * Makes `disturbances` the active set: each becomes a function of time with its target
   * looked up once here, not at every step.
   */
  private setDisturbances(disturbances: readonly Disturbance[]): void {
    this.disturbances = [...disturbances];
    this.appliers = this.disturbances.map((d): ((t: number) => void) => {
      switch (d.kind) {
        case 'catalyst-deactivation': {
          const unit = this.unitOf(d.step, d.kind);
          return (t) => {
            unit.extraDecay = t >= d.start ? d.rate / 3600 : 0;
          };
        }
        case 'feed-drift': {
          const index = this.model.feeds.findIndex((f) => f.id === d.feed);
          if (index < 0) throw unknownTarget(d.kind, 'feed', d.feed);
          const nominal = this.model.feeds[index]!.concentrations;
          const c = this.feedConcentrations[index]!;
          return (t) => {
            const factor = 1 + (d.factor - 1) * ramp(t, d.start, d.duration);
            for (let i = 0; i < c.length; i++) c[i] = nominal[i]! * factor;
          };
        }
        case 'fouling': {
          const unit = this.unitOf(d.step, d.kind);
          return (t) => {
            const progress = ramp(t, d.start, d.duration);
            unit.heatTransferFactor = 1 + (d.heatTransferFactor - 1) * progress;
            unit.pressureDropFactor = 1 + (d.pressureDropFactor - 1) * progress;
          };
        }
        case 'pump-calibration': {
          const actuator = this.actuators.get(d.pump);
          if (actuator?.kind !== 'pump') throw unknownTarget(d.kind, 'pump', d.pump);
          return (t) => {
            actuator.unit.pumpFactor[actuator.inlet] = t >= d.start ? d.factor : 1;
          };
        }
        case 'analyser-drift': {
          const analyser = this.analyserByTag(d.kind, d.analyser).analyser;
          return (t) => {
            analyser.bias = t >= d.start ? (d.ratePerHour * (t - d.start)) / 3600 : 0;
          };
        }
        case 'analyser-outage': {
          const { unit, analyser } = this.analyserByTag(d.kind, d.analyser);
          return (t) => {
            const fault = t >= d.start && t < d.start + d.duration;
            if (fault === analyser.fault) return;
            analyser.fault = fault;
            this.emit({
              t,
              kind: fault ? 'analyser-fault' : 'analyser-recovered',
              step: unit.step.id,
              message: `analyser ${d.analyser} ${fault ? 'is out of service' : 'is back in service'}`,
            });
          };
        }
        case 'kinetic-mismatch': {
          const unit = this.unitOf(d.step, d.kind);
          return () => {
            unit.rateMultiplier = d.factor;
          };
        }
      }
    });
  }

  private analyserByTag(kind: string, tag: string): { unit: StepUnit; analyser: Analyser } {
    const unit = this.units.find((u) => u.analyser?.tag === tag);
    if (!unit?.analyser) throw unknownTarget(kind, 'analyser', tag);
    return { unit, analyser: unit.analyser };
  }

  /** Every parameter a disturbance can move, back at its nominal value. */
  private resetDisturbedParameters(): void {
    for (const unit of this.units) {
      unit.pumpFactor.fill(1);
      unit.extraDecay = 0;
      unit.rateMultiplier = 1;
      unit.heatTransferFactor = 1;
      unit.pressureDropFactor = 1;
      if (unit.analyser) {
        unit.analyser.bias = 0;
        unit.analyser.fault = false;
      }
    }
    this.model.feeds.forEach((feed, i) => this.feedConcentrations[i]!.set(feed.concentrations));
  }

  private unitOf(stepId: string, kind: string): StepUnit {
    const unit = this.units.find((u) => u.step.id === stepId);
    if (!unit) throw unknownTarget(kind, 'step', stepId);
    return unit;
  }
}

/** A disturbance of the scenario names a step, feed, pump or analyser the plant lacks. */
function unknownTarget(kind: string, what: string, id: string): SimulationError {
  return new SimulationError('SCENARIO_INVALID', `disturbance ${kind}: unknown ${what} "${id}"`);
}
