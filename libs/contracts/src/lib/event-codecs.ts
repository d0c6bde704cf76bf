import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { AlarmSchema, Alarm_Severity, Alarm_State } from '../generated/pipac/v1/alarm_pb';
import { Issuer_Kind, Quality } from '../generated/pipac/v1/common_pb';
import { DeviceStateSchema, Mode } from '../generated/pipac/v1/device_state_pb';
import { SensorReadingSchema } from '../generated/pipac/v1/sensor_reading_pb';
import { SetpointCommandSchema } from '../generated/pipac/v1/setpoint_command_pb';
import { StepStatusSchema } from '../generated/pipac/v1/step_status_pb';
import { ThroughputTargetSchema } from '../generated/pipac/v1/throughput_target_pb';
import {
  WriteConfirmationSchema,
  WriteConfirmation_Outcome,
} from '../generated/pipac/v1/write_confirmation_pb';
import { eventCodec } from './event-codec';
import { encodeSensorReading } from './sensor-reading.encoder';
import type { Stream } from './topics';

/** Collects problems: `check(condition, message)` adds the message when the condition fails. */
function checker(): { check: (ok: boolean, problem: string) => void; problems: string[] } {
  const problems: string[] = [];
  return { problems, check: (ok, problem) => void (ok || problems.push(problem)) };
}

const present = (text: string) => text.trim().length > 0;
const hasTime = (t: Timestamp | undefined): t is Timestamp =>
  t !== undefined && Number.isFinite(timestampMs(t));

export const sensorReadingCodec = eventCodec(
  SensorReadingSchema,
  (m) => {
    const { check, problems } = checker();
    check(present(m.tag), 'tag is required');
    check(m.quality !== Quality.UNSPECIFIED, 'quality is required');
    // A bad-quality value may be anything (the device says so); a usable one must be a number.
    check(m.quality === Quality.BAD || Number.isFinite(m.value), 'value must be a finite number');
    check(hasTime(m.timestamps?.source), 'timestamps.source is required');
    return problems;
  },
  encodeSensorReading,
);

export const setpointCommandCodec = eventCodec(SetpointCommandSchema, (m) => {
  const { check, problems } = checker();
  check(present(m.commandId), 'command_id is required');
  check(present(m.targetTag), 'target_tag is required');
  check(Number.isFinite(m.value), 'value must be a finite number');
  check(
    m.issuer !== undefined && m.issuer.kind !== Issuer_Kind.UNSPECIFIED,
    'issuer.kind is required',
  );
  check(
    m.issuer?.kind !== Issuer_Kind.AGENT || present(m.issuer.modelVersion),
    'an agent issuer needs its model_version',
  );
  check(m.issuer?.kind !== Issuer_Kind.USER || present(m.reason), 'a user setpoint needs a reason');
  check(hasTime(m.issuedAt), 'issued_at is required');
  check(hasTime(m.deadline), 'deadline is required');
  if (hasTime(m.issuedAt) && hasTime(m.deadline)) {
    check(timestampMs(m.deadline) > timestampMs(m.issuedAt), 'deadline must be after issued_at');
  }
  return problems;
});

export const writeConfirmationCodec = eventCodec(WriteConfirmationSchema, (m) => {
  const { check, problems } = checker();
  check(present(m.commandId), 'command_id is required');
  check(present(m.targetTag), 'target_tag is required');
  check(m.outcome !== WriteConfirmation_Outcome.UNSPECIFIED, 'outcome is required');
  check(
    m.outcome === WriteConfirmation_Outcome.APPLIED || present(m.reason),
    'a refusal or failure needs a reason',
  );
  check(
    m.outcome !== WriteConfirmation_Outcome.APPLIED || Number.isFinite(m.valueReadBack),
    'an applied write needs its value read back',
  );
  check(hasTime(m.confirmedAt), 'confirmed_at is required');
  return problems;
});

export const deviceStateCodec = eventCodec(DeviceStateSchema, (m) => {
  const { check, problems } = checker();
  check(
    m.location !== undefined && (present(m.location.device) || present(m.location.step)),
    'location.device or location.step is required',
  );
  check(m.mode !== Mode.UNSPECIFIED, 'mode is required');
  check(hasTime(m.changedAt), 'changed_at is required');
  return problems;
});

export const stepStatusCodec = eventCodec(StepStatusSchema, (m) => {
  const { check, problems } = checker();
  check(m.location !== undefined && present(m.location.step), 'location.step is required');
  check(
    Number.isFinite(m.conversion) && m.conversion >= 0 && m.conversion <= 1,
    'conversion must be in 0..1',
  );
  for (const [name, value] of [
    ['production_rate', m.productionRate],
    ['capacity', m.capacity],
    ['outlet_flow', m.outletFlow],
  ] as const) {
    check(Number.isFinite(value) && value >= 0, `${name} must be a non-negative number`);
  }
  check(hasTime(m.at), 'at is required');
  return problems;
});

export const throughputTargetCodec = eventCodec(ThroughputTargetSchema, (m) => {
  const { check, problems } = checker();
  check(m.location !== undefined && present(m.location.step), 'location.step is required');
  check(
    Number.isFinite(m.outletFlow) &&
      m.outletFlowMin <= m.outletFlow &&
      m.outletFlow <= m.outletFlowMax &&
      m.outletFlowMin >= 0,
    'outlet_flow must lie in [outlet_flow_min, outlet_flow_max], all ≥ 0',
  );
  check(hasTime(m.issuedAt), 'issued_at is required');
  return problems;
});

export const alarmCodec = eventCodec(AlarmSchema, (m) => {
  const { check, problems } = checker();
  check(present(m.alarmId), 'alarm_id is required');
  check(m.severity !== Alarm_Severity.UNSPECIFIED, 'severity is required');
  check(m.state !== Alarm_State.UNSPECIFIED, 'state is required');
  check(hasTime(m.at), 'at is required');
  return problems;
});

/** The codec of each stream (see topics.ts). */
export const STREAM_CODECS = {
  sensors: sensorReadingCodec,
  setpoints: setpointCommandCodec,
  confirmations: writeConfirmationCodec,
  state: deviceStateCodec,
  status: stepStatusCodec,
  targets: throughputTargetCodec,
  alarms: alarmCodec,
} as const satisfies Record<Stream, unknown>;
