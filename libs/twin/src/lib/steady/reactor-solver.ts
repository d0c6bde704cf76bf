import { Matrix, solve } from 'ml-matrix';
import { compileRateKernel, type RateKernel } from '../kinetics/rate-kernel';
import { compilePlugFlowRhs, PFR, type PlugFlowRhs } from './plug-flow-rhs';
import type { StepModel } from '@pipac/recipe';
import { Dop853 } from '../numerics/dop853';
import { Rosenbrock } from '../numerics/rosenbrock';

/** What the steady-state reactor solvers return, internal units. */
export interface ReactorOutlet {
  concentrations: Float64Array;
  /** K */
  temperature: number;
  /** Hottest point, K. */
  maxTemperature: number;
  /** Worst T + ΔTad(local unconverted), K. */
  mtsr: number;
  /** W, positive when the jacket heats. */
  heatDuty: number;
}

export interface ReactorConditions {
  inlet: Float64Array;
  /** K */
  inletTemperature: number;
  /** K */
  jacketTemperature: number;
  /** L/s */
  flow: number;
  /** Catalyst activity × kinetic mismatch. */
  rateMultiplier: number;
  /** Heat transfer multiplier (fouling < 1). */
  heatTransferFactor: number;
  rtol: number;
  atol: number;
}

/**
 * Steady-state solutions of one step's reactor: ideal plug flow (coil, packed bed) by
 * integrating along the residence time, a stirred tank by pseudo-transient continuation
 * polished with Newton's method, and a chain of stirred cells (the dynamic model's
 * discretisation) by solving the cells in order. Holds its buffers for reuse.
 */
export class ReactorSolver {
  readonly kernel: RateKernel;
  /** The generated plug-flow right-hand side (see plug-flow-rhs.ts). */
  private readonly pfr: PlugFlowRhs;
  private readonly n: number;
  private readonly integrator: Dop853;
  private readonly cstrIntegrator: Rosenbrock;
  private readonly y: Float64Array;
  private readonly yc: Float64Array;
  private readonly cellInlet: Float64Array;

  constructor(
    private readonly step: StepModel,
    speciesCount: number,
  ) {
    this.n = speciesCount;
    this.kernel = compileRateKernel(step.reactions);
    this.pfr = compilePlugFlowRhs(step, speciesCount);
    // Concentrations and temperature under error control; the heat-duty integral rides along.
    this.integrator = new Dop853(speciesCount + 2, { errorComponents: speciesCount + 1 });
    this.cstrIntegrator = new Rosenbrock(speciesCount + 1);
    this.y = new Float64Array(speciesCount + 2);
    this.yc = new Float64Array(speciesCount + 1);
    this.cellInlet = new Float64Array(speciesCount);
  }

  /** Adiabatic temperature rise (K) of the synthesis reaction for a key-reactant concentration. */
  adiabaticRise(keyConcentration: number): number {
    return this.step.adiabaticRisePerKey * keyConcentration;
  }

  /** Ideal plug flow over the liquid hold-up. */
  plugFlow(conditions: ReactorConditions, out: ReactorOutlet): ReactorOutlet {
    const { n, y, step } = this;
    const rhoCp = step.volumetricHeatCapacity;
    const tau = conditions.flow > 0 ? step.liquidVolume / conditions.flow : 0;
    const parameters = this.pfr.parameters;
    parameters[PFR.multiplier] = conditions.rateMultiplier;
    parameters[PFR.exchange] =
      (step.heatTransfer * conditions.heatTransferFactor) / (rhoCp * step.liquidVolume);
    parameters[PFR.jacket] = conditions.jacketTemperature;
    y.set(conditions.inlet);
    y[n] = conditions.inletTemperature;
    y[n + 1] = 0;
    this.pfrMaxT = y[n]!;
    this.pfrMtsr = this.pfrMaxT + this.adiabaticRise(y[step.keyIndex]!);
    if (tau > 0)
      this.integrator.integrate(
        this.pfr.derivative,
        y,
        0,
        tau,
        conditions.rtol,
        conditions.atol,
        this.pfrTrack,
      );
    // An explicit step can carry a fully consumed species a few 1e-10 M below zero, where
    // its clamped rates then hold it; the true value is zero (to within atol).
    for (let i = 0; i < n; i++) out.concentrations[i] = Math.max(0, y[i]!);
    out.temperature = y[n]!;
    out.maxTemperature = this.pfrMaxT;
    out.mtsr = this.pfrMtsr;
    out.heatDuty =
      tau > 0 ? (step.heatTransfer * conditions.heatTransferFactor * y[n + 1]!) / tau : 0;
    return out;
  }

  // Plug-flow step tracker: created once per solver, with the call's state in fields.
  private pfrMaxT = 0;
  private pfrMtsr = 0;

  private readonly pfrTrack = (_t: number, s: Float64Array): void => {
    const temperature = s[this.n]!;
    if (temperature > this.pfrMaxT) this.pfrMaxT = temperature;
    const potential = temperature + this.adiabaticRise(Math.max(0, s[this.step.keyIndex]!));
    if (potential > this.pfrMtsr) this.pfrMtsr = potential;
  };

  /** A chain of `cells` equal stirred tanks; one cell is the ideal CSTR. */
  stirredCells(conditions: ReactorConditions, cells: number, out: ReactorOutlet): ReactorOutlet {
    const { n, step } = this;
    const cellVolume = step.liquidVolume / cells;
    this.cellInlet.set(conditions.inlet);
    let inletTemperature = conditions.inletTemperature;
    // Over the cells only, as the dynamic model's sweep defines them.
    let maxT = Number.NEGATIVE_INFINITY;
    let mtsr = Number.NEGATIVE_INFINITY;
    let duty = 0;
    for (let cell = 0; cell < cells; cell++) {
      const temperature = this.stirredCell(
        conditions,
        this.cellInlet,
        inletTemperature,
        cellVolume,
      );
      const c = this.yc;
      this.cellInlet.set(c.subarray(0, n));
      inletTemperature = temperature;
      maxT = Math.max(maxT, temperature);
      mtsr = Math.max(mtsr, temperature + this.adiabaticRise(Math.max(0, c[step.keyIndex]!)));
      duty +=
        (step.heatTransfer *
          conditions.heatTransferFactor *
          (conditions.jacketTemperature - temperature)) /
        cells;
    }
    out.concentrations.set(this.cellInlet);
    out.temperature = inletTemperature;
    out.maxTemperature = maxT;
    out.mtsr = mtsr;
    out.heatDuty = duty;
    return out;
  }

  /**
   * Steady state of one stirred cell into this.yc; returns its temperature.
   * Pseudo-transient continuation from the inlet state (the start-up the plant would see,
   * so of several steady states the reachable one is found), then Newton polishing.
   */
  private stirredCell(
    conditions: ReactorConditions,
    inlet: Float64Array,
    inletTemperature: number,
    volume: number,
  ): number {
    const { n, step, kernel, yc } = this;
    const q = conditions.flow;
    const rhoCp = step.volumetricHeatCapacity;
    const uaPerVolume =
      (step.heatTransfer * conditions.heatTransferFactor) / step.liquidVolume / rhoCp;
    const tj = conditions.jacketTemperature;
    const mult = conditions.rateMultiplier;
    const dilution = q > 0 ? q / volume : 0;
    const residual = (_t: number, s: Float64Array, ds: Float64Array) => {
      const temperature = s[n]!;
      for (let i = 0; i < n; i++) ds[i] = dilution * (inlet[i]! - s[i]!);
      kernel.apply(s, 0, temperature, mult, ds, 0, 1);
      const heat = kernel.result[0]!;
      ds[n] =
        dilution * (inletTemperature - temperature) +
        heat / rhoCp +
        uaPerVolume * (tj - temperature);
    };
    const m = n + 1;
    const jacobian = (_t: number, s: Float64Array, dfdy: Float64Array) => {
      dfdy.fill(0);
      kernel.jacobian(s, 0, s[n]!, mult, dfdy, m, n);
      for (let l = 0; l < m; l++) dfdy[n * m + l]! /= rhoCp;
      for (let i = 0; i < n; i++) dfdy[i * m + i]! -= dilution;
      dfdy[n * m + n]! -= dilution + uaPerVolume;
    };
    yc.set(inlet);
    yc[n] = inletTemperature;
    // Pseudo-transient continuation: the start-up transient decays over a few residence
    // times, reaction modes faster; 40 τ leaves e^-40 of it. The march is stiff where
    // reactions are fast against the flow, so the L-stable Rosenbrock method is used (it
    // needed 5-28× fewer evaluations than DOPRI5 here).
    const horizon = dilution > 0 ? 40 / dilution : 3600 * 24;
    this.cstrIntegrator.integrate(
      residual,
      jacobian,
      yc,
      0,
      horizon,
      conditions.rtol * 1e-2,
      conditions.atol * 1e-2,
    );
    this.newtonPolish(residual, jacobian, yc, conditions.atol);
    return yc[n] ?? Number.NaN;
  }

  /** A few Newton iterations on residual(y) = 0 with a forward-difference Jacobian. */
  private newtonPolish(
    residual: (t: number, s: Float64Array, ds: Float64Array) => void,
    jacobian: (t: number, s: Float64Array, dfdy: Float64Array) => void,
    y: Float64Array,
    atol: number,
  ): void {
    const m = y.length;
    const f = new Float64Array(m);
    const dfdy = new Float64Array(m * m);
    const trial = new Float64Array(m);
    const norm = (v: Float64Array) => v.reduce((worst, x) => Math.max(worst, Math.abs(x)), 0);
    residual(0, y, f);
    let current = norm(f);
    for (let iteration = 0; iteration < 4 && current >= atol * 1e-3; iteration++) {
      jacobian(0, y, dfdy);
      const J = new Matrix(m, m);
      for (let i = 0; i < m; i++) for (let l = 0; l < m; l++) J.set(i, l, dfdy[i * m + l]!);
      const delta = solve(J, Matrix.columnVector(Array.from(f, (v) => -v)));
      for (let i = 0; i < m; i++) {
        const next = y[i]! + delta.get(i, 0);
        trial[i] = i < m - 1 ? Math.max(0, next) : next;
      }
      // Only an improvement is kept: the march has already brought y close.
      residual(0, trial, f);
      const next = norm(f);
      if (!(next < current)) return;
      y.set(trial);
      current = next;
    }
  }
}
