import type { PlantModel } from '@pipac/recipe';
import { SimulationError } from './simulation.error';

/**
 * The steps whose simulation can change what step `stepId` sees, that step included: the
 * steps that fill a tank it draws from, and those that draw from the same tanks or feed
 * vessels (they share the level and the inventory), and so on for every step found. The rest
 * (steps downstream of it, for a line) cannot reach it: the plant need not advance them to
 * give this step, bit for bit, the run the whole plant would give it.
 */
export function stepsReaching(model: PlantModel, stepId: string): boolean[] {
  const focus = model.steps.findIndex((s) => s.id === stepId);
  if (focus < 0) {
    const known = model.steps.map((s) => s.id).join(', ');
    throw new SimulationError('OPTIONS_INVALID', `unknown step "${stepId}"; known: ${known}`);
  }
  const needed = model.steps.map((_, i) => i === focus);
  const sources = model.steps.map((step) =>
    step.inlets.map((inlet) => `${inlet.source}:${inlet.sourceIndex}`),
  );
  for (let grew = true; grew;) {
    grew = false;
    const drawn = new Set(sources.filter((_, i) => needed[i]).flat());
    model.steps.forEach((step, i) => {
      if (needed[i]) return;
      const fills = step.outletTank >= 0 && drawn.has(`tank:${step.outletTank}`);
      const shares = sources[i]!.some((source) => drawn.has(source));
      if (fills || shares) needed[i] = grew = true;
    });
  }
  return needed;
}
