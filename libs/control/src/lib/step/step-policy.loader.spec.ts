import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { PolicyError } from './policy.error';
import { loadPlantPolicies } from './step-policy.loader';

const ROOT = join(__dirname, '../../../../..');
const model = compilePlant(loadRecipe(join(ROOT, 'recipes/paracetamol.yaml')));

describe('loadPlantPolicies', () => {
  it('loads every step of the plant from the shipped models', async () => {
    const policies = await loadPlantPolicies(join(ROOT, 'models/paracetamol'), model);
    expect(Object.keys(policies)).toEqual(model.steps.map((s) => s.id));
    await Promise.all(Object.values(policies).map((p) => p.release()));
  });

  it('names the step without a usable policy, its cause attached', async () => {
    const failure = await loadPlantPolicies(join(ROOT, 'no-such-models'), model).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PolicyError);
    expect(failure).toMatchObject({ code: 'NO_POLICY' });
    expect((failure as PolicyError).message).toMatch(
      /^no usable policy for step nitration \(.*ENOENT/,
    );
    // Node's fs errors come from another realm under Jest: not `instanceof Error` here.
    expect((failure as PolicyError).cause).toMatchObject({ code: 'ENOENT' });
  });
});
