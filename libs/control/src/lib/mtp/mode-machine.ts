import type { StepOperatingMode } from '../controller-write-gate';
import { setpointTagOf } from '../operator-setpoint';

/** NAMUR MTP operating modes of a step (VDI/VDE/NAMUR 2658-4: Offline, Operator, Automatic). */
export type StepMode = StepOperatingMode;
/** Who writes in Automatic: the agent (the shield may still hand over to the fallback), or the fallback by request. */
export type RequestedSource = 'agent' | 'fallback';

/** One mode change, as the step's mode log and its feedback (MTP VFbk) record it. */
export interface ModeChange {
  /** ms since the epoch, on the machine's clock. */
  at: number;
  mode: StepMode;
  source: RequestedSource;
  /** Who asked: `user:<id>` for a person, else the component. */
  by: string;
  reason: string;
}

/** A person's setpoint write on the step, as the mode machine needs it. */
export interface OperatorWrite {
  /** The person's id (without `user:`). */
  user: string;
  /** The written tag, as the setpoint (`P-101`) or its target value (`P-101.SP`). */
  tag: string;
  value: number;
  unit: string;
  reason: string;
}

export interface StepModeMachineOptions {
  /** Mode at start: a starting agent does not take control by itself. @default 'operator' */
  mode?: StepMode;
  /** Every setpoint of the step a person may write (an operator's write ends Automatic). */
  setpointTags: Iterable<string>;
  /** ms since the epoch, stamped on each change. */
  clock: () => number;
}

/**
 * The NAMUR MTP mode machine of one step (VDI/VDE/NAMUR 2658-4): Offline, Operator or
 * Automatic, and in Automatic the source that writes (the agent or, by request, the fallback).
 * Controllers write only in Automatic. The operator always wins: a person's mode request is
 * taken whatever the mode, and a person's own setpoint write on the step takes it out of
 * Automatic at once. Plain state, no transport: the caller decodes the events, and announces
 * the changes this returns.
 */
export class StepModeMachine {
  /** Every change, oldest first. */
  readonly log: ModeChange[] = [];
  private current: StepMode;
  private requested: RequestedSource = 'agent';
  private readonly setpointTags: ReadonlySet<string>;

  constructor(private readonly options: StepModeMachineOptions) {
    this.current = options.mode ?? 'operator';
    this.setpointTags = new Set(options.setpointTags);
  }

  get mode(): StepMode {
    return this.current;
  }

  /** The source asked for in Automatic (kept, but not used, in the other modes). */
  get source(): RequestedSource {
    return this.requested;
  }

  /** Whether a controller (the agent or its fallback) may write now: only in Automatic. */
  get controllersMayWrite(): boolean {
    return this.current === 'automatic';
  }

  /**
   * Sets the mode and the source (MTP: a mode request, always taken); undefined when both
   * are already so (no change, nothing to announce).
   */
  request(
    mode: StepMode,
    by: string,
    reason: string,
    source: RequestedSource = 'agent',
  ): ModeChange | undefined {
    if (mode === this.current && source === this.requested) return undefined;
    this.current = mode;
    this.requested = source;
    const change: ModeChange = { at: this.options.clock(), mode, source, by, reason };
    this.log.push(change);
    return change;
  }

  /**
   * A person wrote a setpoint: if it is one of this step's and the step is in Automatic, the
   * step goes to Operator (MTP: the operator always wins). Undefined when nothing changes:
   * the step was not in Automatic, or the tag is another step's.
   */
  operatorWrote(write: OperatorWrite): ModeChange | undefined {
    if (this.current !== 'automatic') return undefined;
    const tag = setpointTagOf(write.tag);
    if (!this.setpointTags.has(tag)) return undefined;
    return this.request(
      'operator',
      `user:${write.user}`,
      `operator set ${tag} to ${write.value} ${write.unit}: ${write.reason}`,
    );
  }
}
