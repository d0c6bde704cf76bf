import { compileCellSweep, SWEEP, type CellSweep } from './cell-sweep';
import { SimulationError } from './simulation.error';
import { pressureDropCoefficient } from '../model/hydraulics';
import { type PlantModel, type StepModel, celsiusToKelvin } from '@pipac/recipe';
import { createMixedInlet, mixInlets, type MixedInlet } from '../steady/inlet-mixer';
import { Analyser } from './analyser';
import type { SeededRandom } from '../random/seeded-random';

/** Running totals of a step since the start of the run (mol, kg, J). */
export interface StepTotals {
  keyIn: number;
  keyOut: number;
  productIn: number;
  productOut: number;
  /** Product delivered while the step's true conversion was at or above its minimum. */
  productInSpec: number;
  productOffSpec: number;
  /**
   * Product delivered while this step was in spec and made from in-spec intermediate: the
   * step's in-spec product times the in-spec fraction of what it drew from its surge tanks
   * (see `inletInSpecFraction`). Off-spec intermediate is not good product downstream.
   */
  productGood: number;
  massIn: number;
  heatDuty: number;
  thermalEnergy: number;
}

/** Largest explicit reaction substep as a fraction of the fastest consumption time. */
const SUBSTEP_SAFETY = 0.4;
const MAX_SUBSTEPS = 2000;

/**
 * The dynamic model of one reaction step: pumps with first-order response, a thermostat
 * with first-order lag, the reactor as a chain of stirred cells (tanks in series, whose
 * residence-time distribution stands for axial dispersion), catalyst decay, pressure and
 * the inline analyser.
 *
 * Integration: each cell's transport and heat-exchange terms are taken implicitly, so a
 * forward sweep through the cells solves them exactly for the step and any dt is stable;
 * reaction terms are explicit, with substeps kept below 0.4 of the fastest consumption
 * time. The scheme's fixed point is exactly the cell model's steady state, and it
 * conserves every linear invariant (mass) to round-off.
 */
export class StepUnit {
  /** The generated cell sweep of this step (see cell-sweep.ts). */
  private readonly sweep: CellSweep;
  private readonly sweepStats = new Float64Array(5);
  readonly cells: number;
  /** Species per cell, plus the key-reactant tracer at index `tracer`. */
  readonly stride: number;
  readonly tracer: number;
  /** Cell concentrations, cells × stride, mol/L. */
  readonly c: Float64Array;
  /** Cell temperatures, K. */
  readonly temperature: Float64Array;
  /** Pump setpoints and actual flows, recipe units. */
  readonly flowSetpoint: Float64Array;
  readonly flow: Float64Array;
  /** Actual / setpoint of each pump (calibration error). */
  readonly pumpFactor: Float64Array;
  /** Fraction of the demanded flow the source can deliver this step (feed empty, tank empty). */
  readonly supply: Float64Array;
  jacketSetpoint: number;
  jacketTemperature: number;
  backPressure: number;
  activity: number;
  /** Extra first-order activity loss, 1/s (deactivation disturbance). */
  extraDecay = 0;
  rateMultiplier = 1;
  heatTransferFactor = 1;
  pressureDropFactor = 1;
  readonly inlet: MixedInlet;
  /** Integral of the outlet concentrations over the last plant step, mol·s/L. */
  readonly outletIntegral: Float64Array;
  readonly analyser: Analyser | undefined;
  readonly totals: StepTotals = {
    keyIn: 0,
    keyOut: 0,
    productIn: 0,
    productOut: 0,
    productInSpec: 0,
    productOffSpec: 0,
    productGood: 0,
    massIn: 0,
    heatDuty: 0,
    thermalEnergy: 0,
  };
  /** Hottest cell and worst MTSR of the last step, K; inlet pressure, bar. */
  maxTemperature = 0;
  mtsr = 0;
  pressure = 0;
  /**
   * In-spec fraction of the intermediate this step drew from surge tanks in the last plant
   * step (1 when it draws only fresh feeds), set by the plant. The reactor holds minutes of
   * flow and a tank hours, so the outflow of a plant step is judged by what was drawn in the
   * same step rather than tracked through the cells.
   */
  inletInSpecFraction = 1;
  /** Good (in spec throughout) fraction of the last plant step's outflow, for the tank it fills. */
  outletInSpecFraction = 1;
  /** Reaction substeps used in the last plant step. */
  substeps = 1;
  /** Times a concentration had to be floored at zero (should stay 0 with the substep rule). */
  positivityFloors = 0;
  private consumptionFrequency = 0;
  private readonly pumpAlpha: Float64Array;
  private readonly thermostatAlpha: number;
  /** Inlet concentrations plus tracer for the current plant step. */
  private readonly upstream: Float64Array;
  /** Species indices that can be non-zero in this step, then the tracer. */
  private readonly active: Int32Array;
  private readonly adiabaticPerKey: number;
  /** bar per L/s */
  private readonly pressureDropPerFlow: number;

  constructor(
    private readonly model: PlantModel,
    readonly step: StepModel,
    /** The unit's integration step, s: the plant's, or a multiple for a coarse upstream step. */
    readonly dt: number,
    random: SeededRandom,
  ) {
    const n = model.speciesIds.length;
    this.cells = step.cells;
    this.stride = n + 1;
    this.tracer = n;
    this.c = new Float64Array(this.cells * this.stride);
    this.temperature = new Float64Array(this.cells);
    const k = step.inlets.length;
    this.flowSetpoint = Float64Array.from(step.inlets, (i) => i.nominal);
    this.flow = Float64Array.from(step.inlets, (i) => i.nominal);
    this.pumpFactor = new Float64Array(k).fill(1);
    this.supply = new Float64Array(k).fill(1);
    this.pumpAlpha = Float64Array.from(step.inlets, (i) =>
      i.timeConstant > 0 ? 1 - Math.exp(-dt / i.timeConstant) : 1,
    );
    this.thermostatAlpha =
      step.thermostat.timeConstant > 0 ? 1 - Math.exp(-dt / step.thermostat.timeConstant) : 1;
    this.jacketSetpoint = celsiusToKelvin(step.thermostat.nominal);
    this.jacketTemperature = this.jacketSetpoint;
    this.temperature.fill(this.jacketSetpoint);
    this.backPressure = step.backPressure.nominal;
    // Before the first step: a reactor full of solvent at the jacket temperature.
    this.maxTemperature = this.jacketSetpoint;
    this.mtsr = this.jacketSetpoint;
    this.pressure = this.backPressure;
    this.activity = step.catalyst?.initialActivity ?? 1;
    this.inlet = createMixedInlet(n);
    this.pressureDropPerFlow = pressureDropCoefficient(step);
    this.outletIntegral = new Float64Array(this.stride);
    this.upstream = new Float64Array(this.stride);
    this.active = Int32Array.from([...step.activeSpecies, this.tracer]);
    this.analyser = step.spec.analyser
      ? new Analyser(model, step, random.fork(`analyser:${step.id}`))
      : undefined;
    this.adiabaticPerKey = step.adiabaticRisePerKey;
    this.sweep = compileCellSweep(step, this.stride, this.cells, this.active, this.adiabaticPerKey);
  }

  resetTotals(): void {
    const totals = this.totals as unknown as Record<string, number>;
    for (const key of Object.keys(totals)) totals[key] = 0;
  }

  /** Pumps and thermostat move toward their setpoints over one plant step. */
  updateActuators(): void {
    for (let k = 0; k < this.flow.length; k++) {
      const target = Math.max(0, this.flowSetpoint[k]! * this.pumpFactor[k]!);
      const flow = this.flow[k]! + (target - this.flow[k]!) * this.pumpAlpha[k]!;
      // A first-order lag never arrives: snap once within round-off, so a stopped pump
      // delivers exactly zero rather than a subnormal trickle.
      this.flow[k] = Math.abs(target - flow) <= 1e-12 * Math.max(1, target) ? target : flow;
    }
    this.jacketTemperature += (this.jacketSetpoint - this.jacketTemperature) * this.thermostatAlpha;
  }

  /** Actual flows after supply limits, recipe units, into `out`. */
  deliveredFlows(out: Float64Array): Float64Array {
    for (let k = 0; k < this.flow.length; k++) out[k] = this.flow[k]! * this.supply[k]!;
    return out;
  }

  /**
   * Advances the reactor by one plant step with the given delivered flows and source
   * compositions. Leaves the outflow composition integral in `outletIntegral`.
   */
  advance(
    delivered: Float64Array,
    feedConcentrations: ArrayLike<Float64Array>,
    tankConcentrations: ArrayLike<Float64Array | undefined>,
    feedTemperatures?: ArrayLike<number>,
  ): void {
    const inlet = mixInlets(
      this.model,
      this.step,
      delivered,
      feedConcentrations,
      tankConcentrations,
      this.inlet,
      feedTemperatures,
    );
    const duty = this.react(inlet);
    this.pressure =
      this.backPressure + inlet.flow * this.pressureDropPerFlow * this.pressureDropFactor;
    this.decayCatalyst();
    this.addToTotals(inlet, duty);
    this.checkFinite(inlet.flow);
  }

  /**
   * Sweeps the cells over one plant step in reaction substeps, integrating the outflow
   * composition into `outletIntegral` and keeping the hottest cell, the worst MTSR and the
   * fastest consumption (which sizes the next step's substeps). Returns the heat exchanged
   * with the jacket over the step, J.
   */
  private react(inlet: MixedInlet): number {
    const { step, c, temperature, upstream, outletIntegral, sweepStats, active } = this;
    const cellVolume = step.liquidVolume / this.cells;
    const dilution = inlet.flow / cellVolume;
    const rhoCp = step.volumetricHeatCapacity;
    const exchange = (step.heatTransfer * this.heatTransferFactor) / (rhoCp * step.liquidVolume);
    const tj = this.jacketTemperature;
    const multiplier = this.activity * this.rateMultiplier;
    const substeps = this.substepCount();
    const h = this.dt / substeps;
    this.substeps = substeps;
    outletIntegral.fill(0);
    let frequency = 0;
    let maxT = 0;
    let mtsr = 0;
    let jacketDifference = 0;
    let floors = 0;
    const last = (this.cells - 1) * this.stride;
    const transport = h * dilution;
    // Hoisted terms of c ← (c + h·Σν r + h·D·c_up)/(1 + h·D) and
    // T ← (T + h·D·T_up + h·q/(ρc_p) + h·X·T_j)/(1 + h·D + h·X).
    const denominator = 1 / (1 + transport);
    const heatScale = h / rhoCp;
    const exchangeIn = h * exchange * tj;
    const temperatureDenominator = 1 / (1 + transport + h * exchange);
    upstream.set(inlet.concentrations);
    upstream[this.tracer] = inlet.concentrations[step.keyIndex]!;
    for (let s = 0; s < substeps; s++) {
      this.sweep(
        c,
        temperature,
        upstream,
        inlet.temperature,
        h,
        transport,
        denominator,
        heatScale,
        exchangeIn,
        temperatureDenominator,
        tj,
        multiplier,
        sweepStats,
      );
      if (sweepStats[SWEEP.frequency]! > frequency) frequency = sweepStats[SWEEP.frequency]!;
      if (sweepStats[SWEEP.maxTemperature]! > maxT) maxT = sweepStats[SWEEP.maxTemperature]!;
      if (sweepStats[SWEEP.mtsr]! > mtsr) mtsr = sweepStats[SWEEP.mtsr]!;
      jacketDifference += sweepStats[SWEEP.jacketDifference]!;
      floors += sweepStats[SWEEP.floors]!;
      for (let a = 0; a < active.length; a++) {
        const i = active[a]!;
        outletIntegral[i]! += h * c[last + i]!;
      }
    }
    this.positivityFloors += floors;
    this.consumptionFrequency = frequency;
    this.maxTemperature = maxT;
    this.mtsr = mtsr;
    return exchange * rhoCp * cellVolume * h * jacketDifference;
  }

  /** Reaction substeps for this plant step, each below SUBSTEP_SAFETY of the last step's fastest consumption time. */
  private substepCount(): number {
    const substeps = Math.ceil((this.dt * this.consumptionFrequency) / SUBSTEP_SAFETY);
    return Math.min(MAX_SUBSTEPS, Math.max(1, substeps));
  }

  /**
   * Catalyst decay, da/dt = −(k_d(T)·a^(order−1) + extra)·a, exact for first order; k_d is 0
   * in cells at or below the catalyst's onset temperature.
   */
  private decayCatalyst(): void {
    const { step, temperature, dt } = this;
    const catalyst = step.catalyst;
    if (catalyst && (catalyst.kdRef > 0 || this.extraDecay > 0)) {
      // k_d averaged over the cells (the hot spot ages the bed faster than the mean T would).
      let kd = 0;
      for (let cell = 0; cell < this.cells; cell++) {
        const t = temperature[cell]!;
        if (t <= catalyst.onsetTemperature) continue;
        kd += catalyst.kdRef * Math.exp(-catalyst.edOverR * (1 / t - 1 / catalyst.tRef));
      }
      kd /= this.cells;
      const rate = kd * Math.pow(this.activity, catalyst.order - 1) + this.extraDecay;
      this.activity *= Math.exp(-rate * dt);
    } else if (this.extraDecay > 0) {
      this.activity *= Math.exp(-this.extraDecay * dt);
    }
  }

  /** Totals: what entered and what left over this plant step; `duty` is the jacket's heat, J. */
  private addToTotals(inlet: MixedInlet, duty: number): void {
    const { step, c, outletIntegral, totals, dt } = this;
    const q = inlet.flow;
    const last = (this.cells - 1) * this.stride;
    const keyOut = q * outletIntegral[step.keyIndex]!;
    const productOut = q * outletIntegral[step.productIndex]!;
    totals.keyIn += q * inlet.concentrations[step.keyIndex]! * dt;
    totals.keyOut += keyOut;
    totals.productIn += q * inlet.concentrations[step.productIndex]! * dt;
    totals.productOut += productOut;
    const unreacted = c[last + this.tracer]!;
    const conversion = unreacted > 0 ? 1 - c[last + step.keyIndex]! / unreacted : 0;
    const inSpec = conversion >= step.minConversion;
    if (inSpec) totals.productInSpec += productOut;
    else totals.productOffSpec += productOut;
    this.outletInSpecFraction = inSpec ? this.inletInSpecFraction : 0;
    totals.productGood += productOut * this.outletInSpecFraction;
    totals.massIn += inlet.massFlow * dt;
    totals.heatDuty += duty;
    totals.thermalEnergy += Math.abs(duty);
  }

  /** Stops the run once the hottest cell or the outflow of this plant step is not a finite number. */
  private checkFinite(q: number): void {
    const keyOut = q * this.outletIntegral[this.step.keyIndex]!;
    const productOut = q * this.outletIntegral[this.step.productIndex]!;
    const maxT = this.maxTemperature;
    if (!Number.isFinite(maxT) || !Number.isFinite(keyOut) || !Number.isFinite(productOut)) {
      throw new SimulationError(
        'NOT_FINITE',
        `step ${this.step.id}: the reactor state is no longer finite (hottest cell ${maxT} K); check its setpoints`,
      );
    }
  }

  /** The outlet concentrations (species then tracer), a view into the last cell. */
  outlet(): Float64Array {
    const off = (this.cells - 1) * this.stride;
    return this.c.subarray(off, off + this.stride);
  }

  /** True conversion of the key reactant at the outlet right now. */
  conversion(): number {
    const outlet = this.outlet();
    const unreacted = outlet[this.tracer]!;
    return unreacted > 0 ? 1 - outlet[this.step.keyIndex]! / unreacted : 0;
  }
}
