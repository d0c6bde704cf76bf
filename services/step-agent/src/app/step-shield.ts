import { ProcessLimitGuard, SafetyShield, type InputGate, type StepSpace } from '@pipac/control';

/**
 * The step's safety shield: its setpoints' engineering, agent and move limits, the gates on its
 * inputs, and its process limits (hot spot, MTSR, inlet pressure) checked on the twin's steady
 * state before every write (ProcessLimitGuard, libs/control).
 */
export function createStepShield(space: StepSpace, gates: InputGate[]): SafetyShield {
  return new SafetyShield({
    setpoints: space.shieldLimits(),
    inputs: gates,
    processLimits: new ProcessLimitGuard(space),
  });
}
