import { ControllerWriteGate, setpointTagOf } from '@pipac/control';
import {
  Issuer_Kind,
  WriteConfirmation_Outcome as Outcome,
  WriteConfirmationSchema,
  create,
  timestampFromMs,
  timestampMs,
  type SetpointCommand,
  type WriteConfirmation,
} from '@pipac/contracts';
import type { WriteOutcome } from '@pipac/opcua';
import type { CommandJournal, JournalEntry } from './command-journal';

/** What the handler needs of a device session (DeviceClient has it). */
export interface SetpointWriter {
  readonly connected: boolean;
  setpointRange(tag: string): { low: number; high: number } | undefined;
  writeSetpoint(tag: string, value: number): Promise<WriteOutcome>;
}

export interface SetpointCommandHandlerOptions {
  /** Where this adapter sits; `device` decides which commands are its own. */
  location: { site: string; cell: string; step: string; device: string };
  /** Unit of each setpoint tag the device has (from the node map). */
  units: Record<string, string>;
  /** ms since the epoch. @default Date.now */
  now?: () => number;
  /**
   * Whether the step's controllers may write (fed with the step's modes by the adapter).
   * @default a gate of its own, fed by the operators' commands only
   */
  gate?: ControllerWriteGate;
}

/**
 * Turns a setpoint command into at most one write and exactly one confirmation:
 * - commands for another device are not this adapter's (undefined);
 * - a command id seen before is never applied again: its original confirmation is repeated,
 *   or, if the id comes back with another tag or value, the reuse is refused (DUPLICATE);
 * - refused when past its deadline (REFUSED_EXPIRED), for an unknown tag or unit (FAILED),
 *   outside the device's engineering range (REFUSED_LIMITS), or from a controller (agent or
 *   fallback) while the step is out of Automatic (REFUSED_MODE: an operator's setpoint ends
 *   Automatic, so a controller command still on its way never overwrites it), before anything
 *   is written;
 * - a tag may be named as the setpoint (`P-101`) or as its target-value reading (`P-101.SP`,
 *   the event contract's example); the confirmation names the setpoint;
 * - otherwise written and read back: APPLIED only when the device confirms the value.
 * Final answers are journaled before they are returned; a failure to reach the device is not,
 * so a redelivered command may try again (a setpoint write is idempotent).
 */
export class SetpointCommandHandler {
  private readonly now: () => number;
  readonly gate: ControllerWriteGate;

  constructor(
    private readonly writer: SetpointWriter,
    private readonly journal: CommandJournal,
    private readonly options: SetpointCommandHandlerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.gate = options.gate ?? new ControllerWriteGate();
  }

  /** True when the command names this adapter's device (or no device and one of its tags). */
  isMine(command: SetpointCommand): boolean {
    const device = command.location?.device ?? '';
    if (device) return device === this.options.location.device;
    return this.tagOf(command) in this.options.units;
  }

  /** The setpoint a command names: its tag, or the tag of the target-value reading it names. */
  private tagOf(command: SetpointCommand): string {
    const tag = command.targetTag;
    if (tag in this.options.units) return tag;
    const bare = setpointTagOf(tag);
    return bare in this.options.units ? bare : tag;
  }

  async handle(command: SetpointCommand): Promise<WriteConfirmation | undefined> {
    if (!this.isMine(command)) return undefined;
    const receivedAt = this.now();
    const tag = this.tagOf(command);
    const seen = this.journal.get(command.commandId);
    if (seen) {
      if (seen.tag === tag && seen.requested === command.value) return this.confirmation(seen);
      return this.answer(
        command,
        receivedAt,
        Outcome.DUPLICATE,
        Number.NaN,
        `command id ${command.commandId} was used before for ${seen.tag} = ${seen.requested}; not applied`,
        false,
      );
    }
    const unit = this.options.units[tag];
    if (command.deadline && timestampMs(command.deadline) < receivedAt) {
      return this.answer(
        command,
        receivedAt,
        Outcome.REFUSED_EXPIRED,
        Number.NaN,
        `deadline ${new Date(timestampMs(command.deadline)).toISOString()} passed before the adapter received it`,
        true,
      );
    }
    if (unit === undefined) {
      return this.answer(
        command,
        receivedAt,
        Outcome.FAILED,
        Number.NaN,
        `device ${this.options.location.device} has no setpoint ${tag}`,
        true,
      );
    }
    const issuer = command.issuer?.kind;
    if (issuer === Issuer_Kind.USER) {
      // The step agent leaves Automatic when it sees this command; from its issue time on,
      // what the agent may still have on its way is refused.
      const at = command.issuedAt ? timestampMs(command.issuedAt) : receivedAt;
      this.gate.operatorWrote(at, `user:${command.issuer?.id ?? ''}`);
    } else if (issuer === Issuer_Kind.AGENT || issuer === Issuer_Kind.FALLBACK_CONTROLLER) {
      const refusal = this.gate.refusal();
      if (refusal !== undefined) {
        return this.answer(command, receivedAt, Outcome.REFUSED_MODE, Number.NaN, refusal, true);
      }
    }
    if (command.unit && command.unit !== unit) {
      return this.answer(
        command,
        receivedAt,
        Outcome.FAILED,
        Number.NaN,
        `${tag} takes ${unit}, the command is in ${command.unit}`,
        true,
      );
    }
    const range = this.writer.setpointRange(tag);
    if (range && !(command.value >= range.low && command.value <= range.high)) {
      return this.answer(
        command,
        receivedAt,
        Outcome.REFUSED_LIMITS,
        Number.NaN,
        `${command.value} ${unit} is outside the engineering range of ${tag}, ${range.low}..${range.high} ${unit}`,
        true,
      );
    }
    if (!this.writer.connected) {
      return this.answer(
        command,
        receivedAt,
        Outcome.FAILED,
        Number.NaN,
        `device ${this.options.location.device} is not connected`,
        false,
      );
    }
    let outcome: WriteOutcome;
    try {
      outcome = await this.writer.writeSetpoint(tag, command.value);
    } catch (error) {
      return this.answer(
        command,
        receivedAt,
        Outcome.FAILED,
        Number.NaN,
        `write to ${tag} failed: ${(error as Error).message}`,
        false,
      );
    }
    if (outcome.confirmed) {
      return this.answer(command, receivedAt, Outcome.APPLIED, outcome.readBack, '', true);
    }
    if (outcome.writeStatus === 'BadOutOfRange') {
      return this.answer(
        command,
        receivedAt,
        Outcome.REFUSED_LIMITS,
        outcome.readBack,
        `the device refused ${command.value} ${unit} for ${tag} (BadOutOfRange)`,
        true,
      );
    }
    return this.answer(
      command,
      receivedAt,
      Outcome.FAILED,
      outcome.readBack,
      `device did not confirm ${tag}: write ${outcome.writeStatus}, read-back ${outcome.readBack} (${outcome.readStatus})`,
      false,
    );
  }

  private answer(
    command: SetpointCommand,
    receivedAt: number,
    outcome: Outcome,
    valueReadBack: number,
    reason: string,
    final: boolean,
  ): WriteConfirmation {
    const entry: JournalEntry = {
      commandId: command.commandId,
      tag: this.tagOf(command),
      requested: command.value,
      outcome,
      valueReadBack,
      reason,
      receivedAt,
      confirmedAt: this.now(),
    };
    if (final) this.journal.record(entry);
    return this.confirmation(entry);
  }

  private confirmation(entry: JournalEntry): WriteConfirmation {
    return create(WriteConfirmationSchema, {
      commandId: entry.commandId,
      location: { ...this.options.location },
      targetTag: entry.tag,
      outcome: entry.outcome,
      // NaN is stored as null in the JSON journal.
      valueReadBack: Number.isFinite(entry.valueReadBack) ? entry.valueReadBack : Number.NaN,
      unit: this.options.units[entry.tag] ?? '',
      reason: entry.reason,
      receivedAt: timestampFromMs(entry.receivedAt),
      confirmedAt: timestampFromMs(entry.confirmedAt),
    });
  }
}
