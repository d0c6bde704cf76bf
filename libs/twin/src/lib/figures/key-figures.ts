import type { PlantModel, StepModel } from '@pipac/recipe';

/** The key figures of a step at steady state, or over a period of a dynamic run. */
export interface StepFigures {
  /** Fraction of the key reactant converted, 0..1. */
  conversion: number;
  /** Product made per key reactant converted (stoichiometry-corrected), 0..1. */
  selectivity: number;
  /** Product made per key reactant fed (stoichiometry-corrected), 0..1. */
  yield: number;
  /** Net product made, g/h. */
  productionRate: number;
  /** Net product made per reactor volume, kg/(L·h). */
  spaceTimeYield: number;
  /** Mass of everything fed that is not product, per mass of product. Infinity when nothing is made. */
  eFactor: number;
  /** Heat exchanged with the jacket, W; positive when the jacket heats. */
  heatDuty: number;
  /** Thermal power drawn, heating or cooling, W (|heatDuty| at steady state). */
  thermalPower: number;
}

/** Molar and mass flows through a step over some period (or at an instant), internal units. */
export interface StepFlows {
  /** mol/s (or mol) of the key reactant entering. */
  keyIn: number;
  keyOut: number;
  productIn: number;
  productOut: number;
  /** kg/s (or kg) of everything entering. */
  massIn: number;
  /** W (or J) exchanged with the jacket, signed: positive heats. */
  heatDuty: number;
  /** W (or J) drawn from the thermostat, heating or cooling. */
  thermalPower: number;
}

/**
 * The key figures of a step from its flows. Rates are per second when the flows are rates;
 * pass `seconds` to turn totals over a period into rates.
 */
export function stepFigures(
  model: PlantModel,
  step: StepModel,
  flows: StepFlows,
  seconds = 1,
): StepFigures {
  const conversion = flows.keyIn > 0 ? 1 - flows.keyOut / flows.keyIn : 0;
  const netProduct = flows.productOut - flows.productIn;
  const yieldFraction = flows.keyIn > 0 ? (netProduct * step.yieldFactor) / flows.keyIn : 0;
  const productMass = (netProduct * model.molarMass[step.productIndex]!) / 1000; // kg
  const productionRate = ((productMass * 1000) / seconds) * 3600; // g/h
  return {
    conversion,
    selectivity: conversion > 0 ? yieldFraction / conversion : 0,
    yield: yieldFraction,
    productionRate,
    spaceTimeYield: productionRate / 1000 / step.reactorVolume,
    eFactor: eFactor(flows.massIn, productMass),
    heatDuty: flows.heatDuty / seconds,
    thermalPower: flows.thermalPower / seconds,
  };
}

/** Waste per product, (mass in − product mass) / product mass; Infinity when nothing is made. */
export function eFactor(massIn: number, productMass: number): number {
  return productMass > 0
    ? Math.max(0, massIn - productMass) / productMass
    : Number.POSITIVE_INFINITY;
}
