import { create, toBinary } from '@bufbuild/protobuf';
import { SensorReadingSchema } from '../generated/pipac/v1/sensor_reading_pb';
import { encodeSensorReading } from './sensor-reading.encoder';

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('encodeSensorReading', () => {
  const next = random(20261128);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const text = () =>
    pick(['', 'TI-1', 'R-nitration.TI-hot', '°C', 'mol/L', 'ünïcødé ✓', 'x'.repeat(200)]);
  const number = () =>
    pick([0, -0, 1, -1, 0.1, 1e300, -1e-300, Number.NaN, Infinity, -Infinity, next() * 1e6 - 5e5]);
  const time = () =>
    pick([
      undefined,
      { seconds: 0n, nanos: 0 },
      { seconds: BigInt(Math.floor(next() * 2e9)), nanos: Math.floor(next() * 1e9) },
      { seconds: -62135596800n, nanos: 0 },
      { seconds: 253402300799n, nanos: 999_999_999 },
      { seconds: 1n, nanos: 1 },
    ]);

  it('writes exactly the bytes toBinary writes, for 5,000 random readings', () => {
    for (let i = 0; i < 5000; i++) {
      const source = time();
      const server = time();
      const reading = create(SensorReadingSchema, {
        ...(next() < 0.9
          ? { location: { site: text(), cell: text(), step: text(), device: text() } }
          : {}),
        tag: text(),
        value: number(),
        unit: text(),
        quality: pick([0, 1, 2, 3]),
        statusCode: pick([0, 0x80340000, 0x40000000, 4294967295]),
        ...(next() < 0.9
          ? { timestamps: { ...(source ? { source } : {}), ...(server ? { server } : {}) } }
          : {}),
        ...(next() < 0.3 ? { sampledAtOffsetSeconds: pick([0, -3.5, 120]) } : {}),
      });
      const expected = toBinary(SensorReadingSchema, reading);
      const actual = encodeSensorReading(reading);
      if (Buffer.compare(Buffer.from(actual), Buffer.from(expected)) !== 0) {
        throw new Error(
          `reading ${i} differs: ${JSON.stringify(reading, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
      }
    }
  });
});
