import type { CellEquations } from './stirred-cell';

/**
 * Largest temperature change of one Newton iteration, K: a damped step stays on the branch
 * of steady states it started from (the upstream cell's), as the start-up transient would.
 */
const MAX_TEMPERATURE_STEP = 5;

/** Iterations before Newton gives up on a cell (3-4 are typical from the upstream cell). */
export const NEWTON_ITERATIONS = 8;

/**
 * Newton's method on one stirred cell's steady state, warm-started from the state in `y`
 * (the upstream cell's), with the rate kernel's analytic Jacobian. Only the species the
 * reactions touch and the temperature are unknowns: every other species leaves as it came
 * in. It reports failure rather than guess, so the caller can march in time instead: when
 * the residual does not fall, after `maxIterations`, on a singular Jacobian, or when the
 * state it found is not a stable one (a start-up could not reach it).
 */
export class CellNewton {
  private readonly f: Float64Array;
  private readonly J: Float64Array;
  /** The reduced system A·Δ = b over `unknowns`, solved in place. */
  private readonly A: Float64Array;
  private readonly b: Float64Array;
  /** Active species, then the temperature (index n). */
  private readonly unknowns: Int32Array;
  /** Whether the last factorised Jacobian has the determinant sign of a stable state. */
  private stable = false;

  constructor(
    private readonly equations: CellEquations,
    activeSpecies: Int32Array,
    private readonly n: number,
    private readonly maxIterations = NEWTON_ITERATIONS,
  ) {
    const m = n + 1;
    this.unknowns = Int32Array.from([...activeSpecies, n]);
    const k = this.unknowns.length;
    this.f = new Float64Array(m);
    this.J = new Float64Array(m * m);
    this.A = new Float64Array(k * k);
    this.b = new Float64Array(k);
  }

  /**
   * Solves the cell set on `equations` from the warm start in `y` (concentrations, then T).
   * Returns true with the steady state in `y`; on false `y` holds no answer.
   */
  solve(y: Float64Array, rtol: number, atol: number): boolean {
    const { equations, f } = this;
    equations.residual(0, y, f);
    let norm = this.residualNorm();
    for (let iteration = 0; iteration < this.maxIterations; iteration++) {
      equations.jacobian(0, y, this.J);
      this.loadReducedSystem();
      if (!this.eliminate()) return false;
      this.dampTemperatureStep();
      const converged = this.applyStep(y, rtol, atol);
      if (converged) return this.stable;
      equations.residual(0, y, f);
      const next = this.residualNorm();
      if (!(next < norm)) return false;
      norm = next;
    }
    return false;
  }

  /** Sum of squares of the unknowns' residuals: Newton's direction decreases it. */
  private residualNorm(): number {
    let sum = 0;
    for (const i of this.unknowns) sum += this.f[i]! * this.f[i]!;
    return sum;
  }

  /** A = ∂f/∂y and b = −f restricted to the unknowns. */
  private loadReducedSystem(): void {
    const { unknowns, A, b, J, f } = this;
    const m = this.n + 1;
    const k = unknowns.length;
    for (let r = 0; r < k; r++) {
      const row = unknowns[r]!;
      b[r] = -f[row]!;
      for (let c = 0; c < k; c++) A[r * k + c] = J[row * m + unknowns[c]!]!;
    }
  }

  /**
   * Gaussian elimination with partial pivoting, leaving Δ in b. Records whether the
   * determinant has the sign (−1)^k every stable state's Jacobian has (all eigenvalues in
   * the left half-plane); the middle, unstable state of an ignition S-curve has the other.
   * Returns false on a singular or non-finite matrix.
   */
  private eliminate(): boolean {
    const { A, b } = this;
    const k = this.unknowns.length;
    let negativePivots = 0;
    for (let c = 0; c < k; c++) {
      const p = this.pivotRow(c);
      if (p !== c) {
        this.swapRows(c, p);
        negativePivots++; // a row swap flips the determinant's sign
      }
      const pivot = A[c * k + c]!;
      if (pivot === 0 || !Number.isFinite(pivot)) return false;
      if (pivot < 0) negativePivots++;
      for (let r = c + 1; r < k; r++) {
        const g = A[r * k + c]! / pivot;
        for (let l = c; l < k; l++) A[r * k + l]! -= g * A[c * k + l]!;
        b[r]! -= g * b[c]!;
      }
    }
    for (let r = k - 1; r >= 0; r--) {
      let s = b[r]!;
      for (let l = r + 1; l < k; l++) s -= A[r * k + l]! * b[l]!;
      b[r] = s / A[r * k + r]!;
    }
    this.stable = negativePivots % 2 === k % 2;
    return true;
  }

  private pivotRow(c: number): number {
    const { A } = this;
    const k = this.unknowns.length;
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r * k + c]!) > Math.abs(A[p * k + c]!)) p = r;
    return p;
  }

  private swapRows(r1: number, r2: number): void {
    const { A, b } = this;
    const k = this.unknowns.length;
    for (let l = 0; l < k; l++) {
      const t = A[r1 * k + l]!;
      A[r1 * k + l] = A[r2 * k + l]!;
      A[r2 * k + l] = t;
    }
    const t = b[r1]!;
    b[r1] = b[r2]!;
    b[r2] = t;
  }

  /** Shortens the whole step (keeping its direction) to at most MAX_TEMPERATURE_STEP in T. */
  private dampTemperatureStep(): void {
    const { b } = this;
    const k = this.unknowns.length;
    const dT = Math.abs(b[k - 1]!);
    if (dT <= MAX_TEMPERATURE_STEP) return;
    const scale = MAX_TEMPERATURE_STEP / dT;
    for (let r = 0; r < k; r++) b[r]! *= scale;
  }

  /**
   * y += Δ, concentrations kept at or above zero. Converged when every change is below a
   * hundredth of the tolerances (as the time march's are), with a floor of 1e-12 relative
   * that rounding can meet: Newton converges quadratically, so the error is far smaller.
   */
  private applyStep(y: Float64Array, rtol: number, atol: number): boolean {
    const { unknowns, b, n } = this;
    const relative = Math.max(rtol, 1e-10) * 1e-2;
    let converged = true;
    for (let r = 0; r < unknowns.length; r++) {
      const i = unknowns[r]!;
      const next = i < n ? Math.max(0, y[i]! + b[r]!) : y[i]! + b[r]!;
      if (!(Math.abs(next - y[i]!) <= relative * Math.abs(y[i]!) + atol * 1e-2)) converged = false;
      y[i] = next;
    }
    return converged;
  }
}
