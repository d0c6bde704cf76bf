import { stepById, type PlantModel } from '@pipac/recipe';
import type { Range } from './safety-shield';
import { StepSpace } from './step/step-space';

/** One setpoint of a step that a person may write. */
export interface StepSetpoint {
  /** The setpoint's tag on the device (the recipe's: `P-101`, `TC-101`, `PCV-101`). */
  tag: string;
  step: string;
  kind: 'pump' | 'thermostat' | 'back-pressure';
  /** The unit the device takes it in. */
  unit: string;
  /** The device's engineering range: the only limit a person is held to. */
  engineering: Range;
}

export type OperatorSetpointErrorCode =
  | 'UNKNOWN_STEP'
  | 'NOT_A_SETPOINT'
  | 'SETPOINT_OF_ANOTHER_STEP'
  | 'WRONG_UNIT'
  | 'NOT_FINITE'
  | 'ENGINEERING_LIMIT';

/**
 * An operator's setpoint the plant refuses, before anything is sent: `field` names the input at
 * fault (`step`, `tag`, `unit`, `value`). Not retriable with the same input.
 */
export class OperatorSetpointError extends Error {
  readonly retriable = false;

  constructor(
    readonly code: OperatorSetpointErrorCode,
    readonly field: 'step' | 'tag' | 'unit' | 'value',
    message: string,
  ) {
    super(message);
    this.name = 'OperatorSetpointError';
  }
}

export interface OperatorSetpointRequest {
  step: string;
  /** The setpoint's tag, or its target-value reading `<tag>.SP` (what the console shows). */
  tag: string;
  value: number;
  unit: string;
}

export interface CheckedOperatorSetpoint {
  setpoint: StepSetpoint;
  value: number;
}

/** Suffix of a setpoint's target-value reading (libs/contracts `targetValueTag`). */
const TARGET_VALUE_SUFFIX = '.SP';

/**
 * The setpoints an operator may write, per step, from the plant model: each dosing pump, the
 * jacket thermostat and the back-pressure regulator, with the engineering ranges the safety
 * shield holds every write to (the pumps' and the jacket's are the shield's own, from
 * StepSpace). A person is held to the engineering range only: the agent's narrower range and
 * its move limit are for controllers (APC: operator limits bound the controller, not the
 * operator; MTP: the operator always wins). A value is refused, never clamped: a person's
 * number is written as given or not at all.
 */
export class OperatorSetpoints {
  private readonly byStep = new Map<string, StepSetpoint[]>();
  /** Every setpoint tag of the plant, to name the step a misdirected tag belongs to. */
  private readonly owner = new Map<string, string>();

  constructor(model: PlantModel) {
    for (const modelStep of model.steps) {
      const step = stepById(model, modelStep.id);
      const space = new StepSpace(model, step.id);
      const setpoints: StepSetpoint[] = [
        ...space.manipulated.map((m): StepSetpoint => ({
          tag: m.tag,
          step: step.id,
          kind: m.kind,
          unit: m.unit,
          engineering: { ...m.engineering },
        })),
        {
          tag: step.backPressure.tag,
          step: step.id,
          kind: 'back-pressure',
          unit: 'bar',
          engineering: { low: step.backPressure.min, high: step.backPressure.max },
        },
      ];
      this.byStep.set(step.id, setpoints);
      for (const s of setpoints) this.owner.set(s.tag, step.id);
    }
  }

  /** The step's writable setpoints; undefined for a step the plant does not have. */
  of(step: string): readonly StepSetpoint[] | undefined {
    return this.byStep.get(step);
  }

  /**
   * The setpoint a tag names (`P-101` or `P-101.SP`) on any step, or undefined. For the step
   * agent and the adapter: whose write is this?
   */
  find(tag: string): StepSetpoint | undefined {
    const bare = setpointTagOf(tag);
    const step = this.owner.get(bare);
    return step === undefined ? undefined : this.byStep.get(step)?.find((s) => s.tag === bare);
  }

  /** The setpoint and value to write, or an OperatorSetpointError naming the field at fault. */
  check(request: OperatorSetpointRequest): CheckedOperatorSetpoint {
    const setpoints = this.byStep.get(request.step);
    if (!setpoints) {
      throw new OperatorSetpointError(
        'UNKNOWN_STEP',
        'step',
        `"${request.step}" is not a step of this plant (${[...this.byStep.keys()].join(', ')})`,
      );
    }
    const bare = setpointTagOf(request.tag);
    const setpoint = setpoints.find((s) => s.tag === bare);
    if (!setpoint) {
      const other = this.owner.get(bare);
      if (other !== undefined) {
        throw new OperatorSetpointError(
          'SETPOINT_OF_ANOTHER_STEP',
          'tag',
          `${bare} is a setpoint of step ${other}, not of ${request.step}`,
        );
      }
      throw new OperatorSetpointError(
        'NOT_A_SETPOINT',
        'tag',
        `${request.tag} is not a setpoint of step ${request.step} (its setpoints: ${setpoints.map((s) => s.tag).join(', ')})`,
      );
    }
    if (request.unit !== setpoint.unit) {
      throw new OperatorSetpointError(
        'WRONG_UNIT',
        'unit',
        `${setpoint.tag} takes ${setpoint.unit}, not ${request.unit}`,
      );
    }
    const { value } = request;
    if (!Number.isFinite(value)) {
      throw new OperatorSetpointError('NOT_FINITE', 'value', `${value} is not a finite number`);
    }
    const { low, high } = setpoint.engineering;
    if (!(value >= low && value <= high)) {
      throw new OperatorSetpointError(
        'ENGINEERING_LIMIT',
        'value',
        `${value} ${setpoint.unit} is outside the engineering range of ${setpoint.tag}, ${low}..${high} ${setpoint.unit}`,
      );
    }
    // -0 is written as 0: the device and the audit trail show one zero.
    return { setpoint, value: value === 0 ? 0 : value };
  }
}

/**
 * The setpoint tag a name refers to: `P-101` for `P-101` and for its target-value reading
 * `P-101.SP` (the name the console and the event contract's example use); other names are
 * returned as they are.
 */
export function setpointTagOf(tag: string): string {
  return tag.endsWith(TARGET_VALUE_SUFFIX) ? tag.slice(0, -TARGET_VALUE_SUFFIX.length) : tag;
}
