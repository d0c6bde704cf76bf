import {
  analyserMeasureTag,
  currentValueTag,
  reactorSensorTags,
  tankLevelTag,
  reactorTag,
  targetValueTag,
} from '@pipac/contracts';
import type { PlantModel, StepModel } from '@pipac/recipe';

/**
 * Vendor profiles the cell speaks to. The information model of each follows OPC UA LADS
 * (OPC 30500): a device holds functional units, a functional unit holds functions, and a
 * control function has a TargetValue and a CurrentValue, a sensor function a SensorValue,
 * each an AnalogUnitRange item with its engineering range and unit. The analysers' results
 * carry the sample time as their source timestamp, as ADI (OPC 10020) does with its
 * measurement time.
 */
export type VendorProfile = 'de-dietrich-flow-reactor' | 'bruker-nmr' | 'bruker-ir' | 'generic';

export type FunctionalUnitKind =
  | 'dosing-pump'
  | 'thermostat'
  | 'back-pressure-regulator'
  | 'reactor'
  | 'surge-tank'
  | 'analyser'
  | 'generic';

/** Engineering range and unit of a value (OPC UA Part 8: EURange, EngineeringUnits). */
export interface EngineeringRange {
  low: number;
  high: number;
}

/** A LADS AnalogControlFunction: a writable target and the value the device achieves. */
export interface ControlFunction {
  kind: 'control';
  /** Browse name of the function, e.g. 'Flow'. */
  name: string;
  unit: string;
  range: EngineeringRange;
  /** Tag a setpoint command targets (the TargetValue), e.g. 'P-101'. */
  setpointTag: string;
  /** Tag of the TargetValue as a reading (what the device holds), e.g. 'P-101.SP'. */
  targetTag: string;
  /** Tag of the CurrentValue reading, e.g. 'P-101.PV'. */
  currentTag: string;
  /** The value the device starts with. */
  initial: number;
}

/** A LADS AnalogScalarSensorFunction: a measured value only. */
export interface SensorFunction {
  kind: 'sensor';
  name: string;
  unit: string;
  range: EngineeringRange;
  /** Tag of the SensorValue reading, e.g. 'AT-101.conversion'. */
  tag: string;
}

export type DeviceFunction = ControlFunction | SensorFunction;

export interface FunctionalUnitDescription {
  /** Browse name, the equipment tag where the plant has one (P-101, TC-101, AT-101). */
  name: string;
  kind: FunctionalUnitKind;
  functions: DeviceFunction[];
}

/** One device as its OPC UA server presents it (a LADS device with DI identification). */
export interface DeviceDescription {
  /** Device id: unique in the cell, a Kafka key and a topic-safe name. */
  id: string;
  /** The reaction step the device serves. */
  step: string;
  profile: VendorProfile;
  manufacturer: string;
  model: string;
  serialNumber: string;
  functionalUnits: FunctionalUnitDescription[];
}

const PROFILE_IDENTITY: Record<VendorProfile, { manufacturer: string; model: string }> = {
  'de-dietrich-flow-reactor': {
    manufacturer: 'De Dietrich Process Systems',
    model: 'flow reactor module (simulated)',
  },
  'bruker-nmr': { manufacturer: 'Bruker', model: 'benchtop NMR, inline (simulated)' },
  'bruker-ir': { manufacturer: 'Bruker', model: 'FT-IR, inline (simulated)' },
  generic: { manufacturer: 'pipac', model: 'generic device (simulated)' },
};

/** Temperature and pressure sensors: ranges of the instruments, not of the process. */
const TEMPERATURE_SENSOR: EngineeringRange = { low: -50, high: 250 };
const CONVERSION_RANGE: EngineeringRange = { low: 0, high: 1 };

/** Id of the flow-reactor module of a step. */
export function moduleDeviceId(step: string): string {
  return `${step}-module`;
}

// The names are part of the event contract (libs/contracts); re-exported for device code.
export {
  analyserMeasureTag,
  currentValueTag,
  reactorSensorTags,
  reactorTag,
  tankLevelTag,
  targetValueTag,
};

/** Every tag a device publishes as a reading, in browse order. */
export function readingTags(device: DeviceDescription): string[] {
  return device.functionalUnits.flatMap((unit) =>
    unit.functions.flatMap((f) => (f.kind === 'control' ? [f.targetTag, f.currentTag] : [f.tag])),
  );
}

/** Every control function of a device, by setpoint tag. */
export function controlFunctions(device: DeviceDescription): Map<string, ControlFunction> {
  const map = new Map<string, ControlFunction>();
  for (const unit of device.functionalUnits) {
    for (const f of unit.functions) if (f.kind === 'control') map.set(f.setpointTag, f);
  }
  return map;
}

function control(
  name: string,
  tag: string,
  unit: string,
  range: EngineeringRange,
  initial: number,
): ControlFunction {
  return {
    kind: 'control',
    name,
    unit,
    range,
    setpointTag: tag,
    targetTag: targetValueTag(tag),
    currentTag: currentValueTag(tag),
    initial,
  };
}

function flowReactorModule(model: PlantModel, step: StepModel): DeviceDescription {
  const pumps: FunctionalUnitDescription[] = step.inlets.map((inlet) => ({
    name: inlet.pump,
    kind: 'dosing-pump',
    functions: [
      // 0 stops the pump (the safe state, and a paused step); the recipe's minimum is the
      // lowest running flow, which the agents' ranges respect.
      control(
        'Flow',
        inlet.pump,
        inlet.gas ? 'NmL/min' : 'mL/min',
        { low: Math.min(0, inlet.min), high: inlet.max },
        inlet.nominal,
      ),
    ],
  }));
  const reactor = reactorTag(step.id);
  const sensors = reactorSensorTags(step.id);
  const maxPressure = step.maxPressure;
  // The surge tank the step fills, with its level transmitter (the coordinator balances on it).
  const tank = step.outletTank >= 0 ? model.tanks[step.outletTank] : undefined;
  const tankUnits: FunctionalUnitDescription[] = tank
    ? [
        {
          name: tank.id,
          kind: 'surge-tank',
          functions: [sensor('Level', tankLevelTag(tank.id), 'L', { low: 0, high: tank.capacity })],
        },
      ]
    : [];
  return {
    id: moduleDeviceId(step.id),
    step: step.id,
    profile: 'de-dietrich-flow-reactor',
    ...PROFILE_IDENTITY['de-dietrich-flow-reactor'],
    serialNumber: `SIM-${model.recipe.metadata.name}-${step.id}`,
    functionalUnits: [
      ...pumps,
      {
        name: step.thermostat.tag,
        kind: 'thermostat',
        functions: [
          control(
            'Temperature',
            step.thermostat.tag,
            '°C',
            { low: step.thermostat.min, high: step.thermostat.max },
            step.thermostat.nominal,
          ),
        ],
      },
      {
        name: step.backPressure.tag,
        kind: 'back-pressure-regulator',
        functions: [
          control(
            'Pressure',
            step.backPressure.tag,
            'bar',
            { low: step.backPressure.min, high: step.backPressure.max },
            step.backPressure.nominal,
          ),
        ],
      },
      {
        name: reactor,
        kind: 'reactor',
        functions: [
          sensor('HotSpotTemperature', sensors.hotSpot, '°C', TEMPERATURE_SENSOR),
          sensor('OutletTemperature', sensors.outlet, '°C', TEMPERATURE_SENSOR),
          sensor('InletPressure', sensors.inletPressure, 'bar', {
            low: 0,
            high: Math.ceil(2 * maxPressure),
          }),
        ],
      },
      ...tankUnits,
    ],
  };
}

function sensor(name: string, tag: string, unit: string, range: EngineeringRange): SensorFunction {
  return { kind: 'sensor', name, unit, range, tag };
}

function analyserDevice(model: PlantModel, step: StepModel): DeviceDescription | undefined {
  const spec = step.spec.analyser;
  if (!spec) return undefined;
  const profile: VendorProfile =
    spec.technique === 'nmr' ? 'bruker-nmr' : spec.technique === 'ir' ? 'bruker-ir' : 'generic';
  const functions = spec.measures.map((m): SensorFunction => {
    if (m.quantity === 'conversion') {
      return sensor('Conversion', analyserMeasureTag(spec.tag, m), '1', CONVERSION_RANGE);
    }
    const species = m.species ?? '';
    // The largest concentration the species can reach is bounded by the strongest feed.
    const ceiling = Math.max(...model.feeds.map((f) => Math.max(...f.concentrations)), 1);
    return sensor(`Concentration_${species}`, analyserMeasureTag(spec.tag, m), 'mol/L', {
      low: 0,
      high: Math.ceil(ceiling),
    });
  });
  return {
    id: spec.tag,
    step: step.id,
    profile,
    ...PROFILE_IDENTITY[profile],
    serialNumber: `SIM-${model.recipe.metadata.name}-${spec.tag}`,
    functionalUnits: [{ name: spec.tag, kind: 'analyser', functions }],
  };
}

/**
 * The devices of a plant as the recipe describes it: per reaction step a De Dietrich flow
 * reactor module (its dosing pumps, jacket thermostat, back-pressure regulator and reactor
 * sensors) and, where the step has one, a Bruker inline analyser. Works for any recipe.
 */
export function describePlantDevices(model: PlantModel): DeviceDescription[] {
  return model.steps.flatMap((step) => {
    const analyser = analyserDevice(model, step);
    return analyser ? [flowReactorModule(model, step), analyser] : [flowReactorModule(model, step)];
  });
}
