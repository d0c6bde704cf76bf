import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { StepSpace } from '../step/step-space';
import { identifyStepLags } from './step-lags';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('identifyStepLags', () => {
  it('finds the hydrogenation’s lags on the twin: the pumps share one, the jacket is slower', () => {
    const lags = identifyStepLags(new StepSpace(model, 'hydrogenation'));
    expect(lags).toHaveLength(3);
    expect(lags[0]).toEqual(lags[1]);
    // Residence time 1.4 min: the flow acts within a minute; the jacket through the bed's heat.
    expect(lags[0]!.timeConstant).toBeGreaterThan(10);
    expect(lags[0]!.timeConstant + lags[0]!.deadTime).toBeLessThan(90);
    expect(lags[2]!.timeConstant).toBeGreaterThan(lags[0]!.timeConstant);
    expect(lags[2]!.timeConstant).toBeLessThan(400);
  });
});
