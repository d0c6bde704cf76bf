import { Matrix, solve } from 'ml-matrix';
import { compileRateKernel, type RateKernel } from '../kinetics/rate-kernel';
import { compilePlugFlowRhs, PFR, type PlugFlowRhs } from './plug-flow-rhs';
import type { StepModel } from '@pipac/recipe';
import { Dop853 } from '../numerics/dop853';
import { Rosenbrock } from '../numerics/rosenbrock';
import { CellNewton, NEWTON_ITERATIONS } from './cell-newton';
import { CellEquations } from './stirred-cell';

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

/** How a chain of stirred cells is solved: today's default, or the time march alone (the reference). */
export interface CellSolverOptions {
  /** 'newton' (default): Newton per cell, the time march where it fails; 'march': the time march only. */
  method?: 'newton' | 'march';
  /** Newton iterations per cell before falling back. @default NEWTON_ITERATIONS */
  newtonIterations?: number;
}

/**
 * Steady-state solutions of one step's reactor: ideal plug flow (coil, packed bed) by
 * integrating along the residence time, a stirred tank by pseudo-transient continuation
 * polished with Newton's method (tried after Newton alone), and a chain of stirred cells (the dynamic model's
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
  private readonly equations: CellEquations;
  /** Undefined when only the time march is wanted. */
  private readonly newton: CellNewton | undefined;
  /** Cells Newton left to the time march, since construction (for tests and benchmarks). */
  fallbacks = 0;

  constructor(
    private readonly step: StepModel,
    speciesCount: number,
    cellSolver: CellSolverOptions = {},
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
    this.equations = new CellEquations(this.kernel, speciesCount, step.volumetricHeatCapacity);
    this.newton =
      cellSolver.method === 'march'
        ? undefined
        : new CellNewton(
            this.equations,
            step.activeSpecies,
            speciesCount,
            cellSolver.newtonIterations ?? NEWTON_ITERATIONS,
          );
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
   * Newton's method from the inlet state (the upstream cell's, close to this one's in a
   * chain) first; where it does not converge to a stable state, the time march below.
   */
  private stirredCell(
    conditions: ReactorConditions,
    inlet: Float64Array,
    inletTemperature: number,
    volume: number,
  ): number {
    const { n, step, yc, equations } = this;
    const q = conditions.flow;
    equations.set({
      inlet,
      inletTemperature,
      dilution: q > 0 ? q / volume : 0,
      uaPerVolume:
        (step.heatTransfer * conditions.heatTransferFactor) /
        step.liquidVolume /
        step.volumetricHeatCapacity,
      jacketTemperature: conditions.jacketTemperature,
      multiplier: conditions.rateMultiplier,
    });
    yc.set(inlet);
    yc[n] = inletTemperature;
    if (this.newton && this.newton.solve(yc, conditions.rtol, conditions.atol))
      return yc[n] ?? Number.NaN;
    if (this.newton) this.fallbacks++;
    yc.set(inlet);
    yc[n] = inletTemperature;
    this.marchToSteadyState(conditions);
    return yc[n] ?? Number.NaN;
  }

  /**
   * Pseudo-transient continuation from the inlet state in this.yc (the start-up the plant
   * would see, so of several steady states the reachable one is found), then Newton
   * polishing.
   */
  private marchToSteadyState(conditions: ReactorConditions): void {
    const { yc, equations } = this;
    const dilution = equations.setting.dilution;
    // Pseudo-transient continuation: the start-up transient decays over a few residence
    // times, reaction modes faster; 40 τ leaves e^-40 of it. The march is stiff where
    // reactions are fast against the flow, so the L-stable Rosenbrock method is used (it
    // needed 5-28× fewer evaluations than DOPRI5 here).
    const horizon = dilution > 0 ? 40 / dilution : 3600 * 24;
    this.cstrIntegrator.integrate(
      equations.residual,
      equations.jacobian,
      yc,
      0,
      horizon,
      conditions.rtol * 1e-2,
      conditions.atol * 1e-2,
    );
    this.newtonPolish(equations.residual, equations.jacobian, yc, conditions.atol);
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
