import { join } from 'node:path';
import {
  ConversionPidController,
  FixedRecipeController,
  loadLpSolver,
  operatingPointPid,
  PlantOracle,
  type StepController,
} from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { buildScenario } from '@pipac/twin';
import { runClosedLoop, type ClosedLoopOptions, type StepControl } from './closed-loop';
import { productValuation } from './product-value';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('runClosedLoop', () => {
  it('ranks the baselines on a deactivating catalyst: oracle above PID above the fixed recipe, no limit crossed, tanks in their bands', async () => {
    const scenario = buildScenario('catalyst-deactivation', model, 3, 4 * 3600);
    const lp = await loadLpSolver();
    const run = (control: ClosedLoopOptions['control']) =>
      runClosedLoop({ model, scenario, control });
    const each = (make: (index: number) => StepController) =>
      Object.fromEntries(
        model.steps.map((step): [string, StepControl] => [
          step.id,
          { controller: make(step.index), agentLimits: false },
        ]),
      );
    const fixed = await run((_, spaces) => each((s) => new FixedRecipeController(spaces[s]!)));
    const pid = await run((_, spaces) =>
      each(
        (s) =>
          new ConversionPidController(spaces[s]!, operatingPointPid(model, model.steps[s]!.id)),
      ),
    );
    let planner: PlantOracle | undefined;
    const levels: number[] = [];
    const oracle = await runClosedLoop({
      model,
      scenario,
      control: (plant, spaces) => {
        planner = new PlantOracle(plant, spaces, {
          valuation: productValuation(model),
          lp,
          end: scenario.duration,
        });
        const controllers = planner.controllers();
        return Object.fromEntries(
          Object.entries(controllers).map(([id, controller]) => [
            id,
            { controller, agentLimits: false },
          ]),
        );
      },
      onCycle: (row) => levels.push(row['tank-1.level']!, row['tank-2.level']!),
    });
    expect(pid.score.score).toBeGreaterThan(fixed.score.score * 1.5);
    expect(oracle.score.score).toBeGreaterThan(pid.score.score * 1.03);
    expect(oracle.limitViolations).toBe(0);
    for (const step of oracle.summary.steps) expect(step.inSpecFraction).toBe(1);
    expect(Math.min(...levels)).toBeGreaterThan(0.2);
    expect(Math.max(...levels)).toBeLessThan(1.8);
    expect(planner!.plans).toBeGreaterThanOrEqual(4); // hourly, at least
    expect(fixed.trace).toHaveLength(240);
    expect(fixed.steps[0]!.controller).toBe('fixed-recipe');
    expect(oracle.steps[0]!.controller).toBe('oracle');
  }, 120_000);
});
