import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  PolicyController,
  loadStepPolicy,
  type LoadedPolicy,
  type StepSpace,
} from '@pipac/control';

export interface PolicyLoaderOptions {
  /** Deployed models: <modelsDir>/<step>/policy.onnx with its card. */
  modelsDir: string;
  space: StepSpace;
  /** The recipe the policy must have been trained for (its card names it). */
  recipeName: string;
  /** How long an old session lives on after a new one is loaded, ms: one control cycle. */
  cycleMs: number;
  /** Longest an inference may take, ms (PolicyController). @default none */
  deadlineMs?: number;
  /** Called as soon as a new policy is in place (the controllers start afresh from it). */
  onLoaded: (version: string) => void;
  log: (line: string) => void;
}

/**
 * The step's deployed policy, hot-reloaded: a new card in the models folder is loaded without a
 * restart, and refused (the old one kept, or the fallback alone) if it does not fit.
 */
export class PolicyLoader {
  private loaded: LoadedPolicy | undefined;
  private policyController: PolicyController | undefined;
  private loadedMtime = 0;

  constructor(private readonly options: PolicyLoaderOptions) {}

  /** The model version of the policy in use; '' for none. */
  get version(): string {
    return this.loaded?.card.version ?? '';
  }

  /** The controller over the policy in use; undefined for none (the fallback alone). */
  get controller(): PolicyController | undefined {
    return this.policyController;
  }

  /** Loads the policy in the models folder if it is new; keeps the old one if the new does not fit. */
  async reload(): Promise<boolean> {
    const { modelsDir: dir, space } = this.options;
    const card = join(dir, space.step.id, 'policy.card.json');
    const mtime = await stat(card).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (mtime === 0 || mtime === this.loadedMtime) return false;
    try {
      const next = await loadStepPolicy(dir, space, this.options.recipeName);
      this.loadedMtime = mtime;
      if (next.card.version === this.loaded?.card.version) {
        await next.policy.release();
        return false;
      }
      this.use(next);
      return true;
    } catch (error) {
      this.loadedMtime = mtime;
      this.options.log(
        `policy in ${dir} refused, ${this.loaded ? `keeping ${this.loaded.card.version}` : 'running the fallback'}: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /** Releases the policy in use (at stop). */
  async release(): Promise<void> {
    await this.loaded?.policy.release();
    this.loaded = undefined;
  }

  private use(next: LoadedPolicy): void {
    const previous = this.loaded;
    this.loaded = next;
    this.policyController = new PolicyController(this.options.space, next.policy, {
      deadlineMs: this.options.deadlineMs,
    });
    this.options.onLoaded(next.card.version);
    this.options.log(
      `policy ${next.card.version} loaded${previous ? ` (was ${previous.card.version})` : ''}`,
    );
    // Let a cycle in flight finish with the old session before it goes.
    if (previous) {
      setTimeout(() => void previous.policy.release(), this.options.cycleMs).unref();
    }
  }
}
