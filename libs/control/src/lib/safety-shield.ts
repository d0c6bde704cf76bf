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

export type ShieldSource = 'agent' | 'fallback' | 'hold';

export interface ShieldDecision {
  /** Setpoints to write, by tag: every one inside its engineering range and move limit. */
  setpoints: Record<string, number>;
  /** Whose proposal they come from; `hold` keeps the current setpoints. */
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
}

export interface SafetyShieldOptions {
  setpoints: SetpointLimit[];
  inputs: InputGate[];
  /** Consecutive healthy cycles before control goes back from the fallback to the agent. @default 3 */
  returnAfterCycles?: number;
}

/**
 * The safety shield between every policy and every write (DESIGN.md, Conventions):
 *
 * 1. Gates: every gated input must be fresh (age ≤ maxAge) and not of bad quality, and the
 *    policy must have produced a proposal; otherwise the watchdog hands control to the
 *    fallback controller, and gives it back only after `returnAfterCycles` healthy cycles
 *    in a row (no flapping). Without a fallback proposal the current setpoints are held.
 * 2. Per setpoint: a missing or non-finite proposal holds the current value; an agent's is
 *    clamped to the agent range; the move from the current value is limited to maxMove; the
 *    result is clamped to the engineering range, last, so that nothing ever leaves it.
 *
 * Guarantee (property-tested): every emitted setpoint lies in its engineering range, and
 * moves at most maxMove from a current value inside that range; an agent's lies in the agent
 * range, or approaches it at maxMove per cycle when control comes back from outside it (the
 * move limit wins). Every change the shield makes is reported as an intervention.
 */
export class SafetyShield {
  private readonly limits: Map<string, Required<SetpointLimit>>;
  private readonly returnAfter: number;
  private onFallback = false;
  private healthyCycles = 0;

  constructor(private readonly options: SafetyShieldOptions) {
    this.limits = new Map();
    for (const limit of options.setpoints) {
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
      this.limits.set(limit.tag, {
        tag: limit.tag,
        engineering: limit.engineering,
        agent,
        maxMove,
      });
    }
    this.returnAfter = options.returnAfterCycles ?? 3;
  }

  /** True while the fallback controller has control. */
  get fallbackActive(): boolean {
    return this.onFallback;
  }

  decide(cycle: ShieldCycle): ShieldDecision {
    const interventions: Intervention[] = [];
    const healthy = this.gate(cycle, interventions);
    if (!healthy) {
      this.onFallback = true;
      this.healthyCycles = 0;
    } else if (this.onFallback && ++this.healthyCycles >= this.returnAfter) {
      this.onFallback = false;
    }

    let source: ShieldSource = 'agent';
    let proposal: Record<string, number> | undefined =
      cycle.agent instanceof Error ? undefined : cycle.agent;
    if (this.onFallback) {
      interventions.push({
        reason: 'fallback-active',
        detail: 'the fallback controller has control',
      });
      proposal = cycle.fallback();
      source = 'fallback';
      if (!proposal) {
        interventions.push({
          reason: 'no-fallback',
          detail: 'the fallback cannot act: current setpoints held',
        });
        source = 'hold';
      }
    }

    const setpoints: Record<string, number> = {};
    for (const limit of this.limits.values()) {
      const current = cycle.current[limit.tag];
      const value = this.limit(limit, proposal?.[limit.tag], current, source, interventions);
      if (value !== undefined) setpoints[limit.tag] = value;
    }
    return { setpoints, source, interventions };
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
    if (known && Number.isFinite(maxMove)) {
      clamp({ low: current - maxMove, high: current + maxMove }, 'move-limit');
    }
    // Last, so that it always holds: a current value outside the range moves back into it.
    clamp(engineering, 'engineering-limit');
    return value;
  }
}
