import type { ModeChange, StepReadings, StepSpace } from '@pipac/control';
import type { AgentTelemetry } from './agent-telemetry';
import { CommandDeadline, type CommandDeadlineOptions } from './command-deadline';
import { modeFeedbackEvent } from './mode-events.codec';
import { SetpointCommandBuilder, setpointsToWrite } from './setpoint-command.builder';
import type { StepAgentBus } from './step-agent.bus';
import { StepStatusBuilder, type StatusInput } from './step-status.builder';

/** When, in which cycle and under which model version a cycle's commands are issued. */
export interface CommandsIssued {
  /** ms, on the agent's (plant) clock. */
  at: number;
  cycle: number;
  modelVersion: string;
}

/** Whether a controller may write now (the step's mode machine: only in Automatic). */
export interface WriteGate {
  readonly controllersMayWrite: boolean;
}

/** What the metrics show beside a cycle's status. */
export interface StatusFigures {
  throughputTarget: number;
  /** Age of each gated input, s. */
  inputs: readonly { tag: string; age: number }[];
}

/**
 * What the step agent publishes, encoded by the message builders: setpoint commands (only
 * what changed, except at a hand-over), the step's status each cycle, and mode feedback.
 */
export class StepAgentPublisher {
  private readonly commands: SetpointCommandBuilder;
  private readonly statuses: StepStatusBuilder;
  /** Who wrote last cycle: a hand-over writes every setpoint once, changed or not. */
  private lastWriter: 'agent' | 'fallback' | undefined;

  constructor(
    private readonly bus: StepAgentBus,
    space: StepSpace,
    private readonly telemetry: AgentTelemetry,
    private readonly gate: WriteGate,
    deadline: CommandDeadlineOptions,
  ) {
    this.commands = new SetpointCommandBuilder(bus.address, space, new CommandDeadline(deadline));
    this.statuses = new StepStatusBuilder(bus.address, space);
  }

  /**
   * Publishes the shield's setpoints as commands: those that differ from what the devices hold
   * (`readings`), or every one at a hand-over. Returns how many. The operator may take the
   * step while the policy runs: the operator wins, so no command leaves once the step is out
   * of Automatic (checked before each one).
   */
  async publishCommands(
    setpoints: Readonly<Record<string, number>>,
    source: 'agent' | 'fallback',
    readings: StepReadings,
    { at, cycle, modelVersion }: CommandsIssued,
  ): Promise<number> {
    const handover = source !== this.lastWriter;
    const writes = setpointsToWrite(setpoints, readings.setpoints, handover);
    let published = 0;
    for (const [tag, value] of writes) {
      if (!this.gate.controllersMayWrite) return published;
      await this.bus.publishCommand(
        this.commands.build({ tag, value, source, cycle, at, modelVersion }),
      );
      this.telemetry.commanded(tag, source);
      published++;
    }
    this.lastWriter = source;
    return published;
  }

  /** No controller wrote this cycle: whoever writes next hands over. */
  noWriter(): void {
    this.lastWriter = undefined;
  }

  /** Publishes the step's status, after the metrics take its figures. */
  async publishStatus(input: StatusInput, figures: StatusFigures): Promise<void> {
    const status = this.statuses.build(input);
    this.telemetry.figures({
      conversion: status.conversion,
      productionRate: status.productionRate,
      inSpec: status.inSpec,
      throughputTarget: figures.throughputTarget,
      readings: input.readings,
      inputs: figures.inputs,
    });
    await this.bus.publishStatus(status);
  }

  /** Announces a mode change on the step's state topic (MTP: the feedback, VFbk to VReq). */
  async publishModeFeedback(change: ModeChange, modelVersion: string): Promise<void> {
    await this.bus.publishModeFeedback(modeFeedbackEvent(this.bus.address, change, modelVersion));
  }
}
