import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { solvePlantSteadyState } from '../steady/steady-state';
import { Plant } from './plant';
import { MISMATCH, realPlant } from './real-plant';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../../recipes/paracetamol.yaml')));

describe('realPlant (the reality gap)', () => {
  it('draws every deviation within its range, the same for the same seed, the twin untouched', () => {
    const twinK = model.steps.map((s) => s.reactions.map((r) => r.kRef));
    const plant = realPlant(model, 7);
    expect(realPlant(model, 7)).toEqual(plant);
    expect(realPlant(model, 8)).not.toEqual(plant);
    expect(model.steps.map((s) => s.reactions.map((r) => r.kRef))).toEqual(twinK);
    plant.steps.forEach((step, s) => {
      const twin = model.steps[s]!;
      expect(step.cells).toBe(twin.type === 'cstr' ? 1 : twin.cells * MISMATCH.cellsFactor);
      const transfer = step.heatTransfer / twin.heatTransfer;
      expect(transfer).toBeGreaterThanOrEqual(MISMATCH.heatTransfer[0]);
      expect(transfer).toBeLessThanOrEqual(MISMATCH.heatTransfer[1]);
      if (twin.spec.analyser) {
        expect(Math.abs(step.analyserCalibration!)).toBeLessThanOrEqual(0.02);
        expect(step.spec.analyser!.noise?.relative).toBe(
          (twin.spec.analyser.noise?.relative ?? Number.NaN) * MISMATCH.analyserNoise,
        );
      }
      expect(twin.analyserCalibration).toBeUndefined();
      step.inlets.forEach((inlet, k) => {
        const calibration = inlet.toInternal / twin.inlets[k]!.toInternal;
        expect(calibration).toBeGreaterThanOrEqual(MISMATCH.pumpCalibration[0]);
        expect(calibration).toBeLessThanOrEqual(MISMATCH.pumpCalibration[1]);
      });
      step.reactions.forEach((reaction, j) => {
        const factor = reaction.kRef / twin.reactions[j]!.kRef;
        expect(factor).toBeGreaterThanOrEqual(MISMATCH.rateConstant[0]);
        expect(factor).toBeLessThanOrEqual(MISMATCH.rateConstant[1]);
        const shift = ((reaction.eaOverR - twin.reactions[j]!.eaOverR) * 8.314462618) / 1000;
        expect(Math.abs(shift)).toBeLessThanOrEqual(3 + 1e-9);
      });
    });
  });

  it('runs as a plant and settles elsewhere than the twin at the same setpoints', () => {
    const real = realPlant(model, 1);
    const twin = solvePlantSteadyState(model);
    const actual = solvePlantSteadyState(real);
    const conversions = (s: typeof twin) => s.steps.map((step) => step.figures.conversion);
    expect(conversions(actual)).not.toEqual(conversions(twin));
    const plant = new Plant(real, { dt: 2, seed: 1 });
    plant.run(1800);
    for (const unit of plant.units) expect(unit.conversion()).toBeGreaterThan(0);
  });
});
