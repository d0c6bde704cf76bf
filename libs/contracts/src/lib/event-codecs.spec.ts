import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Issuer_Kind, IssuerSchema, Quality } from '../generated/pipac/v1/common_pb';
import { SensorReadingSchema } from '../generated/pipac/v1/sensor_reading_pb';
import {
  SetpointCommandSchema,
  type SetpointCommand,
} from '../generated/pipac/v1/setpoint_command_pb';
import {
  WriteConfirmation_Outcome,
  WriteConfirmationSchema,
} from '../generated/pipac/v1/write_confirmation_pb';
import { EventDecodeError } from './event-codec';
import {
  STREAM_CODECS,
  sensorReadingCodec,
  setpointCommandCodec,
  writeConfirmationCodec,
} from './event-codecs';
import { STREAMS } from './topics';

const t0 = Date.UTC(2026, 10, 28, 12);

/** A valid command, with fields replaced by `overrides`. */
function command(
  overrides: Partial<Omit<SetpointCommand, '$typeName' | '$unknown'>> = {},
): SetpointCommand {
  const valid = create(SetpointCommandSchema, {
    commandId: '5a0c8c1e-0000-4000-8000-000000000001',
    location: { site: 'basel', cell: 'pipac-1', step: 'nitration', device: 'P-101' },
    targetTag: 'P-101.SP',
    value: 6.5,
    unit: 'mL/min',
    issuer: create(IssuerSchema, {
      kind: Issuer_Kind.AGENT,
      id: 'agent-nitration',
      modelVersion: 'sha256:abc',
    }),
    reason: 'catalyst decay compensation',
    issuedAt: timestampFromMs(t0),
    deadline: timestampFromMs(t0 + 5_000),
  });
  return Object.assign(valid, overrides);
}

describe('event codecs', () => {
  it('has one codec for every stream', () => {
    expect(Object.keys(STREAM_CODECS).sort()).toEqual(Object.keys(STREAMS).sort());
  });

  it('round-trips a setpoint command bit for bit', () => {
    const original = command();
    const bytes = setpointCommandCodec.encode(original);
    const decoded = setpointCommandCodec.decode(bytes, 'pipac.v1.SetpointCommand');
    expect(decoded.commandId).toBe(original.commandId);
    expect(decoded.value).toBe(6.5);
    expect(decoded.issuer?.modelVersion).toBe('sha256:abc');
    expect(setpointCommandCodec.encode(decoded)).toEqual(bytes);
  });

  it('refuses undecodable bytes with UNDECODABLE', () => {
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    expect(() => sensorReadingCodec.decode(garbage)).toThrow(EventDecodeError);
    try {
      sensorReadingCodec.decode(garbage);
    } catch (error) {
      expect((error as EventDecodeError).code).toBe('UNDECODABLE');
    }
  });

  it('refuses a message of another type by its header with WRONG_TYPE', () => {
    const bytes = setpointCommandCodec.encode(command());
    expect(() => sensorReadingCodec.decode(bytes, 'pipac.v1.SetpointCommand')).toThrow(
      /header says pipac.v1.SetpointCommand/,
    );
  });

  it('names every missing or bad field of an invalid command (INVALID), on decode and on encode', () => {
    const bad = command({ commandId: '', value: Number.NaN, deadline: timestampFromMs(t0 - 1) });
    const expected = [
      'command_id is required',
      'value must be a finite number',
      'deadline must be after issued_at',
    ];
    expect(setpointCommandCodec.problems(bad)).toEqual(expected);
    expect(() => setpointCommandCodec.encode(bad)).toThrow(
      /command_id is required; value must be a finite number/,
    );
    // A producer that skipped validation still cannot get it past a consumer.
    const bytes = toBinary(SetpointCommandSchema, bad);
    try {
      setpointCommandCodec.decode(bytes);
      throw new Error('decoded');
    } catch (error) {
      expect(error).toBeInstanceOf(EventDecodeError);
      expect((error as EventDecodeError).code).toBe('INVALID');
    }
  });

  it('asks an agent for its model version and a user for a reason', () => {
    const agent = command({ issuer: create(IssuerSchema, { kind: Issuer_Kind.AGENT, id: 'a' }) });
    expect(setpointCommandCodec.problems(agent)).toEqual([
      'an agent issuer needs its model_version',
    ]);
    const user = command({
      issuer: create(IssuerSchema, { kind: Issuer_Kind.USER, id: 'op-7' }),
      reason: ' ',
    });
    expect(setpointCommandCodec.problems(user)).toEqual(['a user setpoint needs a reason']);
  });

  it('lets a bad-quality reading carry any value but not a good one', () => {
    const reading = (quality: Quality, value: number) =>
      create(SensorReadingSchema, {
        tag: 'TT-101.PV',
        value,
        unit: 'Cel',
        quality,
        timestamps: { source: timestampFromMs(t0) },
      });
    expect(sensorReadingCodec.problems(reading(Quality.BAD, Number.NaN))).toEqual([]);
    expect(sensorReadingCodec.problems(reading(Quality.GOOD, Number.NaN))).toEqual([
      'value must be a finite number',
    ]);
  });

  it('needs a reason for every confirmation but an applied one', () => {
    const confirmation = (outcome: WriteConfirmation_Outcome, reason = '') =>
      create(WriteConfirmationSchema, {
        commandId: 'c',
        targetTag: 'P-101.SP',
        outcome,
        reason,
        valueReadBack: 6.5,
        confirmedAt: timestampFromMs(t0),
      });
    expect(
      writeConfirmationCodec.problems(confirmation(WriteConfirmation_Outcome.APPLIED)),
    ).toEqual([]);
    expect(
      writeConfirmationCodec.problems(confirmation(WriteConfirmation_Outcome.REFUSED_LIMITS)),
    ).toEqual(['a refusal or failure needs a reason']);
  });
});
