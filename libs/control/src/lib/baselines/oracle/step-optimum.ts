import { kelvinToCelsius } from '@pipac/recipe';
import {
  pressureDrop,
  solveStepOutlet,
  stepOutletFigures,
  type StepConditions,
  type StepSolution,
} from '@pipac/twin';
import { ProcessLimitGuard } from '../../step/process-limit.guard';
import type { StepSpace } from '../../step/step-space';

/** What the oracle knows of one step: the twin's true parameters now, not a measurement. */
export interface TrueStep {
  /** Everything but flows and jacket (those are what it chooses): catalyst, rates, feeds, tanks. */
  conditions: Omit<StepConditions, 'flows' | 'jacketTemperature'>;
  /** Delivered ÷ set flow of each inlet, in the recipe's inlet order (pump calibration). */
  pumpFactor: readonly number[];
  /** Multiplies the reactor's pressure drop (fouling). */
  pressureDropFactor: number;
}

/** The best steady operating point of a step at one key-reactant throughput. */
export interface StepOperatingPoint {
  /** Key-reactant flow as a fraction of nominal (delivered, not set). */
  scale: number;
  /** Flow of every other inlet relative to the recipe's ratio to the key reactant. */
  ratio: number;
  /** Jacket, °C. */
  jacket: number;
  /** Setpoints to write, by tag (pump setpoints corrected for the true pump factors). */
  setpoints: Record<string, number>;
  /** True steady-state conversion of the key reactant. */
  conversion: number;
  /** mol/s of the step's product made. */
  product: number;
  /** mol/s of the key reactant drawn. */
  keyReactant: number;
  /** L/s of liquid leaving the step (into its outlet tank). */
  outflow: number;
  /** L/s drawn from each surge tank, by tank index. */
  draws: Record<number, number>;
}

export interface StepOptimumOptions {
  /** The true conversion is kept this far above the step's minimum (transients only: the truth has no noise). @default 0.002 */
  conversionMargin?: number;
  /**
   * Kelvin and bar kept from the limits: 1 K and 0.1 bar more than the shield's own guard, so
   * the shield never has to refuse the oracle on a transient. @default 6 / 0.6
   */
  temperatureMargin?: number;
  pressureMargin?: number;
  /**
   * Range of the reagent-to-key ratio, relative to the recipe's, further bounded by every
   * pump's engineering range. Reagents cost nothing in the score, and a richer mixture reacts
   * faster at a cooler, more selective jacket, so the search must reach the pumps' limits.
   * @default [0.25, 4]
   */
  ratioRange?: [number, number];
  /** Ratios on the coarse grid (geometric). @default 7 */
  ratioGrid?: number;
  /** Jacket temperatures on the coarse grid, over the engineering range. @default 9 */
  temperatures?: number;
}

interface Candidate {
  solution: StepSolution;
  conversion: number;
  product: number;
  feasible: boolean;
}

/**
 * Layer 1 of the oracle: the step's best steady state at a given key-reactant throughput, on
 * the twin's own reactor model (tanks in series, Newton per cell: what `StepUnit` settles to)
 * with the twin's true parameters. At a fixed key throughput the key reactant drawn is fixed,
 * so the best point makes the most product: it searches the reagent ratio (a grid) and the
 * jacket (a grid, then golden section around the best), keeping the true conversion at least
 * minConversion + margin, every pump and the jacket inside their engineering ranges, and hot
 * spot, MTSR and pressure inside the limits as the shield's own `ProcessLimitGuard` predicts
 * them (with the true plant's excess over that prediction, as the shield measures it). Reagents
 * cost nothing in the evaluation's score, so their ratio is free within those limits.
 *
 * Hand-written search: 2 variables, one of them a small grid; a general NLP solver on npm
 * (nlopt-js) installs process-wide exception handlers and is unmaintained (issue 16's design).
 */
export class StepOptimum {
  private readonly margin: number;
  private readonly ratioRange: [number, number];
  private readonly ratioGrid: number;
  private readonly temperatures: number;
  private readonly guard: ProcessLimitGuard;
  private solution: StepSolution | undefined;
  /** Cells solves so far (cost accounting for the benchmark and docs). */
  solves = 0;

  constructor(
    private readonly space: StepSpace,
    options: StepOptimumOptions = {},
  ) {
    this.margin = options.conversionMargin ?? 0.002;
    this.ratioRange = options.ratioRange ?? [0.25, 4];
    this.ratioGrid = Math.max(2, options.ratioGrid ?? 7);
    this.temperatures = options.temperatures ?? 9;
    this.guard = new ProcessLimitGuard(space, {
      temperatureMargin: options.temperatureMargin ?? 6,
      pressureMargin: options.pressureMargin ?? 0.6,
    });
  }

  /**
   * The best point at key throughput `scale` (fraction of nominal), or undefined if none is in
   * spec and safe. Without `near`: a geometric grid of ratios over the pumps' range, then golden
   * section in log ratio around the best. With `near` (the last point, conditions moved a
   * little): a local search around it, a tenth of the cost.
   */
  at(truth: TrueStep, scale: number, near?: StepOperatingPoint): StepOperatingPoint | undefined {
    const range = this.ratioBounds(truth, scale);
    if (!(range.low <= range.high)) return undefined;
    const clampRatio = (r: number) => Math.min(range.high, Math.max(range.low, r));
    const jacketNear = near ? { low: near.jacket - 3, high: near.jacket + 3 } : undefined;
    const cache = new Map<number, StepOperatingPoint | undefined>();
    const pointAt = (ratio: number) => {
      if (!cache.has(ratio)) cache.set(ratio, this.bestJacket(truth, scale, ratio, jacketNear));
      return cache.get(ratio);
    };
    const value = (logRatio: number) => pointAt(Math.exp(logRatio))?.product ?? -1;
    let grid: number[];
    if (near) grid = [0.95, 1, 1.05].map((f) => clampRatio(near.ratio * f));
    else {
      const n = this.ratioGrid;
      const [a, b] = [Math.log(range.low), Math.log(range.high)];
      grid = Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
    }
    const logs = grid.map(Math.log);
    const values = logs.map(value);
    const i = values.indexOf(Math.max(...values));
    if (values[i]! < 0) return near ? this.at(truth, scale) : undefined;
    // Refine between the neighbours of the best ratio (1 % in ratio).
    const lo = logs[Math.max(0, i - 1)]!;
    const hi = logs[Math.min(logs.length - 1, i + 1)]!;
    const refined = hi > lo ? goldenSection(value, lo, hi, 0.02) : logs[i]!;
    const best = value(refined) >= values[i]! ? refined : logs[i]!;
    return this.confirmSafe(truth, scale, Math.exp(best), pointAt(Math.exp(best))!.jacket);
  }

  /**
   * The largest key throughput in [low, high] with a point in spec and safe (conversion falls
   * with throughput: bisection), or undefined when even `low` has none.
   */
  maxScale(truth: TrueStep, low: number, high: number): number | undefined {
    if (this.inSpecAt(truth, high)) return high;
    if (!this.inSpecAt(truth, low)) return undefined;
    let feasible = low;
    let infeasible = high;
    while (infeasible - feasible > 1e-3) {
      const mid = (feasible + infeasible) / 2;
      if (this.inSpecAt(truth, mid)) feasible = mid;
      else infeasible = mid;
    }
    // The guard may still refuse the hottest points: step down until a point is confirmed.
    for (let scale = feasible; scale >= low; scale -= 0.01) if (this.at(truth, scale)) return scale;
    return undefined;
  }

  /**
   * The best jacket for pump setpoints that are not a planned point: the flows a move-limited
   * ramp has reached this cycle. Searched within 6 K of `near`, kept if the shield's guard
   * passes it; undefined when no jacket there keeps the step in spec.
   */
  jacketFor(
    truth: TrueStep,
    pumps: Readonly<Record<string, number>>,
    near: number,
  ): number | undefined {
    const flows: Record<string, number> = {};
    this.space.step.inlets.forEach((inlet, k) => {
      flows[inlet.pump] = (pumps[inlet.pump] ?? 0) * (truth.pumpFactor[k] || 1);
    });
    const full = this.jacketRange();
    const low = Math.max(full.low, near - 6);
    const high = Math.min(full.high, near + 6);
    const value = (t: number) => {
      const c = this.evaluateFlows(truth, flows, t);
      return c.feasible ? c.product : Number.NEGATIVE_INFINITY;
    };
    const jacket = goldenSection(value, low, high, 0.1);
    const candidate = this.evaluateFlows(truth, flows, jacket);
    if (!candidate.feasible) return undefined;
    const setpoints = { ...pumps, [this.space.step.thermostat.tag]: jacket };
    return this.guardPasses(truth, candidate.solution, setpoints) ? jacket : undefined;
  }

  /**
   * Whether some ratio and jacket on the coarse grids keeps the step in spec at `scale`: the
   * richest ratio first (it converts fastest), then the recipe's and the leanest.
   */
  private inSpecAt(truth: TrueStep, scale: number): boolean {
    const range = this.ratioBounds(truth, scale);
    if (!(range.low <= range.high)) return false;
    const { low, high } = this.jacketRange();
    const n = this.temperatures;
    for (const ratio of [range.high, Math.min(range.high, Math.max(range.low, 1)), range.low]) {
      for (let j = n - 1; j >= 0; j--) {
        const t = low + ((high - low) * j) / (n - 1);
        if (this.evaluate(truth, scale, ratio, t).feasible) return true;
      }
    }
    return false;
  }

  /** The key-throughput range the pumps allow at some ratio, fraction of nominal. */
  scaleRange(truth: TrueStep): { low: number; high: number } {
    let low = 0;
    let high = Number.POSITIVE_INFINITY;
    this.space.step.inlets.forEach((inlet, k) => {
      if (!this.space.keyPumps.has(inlet.pump)) return;
      const perScale = inlet.nominal / (truth.pumpFactor[k] || 1);
      low = Math.max(low, inlet.min / perScale);
      high = Math.min(high, inlet.max / perScale);
    });
    return { low, high };
  }

  /** The ratios every reagent pump can deliver at this key throughput, within `ratioRange`. */
  private ratioBounds(truth: TrueStep, scale: number): { low: number; high: number } {
    let low = this.ratioRange[0];
    let high = this.ratioRange[1];
    this.space.step.inlets.forEach((inlet, k) => {
      const perRatio = (inlet.nominal * scale) / (truth.pumpFactor[k] || 1);
      if (this.space.keyPumps.has(inlet.pump)) {
        if (perRatio < inlet.min - 1e-12 || perRatio > inlet.max + 1e-12) high = -1;
        return;
      }
      low = Math.max(low, inlet.min / perRatio);
      high = Math.min(high, inlet.max / perRatio);
    });
    return { low, high };
  }

  /** The best jacket at (scale, ratio): a coarse grid, then golden section around the best. */
  private bestJacket(
    truth: TrueStep,
    scale: number,
    ratio: number,
    within?: { low: number; high: number },
  ): StepOperatingPoint | undefined {
    const full = this.jacketRange();
    const low = Math.max(full.low, within?.low ?? full.low);
    const high = Math.min(full.high, within?.high ?? full.high);
    const n = within ? 3 : this.temperatures;
    const grid = Array.from({ length: n }, (_, j) => low + ((high - low) * j) / (n - 1));
    const value = (t: number) => {
      const c = this.evaluate(truth, scale, ratio, t);
      return c.feasible ? c.product : Number.NEGATIVE_INFINITY;
    };
    const values = grid.map(value);
    const j = values.indexOf(Math.max(...values));
    if (values[j] === Number.NEGATIVE_INFINITY) return undefined;
    // The product rises with temperature until a side reaction or a limit wins: refine in the
    // two grid intervals around the best point (golden section, to 0.1 K).
    const a = grid[Math.max(0, j - 1)]!;
    const b = grid[Math.min(n - 1, j + 1)]!;
    let jacket = goldenSection(value, a, b, 0.1);
    if (!(value(jacket) >= values[j]!)) jacket = grid[j]!;
    const candidate = this.evaluate(truth, scale, ratio, jacket);
    return this.point(scale, ratio, jacket, candidate, {});
  }

  /** The point at `jacket`, checked against the shield's own guard; cooler until it passes. */
  private confirmSafe(
    truth: TrueStep,
    scale: number,
    ratio: number,
    jacket: number,
  ): StepOperatingPoint | undefined {
    let t = jacket;
    const { low } = this.jacketRange();
    for (let i = 0; i < 40 && t >= low; i++, t -= 0.5) {
      const candidate = this.evaluate(truth, scale, ratio, t);
      if (!candidate.feasible) return undefined;
      const setpoints = this.setpoints(truth, scale, ratio, t);
      if (this.guardPasses(truth, candidate.solution, setpoints))
        return this.point(scale, ratio, t, candidate, setpoints);
    }
    return undefined;
  }

  /** As the shield will see it at steady state: proposal = current, measured = the truth. */
  private guardPasses(
    truth: TrueStep,
    solution: StepSolution,
    setpoints: Record<string, number>,
  ): boolean {
    const step = this.space.step;
    const measured = {
      maxTemperature: kelvinToCelsius(solution.outlet.maxTemperature),
      pressure:
        solution.backPressure + pressureDrop(step, solution.inlet.flow, truth.pressureDropFactor),
    };
    const verdict = this.guard.check(setpoints, setpoints, measured);
    // The guard predicts MTSR on ideal plug flow; the true MTSR must pass too.
    const mtsr = kelvinToCelsius(solution.outlet.mtsr);
    return verdict.safe && mtsr < kelvinToCelsius(step.maxTechnicalTemperature) - 6;
  }

  private evaluate(truth: TrueStep, scale: number, ratio: number, jacket: number): Candidate {
    return this.evaluateFlows(truth, this.delivered(scale, ratio), jacket);
  }

  private evaluateFlows(truth: TrueStep, flows: Record<string, number>, jacket: number): Candidate {
    const step = this.space.step;
    this.solves++;
    this.solution = solveStepOutlet(
      this.space.model,
      step,
      { ...truth.conditions, flows, jacketTemperature: jacket },
      {},
      this.solution,
    );
    const solution = this.solution;
    const { outlet } = solution;
    const { conversion, product } = stepOutletFigures(step, solution);
    const feasible =
      conversion >= step.minConversion + this.margin &&
      kelvinToCelsius(outlet.maxTemperature) < kelvinToCelsius(step.maxTemperature) - 6;
    return { solution, conversion, product, feasible };
  }

  private point(
    scale: number,
    ratio: number,
    jacket: number,
    candidate: Candidate,
    setpoints: Record<string, number>,
  ): StepOperatingPoint {
    const step = this.space.step;
    const { inlet } = candidate.solution;
    const draws: Record<number, number> = {};
    const delivered = this.delivered(scale, ratio);
    for (const i of step.inlets) {
      if (i.source !== 'tank') continue;
      draws[i.sourceIndex] = (draws[i.sourceIndex] ?? 0) + delivered[i.pump]! * i.toInternal;
    }
    return {
      scale,
      ratio,
      jacket,
      setpoints,
      conversion: candidate.conversion,
      product: candidate.product,
      keyReactant: inlet.flow * inlet.concentrations[step.keyIndex]!,
      outflow: inlet.flow,
      draws,
    };
  }

  /** Delivered flows: key-reactant pumps at scale × nominal, the others at scale × ratio × nominal. */
  private delivered(scale: number, ratio: number): Record<string, number> {
    const keyPumps = this.space.keyPumps;
    return Object.fromEntries(
      this.space.step.inlets.map((inlet) => [
        inlet.pump,
        inlet.nominal * scale * (keyPumps.has(inlet.pump) ? 1 : ratio),
      ]),
    );
  }

  /** What to write so that `delivered` reaches the reactor through the true pump factors. */
  private setpoints(
    truth: TrueStep,
    scale: number,
    ratio: number,
    jacket: number,
  ): Record<string, number> {
    const delivered = this.delivered(scale, ratio);
    const setpoints: Record<string, number> = {};
    this.space.step.inlets.forEach((inlet, k) => {
      setpoints[inlet.pump] = delivered[inlet.pump]! / (truth.pumpFactor[k] || 1);
    });
    setpoints[this.space.step.thermostat.tag] = jacket;
    return setpoints;
  }

  private jacketRange(): { low: number; high: number } {
    const jacket = this.space.manipulated.find((m) => m.kind === 'thermostat')!;
    return jacket.engineering;
  }
}

/** The maximum of a unimodal `f` on [a, b] to within `tolerance` (golden-section search). */
export function goldenSection(
  f: (x: number) => number,
  a: number,
  b: number,
  tolerance: number,
): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tolerance) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return fc >= fd ? c : d;
}
