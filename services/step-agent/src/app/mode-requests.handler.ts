import type { ModeChange, StepModeMachine } from '@pipac/control';
import type { DeviceState, SetpointCommand } from '@pipac/contracts';
import { modeRequestOf, operatorWriteOf } from './mode-events.codec';

/**
 * What a person does to the step's mode through the bus, applied to the mode machine: a mode
 * request on the step's state topic, or an operator's own setpoint command (which ends
 * Automatic). Each change is handed to `announce`; everything else is ignored.
 */
export class ModeRequestsHandler {
  constructor(
    private readonly modes: StepModeMachine,
    private readonly announce: (change: ModeChange) => void,
  ) {}

  /** A person's mode request (a DeviceState for the step itself): taken whatever the mode. */
  onModeRequest(state: DeviceState): void {
    const request = modeRequestOf(state);
    if (!request) return;
    const { mode, by, reason, source } = request;
    this.changed(this.modes.request(mode, by, reason, source));
  }

  /**
   * An operator writing any setpoint of this step (a pump, the jacket, the back-pressure; named
   * as `P-101` or `P-101.SP`) takes it out of Automatic: the operator wins.
   */
  onSetpointCommand(command: SetpointCommand): void {
    const write = operatorWriteOf(command);
    if (write) this.changed(this.modes.operatorWrote(write));
  }

  private changed(change: ModeChange | undefined): void {
    if (change) this.announce(change);
  }
}
