import {
  Issuer_Kind,
  WriteConfirmation_Outcome as Outcome,
  timestampMs,
  type SetpointCommand,
  type WriteConfirmation,
} from '@pipac/contracts';

/** An operator's setpoint command and what became of it, as GET /steps/{step}/setpoints/{id} shows it. */
export interface SetpointOutcome {
  commandId: string;
  step: string;
  tag: string;
  device: string;
  value: number;
  unit: string;
  issuedBy: string;
  reason: string;
  issuedAt: string | null;
  /** pending until the device answers. */
  state: 'pending' | 'applied' | 'refused' | 'failed';
  /** The adapter's outcome (`applied`, `refused_limits`, `refused_mode`, …); null while pending. */
  outcome: string | null;
  /** The value the device read back after the write; null when none. */
  valueReadBack: number | null;
  /** Why it was refused or failed. */
  detail: string | null;
  confirmedAt: string | null;
}

const STATES: Partial<Record<Outcome, SetpointOutcome['state']>> = {
  [Outcome.APPLIED]: 'applied',
  [Outcome.REFUSED_LIMITS]: 'refused',
  [Outcome.REFUSED_EXPIRED]: 'refused',
  [Outcome.REFUSED_MODE]: 'refused',
  [Outcome.FAILED]: 'failed',
};

const iso = (at: Parameters<typeof timestampMs>[0] | undefined) =>
  at ? new Date(timestampMs(at)).toISOString() : null;

/**
 * The operators' recent setpoint commands (a person's, seen on the steps' `setpoints` topics,
 * whichever gateway replica issued them) joined with the devices' confirmations, newest
 * `capacity` of them, in memory: the answer to "what became of my command?". The audit trail
 * keeps the outcome for good.
 */
export class SetpointOutcomes {
  private readonly commands = new Map<string, SetpointOutcome>();
  /** Answers that came before their command (the two topics are read apart), by command id. */
  private readonly early = new Map<string, WriteConfirmation>();

  constructor(private readonly capacity = 1000) {}

  /** A command seen (or issued here): recorded as pending unless it is known already. */
  issued(step: string, command: SetpointCommand): void {
    if (command.issuer?.kind !== Issuer_Kind.USER || this.commands.has(command.commandId)) return;
    this.commands.set(command.commandId, {
      commandId: command.commandId,
      step,
      tag: command.targetTag,
      device: command.location?.device ?? '',
      value: command.value,
      unit: command.unit,
      issuedBy: command.issuer.id,
      reason: command.reason,
      issuedAt: iso(command.issuedAt),
      state: 'pending',
      outcome: null,
      valueReadBack: null,
      detail: null,
      confirmedAt: null,
    });
    trim(this.commands, this.capacity);
    const early = this.early.get(command.commandId);
    if (early) {
      this.early.delete(command.commandId);
      this.confirmed(early);
    }
  }

  /** A device's answer; a DUPLICATE repeats nothing new, and other people's commands are not ours. */
  confirmed(confirmation: WriteConfirmation): void {
    const known = this.commands.get(confirmation.commandId);
    const state = STATES[confirmation.outcome];
    if (!state) return;
    if (!known) {
      this.early.set(confirmation.commandId, confirmation);
      trim(this.early, this.capacity);
      return;
    }
    if (known.state !== 'pending') return;
    known.state = state;
    known.outcome = (Outcome[confirmation.outcome] ?? 'unspecified').toLowerCase();
    known.tag = confirmation.targetTag || known.tag;
    known.valueReadBack = Number.isFinite(confirmation.valueReadBack)
      ? confirmation.valueReadBack
      : null;
    known.detail = confirmation.reason || null;
    known.confirmedAt = iso(confirmation.confirmedAt);
  }

  get(step: string, commandId: string): SetpointOutcome | undefined {
    const known = this.commands.get(commandId);
    return known?.step === step ? { ...known } : undefined;
  }
}

/** Drops the oldest entries beyond `capacity` (a Map keeps insertion order). */
function trim(map: Map<string, unknown>, capacity: number): void {
  while (map.size > capacity) map.delete(map.keys().next().value!);
}
