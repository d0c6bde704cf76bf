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
 * Turns a setpoint command for this device (isMine) into at most one write and exactly one
 * confirmation:
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

  /**
   * True when the command names this adapter's device (or no device and one of its tags); the
   * command pipeline hands the handler only these.
   */
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

  /**
   * Answers a command for this device (see isMine): the confirmation journaled for its id, or
   * the first check it fails, or the write and its read-back.
   */
  async handle(command: SetpointCommand): Promise<WriteConfirmation> {
    const receivedAt = this.now();
    const tag = this.tagOf(command);
    const seen = this.journal.get(command.commandId);
    if (seen && seen.tag === tag && seen.requested === command.value)
      return this.confirmation(seen);
    const verdict = seen
      ? reused(command, seen)
      : (this.refusal(command, tag, receivedAt) ?? (await this.write(command, tag)));
    return this.answer(command, receivedAt, verdict);
  }

  /** The first check the command fails before anything is written; undefined when it passes. */
  private refusal(
    command: SetpointCommand,
    tag: string,
    receivedAt: number,
  ): CommandVerdict | undefined {
    if (command.deadline && timestampMs(command.deadline) < receivedAt) {
      return {
        outcome: Outcome.REFUSED_EXPIRED,
        reason: `deadline ${new Date(timestampMs(command.deadline)).toISOString()} passed before the adapter received it`,
        final: true,
      };
    }
    const unit = this.options.units[tag];
    if (unit === undefined) {
      return {
        outcome: Outcome.FAILED,
        reason: `device ${this.options.location.device} has no setpoint ${tag}`,
        final: true,
      };
    }
    const modeRefusal = this.modeRefusal(command, receivedAt);
    if (modeRefusal !== undefined) {
      return { outcome: Outcome.REFUSED_MODE, reason: modeRefusal, final: true };
    }
    if (command.unit && command.unit !== unit) {
      return {
        outcome: Outcome.FAILED,
        reason: `${tag} takes ${unit}, the command is in ${command.unit}`,
        final: true,
      };
    }
    const range = this.writer.setpointRange(tag);
    if (range && !(command.value >= range.low && command.value <= range.high)) {
      return {
        outcome: Outcome.REFUSED_LIMITS,
        reason: `${command.value} ${unit} is outside the engineering range of ${tag}, ${range.low}..${range.high} ${unit}`,
        final: true,
      };
    }
    return undefined;
  }

  /**
   * Why a controller's (agent's or fallback's) command may not be written now; an operator's
   * command is never refused, and closes the gate to the controllers.
   */
  private modeRefusal(command: SetpointCommand, receivedAt: number): string | undefined {
    const issuer = command.issuer?.kind;
    if (issuer === Issuer_Kind.USER) {
      // The step agent leaves Automatic when it sees this command; from its issue time on,
      // what the agent may still have on its way is refused.
      const at = command.issuedAt ? timestampMs(command.issuedAt) : receivedAt;
      this.gate.operatorWrote(at, `user:${command.issuer?.id ?? ''}`);
      return undefined;
    }
    if (issuer === Issuer_Kind.AGENT || issuer === Issuer_Kind.FALLBACK_CONTROLLER) {
      return this.gate.refusal();
    }
    return undefined;
  }

  /** Writes the value and judges the read-back; a device out of reach is not a final answer. */
  private async write(command: SetpointCommand, tag: string): Promise<CommandVerdict> {
    if (!this.writer.connected) {
      return {
        outcome: Outcome.FAILED,
        reason: `device ${this.options.location.device} is not connected`,
        final: false,
      };
    }
    let written: WriteOutcome;
    try {
      written = await this.writer.writeSetpoint(tag, command.value);
    } catch (error) {
      return {
        outcome: Outcome.FAILED,
        reason: `write to ${tag} failed: ${(error as Error).message}`,
        final: false,
      };
    }
    return readBackVerdict(command, tag, this.options.units[tag] ?? '', written);
  }

  /** The confirmation of a verdict, journaled first when it is final. */
  private answer(
    command: SetpointCommand,
    receivedAt: number,
    verdict: CommandVerdict,
  ): WriteConfirmation {
    const entry: JournalEntry = {
      commandId: command.commandId,
      tag: this.tagOf(command),
      requested: command.value,
      outcome: verdict.outcome,
      valueReadBack: verdict.valueReadBack ?? Number.NaN,
      reason: verdict.reason,
      receivedAt,
      confirmedAt: this.now(),
    };
    if (verdict.final) this.journal.record(entry);
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

/**
 * What the handler decided about one command: the confirmation's outcome, why, and the value
 * read back. A final verdict is journaled, so a redelivery gets it again; one that is not (the
 * device out of reach, a reused id) lets a redelivered command try again.
 */
interface CommandVerdict {
  outcome: Outcome;
  /** Empty for APPLIED. */
  reason: string;
  /** @default NaN: nothing read back */
  valueReadBack?: number;
  final: boolean;
}

/** A command id used before for another tag or value: refused, and never applied. */
function reused(command: SetpointCommand, seen: JournalEntry): CommandVerdict {
  return {
    outcome: Outcome.DUPLICATE,
    reason: `command id ${command.commandId} was used before for ${seen.tag} = ${seen.requested}; not applied`,
    final: false,
  };
}

/** APPLIED only when the device confirmed the value it was written. */
function readBackVerdict(
  command: SetpointCommand,
  tag: string,
  unit: string,
  written: WriteOutcome,
): CommandVerdict {
  const valueReadBack = written.readBack;
  if (written.confirmed)
    return { outcome: Outcome.APPLIED, reason: '', valueReadBack, final: true };
  if (written.writeStatus === 'BadOutOfRange') {
    return {
      outcome: Outcome.REFUSED_LIMITS,
      reason: `the device refused ${command.value} ${unit} for ${tag} (BadOutOfRange)`,
      valueReadBack,
      final: true,
    };
  }
  return {
    outcome: Outcome.FAILED,
    reason: `device did not confirm ${tag}: write ${written.writeStatus}, read-back ${written.readBack} (${written.readStatus})`,
    valueReadBack,
    final: false,
  };
}
