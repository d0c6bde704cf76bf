import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { nominalSteadyState, StepSpace } from '../step/step-space';
import { NOMINAL_PARAMETERS, StepMpcModel } from './step-mpc.model';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('StepMpcModel', () => {
  it.each(['nitration', 'hydrogenation', 'acetylation'])(
    'reproduces the twin’s nominal cells steady state of %s',
    (id) => {
      const space = new StepSpace(model, id);
      const predicted = new StepMpcModel(space).predict(
        space.manipulated.map((m) => m.nominal),
        NOMINAL_PARAMETERS,
      );
      const steady = nominalSteadyState(model).steps[space.step.index]!;
      expect(predicted.conversion).toBeCloseTo(steady.figures.conversion, 6);
      expect(predicted.maxTemperature).toBeCloseTo(steady.safety.maxTemperature, 3);
    },
  );

  it('scales the key fed with its estimated strength, from a feed and from a tank', () => {
    for (const id of ['nitration', 'acetylation']) {
      const space = new StepSpace(model, id);
      const stepModel = new StepMpcModel(space);
      const nominal = space.manipulated.map((m) => m.nominal);
      const base = stepModel.predict(nominal, NOMINAL_PARAMETERS).keyFeed;
      const weak = stepModel.predict(nominal, { ...NOMINAL_PARAMETERS, strength: Math.log(0.9) });
      expect(weak.keyFeed / base).toBeCloseTo(0.9, 9);
    }
  });

  it('converts less at a lower rate and a higher flow', () => {
    const space = new StepSpace(model, 'hydrogenation');
    const stepModel = new StepMpcModel(space);
    const nominal = space.manipulated.map((m) => m.nominal);
    const x0 = stepModel.predict(nominal, NOMINAL_PARAMETERS).conversion;
    const slow = stepModel.predict(nominal, { ...NOMINAL_PARAMETERS, rate: -0.5 }).conversion;
    const fast = stepModel.predict(
      nominal.map((v, i) => (space.manipulated[i]!.kind === 'pump' ? v * 1.3 : v)),
      NOMINAL_PARAMETERS,
    ).conversion;
    expect(slow).toBeLessThan(x0);
    expect(fast).toBeLessThan(x0);
  });
});
