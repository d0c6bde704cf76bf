import type { RateKernel } from '../kinetics/rate-kernel';

/** One stirred cell of a chain at steady state: what flows in and how it exchanges heat. */
export interface CellSetting {
  /** Concentrations flowing in (the upstream cell's), mol/L. */
  inlet: Float64Array;
  /** K */
  inletTemperature: number;
  /** Flow over the cell volume, 1/s (0 without flow). */
  dilution: number;
  /** UA over (volume × ρcp) of the whole reactor, 1/s. */
  uaPerVolume: number;
  /** K */
  jacketTemperature: number;
  /** Catalyst activity × kinetic mismatch. */
  multiplier: number;
}

/**
 * The balances of one stirred cell, dy/dt = f(y) over y = (concentrations, T), and their
 * Jacobian: what the time march (pseudo-transient continuation) and Newton's method both
 * solve. Set the cell with `set`, then call `residual` and `jacobian` (shaped as the
 * integrator's callbacks, time unused).
 */
export class CellEquations {
  private cell: CellSetting = {
    inlet: new Float64Array(0),
    inletTemperature: 0,
    dilution: 0,
    uaPerVolume: 0,
    jacketTemperature: 0,
    multiplier: 1,
  };

  constructor(
    private readonly kernel: RateKernel,
    /** Species count; y[n] is the temperature. */
    private readonly n: number,
    /** J/(L·K) */
    private readonly rhoCp: number,
  ) {}

  set(cell: CellSetting): void {
    this.cell = cell;
  }

  get setting(): CellSetting {
    return this.cell;
  }

  readonly residual = (_t: number, s: Float64Array, ds: Float64Array): void => {
    const { n, kernel, cell } = this;
    const temperature = s[n]!;
    for (let i = 0; i < n; i++) ds[i] = cell.dilution * (cell.inlet[i]! - s[i]!);
    kernel.apply(s, 0, temperature, cell.multiplier, ds, 0, 1);
    const heat = kernel.result[0]!;
    ds[n] =
      cell.dilution * (cell.inletTemperature - temperature) +
      heat / this.rhoCp +
      cell.uaPerVolume * (cell.jacketTemperature - temperature);
  };

  readonly jacobian = (_t: number, s: Float64Array, dfdy: Float64Array): void => {
    const { n, cell } = this;
    const m = n + 1;
    dfdy.fill(0);
    this.kernel.jacobian(s, 0, s[n]!, cell.multiplier, dfdy, m, n);
    for (let l = 0; l < m; l++) dfdy[n * m + l]! /= this.rhoCp;
    for (let i = 0; i < n; i++) dfdy[i * m + i]! -= cell.dilution;
    dfdy[n * m + n]! -= cell.dilution + cell.uaPerVolume;
  };
}
