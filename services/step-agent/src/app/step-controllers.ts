import {
  ConversionPidController,
  tuneConversionPid,
  type ConversionPidTuning,
  type RequestedSource,
  type StepReadings,
  type StepSpace,
} from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';
import { PolicyLoader, type PolicyLoaderOptions } from './policy.loader';

export interface StepControllersOptions extends Omit<PolicyLoaderOptions, 'space' | 'recipeName'> {
  model: PlantModel;
  space: StepSpace;
  /** PID fallback tuning. @default SIMC from a step test on the twin (tuneConversionPid) */
  fallbackTuning?: ConversionPidTuning;
}

/**
 * The step's two controllers: the deployed policy (hot-reloaded, see PolicyLoader) and the PID
 * on measured conversion that the safety shield falls back on. Both start afresh from the
 * devices' setpoints after anything that breaks the loop (entering Automatic, a new policy, a
 * pause, cycles out of Automatic), so control continues without a bump.
 */
export class StepControllers {
  readonly policies: PolicyLoader;
  private readonly pid: ConversionPidController;
  private needsReset = true;

  constructor(options: StepControllersOptions) {
    const { model, space, modelsDir, cycleMs, log, onLoaded } = options;
    this.pid = new ConversionPidController(
      space,
      options.fallbackTuning ?? tuneConversionPid(model, space.step.id),
    );
    this.policies = new PolicyLoader({
      modelsDir,
      space,
      recipeName: model.recipe.metadata.name,
      cycleMs,
      // A quarter of the cycle: inference takes microseconds; a session that needs seconds is hung.
      deadlineMs: options.deadlineMs ?? cycleMs / 4,
      log,
      onLoaded: (version) => {
        this.needsReset = true;
        onLoaded(version);
      },
    });
  }

  /** Both controllers start afresh next cycle. */
  startAfresh(): void {
    this.needsReset = true;
  }

  /** The policy's proposal, or why there is none (the shield then hands over to the fallback). */
  async propose(
    readings: StepReadings,
    requested: RequestedSource,
  ): Promise<Record<string, number> | Error> {
    const agent = this.policies.controller;
    if (this.needsReset) {
      this.pid.reset(readings);
      agent?.reset();
      this.needsReset = false;
    }
    if (requested === 'fallback')
      return new Error('the operator asked for the fallback controller');
    if (!agent) return new Error('no policy loaded');
    return agent.decide(readings).catch((e: unknown) => e as Error);
  }

  /** The fallback's setpoints; undefined when it cannot act. */
  fallback(readings: StepReadings): Record<string, number> | undefined {
    return this.pid.decide(readings);
  }
}
