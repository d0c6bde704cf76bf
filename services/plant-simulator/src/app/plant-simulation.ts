import { kelvinToCelsius } from '@pipac/recipe';
import type { Plant, StepUnit } from '@pipac/twin';
import {
  analyserMeasureTag,
  currentValueTag,
  moduleDeviceId,
  TargetRefusedError,
  reactorSensorTags,
  tankLevelTag,
  type DeviceDescription,
} from '@pipac/opcua';

/** Where the simulation puts the values its devices report (a DeviceServer). */
export interface DeviceValueSink {
  update(tag: string, update: { value: number; sourceTime: Date }): void;
  /** The value goes bad (analyser outage); it keeps its last value. */
  fail(tag: string, sourceTime: Date): void;
  /** A functional unit's LADS state changes (an analyser outage aborts it). */
  setUnitState(device: string, unit: string, state: 'Running' | 'Aborted'): void;
}

export interface PlantSimulationOptions {
  /** Simulated seconds per wall-clock second. @default 1 (real time) */
  timeFactor?: number;
  /** Wall clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /**
   * Longest one tick may compute, wall-clock ms. A plant that cannot keep up with the time
   * factor (a reactor running hot or fast needs up to 2000 substeps per step) must not catch
   * up by blocking the event loop: the OPC UA server and everything else in the process would
   * starve (a CI run's cell stalled for minutes, its OPC UA sessions timing out). The plant's
   * clock slips instead, and `slippedSteps` counts the steps dropped. @default 50
   */
  tickBudgetMs?: number;
}

interface ModuleReading {
  tag: string;
  read: () => number;
}

interface AnalyserBinding {
  unit: StepUnit;
  tags: string[];
  lastAvailableAt: number;
  faulted: boolean;
}

/**
 * Drives the devices' values from the dynamic twin: the plant advances in fixed steps to
 * follow the wall clock at a chosen time factor, and after each tick every module value is
 * published with its simulated time as source timestamp. Analyser results are published
 * once, when they become available, stamped with the time the sample was drawn (as a real
 * analyser reports its measurement time); an analyser outage turns its values bad and its
 * functional unit Aborted (LADS), until it recovers.
 *
 * Simulated time t maps to the timestamp start + t (ms): at a time factor above one the
 * data's timeline runs ahead of the wall clock, consistently for every consumer.
 */
export class PlantSimulation {
  readonly timeFactor: number;
  private readonly now: () => number;
  private readonly tickBudgetMs: number;
  private readonly moduleReadings: ModuleReading[];
  private readonly analysers: AnalyserBinding[];
  /** Wall clock at start(): the epoch of the data's timestamps. */
  private wallStart = 0;
  /** Wall clock the pace is measured from: start(), moved on by every slip. */
  private paceStart = 0;
  private readonly simStart: number;
  private steps = 0;
  /** Plant steps dropped because a tick ran out of budget: the plant's clock slipped by them. */
  slippedSteps = 0;

  constructor(
    readonly plant: Plant,
    devices: DeviceDescription[],
    private readonly sink: DeviceValueSink,
    options: PlantSimulationOptions = {},
  ) {
    this.timeFactor = options.timeFactor ?? 1;
    if (!(this.timeFactor > 0))
      throw new Error(`time factor must be positive, got ${this.timeFactor}`);
    this.now = options.now ?? Date.now;
    this.tickBudgetMs = options.tickBudgetMs ?? 50;
    this.simStart = plant.time;
    const served = new Set(devices.map((d) => d.id));
    this.moduleReadings = plant.units
      .filter((unit) => served.has(moduleDeviceId(unit.step.id)))
      .flatMap((unit) => moduleReadings(plant, unit));
    this.analysers = plant.units.flatMap((unit) => {
      const analyser = unit.analyser;
      if (!analyser || !devices.some((d) => d.id === analyser.tag)) return [];
      // In the order of the analyser's results (the recipe's measures).
      const tags = (unit.step.spec.analyser?.measures ?? []).map((m) =>
        analyserMeasureTag(analyser.tag, m),
      );
      return [{ unit, tags, lastAvailableAt: Number.NaN, faulted: false }];
    });
  }

  /** Starts following the wall clock from now, and publishes the current values. */
  start(): void {
    this.wallStart = this.paceStart = this.now();
    this.publish();
  }

  /** Simulated seconds since start(). */
  get simulatedSeconds(): number {
    return this.plant.time - this.simStart;
  }

  /**
   * Advances the plant to where the wall clock says it should be, within the tick's budget,
   * and publishes. Steps still due when the budget is spent are dropped: the plant's clock
   * slips behind the time factor rather than falling ever further behind. Returns the number
   * of steps taken.
   */
  tick(): number {
    const began = this.now();
    const elapsed = ((began - this.paceStart) / 1000) * this.timeFactor;
    const due = Math.floor(elapsed / this.plant.dt + 1e-9) - this.steps;
    if (due <= 0) return 0;
    let taken = 0;
    while (taken < due) {
      this.plant.step();
      taken++;
      if (this.now() - began >= this.tickBudgetMs) break;
    }
    this.steps += taken;
    if (taken < due) {
      const dropped = due - taken;
      this.slippedSteps += dropped;
      this.paceStart += (dropped * this.plant.dt * 1000) / this.timeFactor;
    }
    this.publish();
    return taken;
  }

  /** Timestamp of simulated time t (s): the start of the simulation plus t. */
  timestamp(t: number): Date {
    return new Date(this.wallStart + (t - this.simStart) * 1000);
  }

  /**
   * The plant's clock, now: the timestamp of the plant's time (the wall clock before start()).
   * The simulator's OPC UA server runs on it (values, server timestamps, CurrentTime).
   */
  clock(): Date {
    return this.wallStart === 0 ? new Date(this.now()) : this.timestamp(this.plant.time);
  }

  /**
   * A setpoint a client wrote to a device, within its range, before the server stores it. A
   * value the plant cannot apply (not finite, at or below absolute zero) is a TargetRefusedError:
   * the write is refused (BadOutOfRange) and the device goes on reporting what the plant runs at.
   */
  applySetpoint(tag: string, value: number): void {
    try {
      this.plant.setSetpoint(tag, value);
    } catch (error) {
      throw new TargetRefusedError((error as Error).message, { cause: error });
    }
  }

  private publish(): void {
    const sourceTime = this.timestamp(this.plant.time);
    for (const reading of this.moduleReadings) {
      this.sink.update(reading.tag, { value: reading.read(), sourceTime });
    }
    for (const binding of this.analysers) this.publishAnalyser(binding);
  }

  private publishAnalyser(binding: AnalyserBinding): void {
    const analyser = binding.unit.analyser!;
    if (analyser.fault !== binding.faulted) {
      binding.faulted = analyser.fault;
      this.sink.setUnitState(analyser.tag, analyser.tag, analyser.fault ? 'Aborted' : 'Running');
      if (analyser.fault) {
        const at = this.timestamp(this.plant.time);
        for (const tag of binding.tags) this.sink.fail(tag, at);
      }
    }
    const available = analyser.latestAvailableAt;
    if (Number.isNaN(available) || available === binding.lastAvailableAt) return;
    binding.lastAvailableAt = available;
    const sampledAt = this.timestamp(analyser.latestSampledAt);
    binding.tags.forEach((tag, i) => {
      this.sink.update(tag, { value: analyser.latest[i]!, sourceTime: sampledAt });
    });
  }

  /** Steps since start() (for tests and progress). */
  get stepsTaken(): number {
    return this.steps;
  }
}

/** The values a flow-reactor module reports (see describePlantDevices for the tags). */
function moduleReadings(plant: Plant, unit: StepUnit): ModuleReading[] {
  const step = unit.step;
  const reactor = reactorSensorTags(step.id);
  const tank = step.outletTank >= 0 ? plant.model.tanks[step.outletTank] : undefined;
  return [
    ...step.inlets.map((inlet, k) => ({
      tag: currentValueTag(inlet.pump),
      read: () => unit.flow[k]!,
    })),
    {
      tag: currentValueTag(step.thermostat.tag),
      read: () => kelvinToCelsius(unit.jacketTemperature),
    },
    { tag: currentValueTag(step.backPressure.tag), read: () => unit.backPressure },
    { tag: reactor.hotSpot, read: () => kelvinToCelsius(unit.maxTemperature) },
    { tag: reactor.outlet, read: () => kelvinToCelsius(unit.temperature[unit.cells - 1]!) },
    { tag: reactor.inletPressure, read: () => unit.pressure },
    ...(tank ? [{ tag: tankLevelTag(tank.id), read: () => plant.tank(tank.id).level }] : []),
  ];
}
