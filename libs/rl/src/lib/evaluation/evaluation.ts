import {
  ConversionPidController,
  FixedRecipeController,
  PolicyController,
  SteadyStateOracleController,
  tuneConversionPid,
  type ConversionPidTuning,
  type Policy,
  type StepController,
} from '@pipac/control';
import type { PlantModel } from '@pipac/recipe';
import { buildScenario } from '@pipac/twin';
import { runClosedLoop, type ClosedLoopResult, type StepControl } from './closed-loop';
import { RlError } from '../rl.error';

export type ControllerKind = 'agent' | 'pid' | 'fixed-recipe' | 'oracle';
export const CONTROLLER_KINDS: readonly ControllerKind[] = [
  'agent',
  'pid',
  'fixed-recipe',
  'oracle',
];

export interface EvaluationOptions {
  model: PlantModel;
  scenarios: readonly string[];
  controllers: readonly ControllerKind[];
  /** Per step id, for 'agent'. */
  policies?: Record<string, Policy>;
  /** s */
  duration: number;
  seed: number;
  dt?: number;
  onRun?: (scenario: string, controller: ControllerKind, result: ClosedLoopResult) => void;
}

/** One line of the evaluation table. */
export interface EvaluationRow {
  scenario: string;
  controller: ControllerKind;
  /** g of plant product made while the last step was in spec. */
  inSpecProduct: number;
  /** inSpecProduct ÷ the oracle's on the same scenario (NaN without an oracle run). */
  fractionOfOracle: number;
  /** Overall yield on the first step's key reactant, 0..1. */
  yield: number;
  eFactor: number;
  /** kWh of heating and cooling. */
  energy: number;
  interventions: number;
  fallbackCycles: number;
  limitViolations: number;
}

export interface Evaluation {
  rows: EvaluationRow[];
  runs: { scenario: string; controller: ControllerKind; result: ClosedLoopResult }[];
  /** The PID tuning used, per step (documented in the output). */
  tunings: Record<string, ConversionPidTuning>;
}

/**
 * `pipac eval`: every named scenario for every controller on the same twin, seeds and
 * durations, each step behind its own safety shield. The agent runs its ONNX policies with the
 * PID as the shield's fallback (as deployed); the baselines run alone within the engineering
 * limits; the oracle sees the true disturbed plant.
 */
export async function evaluateControllers(options: EvaluationOptions): Promise<Evaluation> {
  const { model } = options;
  const tunings = Object.fromEntries(
    model.steps.map((s) => [s.id, tuneConversionPid(model, s.id)]),
  );
  const runs: Evaluation['runs'] = [];
  for (const name of options.scenarios) {
    const scenario = buildScenario(name, model, options.seed, options.duration);
    for (const kind of options.controllers) {
      const result = await runClosedLoop({
        model,
        scenario,
        ...(options.dt ? { dt: options.dt } : {}),
        control: (plant, spaces) => {
          const controls: Record<string, StepControl> = {};
          for (const space of spaces) {
            const id = space.step.id;
            const pid = () => new ConversionPidController(space, tunings[id]!);
            let controller: StepController;
            if (kind === 'agent') {
              const policy = options.policies?.[id];
              if (!policy) throw new RlError('INVALID_CONFIG', `no trained policy for step ${id}`);
              controls[id] = {
                controller: new PolicyController(space, policy),
                fallback: pid(),
                agentLimits: true,
              };
              continue;
            }
            if (kind === 'pid') controller = pid();
            else if (kind === 'fixed-recipe') controller = new FixedRecipeController(space);
            else controller = new SteadyStateOracleController(space, plant);
            controls[id] = { controller, agentLimits: false };
          }
          return controls;
        },
      });
      runs.push({ scenario: name, controller: kind, result });
      options.onRun?.(name, kind, result);
    }
  }
  const rows = runs.map(({ scenario, controller, result }): EvaluationRow => {
    const oracle = runs.find((r) => r.scenario === scenario && r.controller === 'oracle');
    const product = result.summary.plant.productInSpec;
    return {
      scenario,
      controller,
      inSpecProduct: product,
      fractionOfOracle: oracle ? product / oracle.result.summary.plant.productInSpec : Number.NaN,
      yield: result.summary.plant.overallYield,
      eFactor: result.summary.plant.eFactor,
      energy: result.energy,
      interventions: result.steps.reduce((sum, s) => sum + s.interventions, 0),
      fallbackCycles: result.steps.reduce((sum, s) => sum + s.fallbackCycles, 0),
      limitViolations: result.limitViolations,
    };
  });
  return { rows, runs, tunings };
}
