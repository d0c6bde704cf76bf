import { type StepModel, kelvinToCelsius } from '@pipac/recipe';

/** A quantity past its engineering limit. Reported, never silently clipped. */
export interface LimitViolation {
  step?: string;
  tank?: string;
  /** e.g. 'temperature', 'pressure', 'mtsr', 'tank-level', 'flow', 'jacket-temperature', 'back-pressure'. */
  quantity: string;
  value: number;
  limit: number;
  bound: 'upper' | 'lower';
  unit: string;
  message: string;
}

/** One monitored quantity of a step and its engineering band. */
export interface LimitSpec {
  quantity: string;
  unit: string;
  min: number;
  max: number;
}

/**
 * The quantities of a step that have engineering limits, in a fixed order:
 * hottest reactor temperature, MTSR, inlet pressure (°C, °C, bar), then each pump's flow,
 * the jacket setpoint and the back-pressure setpoint. `stepLimitValues` fills the values in
 * the same order, so the steady-state report and the dynamic plant's edge-triggered
 * monitor share one definition.
 */
export function stepLimitTable(step: StepModel): LimitSpec[] {
  return [
    {
      quantity: 'temperature',
      unit: '°C',
      min: -Infinity,
      max: kelvinToCelsius(step.maxTemperature),
    },
    {
      quantity: 'mtsr',
      unit: '°C',
      min: -Infinity,
      max: kelvinToCelsius(step.maxTechnicalTemperature),
    },
    { quantity: 'pressure', unit: 'bar', min: -Infinity, max: step.maxPressure },
    ...step.inlets.map((inlet) => ({
      quantity: `flow ${inlet.pump}`,
      unit: inlet.gas ? 'NmL/min' : 'mL/min',
      min: inlet.min,
      max: inlet.max,
    })),
    {
      quantity: `jacket-temperature ${step.thermostat.tag}`,
      unit: '°C',
      min: step.thermostat.min,
      max: step.thermostat.max,
    },
    {
      quantity: `back-pressure ${step.backPressure.tag}`,
      unit: 'bar',
      min: step.backPressure.min,
      max: step.backPressure.max,
    },
  ];
}

export interface StepSafetyState {
  /** K */
  maxTemperature: number;
  /** K */
  mtsr: number;
  /** bar */
  pressure: number;
  /** Recipe units, by inlet index. */
  flows: ArrayLike<number>;
  /** K */
  jacketTemperature: number;
  /** bar */
  backPressure: number;
}

/** Writes the monitored values in `stepLimitTable` order into `out`. */
export function stepLimitValues(
  step: StepModel,
  state: StepSafetyState,
  out: Float64Array,
): Float64Array {
  out[0] = kelvinToCelsius(state.maxTemperature);
  out[1] = kelvinToCelsius(state.mtsr);
  out[2] = state.pressure;
  const k = step.inlets.length;
  for (let i = 0; i < k; i++) out[3 + i] = state.flows[i] ?? 0;
  out[3 + k] = kelvinToCelsius(state.jacketTemperature);
  out[4 + k] = state.backPressure;
  return out;
}

/** -1 below the band, +1 above, 0 inside. */
export function limitState(spec: LimitSpec, value: number): -1 | 0 | 1 {
  return value > spec.max ? 1 : value < spec.min ? -1 : 0;
}

export function violation(
  spec: LimitSpec,
  value: number,
  where: { step?: string; tank?: string },
): LimitViolation {
  const upper = value > spec.max;
  const limit = upper ? spec.max : spec.min;
  const name = where.step ?? where.tank ?? '';
  return {
    ...where,
    quantity: spec.quantity,
    value,
    limit,
    bound: upper ? 'upper' : 'lower',
    unit: spec.unit,
    message: `${name} ${spec.quantity} ${round(value)} ${spec.unit} is ${upper ? 'above' : 'below'} ${round(limit)} ${spec.unit}`,
  };
}

/**
 * Every engineering limit the step's state is past. The twin reports and never clips:
 * a setpoint outside its range is applied as asked and shows up here (clamping is the
 * safety shield's job, upstream of any device).
 */
export function stepLimitViolations(step: StepModel, state: StepSafetyState): LimitViolation[] {
  const table = stepLimitTable(step);
  const values = stepLimitValues(step, state, new Float64Array(table.length));
  return table.flatMap((spec, i) =>
    limitState(spec, values[i]!) === 0 ? [] : [violation(spec, values[i]!, { step: step.id })],
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
