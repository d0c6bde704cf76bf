import type { StepReadings } from './step-readings';
import type { StepSpace } from './step-space';

/**
 * Builds a step's observations from successive readings, remembering the analyser result
 * before the current one for the trend feature. Training (StepEnv) and service
 * (PolicyController) both observe through it, so a policy sees in the plant exactly what it
 * saw in the twin.
 */
export class StepObserver {
  private lastSampledAt = Number.NaN;
  private lastConversion = Number.NaN;
  private previousConversion = Number.NaN;

  constructor(readonly space: StepSpace) {}

  /** The observation for these readings (into `into` when given, else a new array). */
  observe(readings: StepReadings, into?: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
    const analyser = readings.analyser;
    if (analyser && !(analyser.sampledAt <= this.lastSampledAt)) {
      this.lastSampledAt = analyser.sampledAt;
      this.previousConversion = this.lastConversion;
      this.lastConversion = analyser.values['conversion'] ?? Number.NaN;
    }
    return this.space.observe(readings, this.previousConversion, into);
  }

  /** Forgets the analyser history (a new episode, or control handed back). */
  reset(): void {
    this.lastSampledAt = Number.NaN;
    this.lastConversion = Number.NaN;
    this.previousConversion = Number.NaN;
  }
}
