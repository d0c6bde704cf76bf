import { kelvinToCelsius } from '@pipac/recipe';
import type { Plant } from '@pipac/twin';
import { ControlError } from '../control.error';

/** The latest result of a step's inline analyser. */
export interface AnalyserReading {
  /** By quantity: 'conversion' (0..1) and 'concentration:<species>' (mol/L). */
  values: Readonly<Record<string, number>>;
  /** s: when the sample was drawn (the result is older than its arrival). */
  sampledAt: number;
  /** 'bad' while the analyser is out of service: the values are the last good ones. */
  quality: 'good' | 'bad';
}

/**
 * What a step controller reads each control cycle: the step as its sensors report it, never
 * the twin's hidden state. The step-agent service builds it from sensor events, training and
 * evaluation from the twin (`readStep`); both feed the same controllers.
 */
export interface StepReadings {
  /** s */
  time: number;
  /** The applied setpoints (devices' read-back), by tag, recipe units. */
  setpoints: Readonly<Record<string, number>>;
  /** Undefined before the analyser's first result. */
  analyser: AnalyserReading | undefined;
  /** Hottest reactor temperature, °C. */
  maxTemperature: number;
  /** Reactor inlet pressure, bar(g). */
  pressure: number;
  /** Key-reactant feed the coordinator asks of the step, as a fraction of nominal. */
  throughputTarget: number;
}

/** The readings of step `index` of a twin, as the plant's sensors would report them. */
export function readStep(plant: Plant, index: number, throughputTarget = 1): StepReadings {
  const unit = plant.units[index];
  if (!unit) throw new ControlError('UNKNOWN_STEP', `the plant has no step ${index}`);
  const setpoints: Record<string, number> = {};
  for (const inlet of unit.step.inlets) setpoints[inlet.pump] = plant.getSetpoint(inlet.pump);
  setpoints[unit.step.thermostat.tag] = plant.getSetpoint(unit.step.thermostat.tag);
  setpoints[unit.step.backPressure.tag] = plant.getSetpoint(unit.step.backPressure.tag);
  const analyser = unit.analyser;
  let reading: AnalyserReading | undefined;
  if (analyser && !Number.isNaN(analyser.latestSampledAt)) {
    const values: Record<string, number> = {};
    analyser.quantities.forEach((quantity, m) => (values[quantity] = analyser.latest[m]!));
    reading = {
      values,
      sampledAt: analyser.latestSampledAt,
      quality: analyser.fault ? 'bad' : 'good',
    };
  }
  return {
    time: plant.time,
    setpoints,
    analyser: reading,
    maxTemperature: kelvinToCelsius(unit.maxTemperature),
    pressure: unit.pressure,
    throughputTarget,
  };
}
