import type { StepFigures } from '../figures/key-figures';
import type { LimitViolation } from '../safety/limits';

/** Operating conditions of one step, in recipe units. */
export interface StepConditions {
  /** Pump (or mass-flow controller) tag → flow, mL/min (liquid) or NmL/min (gas). @default each pump's nominal */
  flows?: Record<string, number>;
  /** Jacket temperature, °C. At steady state the jacket sits at its setpoint. @default the thermostat's nominal */
  jacketTemperature?: number;
  /** Back-pressure regulator setpoint, bar. @default nominal */
  backPressure?: number;
  /** For inlets that draw from a surge tank: tank id → concentrations in it, mol/L. @default none (solvent only) */
  tankCompositions?: Record<string, Record<string, number>>;
  /** Feed id → concentrations in it now, mol/L (a drifted stock). @default the recipe's */
  feedConcentrations?: Record<string, Record<string, number>>;
  /** Feed id → its temperature as it enters, °C (a pre-heated or chilled feed). @default the recipe's */
  feedTemperatures?: Record<string, number>;
  /** Packed bed catalyst activity, 0..1. @default the recipe's initial activity */
  catalystActivity?: number;
  /** Multiplies every rate constant of the step (kinetic mismatch, for robustness studies). @default 1 */
  rateMultiplier?: number;
  /** Multiplies the heat transfer coefficient (fouling). @default 1 */
  heatTransferFactor?: number;
}

export interface StepSafety {
  /** Adiabatic temperature rise of the synthesis reaction at the inlet composition, K. */
  adiabaticTemperatureRise: number;
  /** Hottest point in the reactor, °C. */
  maxTemperature: number;
  /** Maximum temperature of the synthesis reaction (Stoessel): T + ΔTad × unconverted fraction, worst point, °C. */
  mtsr: number;
  /** Reactor inlet pressure: back-pressure plus pressure drop, bar. */
  pressure: number;
  /** Pressure drop over the reactor, bar. */
  pressureDrop: number;
}

export interface StepSteadyState {
  step: string;
  /** Outlet flow, mL/min. */
  outletFlow: number;
  /** Mixed inlet concentrations, mol/L (gas species as if dissolved). */
  inlet: Record<string, number>;
  /** Outlet concentrations, mol/L. */
  outlet: Record<string, number>;
  /** Outlet temperature, °C. */
  outletTemperature: number;
  /** Mean residence time of the liquid, s. */
  residenceTime: number;
  figures: StepFigures;
  safety: StepSafety;
  violations: LimitViolation[];
}

export interface PlantConditions {
  /** Step id → its conditions. Missing steps run at nominal. */
  steps?: Record<string, StepConditions>;
}

export interface PlantFigures {
  /** Moles of the plant product made per mole of the first step's key reactant fed. */
  overallYield: number;
  /** g/h of the plant product. */
  productionRate: number;
  /** kg/(L·h) over all reactor volume. */
  spaceTimeYield: number;
  /** (fresh feed mass − product mass) / product mass. */
  eFactor: number;
  /** W, heating plus cooling over all steps. */
  thermalPower: number;
}

export interface PlantSteadyState {
  steps: StepSteadyState[];
  /** Tank id → net inflow, L/h (positive: filling). At true steady state all are zero. */
  tankNetInflow: Record<string, number>;
  figures: PlantFigures;
  violations: LimitViolation[];
}

export interface SolverOptions {
  /** Relative tolerance of the ODE solution. @default 1e-6 */
  rtol?: number;
  /** Absolute tolerance, mol/L (and K). @default 1e-10 */
  atol?: number;
  /**
   * 'ideal': the ideal plug-flow (or single CSTR) design equation.
   * 'cells': the tanks-in-series model the dynamic plant uses, for comparing with dynamic runs.
   * @default 'ideal'
   */
  model?: 'ideal' | 'cells';
}
