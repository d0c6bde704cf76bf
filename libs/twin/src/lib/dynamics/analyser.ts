import type { PlantModel, StepModel } from '@pipac/recipe';
import type { SeededRandom } from '../random/seeded-random';
import { SimulationError } from './simulation.error';

/** One result of an inline analyser, as the device would publish it. */
export interface AnalyserResult {
  tag: string;
  step: string;
  /** 'concentration:<species>' or 'conversion'. */
  quantity: string;
  /** mol/L or fraction. */
  value: number;
  /** s: when the sample was drawn at the reactor outlet. */
  sampledAt: number;
  /** s: when the result became available (sampledAt + dead time). */
  availableAt: number;
}

interface PendingSample {
  sampledAt: number;
  availableAt: number;
  values: Float64Array;
}

/**
 * An inline analyser (NMR, IR …) at a step's outlet: samples every `cadence` seconds,
 * reports each result `deadTime` seconds later, with Gaussian noise (relative and
 * absolute), a calibration drift and outages driven by the scenario.
 */
export class Analyser {
  readonly tag: string;
  readonly quantities: string[];
  /** Latest published results, by measurement index; NaN before the first. */
  readonly latest: Float64Array;
  latestSampledAt = Number.NaN;
  latestAvailableAt = Number.NaN;
  /** True while an outage keeps the analyser from producing results. */
  fault = false;
  /** Relative calibration bias (drift disturbance). */
  bias = 0;
  private readonly speciesIndex: Int32Array;
  private readonly pending: PendingSample[] = [];
  /** The next sampling time: on the grid k·cadence, the first one cadence after the start. */
  private nextSample: number;
  private readonly cadence: number;
  private readonly deadTime: number;
  private readonly relative: number;
  private readonly absolute: number;
  /** The plant's own calibration error (StepModel.analyserCalibration), under the drift's `bias`. */
  private readonly calibration: number;

  constructor(
    model: PlantModel,
    private readonly step: StepModel,
    private readonly random: SeededRandom,
  ) {
    const spec = step.spec.analyser;
    if (!spec) throw new SimulationError('NO_ANALYSER', `step ${step.id} has no analyser`);
    this.tag = spec.tag;
    this.cadence = spec.cadence;
    this.nextSample = spec.cadence;
    this.deadTime = spec.deadTime;
    this.relative = spec.noise?.relative ?? 0;
    this.absolute = spec.noise?.absolute ?? 0;
    this.calibration = step.analyserCalibration ?? 0;
    this.quantities = spec.measures.map((m) =>
      m.quantity === 'conversion' ? 'conversion' : `concentration:${m.species}`,
    );
    this.speciesIndex = Int32Array.from(spec.measures, (m) =>
      m.quantity === 'conversion' ? -1 : (model.speciesIndex.get(m.species ?? '') ?? -1),
    );
    this.latest = new Float64Array(spec.measures.length).fill(Number.NaN);
  }

  /** Moves the analyser's clock-dependent state by `delta` seconds (the plant's warm-up reset). */
  shiftTime(delta: number): void {
    this.nextSample += delta;
    this.latestSampledAt += delta;
    this.latestAvailableAt += delta;
    for (const sample of this.pending) {
      sample.sampledAt += delta;
      sample.availableAt += delta;
    }
  }

  /**
   * Called once per plant step with the outlet state at time t: c[offset + i] are the outlet
   * concentrations, c[offset + tracerIndex] the key-reactant tracer (what the key would be
   * unreacted).
   * Returns true when a new result was published.
   */
  update(t: number, c: Float64Array, offset: number, tracerIndex: number): boolean {
    if (t >= this.nextSample) {
      // On the cadence's grid, whatever dt is: no drift when dt does not divide it.
      while (this.nextSample <= t) this.nextSample += this.cadence;
      if (!this.fault) {
        const values = new Float64Array(this.speciesIndex.length);
        for (let m = 0; m < values.length; m++) {
          const i = this.speciesIndex[m]!;
          let truth: number;
          if (i < 0) {
            const unreacted = c[offset + tracerIndex]!;
            truth = unreacted > 0 ? 1 - c[offset + this.step.keyIndex]! / unreacted : 0;
          } else truth = c[offset + i]!;
          const noisy =
            truth * (1 + this.calibration + this.bias) +
            Math.abs(truth) * this.relative * this.random.normal() +
            this.absolute * this.random.normal();
          values[m] = noisy;
        }
        this.pending.push({ sampledAt: t, availableAt: t + this.deadTime, values });
      }
    }
    let published = false;
    while (this.pending.length > 0 && this.pending[0]!.availableAt <= t) {
      const sample = this.pending.shift()!;
      this.latest.set(sample.values);
      this.latestSampledAt = sample.sampledAt;
      this.latestAvailableAt = sample.availableAt;
      published = true;
    }
    return published;
  }

  /** The latest published results as records. */
  results(): AnalyserResult[] {
    if (Number.isNaN(this.latestSampledAt)) return [];
    return this.quantities.map((quantity, m) => ({
      tag: this.tag,
      step: this.step.id,
      quantity,
      value: this.latest[m]!,
      sampledAt: this.latestSampledAt,
      availableAt: this.latestAvailableAt,
    }));
  }
}
