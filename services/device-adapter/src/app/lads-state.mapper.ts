import type { LadsState } from '@pipac/opcua';

/** What a state machine the device did not report (bad status, no value) is written as. */
export const UNKNOWN_STATE = 'Unknown';

/**
 * The LADS state as DeviceState.state carries it on the bus (docs/topics.md): the device's
 * DeviceState (OPC 30500-1 §7.1.2), then, when the node map names functional units, `; ` and
 * each unit's FunctionalUnitState as `<unit>: <state>`, joined by `, `, in the node map's order:
 * `Operate`, `Operate; AT-101: Aborted`, `Sleep; P-101: Running, R-nitration: Stopped`.
 * A machine the device does not report is `Unknown`; no state at all (the node map names none)
 * is the empty string.
 */
export function ladsStateText(state: LadsState | undefined): string {
  if (!state) return '';
  const device = state.device ?? UNKNOWN_STATE;
  if (state.units.length === 0) return device;
  const units = state.units.map(({ unit, state }) => `${unit}: ${state ?? UNKNOWN_STATE}`);
  return `${device}; ${units.join(', ')}`;
}
