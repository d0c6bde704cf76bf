import { OnnxPolicy } from '@pipac/control';
import { SeededRandom } from '@pipac/twin';
import { onnx } from 'onnx-proto';
import { PpoTrainer } from '../ppo/ppo-trainer';
import { useTensorBackend } from '../ppo/tensor-backend';
import { ReachEnv } from '../../testing/reach-env';
import { exportPolicyToOnnx } from './onnx-export';

describe('ONNX export', () => {
  beforeAll(() => useTensorBackend('wasm'));

  it('runs in onnxruntime-node and agrees with the training-time network to 1e-5', async () => {
    const trainer = new PpoTrainer([new ReachEnv(1), new ReachEnv(2)], 5, {
      hidden: [64, 64],
      horizon: 64,
      minibatch: 64,
      epochs: 2,
      learningRate: 1e-2,
    });
    trainer.train(512); // weights away from their initial values
    const exported = exportPolicyToOnnx(trainer.policyWeights(), { step: 'reach' });
    expect(exported.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    const policy = await OnnxPolicy.fromBytes(exported.bytes, 2);
    expect(policy.version).toBe(exported.version);
    const random = new SeededRandom(11);
    const count = 1000;
    const observations = Float32Array.from({ length: count * 2 }, () => random.between(-3, 3));
    const rows = Array.from({ length: count }, (_, i) => observations.subarray(2 * i, 2 * i + 2));
    const expected = trainer.act(rows).map((a) => Math.max(-1, Math.min(1, a[0]!)));
    const batch = await policy.actBatch(observations, count);
    let worst = 0;
    for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(batch[i]! - expected[i]!));
    expect(worst).toBeLessThanOrEqual(1e-5);
    // One at a time, as the step agent runs it.
    const single = await policy.act(rows[7]!);
    expect(Math.abs(single[0]! - expected[7]!)).toBeLessThanOrEqual(1e-5);
    // The card's fields travel inside the file.
    const decoded = onnx.ModelProto.decode(exported.bytes);
    expect(decoded.metadataProps).toEqual([
      expect.objectContaining({ key: 'step', value: 'reach' }),
    ]);
    await policy.release();
    trainer.dispose();
  });

  it('refuses a model that is not a policy, and observations of the wrong size', async () => {
    const exported = exportPolicyToOnnx({
      sizes: [3, 2],
      layers: [{ weight: new Float32Array(6), bias: new Float32Array(2) }],
    });
    const policy = await OnnxPolicy.fromBytes(exported.bytes, 3);
    await expect(policy.act(new Float32Array(2))).rejects.toThrow(/expected 1 × 3/);
    await policy.release();
    await expect(OnnxPolicy.fromBytes(Uint8Array.of(1, 2, 3), 3)).rejects.toThrow();
    expect(() =>
      exportPolicyToOnnx({
        sizes: [3, 2],
        layers: [{ weight: new Float32Array(5), bias: new Float32Array(2) }],
      }),
    ).toThrow(/do not match 3x2/);
  });
});
