import {
  ConversionPidController,
  FixedRecipeController,
  identifyStepLags,
  loadLpSolver,
  operatingPointPid,
  PlantOracle,
  PolicyController,
  StepMpcController,
  StepSpace,
  tuneConversionPid,
  type ConversionPidTuning,
  type InputLag,
  type LpSolver,
  type Policy,
  type StepController,
} from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';
import { buildScenario, realPlant, type Plant } from '@pipac/twin';
import { runClosedLoop, type ClosedLoopResult, type StepControl } from './closed-loop';
import { productValuation, type ProductValuation } from './product-value';
import { RlError } from '../rl.error';

export type ControllerKind = 'agent' | 'mpc' | 'pid' | 'fixed-recipe' | 'oracle';

/**
 * What the closed loops run: the training twin itself, or "the plant" of the reality gap, one
 * fixed plant (`realPlant` with seed MISMATCH_PLANT_SEED) whatever the scenario's seed.
 */
export type PlantKind = 'twin' | 'mismatch';
export const PLANT_KINDS: readonly PlantKind[] = ['twin', 'mismatch'];
export const MISMATCH_PLANT_SEED = 1;
export const CONTROLLER_KINDS: readonly ControllerKind[] = [
  'agent',
  'mpc',
  'pid',
  'fixed-recipe',
  'oracle',
];

/** One closed-loop run of an evaluation: plain data, so a worker thread can take it. */
export interface EvaluationTask {
  scenario: string;
  seed: number;
  controller: ControllerKind;
  /** s */
  duration: number;
  dt?: number;
  /** @default 'twin' */
  plant?: PlantKind;
  /** The scenario's disturbance magnitudes, × this (`buildScenario`'s severity). @default 1 */
  severity?: number;
}

/** What every run of an evaluation shares: the PID set-ups, the oracle's LP, the MPC's lags. */
interface Setups {
  /** The "pid" baseline's set-up (`operatingPointPid`). */
  baseline: Record<string, ConversionPidTuning>;
  /** The agents' and the MPC's fallback (as deployed: `tuneConversionPid`). */
  fallback: Record<string, ConversionPidTuning>;
  lp: LpSolver | undefined;
  /** The MPC's input lags per step, identified on the twin once (step tests). */
  mpcLags: Record<string, InputLag[]>;
  /** The score's prices (the twin's nominal steady state), for the ledger, the MPC and the oracle. */
  valuation: ProductValuation;
}

const byStep = <T>(model: PlantModel, make: (id: string) => T): Record<string, T> =>
  Object.fromEntries(model.steps.map((s) => [s.id, make(s.id)]));

/** The "pid" baseline's set-up and tuning, per step (`operatingPointPid`). */
export function baselineTunings(model: PlantModel): Record<string, ConversionPidTuning> {
  return byStep(model, (id) => operatingPointPid(model, id));
}

/**
 * Runs an evaluation's closed loops, one task at a time, with what they share set up once:
 * in the main thread, or in each worker thread of a parallel evaluation.
 */
export class EvaluationRunner {
  private constructor(
    private readonly model: PlantModel,
    private readonly setups: Setups,
    private readonly policies: Record<string, Policy> | undefined,
  ) {}

  /** "The plant" of the reality gap, built on first use (an evaluation on the twin never needs it). */
  private mismatchPlant: PlantModel | undefined;

  static async create(
    model: PlantModel,
    controllers: readonly ControllerKind[],
    policies?: Record<string, Policy>,
  ): Promise<EvaluationRunner> {
    const setups: Setups = {
      baseline: baselineTunings(model),
      fallback: byStep(model, (id) => tuneConversionPid(model, id)),
      lp: controllers.includes('oracle') ? await loadLpSolver() : undefined,
      mpcLags: controllers.includes('mpc')
        ? byStep(model, (id) => identifyStepLags(new StepSpace(model, id)))
        : {},
      valuation: productValuation(model),
    };
    return new EvaluationRunner(model, setups, policies);
  }

  /** The "pid" baseline's set-up and tuning, per step. */
  get tunings(): Record<string, ConversionPidTuning> {
    return this.setups.baseline;
  }

  run(task: EvaluationTask): Promise<ClosedLoopResult> {
    const scenario = buildScenario(
      task.scenario,
      this.model,
      task.seed,
      task.duration,
      task.severity !== undefined ? { severity: task.severity } : {},
    );
    return runClosedLoop({
      model: this.model,
      ...(task.plant === 'mismatch'
        ? { plantModel: (this.mismatchPlant ??= realPlant(this.model, MISMATCH_PLANT_SEED)) }
        : {}),
      scenario,
      ...(task.dt ? { dt: task.dt } : {}),
      valuation: this.setups.valuation,
      control: (plant, spaces) =>
        this.controlsFor(task.controller, plant, spaces, scenario.duration),
    });
  }

  /** How each step is run by a controller of `kind`. */
  private controlsFor(
    kind: ControllerKind,
    plant: Plant,
    spaces: StepSpace[],
    end: number,
  ): Record<string, StepControl> {
    if (kind === 'oracle') return this.oracle(plant, spaces, end);
    const controls: Record<string, StepControl> = {};
    for (const space of spaces) {
      const id = space.step.id;
      if (kind === 'agent' || kind === 'mpc') {
        controls[id] = {
          controller: kind === 'agent' ? this.agent(space) : this.mpc(space),
          // As deployed: the step agent's fallback, set up conservatively (tuneConversionPid).
          // The MPC runs on the same terms: the agent's shield and fallback.
          fallback: new ConversionPidController(space, this.setups.fallback[id]!),
          agentLimits: true,
        };
        continue;
      }
      const controller: StepController =
        kind === 'pid'
          ? new ConversionPidController(space, this.setups.baseline[id]!)
          : new FixedRecipeController(space);
      controls[id] = { controller, agentLimits: false };
    }
    return controls;
  }

  private agent(space: StepSpace): StepController {
    const policy = this.policies?.[space.step.id];
    if (!policy) throw new RlError('INVALID_CONFIG', `no trained policy for step ${space.step.id}`);
    return new PolicyController(space, policy);
  }

  private mpc(space: StepSpace): StepController {
    const { valuation } = this.setups;
    const index = space.step.index;
    return new StepMpcController(space, {
      prices: {
        keyReactant: valuation.perKeyMole[index]!,
        product: valuation.perProductMole[index]!,
      },
      lags: this.setups.mpcLags[space.step.id]!,
    });
  }

  /** One oracle for the whole plant, a controller per step (it plans the tanks between them). */
  private oracle(plant: Plant, spaces: StepSpace[], end: number): Record<string, StepControl> {
    const oracle = new PlantOracle(plant, spaces, {
      valuation: this.setups.valuation,
      lp: this.setups.lp!,
      end,
    });
    return Object.fromEntries(
      Object.entries(oracle.controllers()).map(([id, controller]) => [
        id,
        { controller, agentLimits: false },
      ]),
    );
  }
}
