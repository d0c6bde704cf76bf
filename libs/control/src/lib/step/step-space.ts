import { kelvinToCelsius, stepById, type PlantModel, type StepModel } from '@pipac/recipe';
import { solvePlantSteadyState, type PlantSteadyState } from '@pipac/twin';
import type { SetpointLimit } from '../safety-shield';
import type { StepReadings } from './step-readings';
import { ControlError } from '../control.error';

/** One setpoint a step controller moves. */
export interface Manipulated {
  tag: string;
  kind: 'pump' | 'thermostat';
  unit: string;
  nominal: number;
  /** The device's engineering range (recipe min/max). */
  engineering: { low: number; high: number };
  /** The agent's narrower range; the action's −1..1 maps onto it. */
  agent: { low: number; high: number };
  /** Largest change per control cycle. */
  maxMove: number;
}

export interface StepSpaceOptions {
  /** Agent range of each pump as fractions of its nominal flow (inside the engineering range). @default [0.5, 1.5] */
  flowRange?: [number, number];
  /** Agent range of the jacket temperature: nominal ± this, °C (inside the engineering range). @default 15 */
  temperatureSpan?: number;
  /** Largest pump move per cycle, fraction of nominal. @default 0.1 */
  flowMove?: number;
  /** Largest jacket move per cycle, °C. @default 2 */
  temperatureMove?: number;
}

const nominalStates = new WeakMap<PlantModel, PlantSteadyState>();

/**
 * The plant's steady state at the recipe's setpoints with the twin's tanks-in-series model,
 * solved once per compiled model (tens of milliseconds; every space and environment needs it).
 */
export function nominalSteadyState(model: PlantModel): PlantSteadyState {
  let state = nominalStates.get(model);
  if (!state) {
    state = solvePlantSteadyState(model, {}, { model: 'cells' });
    nominalStates.set(model, state);
  }
  return state;
}

/** Scale of the conversion features: 0.05 of conversion is one unit. */
export const CONVERSION_SCALE = 0.05;

/** Names of the observation features, in order (the model card lists them). */
const FIXED_FEATURES = [
  'conversion_margin',
  'conversion_change',
  'analyser_age',
  'analyser_good',
  'temperature_margin',
  'pressure_margin',
  'throughput_target',
] as const;

/**
 * The observation and action spaces of one step, derived from the recipe alone, so any plant
 * the recipe format describes gets them. The action is one value in −1..1 per manipulated
 * setpoint (each dosing pump, then the jacket), mapped linearly onto the agent's range; the
 * back-pressure stays at its recipe value. The observation is documented in docs/agents.md and
 * in `features`.
 */
export class StepSpace {
  readonly step: StepModel;
  readonly manipulated: Manipulated[];
  /** Key reactant fed at the recipe's nominal point, mol/s (the nominal steady state). */
  readonly nominalKeyFeed: number;
  /** Product leaving at the recipe's nominal point, mol/s. */
  readonly nominalProductRate: number;
  /** Analyser concentration quantities observed, and their nominal steady values, mol/L. */
  readonly concentrations: { quantity: string; nominal: number }[];
  readonly features: string[];
  /**
   * Pumps that carry the key reactant (from a feed that holds it, or a tank its product
   * fills); the first pump when none does. The others dose reagents.
   */
  readonly keyPumps: ReadonlySet<string>;
  /** Temperature limit of the hottest point, °C, and the jacket's nominal, °C. */
  private readonly maxTemperature: number;
  private readonly jacketNominal: number;
  private readonly analyserPeriod: number;

  constructor(
    readonly model: PlantModel,
    stepId: string,
    options: StepSpaceOptions = {},
  ) {
    const step = stepById(model, stepId);
    this.step = step;
    const [lowFraction, highFraction] = options.flowRange ?? [0.5, 1.5];
    const span = options.temperatureSpan ?? 15;
    const flowMove = options.flowMove ?? 0.1;
    const temperatureMove = options.temperatureMove ?? 2;
    if (!(lowFraction > 0 && lowFraction < 1 && highFraction > 1))
      throw new ControlError(
        'INVALID_SETTINGS',
        `flowRange must bracket 1 (got ${lowFraction}..${highFraction})`,
      );
    this.manipulated = [
      ...step.inlets.map((inlet): Manipulated => {
        // A dosing pump may always be stopped (0: the safe state, and MTP Pause); the recipe's
        // minimum is its lowest running flow, which bounds the agent's range.
        const running = { low: inlet.min, high: inlet.max };
        return {
          tag: inlet.pump,
          kind: 'pump',
          unit: inlet.gas ? 'NmL/min' : 'mL/min',
          nominal: inlet.nominal,
          engineering: { low: Math.min(0, inlet.min), high: inlet.max },
          agent: inside(running, inlet.nominal * lowFraction, inlet.nominal * highFraction),
          maxMove: inlet.nominal * flowMove,
        };
      }),
      {
        tag: step.thermostat.tag,
        kind: 'thermostat',
        unit: '°C',
        nominal: step.thermostat.nominal,
        engineering: { low: step.thermostat.min, high: step.thermostat.max },
        agent: inside(
          { low: step.thermostat.min, high: step.thermostat.max },
          step.thermostat.nominal - span,
          step.thermostat.nominal + span,
        ),
        maxMove: temperatureMove,
      },
    ];
    const analyser = step.spec.analyser;
    const steady = nominalSteadyState(model).steps[step.index]!;
    this.concentrations = (analyser?.measures ?? [])
      .filter((m) => m.quantity === 'concentration')
      .map((m) => ({
        quantity: `concentration:${m.species}`,
        nominal: Math.max(steady.outlet[m.species!] ?? 0, 1e-3),
      }));
    const carries = step.inlets.filter((inlet) =>
      inlet.source === 'feed'
        ? (model.feeds[inlet.sourceIndex]!.concentrations[step.keyIndex] ?? 0) > 0
        : model.steps[model.tanks[inlet.sourceIndex]!.fillingStep]!.productIndex === step.keyIndex,
    );
    this.keyPumps = new Set(
      (carries.length > 0 ? carries : step.inlets.slice(0, 1)).map((i) => i.pump),
    );
    // mL/min × mol/L → mol/s
    this.nominalKeyFeed = ((steady.inlet[step.spec.keyReactant] ?? 0) * steady.outletFlow) / 60_000;
    this.nominalProductRate =
      ((steady.outlet[step.spec.product] ?? 0) * steady.outletFlow) / 60_000;
    this.features = [
      ...FIXED_FEATURES,
      ...this.manipulated.map((m) => `setpoint:${m.tag}`),
      ...this.concentrations.map((c) => c.quantity),
    ];
    this.maxTemperature = kelvinToCelsius(step.maxTemperature);
    this.jacketNominal = step.thermostat.nominal;
    this.analyserPeriod = analyser ? analyser.deadTime + analyser.cadence : 1;
  }

  /**
   * Key reactant fed at these pump setpoints, mol/s, taking the sources to hold the recipe's
   * nominal concentrations (what a plant without inlet analysers can know): the nominal feed
   * scaled by the key pumps' flow.
   */
  keyReactantFeed(setpoints: Readonly<Record<string, number>>): number {
    let flow = 0;
    let nominal = 0;
    for (const inlet of this.step.inlets) {
      if (!this.keyPumps.has(inlet.pump)) continue;
      flow += setpoints[inlet.pump] ?? 0;
      nominal += inlet.nominal;
    }
    return nominal > 0 ? (this.nominalKeyFeed * flow) / nominal : 0;
  }

  get observationSize(): number {
    return this.features.length;
  }

  get actionSize(): number {
    return this.manipulated.length;
  }

  get hasConversion(): boolean {
    return (this.step.spec.analyser?.measures ?? []).some((m) => m.quantity === 'conversion');
  }

  /** Setpoints for an action in −1..1 (values outside are taken to the nearest end). */
  toSetpoints(action: ArrayLike<number>): Record<string, number> {
    if (action.length !== this.actionSize)
      throw new ControlError(
        'INVALID_INPUT',
        `action has ${action.length} values, the step takes ${this.actionSize}`,
      );
    const setpoints: Record<string, number> = {};
    this.manipulated.forEach((m, i) => {
      const a = Math.max(-1, Math.min(1, Number.isFinite(action[i]!) ? action[i]! : 0));
      setpoints[m.tag] = m.agent.low + ((a + 1) / 2) * (m.agent.high - m.agent.low);
    });
    return setpoints;
  }

  /** The action that gives these setpoints (the inverse of toSetpoints inside the agent range). */
  toAction(setpoints: Readonly<Record<string, number>>): Float32Array {
    return Float32Array.from(this.manipulated, (m) => {
      const value = setpoints[m.tag] ?? m.nominal;
      return (2 * (value - m.agent.low)) / (m.agent.high - m.agent.low) - 1;
    });
  }

  /** The recipe's setpoints for the manipulated tags. */
  nominalSetpoints(): Record<string, number> {
    return Object.fromEntries(this.manipulated.map((m) => [m.tag, m.nominal]));
  }

  /**
   * The setpoints of a paused step (NAMUR MTP Pause): every feed pump off, the jacket and the
   * back-pressure as they are, so the reactor stays full and warm, ready to resume.
   */
  pauseSetpoints(current: Readonly<Record<string, number>>): Record<string, number> {
    return Object.fromEntries(
      this.manipulated.map((m) => [m.tag, m.kind === 'pump' ? 0 : (current[m.tag] ?? m.nominal)]),
    );
  }

  /** The shield's limits for this step's manipulated setpoints. */
  shieldLimits(): SetpointLimit[] {
    return this.manipulated.map((m) => ({
      tag: m.tag,
      engineering: m.engineering,
      agent: m.agent,
      maxMove: m.maxMove,
    }));
  }

  /**
   * The observation vector for these readings. `previousConversion` is the measured conversion
   * of the result before the current one (the trend feature); NaN when unknown.
   */
  observe(
    readings: StepReadings,
    previousConversion = Number.NaN,
    into: Float32Array<ArrayBuffer> = new Float32Array(this.observationSize),
  ): Float32Array<ArrayBuffer> {
    const conversion = readings.analyser?.values['conversion'];
    const min = this.step.minConversion;
    let i = 0;
    const known = conversion !== undefined && Number.isFinite(conversion);
    into[i++] = known ? clip((conversion - min) / CONVERSION_SCALE, -4, 4) : 0;
    into[i++] =
      known && Number.isFinite(previousConversion)
        ? clip((conversion - previousConversion) / CONVERSION_SCALE, -4, 4)
        : 0;
    into[i++] = readings.analyser
      ? clip((readings.time - readings.analyser.sampledAt) / this.analyserPeriod - 1, -1, 4)
      : 4;
    into[i++] = readings.analyser?.quality === 'good' ? 1 : 0;
    into[i++] = clip(
      (this.maxTemperature - readings.maxTemperature) / (this.maxTemperature - this.jacketNominal),
      -1,
      2,
    );
    into[i++] = clip((this.step.maxPressure - readings.pressure) / this.step.maxPressure, -1, 1);
    into[i++] = clip(readings.throughputTarget - 1, -1, 1);
    for (const m of this.manipulated) {
      const value = readings.setpoints[m.tag] ?? m.nominal;
      into[i++] = clip((2 * (value - m.agent.low)) / (m.agent.high - m.agent.low) - 1, -2, 2);
    }
    for (const c of this.concentrations) {
      const value = readings.analyser?.values[c.quantity];
      into[i++] =
        value !== undefined && Number.isFinite(value) ? clip(value / c.nominal - 1, -2, 2) : 0;
    }
    return into;
  }
}

function inside(range: { low: number; high: number }, low: number, high: number) {
  return { low: Math.max(range.low, low), high: Math.min(range.high, high) };
}

function clip(x: number, low: number, high: number): number {
  return x < low ? low : x > high ? high : x;
}
