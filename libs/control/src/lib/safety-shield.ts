import { ControlError } from './control.error';
/** A range of a setpoint, in its unit. */
export interface Range {
  low: number;
  high: number;
}

/** What the shield knows of one setpoint. */
export interface SetpointLimit {
  tag: string;
  /** The device's engineering range: no setpoint ever leaves it. */
  engineering: Range;
  /**
   * The agent's range, inside the engineering one (operator limits in APC terms): an agent's
   * proposal is clamped to it; the fallback controller is held to the engineering range only.
   * @default the engineering range
   */
  agent?: Range;
  /** Largest change per control cycle, in the tag's unit. @default Infinity */
  maxMove?: number;
}

/** A measurement the agent's decisions rest on, and how old it may be. */
export interface InputGate {
  tag: string;
  /** s */
  maxAge: number;
}

export interface InputStatus {
  tag: string;
  quality: 'good' | 'uncertain' | 'bad';
  /** Age of the newest value, s. */
  age: number;
}

export type InterventionReason =
  | 'not-finite'
  | 'agent-limit'
  | 'engineering-limit'
  | 'move-limit'
  | 'stale-input'
  | 'bad-input'
  | 'policy-failed'
  | 'process-limit'
  | 'fallback-active'
  | 'no-fallback';

/** Something the shield changed or refused, for the audit trail and the metrics. */
export interface Intervention {
  reason: InterventionReason;
  tag?: string;
  proposed?: number;
  applied?: number;
  detail: string;
}

/** The step's process measurements the shield's process-limit check rests on. */
export interface ProcessMeasurement {
  /** Hottest reactor temperature, °C. */
  maxTemperature: number;
  /** Reactor inlet pressure, bar(g). */
  pressure: number;
}

/** Whether setpoints keep the process inside its limits; `detail` says which limit and why not. */
export interface ProcessVerdict {
  safe: boolean;
  detail: string;
}

/**
 * The process limits (hot spot, MTSR, pressure) as the shield sees them: a pure, deterministic
 * check of setpoints before they are applied, and the move that takes a step to its safe side.
 * Implemented by ProcessLimitGuard (step/process-limit.guard.ts) on the twin's steady state.
 */
export interface ProcessLimitCheck {
  check(
    proposed: Readonly<Record<string, number>>,
    current: Readonly<Record<string, number>>,
    measured: ProcessMeasurement | undefined,
  ): ProcessVerdict;
  /** One cycle's move from `current` toward the safe side, within every move limit. */
  safeSide(current: Readonly<Record<string, number>>): Record<string, number>;
}

export type ShieldSource = 'agent' | 'fallback' | 'hold';

export interface ShieldDecision {
  /** Setpoints to write, by tag: every one inside its engineering range and move limit. */
  setpoints: Record<string, number>;
  /**
   * Whose proposal they come from; `hold` keeps the current setpoints. `fallback` also when the
   * shield itself moves the step to its safe side (a 'process-limit' intervention says so).
   */
  source: ShieldSource;
  interventions: Intervention[];
}

export interface ShieldCycle {
  /** The setpoints applied now (the devices' read-back), by tag. */
  current: Record<string, number>;
  /** The gated inputs' quality and age. */
  inputs: InputStatus[];
  /** The policy's proposal, or the error it failed with. */
  agent: Record<string, number> | Error;
  /** The fallback controller's proposal, computed only when needed; undefined when it cannot act. */
  fallback: () => Record<string, number> | undefined;
  /** The measured hot spot and pressure, for the process-limit check. @default none (prediction only) */
  measured?: ProcessMeasurement;
}

export interface SafetyShieldOptions {
  setpoints: SetpointLimit[];
  inputs: InputGate[];
  /** Consecutive healthy cycles before control goes back from the fallback to the agent. @default 3 */
  returnAfterCycles?: number;
  /** The process limits, checked before every write. @default none (setpoint limits only) */
  processLimits?: ProcessLimitCheck;
}

/**
 * The safety shield between every policy and every write (DESIGN.md, Conventions):
 *
 * 1. Gates: every gated input must be fresh (age ≤ maxAge) and not of bad quality, the
 *    policy must have produced a proposal, and that proposal, limited as below, must keep the
 *    process inside its limits (3.); otherwise the watchdog hands control to the fallback
 *    controller, and gives it back only after `returnAfterCycles` healthy cycles in a row (no
 *    flapping). Without a fallback proposal the current setpoints are held.
 * 2. Per setpoint: a missing or non-finite proposal holds the current value; an agent's is
 *    clamped to the agent range; the move from the current value is limited to maxMove; the
 *    result is clamped to the engineering range, last, so that nothing ever leaves it.
 * 3. Process limits (with `processLimits`): whatever is about to be written, the agent's, the
 *    fallback's or a hold, is checked against the hot spot, MTSR and pressure limits before it
 *    is applied; setpoints that would bring the process within its margin of a limit are
 *    replaced by one move toward the safe side (see ProcessLimitGuard), so the shield acts
 *    before a limit is reached, not after.
 *
 * Guarantee (property-tested): every emitted setpoint lies in its engineering range, and
 * moves at most maxMove from a current value inside that range; an agent's lies in the agent
 * range, or approaches it at maxMove per cycle when control comes back from outside it (the
 * move limit wins); with `processLimits`, the twin driven through the shield never crosses a
 * process limit (safety-shield.process.spec.ts). Every change the shield makes is reported as
 * an intervention. The shield is pure: no clock, no randomness, all inputs in the cycle.
 */
export class SafetyShield {
  private readonly limits: Map<string, Required<SetpointLimit>>;
  private readonly returnAfter: number;
  private readonly processLimits: ProcessLimitCheck | undefined;
  private onFallback = false;
  private healthyCycles = 0;

  constructor(private readonly options: SafetyShieldOptions) {
    this.limits = new Map(options.setpoints.map((limit) => [limit.tag, checkedLimit(limit)]));
    this.returnAfter = options.returnAfterCycles ?? 3;
    this.processLimits = options.processLimits;
  }

  /** True while the fallback controller has control. */
  get fallbackActive(): boolean {
    return this.onFallback;
  }

  decide(cycle: ShieldCycle): ShieldDecision {
    const interventions: Intervention[] = [];
    const healthy = this.gate(cycle, interventions) && this.agentKeepsLimits(cycle, interventions);
    this.watchdog(healthy);
    const { proposal, source } = this.choose(cycle, interventions);
    const setpoints = this.limitAll(proposal, cycle.current, source, interventions);
    // The agent's proposal was checked by the gate; the fallback's and a hold are checked here.
    if (source === 'agent' || !this.processLimits) return { setpoints, source, interventions };
    return this.keepProcessLimits({ setpoints, source, interventions }, cycle);
  }

  /** Hands control to the fallback on an unhealthy cycle; back after enough healthy ones. */
  private watchdog(healthy: boolean): void {
    if (!healthy) {
      this.onFallback = true;
      this.healthyCycles = 0;
    } else if (this.onFallback && ++this.healthyCycles >= this.returnAfter) {
      this.onFallback = false;
    }
  }

  /** Whose proposal this cycle's setpoints come from. */
  private choose(
    cycle: ShieldCycle,
    interventions: Intervention[],
  ): { proposal: Record<string, number> | undefined; source: ShieldSource } {
    if (!this.onFallback) {
      return { proposal: cycle.agent instanceof Error ? undefined : cycle.agent, source: 'agent' };
    }
    interventions.push({
      reason: 'fallback-active',
      detail: 'the fallback controller has control',
    });
    const proposal = cycle.fallback();
    if (proposal) return { proposal, source: 'fallback' };
    interventions.push({
      reason: 'no-fallback',
      detail: 'the fallback cannot act: current setpoints held',
    });
    return { proposal: undefined, source: 'hold' };
  }

  /** Every setpoint of the proposal through its limits (2. above). */
  private limitAll(
    proposal: Readonly<Record<string, number>> | undefined,
    current: Readonly<Record<string, number>>,
    source: ShieldSource,
    interventions: Intervention[],
  ): Record<string, number> {
    const setpoints: Record<string, number> = {};
    for (const limit of this.limits.values()) {
      const value = this.limit(
        limit,
        proposal?.[limit.tag],
        current[limit.tag],
        source,
        interventions,
      );
      if (value !== undefined) setpoints[limit.tag] = value;
    }
    return setpoints;
  }

  /**
   * The process-limit gate: the agent's proposal, as the setpoint limits would apply it, must
   * keep the process inside its limits (false hands control to the fallback).
   */
  private agentKeepsLimits(cycle: ShieldCycle, interventions: Intervention[]): boolean {
    if (!this.processLimits || cycle.agent instanceof Error) return true;
    const applied = this.limitAll(cycle.agent, cycle.current, 'agent', []);
    const verdict = this.processLimits.check(applied, cycle.current, cycle.measured);
    if (verdict.safe) return true;
    interventions.push({ reason: 'process-limit', detail: `agent refused: ${verdict.detail}` });
    return false;
  }

  /**
   * The fallback's setpoints, or a hold, that would bring the process within its margin of a
   * limit are replaced by one move toward the safe side. It is written as the fallback's (a hold
   * would leave the process where it is heading).
   */
  private keepProcessLimits(decision: ShieldDecision, cycle: ShieldCycle): ShieldDecision {
    const guard = this.processLimits!;
    const verdict = guard.check(decision.setpoints, cycle.current, cycle.measured);
    if (verdict.safe) return decision;
    const interventions = [...decision.interventions];
    interventions.push({
      reason: 'process-limit',
      detail: `${decision.source} refused, moving to the safe side: ${verdict.detail}`,
    });
    // Through the engineering range and move limits too, so the guarantee of 2. still holds.
    const setpoints = this.limitAll(guard.safeSide(cycle.current), cycle.current, 'fallback', []);
    return { setpoints, source: 'fallback', interventions };
  }

  /** Data-quality, data-age and policy gates; false when the agent may not act this cycle. */
  private gate(cycle: ShieldCycle, interventions: Intervention[]): boolean {
    let healthy = true;
    const byTag = new Map(cycle.inputs.map((input) => [input.tag, input]));
    for (const gate of this.options.inputs) {
      const input = byTag.get(gate.tag);
      if (!input || !(input.age <= gate.maxAge)) {
        healthy = false;
        interventions.push({
          reason: 'stale-input',
          tag: gate.tag,
          detail: input
            ? `${gate.tag} is ${input.age} s old (at most ${gate.maxAge} s)`
            : `no value of ${gate.tag}`,
        });
      } else if (input.quality === 'bad') {
        healthy = false;
        interventions.push({
          reason: 'bad-input',
          tag: gate.tag,
          detail: `${gate.tag} has bad quality`,
        });
      }
    }
    if (cycle.agent instanceof Error) {
      healthy = false;
      interventions.push({
        reason: 'policy-failed',
        detail: `the policy failed: ${cycle.agent.message}`,
      });
    }
    return healthy;
  }

  private limit(
    limit: Required<SetpointLimit>,
    proposed: number | undefined,
    current: number | undefined,
    source: ShieldSource,
    interventions: Intervention[],
  ): number | undefined {
    const { tag, engineering, agent, maxMove } = limit;
    const known = current !== undefined && Number.isFinite(current);
    let value: number | undefined = source === 'hold' ? current : proposed;
    if (value === undefined || !Number.isFinite(value)) {
      if (value !== undefined) {
        interventions.push({
          reason: 'not-finite',
          tag,
          proposed: value,
          detail: `${tag}: ${value} proposed; held`,
        });
      }
      value = known ? current : undefined;
      if (value === undefined) return undefined;
    }
    const proposedValue = value;
    const clamp = (range: Range, reason: InterventionReason) => {
      const clamped = Math.min(range.high, Math.max(range.low, value!));
      if (clamped !== value) {
        interventions.push({
          reason,
          tag,
          proposed: proposedValue,
          applied: clamped,
          detail: `${tag}: ${value} outside ${range.low}..${range.high}`,
        });
        value = clamped;
      }
    };
    if (source === 'agent') clamp(agent, 'agent-limit');
    // A move of maxMove give or take a few ulps of rounding goes as proposed: the bound
    // current ± maxMove is itself rounded (0.6000000000000005 − 0.6 is 4.4e-16, not the 0 a
    // stopping pump asks for).
    if (known && Number.isFinite(maxMove)) {
      const rounding = 8 * Number.EPSILON * Math.max(Math.abs(current), maxMove);
      if (Math.abs(value - current) > maxMove + rounding) {
        clamp({ low: current - maxMove, high: current + maxMove }, 'move-limit');
      }
    }
    // Last, so that it always holds: a current value outside the range moves back into it.
    clamp(engineering, 'engineering-limit');
    return value;
  }
}

/** A setpoint's limits with their defaults, refused where they do not nest. */
function checkedLimit(limit: SetpointLimit): Required<SetpointLimit> {
  const { low, high } = limit.engineering;
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high)) {
    throw new ControlError(
      'INVALID_SETTINGS',
      `${limit.tag}: engineering range ${low}..${high} is not a finite range`,
    );
  }
  const agent = limit.agent ?? limit.engineering;
  if (!(agent.low >= low && agent.high <= high && agent.low <= agent.high)) {
    throw new ControlError(
      'INVALID_SETTINGS',
      `${limit.tag}: agent range ${agent.low}..${agent.high} must lie inside ${low}..${high}`,
    );
  }
  const maxMove = limit.maxMove ?? Infinity;
  if (!(maxMove > 0))
    throw new ControlError(
      'INVALID_SETTINGS',
      `${limit.tag}: maxMove must be positive, got ${maxMove}`,
    );
  return { tag: limit.tag, engineering: limit.engineering, agent, maxMove };
}
