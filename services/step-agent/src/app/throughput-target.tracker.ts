import type { StepSpace } from '@pipac/control';
import { timestampMs, type ThroughputTarget } from '@pipac/contracts';
import { liquidOutletFlow } from './outlet-flow';

/**
 * The coordinator's throughput target for the step: a pace relative to the recipe's (1 runs
 * the recipe's nominal outlet flow), or a pause (MTP Pause: feed pumps off, jacket and
 * back-pressure held, reactor full; a later flow resumes the step). A target lives until its
 * `validUntil`; after that the step runs at the recipe's pace again.
 */
export class ThroughputTargetTracker {
  private target = 1;
  private validUntil = Number.POSITIVE_INFINITY;
  /** Why the coordinator paused the step (a target of 0), or undefined while it runs. */
  private pausedFor: string | undefined;
  /** The recipe's outlet flow, mL/min, which a target's flow is scaled by. */
  private readonly nominalOutletFlow: number;

  constructor(
    space: StepSpace,
    private readonly log: (line: string) => void,
  ) {
    this.nominalOutletFlow = liquidOutletFlow(space, space.nominalSetpoints());
  }

  /** The pace to run at, relative to the recipe's (the last flow asked for while paused). */
  get scale(): number {
    return this.target;
  }

  /** Why the coordinator paused the step, or undefined while it runs. */
  get pausedBy(): string | undefined {
    return this.pausedFor;
  }

  /** The target as the metrics show it: 0 while paused. */
  get shown(): number {
    return this.pausedFor === undefined ? this.target : 0;
  }

  /** Takes a target from the coordinator: a flow to run at, or 0 to pause. */
  apply(target: ThroughputTarget): void {
    if (!(target.outletFlow >= 0)) return;
    if (target.outletFlow === 0) {
      if (this.pausedFor === undefined) this.log(`paused by the coordinator: ${target.reason}`);
      this.pausedFor = target.reason || 'target 0';
    } else {
      if (this.pausedFor !== undefined) this.log(`resumed by the coordinator: ${target.reason}`);
      this.pausedFor = undefined;
      this.target = target.outletFlow / this.nominalOutletFlow;
    }
    this.validUntil = target.validUntil ? timestampMs(target.validUntil) : Number.POSITIVE_INFINITY;
  }

  /** At a cycle's start: a target past its time is dropped. */
  expire(now: number): void {
    if (now > this.validUntil) {
      // The coordinator went quiet: run at the recipe's pace rather than hold a stale pause.
      this.target = 1;
      this.pausedFor = undefined;
    }
  }
}
