import { subscribeAll, subscribeEvents, type EventBus, type Subscription } from '@pipac/bus';
import {
  Alarm_Severity,
  Alarm_State,
  AutomaticSource,
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  WriteConfirmation_Outcome,
  alarmCodec,
  deadLetterTopic,
  deviceStateCodec,
  setpointCommandCodec,
  timestampMs,
  topicName,
  writeConfirmationCodec,
  type Issuer,
  type SetpointCommand,
  type WriteConfirmation,
} from '@pipac/contracts';
import type { Actor, AuditRecord, AuditTrail } from '@pipac/persistence';

export interface AuditRecorderOptions {
  site: string;
  cell: string;
  steps: string[];
  bus: EventBus;
  audit: AuditTrail;
  /** The order and lot a step is working on now, to file each entry under. */
  context: (step: string) => { orderId?: string | undefined; lotId?: string | undefined };
  /** Consumer-group prefix. @default 'coordinator' */
  group?: string;
  /** Entries are written in bursts at most this often, ms. @default 200 */
  flushMs?: number;
  /** Commands are kept this long for their confirmation, ms. @default 600_000 */
  commandMemoryMs?: number;
  /**
   * A confirmation that comes before its command (the two topics are read apart) waits this
   * long for it, ms, before it is recorded without knowing who asked. @default 10_000
   */
  commandWaitMs?: number;
}

const MODES: Record<number, string> = {
  [Mode.OFFLINE]: 'Offline',
  [Mode.OPERATOR]: 'Operator',
  [Mode.AUTOMATIC]: 'Automatic',
};

const REFUSALS: Partial<Record<WriteConfirmation_Outcome, string>> = {
  [WriteConfirmation_Outcome.REFUSED_LIMITS]: 'refused: outside the engineering limits',
  [WriteConfirmation_Outcome.REFUSED_EXPIRED]: 'refused: arrived after its deadline',
  [WriteConfirmation_Outcome.REFUSED_MODE]: 'refused: the step is not in a mode that accepts it',
  [WriteConfirmation_Outcome.FAILED]: 'failed: the device did not take it',
};

/**
 * Writes what happens on the cell's topics into the audit trail: every setpoint a device
 * confirms as changed (joined with its command: who, why, trace, model version; the old value
 * is the last one applied), every refused or failed write (with the device's reason and the
 * requester's), every mode change a step agent announces, every alarm. Entries are buffered
 * briefly and appended in bursts, in the order the events arrived; a confirmation that comes
 * before its command waits for it (`commandWaitMs`), so an operator's write is never recorded
 * without its author.
 */
export class AuditRecorder {
  private readonly commands = new Map<string, { command: SetpointCommand; at: number }>();
  private readonly early = new Map<
    string,
    { step: string; confirmation: WriteConfirmation; at: number }
  >();
  private readonly lastApplied = new Map<string, number>();
  private readonly lastMode = new Map<string, string>();
  private readonly pending: AuditRecord[] = [];
  private subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Entries written so far (for health and tests), and by kind. */
  written = 0;
  readonly counts: Record<string, number> = {};

  constructor(private readonly options: AuditRecorderOptions) {}

  async start(): Promise<void> {
    const { site, cell, bus } = this.options;
    // One consumer group per step and stream: a Kafka group's members share one subscription.
    const group = (step: string, stream: string) =>
      `${this.options.group ?? 'coordinator'}.${site}.${cell}.${step}.audit.${stream}`;
    const deadLetter = deadLetterTopic(site, cell);
    const subscribe = (step: string) => {
      const topic = (stream: 'setpoints' | 'confirmations' | 'state' | 'alarms') =>
        topicName({ site, cell, step, stream });
      return [
        subscribeEvents(bus, {
          group: group(step, 'setpoints'),
          topic: topic('setpoints'),
          codec: setpointCommandCodec,
          deadLetterTopic: deadLetter,
          handler: async (command) => {
            this.commands.set(command.commandId, { command, at: Date.now() });
            const early = this.early.get(command.commandId);
            if (early) {
              this.early.delete(command.commandId);
              this.record(early.step, early.confirmation);
            }
          },
        }),
        subscribeEvents(bus, {
          group: group(step, 'confirmations'),
          topic: topic('confirmations'),
          codec: writeConfirmationCodec,
          deadLetterTopic: deadLetter,
          handler: async (confirmation) => this.onConfirmation(step, confirmation),
        }),
        subscribeEvents(bus, {
          group: group(step, 'state'),
          topic: topic('state'),
          codec: deviceStateCodec,
          deadLetterTopic: deadLetter,
          handler: async (state) => {
            if (state.state !== STEP_MODE_FEEDBACK || state.location?.device) return;
            const mode =
              state.mode === Mode.AUTOMATIC
                ? `Automatic (${state.source === AutomaticSource.FALLBACK ? 'fallback' : 'agent'})`
                : (MODES[state.mode] ?? 'unknown');
            const previous = this.lastMode.get(step) ?? null;
            this.lastMode.set(step, mode);
            this.push(step, {
              actor: actorOf(state.changedBy, step),
              kind: 'mode',
              object: `step/${step}/mode`,
              oldValue: previous,
              newValue: mode,
              reason: state.reason || 'mode change',
              modelVersion: state.changedBy?.modelVersion || undefined,
              at: state.changedAt ? timestampMs(state.changedAt) : undefined,
            });
          },
        }),
        subscribeEvents(bus, {
          group: group(step, 'alarms'),
          topic: topic('alarms'),
          codec: alarmCodec,
          deadLetterTopic: deadLetter,
          handler: async (alarm) => {
            this.push(step, {
              actor: {
                kind: 'system',
                id: alarm.location?.device ? `device/${alarm.location.device}` : `step/${step}`,
              },
              device: alarm.location?.device || undefined,
              kind: 'alarm',
              object: alarm.alarmId,
              newValue: Alarm_State[alarm.state] ?? String(alarm.state),
              unit: alarm.unit || undefined,
              reason:
                `${Alarm_Severity[alarm.severity] ?? ''} ${alarm.quantity} ${alarm.value} ${alarm.unit} ` +
                `(limit ${alarm.limit}): ${alarm.message}`.trim(),
              at: alarm.at ? timestampMs(alarm.at) : undefined,
            });
          },
        }),
      ];
    };
    // Joined in parallel: each consumer group's join takes seconds on Kafka.
    this.subscriptions = await subscribeAll(this.options.steps.flatMap(subscribe));
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.subscriptions.map((s) => s.close()));
    this.subscriptions = [];
    // Confirmations still waiting for their command are recorded as they are, not lost.
    for (const { step, confirmation } of this.early.values()) this.record(step, confirmation);
    this.early.clear();
    await this.flush();
  }

  /** Appends everything buffered (the timer does this every `flushMs`). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const burst = this.pending.splice(0, this.pending.length);
      if (burst.length === 0) return;
      await this.options.audit.appendMany(burst);
      this.written += burst.length;
      for (const entry of burst) this.counts[entry.kind] = (this.counts[entry.kind] ?? 0) + 1;
    });
    return this.flushing;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.forget();
      void this.flush()
        .catch((error: unknown) =>
          process.stderr.write(`coordinator: audit trail: ${String(error)}\n`),
        )
        .finally(() => {
          if (this.subscriptions.length > 0) this.schedule();
        });
    }, this.options.flushMs ?? 200);
    this.timer.unref();
  }

  private onConfirmation(step: string, confirmation: WriteConfirmation): void {
    if (this.commands.has(confirmation.commandId)) return this.record(step, confirmation);
    this.early.set(confirmation.commandId, { step, confirmation, at: Date.now() });
  }

  private record(step: string, confirmation: WriteConfirmation): void {
    const known = this.commands.get(confirmation.commandId);
    const command = known?.command;
    const tag = confirmation.targetTag;
    const at = confirmation.confirmedAt ? timestampMs(confirmation.confirmedAt) : undefined;
    const base = {
      actor: actorOf(command?.issuer, step),
      device:
        confirmation.location?.device ||
        command?.location?.device ||
        tag.split('.')[0] ||
        undefined,
      object: tag,
      unit: confirmation.unit || command?.unit || undefined,
      traceId: command?.traceId || undefined,
      modelVersion: command?.issuer?.modelVersion || undefined,
      at,
    };
    if (confirmation.outcome === WriteConfirmation_Outcome.APPLIED) {
      const value = Number.isNaN(confirmation.valueReadBack)
        ? command?.value
        : confirmation.valueReadBack;
      if (value === undefined) return;
      const previous = this.lastApplied.get(tag);
      this.lastApplied.set(tag, value);
      if (previous === value) return; // written again, unchanged: not a change
      this.push(step, {
        ...base,
        kind: 'setpoint',
        oldValue: previous ?? null,
        newValue: value,
        reason: command?.reason || 'setpoint applied',
      });
      return;
    }
    const refusal = REFUSALS[confirmation.outcome];
    if (!refusal) return; // DUPLICATE: already recorded under its first confirmation
    this.push(step, {
      ...base,
      kind: 'setpoint.refused',
      oldValue: this.lastApplied.get(tag) ?? null,
      newValue: command?.value ?? null,
      reason:
        `${refusal}${confirmation.reason ? `: ${confirmation.reason}` : ''}` +
        (command?.reason ? `; reason given: ${command.reason}` : ''),
    });
  }

  private push(
    step: string,
    entry: Omit<AuditRecord, 'where'> & { device?: string | undefined },
  ): void {
    const { device, ...rest } = entry;
    const context = this.options.context(step);
    this.pending.push({
      ...rest,
      where: {
        cell: this.options.cell,
        step,
        device,
        orderId: context.orderId,
        lotId: context.lotId,
      },
    });
  }

  /**
   * Drops commands whose confirmation will not come any more, and records the confirmations
   * whose command did not come in time, as they are.
   */
  private forget(): void {
    const now = Date.now();
    const horizon = now - (this.options.commandMemoryMs ?? 600_000);
    for (const [id, { at }] of this.commands) if (at < horizon) this.commands.delete(id);
    const waited = now - (this.options.commandWaitMs ?? 10_000);
    for (const [id, { step, confirmation, at }] of this.early) {
      if (at > waited) continue;
      this.early.delete(id);
      this.record(step, confirmation);
    }
  }
}

/** The audit trail's actor for a command's or a change's issuer. */
export function actorOf(issuer: Issuer | undefined, step: string): Actor {
  switch (issuer?.kind) {
    case Issuer_Kind.USER:
      return { kind: 'user', id: issuer.id };
    case Issuer_Kind.AGENT:
      return { kind: 'agent', id: issuer.id || `step-agent/${step}` };
    case Issuer_Kind.FALLBACK_CONTROLLER:
      return { kind: 'agent', id: issuer.id || `fallback/${step}` };
    case Issuer_Kind.COORDINATOR:
      return { kind: 'system', id: issuer.id || 'coordinator' };
    default:
      return { kind: 'system', id: 'unknown' };
  }
}
