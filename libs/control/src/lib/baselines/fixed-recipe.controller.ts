import type { StepController } from '../step/step-controller';
import type { StepReadings } from '../step/step-readings';
import type { StepSpace } from '../step/step-space';

/**
 * The recipe as written: every pump at its nominal flow scaled by the throughput target (the
 * coordinator's order), the jacket at its nominal temperature. What a plant without an
 * autopilot runs, and the floor every controller must beat.
 */
export class FixedRecipeController implements StepController {
  readonly name = 'fixed-recipe';

  constructor(private readonly space: StepSpace) {}

  decide(readings: StepReadings): Record<string, number> {
    const setpoints: Record<string, number> = {};
    for (const m of this.space.manipulated) {
      setpoints[m.tag] = m.kind === 'pump' ? m.nominal * readings.throughputTarget : m.nominal;
    }
    return setpoints;
  }

  reset(): void {
    // Stateless.
  }
}
