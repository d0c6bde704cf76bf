import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { StepSpace } from '@pipac/control';
import { Issuer_Kind, SetpointCommandSchema, type SetpointCommand } from '@pipac/contracts';
import type { CommandDeadline } from './command-deadline';
import { stepLocation, type StepAddress } from './step-address';

/** One setpoint the agent or its fallback writes in a cycle. */
export interface SetpointWrite {
  tag: string;
  value: number;
  source: 'agent' | 'fallback';
  /** The agent's cycle number, which makes the command id unique per instance. */
  cycle: number;
  /** Issue time, ms on the agent's (plant) clock. */
  at: number;
  /** The policy's version; '' for none. */
  modelVersion: string;
}

/**
 * Encodes the agent's setpoint commands: a command id unique per agent instance, cycle and tag,
 * the issuer (agent with its model version, or the fallback controller) and a deadline.
 */
export class SetpointCommandBuilder {
  private readonly units: ReadonlyMap<string, string>;
  /** Tells one agent instance's command ids from another's (a restart, a second replica). */
  private readonly instance = randomUUID().slice(0, 8);

  constructor(
    private readonly address: StepAddress,
    space: StepSpace,
    private readonly deadline: CommandDeadline,
  ) {
    this.units = new Map(space.manipulated.map((m) => [m.tag, m.unit]));
  }

  build(write: SetpointWrite): SetpointCommand {
    const { step } = this.address;
    const agent = write.source === 'agent';
    return create(SetpointCommandSchema, {
      commandId: `${step}-${this.instance}-${write.cycle}-${write.tag}`,
      location: stepLocation(this.address),
      targetTag: write.tag,
      value: write.value,
      unit: this.units.get(write.tag) ?? '',
      issuer: {
        kind: agent ? Issuer_Kind.AGENT : Issuer_Kind.FALLBACK_CONTROLLER,
        id: `step-agent.${step}`,
        modelVersion: agent ? write.modelVersion : '',
      },
      reason: agent ? 'agent' : 'fallback: PID on measured conversion',
      issuedAt: timestampFromMs(write.at),
      // On the agent's (plant) clock, which the adapter checks it on: cycleMs is wall clock.
      deadline: timestampFromMs(this.deadline.deadline(write.at)),
    });
  }
}

/**
 * The setpoints to write: those that differ from what the devices hold, or every one when `all`
 * (a hand-over between agent and fallback writes every setpoint once, changed or not).
 */
export function setpointsToWrite(
  setpoints: Readonly<Record<string, number>>,
  current: Readonly<Record<string, number>>,
  all: boolean,
): [tag: string, value: number][] {
  return Object.entries(setpoints).filter(([tag, value]) => {
    if (all) return true;
    const held = current[tag];
    return held === undefined || Math.abs(value - held) > 1e-9 * Math.max(1, Math.abs(held));
  });
}
