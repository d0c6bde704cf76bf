import { eFactor, stepFigures, type StepFigures } from '../figures/key-figures';
import { kelvinToCelsius } from '@pipac/recipe';
import type { PlantFigures } from '../steady/steady-state.types';
import type { Plant } from './plant';

/**
 * The plant's measurable state at one instant as flat named columns, for CSV/JSON traces
 * and plots: per step the true outlet conversion, hottest temperature, jacket temperature,
 * inlet pressure, catalyst activity, each pump's delivered flow, each analyser value (NaN
 * until its first result); per tank the level.
 */
export function samplePlant(plant: Plant): Record<string, number> {
  const row: Record<string, number> = { t: plant.time };
  for (const unit of plant.units) {
    const id = unit.step.id;
    row[`${id}.conversion`] = unit.conversion();
    row[`${id}.product`] = unit.outlet()[unit.step.productIndex]!;
    row[`${id}.temperature_max`] = kelvinToCelsius(unit.maxTemperature);
    row[`${id}.jacket`] = kelvinToCelsius(unit.jacketTemperature);
    row[`${id}.pressure`] = unit.pressure;
    row[`${id}.activity`] = unit.activity;
    unit.step.inlets.forEach((inlet, k) => {
      row[`${id}.${inlet.pump}`] = unit.flow[k]! * unit.supply[k]!;
    });
    const analyser = unit.analyser;
    if (analyser) {
      analyser.quantities.forEach((quantity, m) => {
        row[`${id}.${analyser.tag}.${quantity}`] = analyser.latest[m]!;
      });
    }
  }
  for (const tank of plant.model.tanks) row[`${tank.id}.level`] = plant.tank(tank.id).level;
  return row;
}

export interface RunSummary {
  /** s */
  duration: number;
  steps: (StepFigures & { step: string; inSpecFraction: number })[];
  plant: PlantFigures & {
    /**
     * g of the plant product collected, and of it made in spec at every step: product made
     * from off-spec intermediate is not in spec (see StepTotals.productGood).
     */
    productCollected: number;
    productInSpec: number;
    /** Mass balance error over all species, g (should be round-off). */
    massBalanceError: number;
  };
}

/**
 * Key figures over the run so far, from the plant's running totals. They are window
 * figures: overall yield is product collected ÷ key reactant fed in the same window, so
 * while inventories change (start-up, tanks filling or draining) it differs from the
 * steady-state yield. The mass balance accounts for the change in holdup since t = 0.
 */
export function summariseRun(
  plant: Plant,
  initialHoldup: Float64Array = plant.initialHoldup,
): RunSummary {
  const model = plant.model;
  const seconds = Math.max(plant.time, plant.dt);
  const steps = plant.units.map((unit) => {
    const totals = unit.totals;
    const figures = stepFigures(
      model,
      unit.step,
      {
        keyIn: totals.keyIn,
        keyOut: totals.keyOut,
        productIn: totals.productIn,
        productOut: totals.productOut,
        massIn: totals.massIn,
        heatDuty: totals.heatDuty,
        thermalPower: totals.thermalEnergy,
      },
      seconds,
    );
    const made = totals.productInSpec + totals.productOffSpec;
    return {
      step: unit.step.id,
      ...figures,
      inSpecFraction: made > 0 ? totals.productInSpec / made : 0,
    };
  });
  const p = model.productIndex;
  const molarMass = model.molarMass[p]!;
  const collected = plant.speciesCollected[p]! * molarMass;
  const last = plant.units.filter((u) => u.step.outletTank < 0);
  const inSpec = last.reduce((sum, u) => sum + u.totals.productGood, 0) * molarMass;
  const firstKey = plant.units[0]?.totals.keyIn ?? 0;
  const totalVolume = model.steps.reduce((sum, s) => sum + s.reactorVolume, 0);
  const productionRate = (collected / seconds) * 3600;
  const holdup = plant.holdup();
  let massBalanceError = 0;
  for (let i = 0; i < model.speciesIds.length; i++) {
    massBalanceError +=
      model.molarMass[i]! *
      (plant.speciesFed[i]! +
        initialHoldup[i]! -
        plant.speciesCollected[i]! -
        plant.speciesSpilled[i]! -
        holdup[i]!);
  }
  return {
    duration: plant.time,
    steps,
    plant: {
      overallYield: firstKey > 0 ? plant.speciesCollected[p]! / firstKey : 0,
      productionRate,
      spaceTimeYield: productionRate / 1000 / totalVolume,
      eFactor: eFactor(plant.freshMass, collected / 1000),
      thermalPower: plant.units.reduce((sum, u) => sum + u.totals.thermalEnergy, 0) / seconds,
      productCollected: collected,
      productInSpec: inSpec,
      massBalanceError,
    },
  };
}
