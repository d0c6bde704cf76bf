import type { InputStatus, StepReadings, StepSpace } from '@pipac/control';
import {
  Quality,
  analyserMeasureTag,
  reactorSensorTags,
  targetValueTag,
  timestampMs,
  type SensorReading,
} from '@pipac/contracts';

interface Latest {
  value: number;
  quality: Quality;
  /** ms since the epoch: when the device measured (for an analyser, when it sampled). */
  sourceTime: number;
}

/**
 * The latest value of every tag a step agent reads, kept from the step's sensor events, and
 * turned into the controllers' StepReadings each cycle. Tag names follow the event contract
 * (libs/contracts tag-names): `<tag>.SP` is the setpoint a device holds, `R-<step>.TI-hot` the
 * hottest reactor temperature, `<analyser>.conversion` and `<analyser>.<species>` its results.
 */
export class ReadingsTracker {
  private readonly latest = new Map<string, Latest>();
  /** Setpoint tag → the tag of its read-back. */
  private readonly setpointTags: [setpoint: string, reading: string][];
  private readonly analyserTags: [quantity: string, reading: string][];
  private readonly hotSpot: string;
  private readonly inletPressure: string;
  readonly conversionTag: string | undefined;

  constructor(private readonly space: StepSpace) {
    const step = space.step;
    this.setpointTags = [...space.manipulated.map((m) => m.tag), step.backPressure.tag].map(
      (tag) => [tag, targetValueTag(tag)],
    );
    const analyser = step.spec.analyser;
    this.analyserTags = (analyser?.measures ?? []).map((m) => [
      m.quantity === 'conversion' ? 'conversion' : `concentration:${m.species}`,
      analyserMeasureTag(analyser!.tag, m),
    ]);
    this.conversionTag = this.analyserTags.find(([q]) => q === 'conversion')?.[1];
    const reactor = reactorSensorTags(step.id);
    this.hotSpot = reactor.hotSpot;
    this.inletPressure = reactor.inletPressure;
  }

  /** Every reading tag the agent uses. */
  get tags(): string[] {
    return [
      ...this.setpointTags.map(([, r]) => r),
      ...this.analyserTags.map(([, r]) => r),
      this.hotSpot,
      this.inletPressure,
    ];
  }

  /** Keeps a reading if it is newer than the one held for its tag. */
  update(reading: SensorReading): void {
    const source = reading.timestamps?.source;
    const sourceTime = source ? timestampMs(source) : Number.NaN;
    const held = this.latest.get(reading.tag);
    if (held && !(sourceTime >= held.sourceTime)) return; // out of order: keep the newer
    this.latest.set(reading.tag, { value: reading.value, quality: reading.quality, sourceTime });
  }

  /** The step as the controllers see it at `now` (ms), or the tags still missing. */
  readings(now: number, throughputTarget: number): StepReadings | { missing: string[] } {
    const missing: string[] = [];
    const good = (tag: string) => {
      const l = this.latest.get(tag);
      if (!l) missing.push(tag);
      return l;
    };
    const setpoints: Record<string, number> = {};
    for (const [tag, reading] of this.setpointTags) {
      const l = good(reading);
      if (l) setpoints[tag] = l.value;
    }
    const hot = good(this.hotSpot);
    const pressure = good(this.inletPressure);
    if (missing.length > 0) return { missing };
    const values: Record<string, number> = {};
    let sampledAt = Number.NaN;
    let bad = false;
    for (const [quantity, reading] of this.analyserTags) {
      const l = this.latest.get(reading);
      if (!l) continue;
      values[quantity] = l.value;
      if (quantity === 'conversion' || Number.isNaN(sampledAt)) sampledAt = l.sourceTime / 1000;
      if (l.quality === Quality.BAD) bad = true;
    }
    return {
      time: now / 1000,
      setpoints,
      analyser:
        Object.keys(values).length > 0
          ? { values, sampledAt, quality: bad ? 'bad' : 'good' }
          : undefined,
      maxTemperature: hot!.value,
      pressure: pressure!.value,
      throughputTarget,
    };
  }

  /** Quality and age of the gated inputs, for the shield. */
  inputStatus(now: number): InputStatus[] {
    const tags = [this.hotSpot, ...(this.conversionTag ? [this.conversionTag] : [])];
    return tags.flatMap((tag) => {
      const l = this.latest.get(tag);
      if (!l) return [];
      return [
        {
          tag,
          quality:
            l.quality === Quality.BAD ? 'bad' : l.quality === Quality.GOOD ? 'good' : 'uncertain',
          age: (now - l.sourceTime) / 1000,
        },
      ];
    });
  }

  /** The shield's gates: the hot spot fresh within 30 s, the conversion within dead time + 3 cadences. */
  gates(): { tag: string; maxAge: number }[] {
    const analyser = this.space.step.spec.analyser;
    return [
      { tag: this.hotSpot, maxAge: 30 },
      ...(this.conversionTag && analyser
        ? [{ tag: this.conversionTag, maxAge: analyser.deadTime + 3 * analyser.cadence }]
        : []),
    ];
  }
}
