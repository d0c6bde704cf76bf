import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ControllerWriteGate, StepOperatingMode } from '@pipac/control';
import {
  Issuer_Kind,
  Mode,
  STEP_MODE_FEEDBACK,
  WriteConfirmation_Outcome,
  deviceStateCodec,
  setpointCommandCodec,
  timestampMs,
  writeConfirmationCodec,
  type DeviceState,
  type SetpointCommand,
} from '@pipac/contracts';
import {
  publishEvent,
  subscribeAll,
  subscribeEvents,
  type EventBus,
  type Subscription,
} from '@pipac/bus';
import { METRICS, SPANS, SpanKind, counter, histogram, inSpan } from '@pipac/telemetry';
import type { SetpointCommandHandler } from './setpoint-command.handler';

export interface CommandPipelineOptions {
  /** Where the device sits: site, cell and step name the topics' consumer groups. */
  location: { site: string; cell: string; step: string; device: string };
  /** The step's topics the pipeline reads and writes. */
  topics: { setpoints: string; state: string; confirmations: string };
  deadLetterTopic: string;
  /** Told of every mode event of the step (a request or the agent's feedback), with its reason. */
  onModeEvent: (reason: string) => void;
}

export interface CommandPipelineStats {
  /** Commands for this device answered with a confirmation. */
  commands: number;
  /** Tombstones (null values: deleted keys) seen on the setpoints and state topics, ignored. */
  tombstones: number;
}

/**
 * Bus → device for one device: SetpointCommands on the step's `setpoints` topic that are this
 * device's are checked, written and read back by the handler, and each gets one
 * WriteConfirmation on `confirmations` before its offset is committed (a command whose
 * confirmation cannot be published is redelivered, and the handler's journal keeps it from being
 * applied twice); malformed commands go to the dead-letter topic. The step's modes (requests and
 * the agent's feedback on `state`, read from the start of the compacted topic) feed the write gate
 * the handler checks the controllers' commands against, so the operator wins.
 */
export class CommandPipeline {
  private readonly counters: CommandPipelineStats = { commands: 0, tombstones: 0 };
  private subscriptions: Subscription[] = [];
  private readonly labels: { step: string; device: string };
  private readonly writes = counter(METRICS.adapterWrites);
  private readonly writeDuration = histogram(METRICS.adapterWriteDuration);

  constructor(
    private readonly bus: EventBus,
    private readonly handler: SetpointCommandHandler,
    private readonly gate: ControllerWriteGate,
    private readonly options: CommandPipelineOptions,
  ) {
    this.labels = { step: options.location.step, device: options.location.device };
  }

  get stats(): CommandPipelineStats {
    return { ...this.counters };
  }

  /** Subscribes to the step's modes and commands; joined in parallel (each group's join takes seconds on Kafka). */
  async start(): Promise<void> {
    this.subscriptions = await subscribeAll([this.followModes(), this.takeCommands()]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
  }

  /**
   * The step's mode: every adapter process reads the compacted topic from its start (a group of
   * its own), so it knows the mode the step is in before the first command.
   */
  private followModes(): Promise<Subscription> {
    const { site, cell, device } = this.options.location;
    return subscribeEvents(this.bus, {
      group: `device-adapter.${site}.${cell}.${device}.state.${randomUUID()}`,
      topic: this.options.topics.state,
      codec: deviceStateCodec,
      deadLetterTopic: this.options.deadLetterTopic,
      fromBeginning: true,
      onTombstone: () => this.counters.tombstones++,
      handler: async (state) => {
        followMode(this.gate, state);
        // What the adapter lets controllers do is part of the device's state.
        if (!state.location?.device) this.options.onModeEvent(state.reason || 'mode');
      },
    });
  }

  private takeCommands(): Promise<Subscription> {
    const { site, cell, device } = this.options.location;
    return subscribeEvents(this.bus, {
      group: `device-adapter.${site}.${cell}.${device}`,
      topic: this.options.topics.setpoints,
      codec: setpointCommandCodec,
      deadLetterTopic: this.options.deadLetterTopic,
      retryDelayMs: 200,
      // A deleted key of the compacted topic (a retired tag's last command): no command.
      onTombstone: () => this.counters.tombstones++,
      handler: (command) => this.receive(command),
    });
  }

  /** One command: another device's is not this adapter's; this device's is applied and confirmed. */
  private async receive(command: SetpointCommand): Promise<void> {
    if (!this.handler.isMine(command)) return;
    const started = performance.now();
    // The write, read-back and confirmation in one span, in the command's trace.
    await inSpan(
      SPANS.write,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'pipac.device': this.options.location.device,
          'pipac.tag': command.targetTag,
          'pipac.command_id': command.commandId,
        },
      },
      async (span) => {
        const confirmation = await this.handler.handle(command);
        const outcome = WriteConfirmation_Outcome[confirmation.outcome].toLowerCase();
        span.setAttribute('pipac.outcome', outcome);
        this.writes.add(1, { ...this.labels, outcome });
        this.writeDuration.record((performance.now() - started) / 1000, this.labels);
        this.counters.commands++;
        await publishEvent(
          this.bus,
          this.options.topics.confirmations,
          writeConfirmationCodec,
          confirmation.targetTag,
          confirmation,
        );
      },
    );
  }
}

const MODES: Partial<Record<Mode, StepOperatingMode>> = {
  [Mode.OFFLINE]: 'offline',
  [Mode.OPERATOR]: 'operator',
  [Mode.AUTOMATIC]: 'automatic',
};

/**
 * A step's mode event into the controllers' write gate: a person's request for the step, or
 * the agent's feedback (both name the step, not a device); a device's own state is not a mode.
 */
function followMode(gate: ControllerWriteGate, state: DeviceState): void {
  if (state.location?.device) return;
  const mode = MODES[state.mode];
  if (!mode || !state.changedAt) return;
  const person = state.changedBy?.kind === Issuer_Kind.USER;
  // A request (no state) counts only from a person; the feedback says STEP_MODE_FEEDBACK.
  if (state.state !== STEP_MODE_FEEDBACK && !(person && state.state === '')) return;
  const by = person ? `user:${state.changedBy?.id ?? ''}` : state.changedBy?.id || 'step-agent';
  gate.modeChanged(mode, timestampMs(state.changedAt), by);
}
