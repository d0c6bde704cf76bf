import type { StepSpace } from '@pipac/control';

/** Outlet flow, mL/min: the sum of the liquid pumps' flows (gas leaves at the separator). */
export function liquidOutletFlow(
  space: StepSpace,
  setpoints: Readonly<Record<string, number>>,
): number {
  return space.step.inlets
    .filter((i) => !i.gas)
    .reduce((sum, i) => sum + (setpoints[i.pump] ?? 0), 0);
}
