import {
  Quality,
  SensorReadingSchema,
  create,
  sensorReadingCodec,
  timestampFromMs,
  toBinary,
} from '@pipac/contracts';
import { qualityOf, toSensorReading } from './sensor-reading.mapper';

const location = { site: 's', cell: 'c', step: 'nitration', device: 'nitration-module' };

describe('toSensorReading', () => {
  it('maps OPC UA status severity to quality (Part 4 §7.39)', () => {
    expect(qualityOf(0)).toBe(Quality.GOOD);
    expect(qualityOf(0x40920000)).toBe(Quality.UNCERTAIN); // UncertainInitialValue
    expect(qualityOf(0x808c0000)).toBe(Quality.BAD); // BadSensorFailure
  });

  it('builds the same message create() would, which the codec accepts', () => {
    const sample = {
      tag: 'TI-1',
      value: 41.5,
      statusCode: 0,
      sourceTime: 1_795_000_000_123,
      serverTime: 1_795_000_000_456,
    };
    const reading = toSensorReading(sample, location, '°C', 1_795_000_001_000);
    const expected = create(SensorReadingSchema, {
      location,
      tag: 'TI-1',
      value: 41.5,
      unit: '°C',
      quality: Quality.GOOD,
      timestamps: {
        source: timestampFromMs(1_795_000_000_123),
        server: timestampFromMs(1_795_000_000_456),
      },
    });
    expect(toBinary(SensorReadingSchema, reading)).toEqual(toBinary(SensorReadingSchema, expected));
    expect(sensorReadingCodec.decode(sensorReadingCodec.encode(reading))).toEqual(expected);
  });

  it('stamps a sample without timestamps with the time it was received', () => {
    const reading = toSensorReading(
      { tag: 'TI-1', value: 1, statusCode: 0, sourceTime: undefined, serverTime: undefined },
      location,
      '°C',
      1_795_000_001_000,
    );
    expect(reading.timestamps?.source).toEqual(timestampFromMs(1_795_000_001_000));
    expect(reading.timestamps?.server).toBeUndefined();
  });
});
