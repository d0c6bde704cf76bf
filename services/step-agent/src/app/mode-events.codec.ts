import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ModeChange, OperatorWrite, RequestedSource, StepMode } from '@pipac/control';
import {
  AutomaticSource,
  DeviceStateSchema,
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  type DeviceState,
  type SetpointCommand,
} from '@pipac/contracts';
import { stepLocation, type StepAddress } from './step-address';

export const MODE_WIRE = {
  offline: Mode.OFFLINE,
  operator: Mode.OPERATOR,
  automatic: Mode.AUTOMATIC,
} as const;
const MODE_FROM_WIRE: Partial<Record<Mode, StepMode>> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/** A person's mode request, read from the step's state topic. */
export interface ModeRequest {
  mode: StepMode;
  source: RequestedSource;
  by: string;
  reason: string;
}

/**
 * A mode change announced on the step's state topic (MTP: the feedback to a request, VFbk
 * to VReq): the mode taken, who asked and why, for the coordinator and the audit trail. A
 * request has an empty `state`; the feedback says `ModeFeedback`, so agents never take one
 * for the other.
 */
export function modeFeedbackEvent(
  address: StepAddress,
  change: ModeChange,
  modelVersion: string,
): DeviceState {
  const person = change.by.startsWith('user:');
  return create(DeviceStateSchema, {
    location: stepLocation(address),
    mode: MODE_WIRE[change.mode],
    source: change.source === 'fallback' ? AutomaticSource.FALLBACK : AutomaticSource.AGENT,
    state: STEP_MODE_FEEDBACK,
    connected: true,
    changedBy: person
      ? { kind: Issuer_Kind.USER, id: change.by.slice('user:'.length), modelVersion: '' }
      : { kind: Issuer_Kind.AGENT, id: change.by, modelVersion },
    reason: change.reason,
    changedAt: timestampFromMs(change.at),
  });
}

/**
 * A mode request: a DeviceState for the step itself (no device), issued by a person; undefined
 * for anything else (a device's state, an agent's feedback, a mode the step does not know).
 */
export function modeRequestOf(state: DeviceState): ModeRequest | undefined {
  if (state.location?.device || state.changedBy?.kind !== Issuer_Kind.USER) return undefined;
  if (state.state === STEP_MODE_FEEDBACK) return undefined; // an agent's feedback, not a request
  const mode = MODE_FROM_WIRE[state.mode];
  if (!mode) return undefined;
  return {
    mode,
    source: state.source === AutomaticSource.FALLBACK ? 'fallback' : 'agent',
    by: `user:${state.changedBy.id}`,
    reason: state.reason || 'mode request',
  };
}

/** A person's own setpoint command; undefined for a controller's. */
export function operatorWriteOf(command: SetpointCommand): OperatorWrite | undefined {
  if (command.issuer?.kind !== Issuer_Kind.USER) return undefined;
  return {
    user: command.issuer.id,
    tag: command.targetTag,
    value: command.value,
    unit: command.unit,
    reason: command.reason,
  };
}
