import { join } from 'node:path';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { Plant } from '@pipac/twin';
import { tuneConversionPid } from './baselines/conversion-pid.controller';
import { ControlError, type ControlErrorCode } from './control.error';
import { Pid } from './pid';
import { SafetyShield } from './safety-shield';
import { PolicyController } from './step/policy.controller';
import { PolicyError } from './step/policy.error';
import { readStep } from './step/step-readings';
import { StepSpace } from './step/step-space';

const model = compilePlant(loadRecipe(join(__dirname, '../../../../recipes/paracetamol.yaml')));

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const controlError = (code: ControlErrorCode): unknown =>
  expect.objectContaining({ name: 'ControlError', code, retriable: false });

describe('ControlError', () => {
  it('names a controller set up wrong', () => {
    const error = caught(() => new Pid({ kp: Number.NaN, ti: 1, outputMin: 0, outputMax: 1 }));
    expect(error).toBeInstanceOf(ControlError);
    expect(error).toEqual(controlError('INVALID_SETTINGS'));
    expect(
      caught(
        () =>
          new SafetyShield({
            setpoints: [{ tag: 'x', engineering: { low: 0, high: 1 }, maxMove: 0 }],
            inputs: [],
          }),
      ),
    ).toEqual(controlError('INVALID_SETTINGS'));
    expect(caught(() => new StepSpace(model, 'nitration', { flowRange: [1, 2] }))).toEqual(
      controlError('INVALID_SETTINGS'),
    );
  });

  it('names an input a controller cannot use', () => {
    const pid = new Pid({ kp: 1, ti: 10, outputMin: 0, outputMax: 1 });
    expect(caught(() => pid.step(1, Number.NaN, 1))).toEqual(controlError('INVALID_INPUT'));
    expect(caught(() => pid.step(1, 0, 0))).toEqual(controlError('INVALID_INPUT'));
    const space = new StepSpace(model, 'nitration');
    expect(caught(() => space.toSetpoints([0]))).toEqual(controlError('INVALID_INPUT'));
  });

  it('names a step the plant does not have', () => {
    const plant = new Plant(model, { dt: 1, seed: 1 });
    expect(caught(() => readStep(plant, 99))).toEqual(controlError('UNKNOWN_STEP'));
    expect(caught(() => tuneConversionPid(model, 'distillation'))).toEqual(
      controlError('UNKNOWN_STEP'),
    );
  });
});

describe('PolicyError', () => {
  it('names a policy that answers with a number that is not finite', async () => {
    const space = new StepSpace(model, 'nitration');
    const controller = new PolicyController(space, {
      version: 'sha256:nan',
      act: () => Promise.resolve(new Float32Array(space.actionSize).fill(Number.NaN)),
    });
    const plant = new Plant(model, { dt: 1, seed: 1 });
    const error: unknown = await controller.decide(readStep(plant, 0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toEqual(
      expect.objectContaining({ name: 'PolicyError', code: 'NON_FINITE_ACTION', retriable: false }),
    );
    expect((error as Error).message).toBe('policy sha256:nan returned NaN');
  });
});
