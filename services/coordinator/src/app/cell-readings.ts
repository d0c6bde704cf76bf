import { Quality, timestampMs, type SensorReading, type StepStatus } from '@pipac/contracts';

export interface LatestValue {
  value: number;
  /** Source time, ms since the epoch. */
  at: number;
  good: boolean;
}

/** The latest reading of every tag and the latest status of every step, as they arrive. */
export class CellReadings {
  private readonly values = new Map<string, LatestValue>();
  private readonly goodValues = new Map<string, LatestValue>();
  private readonly statuses = new Map<string, StepStatus>();
  /** Called with each new analyser value (quality results). */
  onReading: ((step: string, tag: string, value: LatestValue) => void) | undefined;

  update(step: string, reading: SensorReading): void {
    const at = reading.timestamps?.source ? timestampMs(reading.timestamps.source) : Number.NaN;
    const previous = this.values.get(reading.tag);
    if (previous && at < previous.at) return; // late and stale
    const latest = { value: reading.value, at, good: reading.quality === Quality.GOOD };
    this.values.set(reading.tag, latest);
    if (latest.good && Number.isFinite(latest.value)) this.goodValues.set(reading.tag, latest);
    if (!previous || previous.at !== at) this.onReading?.(step, reading.tag, latest);
  }

  updateStatus(step: string, status: StepStatus): void {
    this.statuses.set(step, status);
  }

  get(tag: string): LatestValue | undefined {
    return this.values.get(tag);
  }

  /** The value if it is good, else undefined. */
  good(tag: string): number | undefined {
    const latest = this.values.get(tag);
    return latest?.good && Number.isFinite(latest.value) ? latest.value : undefined;
  }

  /** The last good value of the tag, however old, and when it was taken (a value to hold). */
  lastGood(tag: string): LatestValue | undefined {
    return this.goodValues.get(tag);
  }

  status(step: string): StepStatus | undefined {
    return this.statuses.get(step);
  }
}
