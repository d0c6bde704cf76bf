import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';

/**
 * The throughput scale at which a step's conversion would be `required`, from a conversion
 * measured at `scale`, by the first-order plug-flow design equation: −ln(1 − X) = k·τ, and
 * τ ∝ 1/scale (the pumps move together), so −ln(1 − X)·scale is a constant of the step (its
 * Damköhler number at scale 1) and
 *
 *   capacity = scale · ln(1 − X) / ln(1 − X_required).
 *
 * Exact for an isothermal first-order plug-flow reactor; for other orders and for dispersion
 * it is a local extrapolation that becomes exact where it is used, at X = X_required (the
 * bottleneck runs there). Edge cases: NaN in, NaN out; X ≤ 0 (nothing converts) gives 0;
 * X ≥ 1 gives Infinity (bound it). Unbounded otherwise: `StepCapacityEstimator` bounds it.
 */
export function capacityFromConversion(
  conversion: number,
  scale: number,
  required: number,
): number {
  if (!(required > 0 && required < 1))
    throw new RangeError(`the required conversion must lie in (0, 1), got ${required}`);
  if (!Number.isFinite(conversion) || !Number.isFinite(scale) || !(scale > 0)) return Number.NaN;
  if (conversion <= 0) return 0;
  if (conversion >= 1) return Number.POSITIVE_INFINITY;
  return (scale * Math.log1p(-conversion)) / Math.log1p(-required);
}

export interface StepCapacityOptions {
  /**
   * The estimate is the scale at which conversion is minConversion + margin. At 0 a
   * bottleneck asked to run at its capacity is limited by its own conversion loop (the PID
   * baseline holds minConversion + 0.01), not by the target. @default 0
   */
  margin?: number;
  /**
   * Scales the estimate is bounded to. @default the scales at which every pump of the step
   * stays inside its agent range (0.5–1.5 for the reference plant)
   */
  range?: [number, number];
  /**
   * Time constant of the exponential filter over results, s: single results scatter by about
   * 12 % with the analysers' 1–2 % noise, catalyst decay takes hours. @default 900
   */
  filterTime?: number;
  /**
   * With no usable result sampled within this many seconds the estimate is stale.
   * @default the analyser's dead time plus three cadences (the shield's data-age gate)
   */
  maxAge?: number;
  /**
   * A result counts only if the scale varied by at most this fraction of its mean while the
   * sampled liquid was in the reactor (in plug flow the window mean is exact; this only
   * rejects start-ups and jumps). @default 0.25
   */
  steadiness?: number;
  /** Conversions are taken at most this (noise can read above 1). @default 0.999 */
  maxConversion?: number;
}

/**
 * - `fresh`: updated from a result this call;
 * - `held`: no new usable result (the same result, a result that is not a number, bad quality,
 *   or one taken while the scale moved or the step stood still), the last estimate is recent;
 * - `stale`: the last usable result is older than `maxAge`; the last estimate is kept;
 * - `unknown`: no usable result yet; `scale` is NaN.
 */
export type CapacityStatus = 'fresh' | 'held' | 'stale' | 'unknown';

export interface CapacityEstimate {
  /** Largest throughput scale meeting minConversion + margin, inside the range; NaN when unknown. */
  scale: number;
  status: CapacityStatus;
  /** The filtered estimate before bounding to the range below (above, it is clipped per result). */
  unbounded: number;
  /** s: when the newest result used was sampled; NaN when none. */
  sampledAt: number;
  /** Why it is not fresh. */
  reason?: string;
}

/**
 * A step's capacity from what its agent sees: the analyser's conversion and the scale the
 * step ran at when the sample passed through the reactor. Each usable result gives one
 * `capacityFromConversion` estimate, clipped to the top of the range (a reading of X ≈ 1
 * must not dominate the filter) and filtered exponentially in time. The scale a result is
 * charged to is the mean over its residence window: the liquid sampled at t_s entered when
 * ∫ scale dt over [t_s − τ, t_s] equalled the nominal residence time (plug flow), so a step
 * that just changed pace is measured at the pace its sample saw. Results whose window holds a
 * stop or a move beyond `steadiness` are skipped, as are NaN, bad-quality and repeated ones.
 * Feed it every control cycle, stopped or not: it keeps the scale history itself.
 */
export class StepCapacityEstimator {
  readonly margin: number;
  readonly range: [number, number];
  readonly required: number;
  private readonly filterTime: number;
  private readonly maxAge: number;
  private readonly steadiness: number;
  private readonly maxConversion: number;
  /** Nominal residence time of the liquid, s. */
  private readonly residenceTime: number;
  private readonly keyPumps: { tag: string; nominal: number }[];
  /** The scale from each time on, oldest first. */
  private history: { time: number; scale: number }[] = [];
  private filtered = Number.NaN;
  private usedSampledAt = Number.NaN;
  private seenSampledAt = Number.NEGATIVE_INFINITY;
  private current: CapacityEstimate = {
    scale: Number.NaN,
    status: 'unknown',
    unbounded: Number.NaN,
    sampledAt: Number.NaN,
    reason: 'no result yet',
  };

  constructor(
    readonly space: StepSpace,
    options: StepCapacityOptions = {},
  ) {
    const step = space.step;
    const pumps = space.manipulated.filter((m) => m.kind === 'pump' && m.nominal > 0);
    this.margin = options.margin ?? 0;
    this.range = options.range ?? [
      Math.max(...pumps.map((m) => m.agent.low / m.nominal)),
      Math.min(...pumps.map((m) => m.agent.high / m.nominal)),
    ];
    if (!(this.range[0] >= 0 && this.range[0] < this.range[1]))
      throw new RangeError(`capacity range ${this.range[0]}..${this.range[1]} is empty`);
    this.maxConversion = options.maxConversion ?? 0.999;
    this.required = Math.min(step.minConversion + this.margin, this.maxConversion);
    this.filterTime = options.filterTime ?? 900;
    const analyser = step.spec.analyser;
    this.maxAge = options.maxAge ?? (analyser ? analyser.deadTime + 3 * analyser.cadence : 300);
    this.steadiness = options.steadiness ?? 0.25;
    const liquid = step.inlets
      .filter((i) => !i.gas)
      .reduce((q, i) => q + i.nominal * i.toInternal, 0);
    this.residenceTime = step.liquidVolume / liquid;
    this.keyPumps = step.inlets
      .filter((inlet) => space.keyPumps.has(inlet.pump))
      .map((inlet) => ({ tag: inlet.pump, nominal: inlet.nominal }));
  }

  /** The latest estimate. */
  get estimate(): CapacityEstimate {
    return this.current;
  }

  /** Forgets every result and the scale history (a new catalyst bed, a new run). */
  reset(): void {
    this.history = [];
    this.filtered = Number.NaN;
    this.usedSampledAt = Number.NaN;
    this.seenSampledAt = Number.NEGATIVE_INFINITY;
    this.current = {
      scale: Number.NaN,
      status: 'unknown',
      unbounded: Number.NaN,
      sampledAt: Number.NaN,
      reason: 'no result yet',
    };
  }

  /** Records the step's scale now and takes the analyser's latest result into the estimate. */
  update(readings: Pick<StepReadings, 'time' | 'setpoints' | 'analyser'>): CapacityEstimate {
    const now = readings.time;
    this.record(now, this.scaleOf(readings.setpoints));
    const reason = this.take(readings.analyser);
    if (reason === undefined) {
      this.current = this.result('fresh');
    } else if (Number.isNaN(this.filtered)) {
      this.current = { ...this.result('unknown'), reason };
    } else {
      const stale = !(now - this.usedSampledAt <= this.maxAge);
      this.current = {
        ...this.result(stale ? 'stale' : 'held'),
        reason: stale
          ? `last usable result sampled ${Math.round(now - this.usedSampledAt)} s ago; ${reason}`
          : reason,
      };
    }
    return this.current;
  }

  /** The scale a result sampled at `sampledAt` saw, or why it cannot be known. */
  windowScale(sampledAt: number): { scale: number } | { reason: string } {
    const history = this.history;
    let need = this.residenceTime; // s at scale 1 still to cover, going back in time
    let end = sampledAt;
    let low = Number.POSITIVE_INFINITY;
    let high = 0;
    let duration = 0;
    for (let j = history.length - 1; j >= 0 && need > 0; j--) {
      const { time, scale } = history[j]!;
      if (time >= end) continue;
      if (!(scale > 0))
        return { reason: 'the step stood still while the sample was in the reactor' };
      const span = Math.min(end - time, need / scale);
      need -= span * scale;
      duration += span;
      low = Math.min(low, scale);
      high = Math.max(high, scale);
      end = time;
    }
    if (need > 1e-9 * this.residenceTime)
      return { reason: 'the scale history does not reach back over the sample' };
    const mean = this.residenceTime / duration;
    if (high - low > this.steadiness * mean)
      return {
        reason: `the scale moved ${low.toFixed(2)}–${high.toFixed(2)} while the sample was in the reactor`,
      };
    return { scale: mean };
  }

  private scaleOf(setpoints: Readonly<Record<string, number>>): number {
    let sum = 0;
    for (const pump of this.keyPumps) sum += (setpoints[pump.tag] ?? Number.NaN) / pump.nominal;
    return sum / this.keyPumps.length;
  }

  private record(time: number, scale: number): void {
    const history = this.history;
    const last = history[history.length - 1];
    const value = Number.isFinite(scale) ? Math.max(0, scale) : 0;
    if (last && time <= last.time) last.scale = value;
    else if (!last || last.scale !== value) history.push({ time, scale: value });
    // Keep what the oldest result still usable can need: maxAge back, then a window at a
    // twentieth of the nominal pace.
    const horizon = time - this.maxAge - 20 * this.residenceTime;
    let drop = 0;
    while (drop + 1 < history.length && history[drop + 1]!.time <= horizon) drop++;
    if (drop > 0) history.splice(0, drop);
  }

  /** Takes a result into the filter; returns why it could not, or undefined when it did. */
  private take(analyser: StepReadings['analyser']): string | undefined {
    if (!analyser) return 'no result yet';
    if (analyser.quality !== 'good') return 'the analyser is out of service';
    if (!Number.isFinite(analyser.sampledAt)) return 'the result has no sampling time';
    // Each result is judged once: a skipped one stays skipped (its window is in the past).
    if (analyser.sampledAt <= this.seenSampledAt) return 'no new result';
    this.seenSampledAt = analyser.sampledAt;
    const conversion = analyser.values['conversion'];
    if (conversion === undefined || !Number.isFinite(conversion))
      return 'the result has no conversion';
    const window = this.windowScale(analyser.sampledAt);
    if ('reason' in window) return window.reason;
    const x = Math.min(Math.max(conversion, 0), this.maxConversion);
    const estimate = Math.min(
      capacityFromConversion(x, window.scale, this.required),
      this.range[1],
    );
    if (Number.isNaN(this.filtered)) this.filtered = estimate;
    else {
      const alpha = 1 - Math.exp(-(analyser.sampledAt - this.usedSampledAt) / this.filterTime);
      this.filtered += alpha * (estimate - this.filtered);
    }
    this.usedSampledAt = analyser.sampledAt;
    return undefined;
  }

  private result(status: CapacityStatus): CapacityEstimate {
    return {
      scale: Number.isNaN(this.filtered)
        ? Number.NaN
        : Math.min(Math.max(this.filtered, this.range[0]), this.range[1]),
      status,
      unbounded: this.filtered,
      sampledAt: this.usedSampledAt,
    };
  }
}
