import { join } from 'node:path';
import {
  ConversionPidController,
  FixedRecipeController,
  SteadyStateOracleController,
  tuneConversionPid,
  type StepController,
} from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { buildScenario } from '@pipac/twin';
import { runClosedLoop } from './closed-loop';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('runClosedLoop', () => {
  it('ranks the baselines on a deactivating catalyst: oracle above PID above the fixed recipe, no limit crossed', async () => {
    const scenario = buildScenario('catalyst-deactivation', model, 3, 4 * 3600);
    const tuning = tuneConversionPid(model, 'hydrogenation');
    const run = (make: Parameters<typeof runClosedLoop>[0]['control']) =>
      runClosedLoop({ model, scenario, control: make });
    const on = (controller: StepController) => ({
      hydrogenation: { controller, agentLimits: false },
    });
    const fixed = await run((_, spaces) => on(new FixedRecipeController(spaces[1]!)));
    const pid = await run((_, spaces) => on(new ConversionPidController(spaces[1]!, tuning)));
    const oracle = await run((plant, spaces) =>
      on(new SteadyStateOracleController(spaces[1]!, plant)),
    );
    const inSpec = (r: typeof fixed) => r.steps[0]!.productInSpec;
    expect(inSpec(pid)).toBeGreaterThan(inSpec(fixed) * 1.1);
    expect(inSpec(oracle)).toBeGreaterThan(inSpec(pid) * 1.1);
    expect(oracle.limitViolations).toBe(0);
    expect(oracle.steps[0]!.productOffSpec).toBeLessThan(0.02 * inSpec(oracle));
    expect(fixed.trace).toHaveLength(240);
    expect(fixed.steps[0]!.controller).toBe('fixed-recipe');
  }, 60_000);
});
