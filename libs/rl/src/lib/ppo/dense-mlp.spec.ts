import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { SeededRandom } from '@pipac/twin';
import { DenseMlp } from './dense-mlp';
import { Mlp } from './mlp';

/** A loss with a known output gradient: Σ c ⊙ output, c fixed. */
function weightedSum(output: Float32Array, c: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < output.length; i++) sum += output[i]! * c[i]!;
  return sum;
}

function randomArray(length: number, random: SeededRandom, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => scale * random.normal());
}

describe('DenseMlp', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('draws the same initial weights as Mlp from the same seed', () => {
    const dense = new DenseMlp([7, 16, 16, 3], new SeededRandom(5), { outputGain: 0.01 });
    const reference = new Mlp([7, 16, 16, 3], new SeededRandom(5), {
      name: 'init',
      outputGain: 0.01,
    });
    expect(dense.weights()).toEqual(reference.weights());
    reference.dispose();
  });

  it('has the gradient of finite differences (central, in float64 sums of float32 outputs)', () => {
    const random = new SeededRandom(11);
    const net = new DenseMlp([5, 8, 6, 2], random, { outputGain: 1 });
    const rows = 9;
    const input = randomArray(rows * 5, random);
    const c = randomArray(rows * 2, random);
    const { activations } = net.forward(input, rows);
    const grad = new Float32Array(net.params.length);
    net.backward(activations, c, grad);
    const h = 1e-2;
    let worst = 0;
    for (let i = 0; i < net.params.length; i++) {
      const saved = net.params[i]!;
      net.params[i] = saved + h;
      const up = weightedSum(net.forward(input, rows).output, c);
      net.params[i] = saved - h;
      const down = weightedSum(net.forward(input, rows).output, c);
      net.params[i] = saved;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - grad[i]!) / (1 + Math.abs(numeric)));
    }
    // Float32 parameters: h = 1e-2 leaves a truncation error of order h² and round-off of 1e-5.
    expect(worst).toBeLessThan(2e-3);
  });

  it('agrees with TensorFlow.js on the same weights: outputs to 1e-5, gradients to 1e-4', () => {
    const random = new SeededRandom(3);
    const sizes = [12, 64, 64, 4];
    const net = new DenseMlp(sizes, random, { outputGain: 0.5 });
    const reference = new Mlp(sizes, new SeededRandom(99), { name: 'parity' });
    reference.setWeights(net.weights());
    const rows = 256;
    const input = randomArray(rows * 12, random);
    const c = randomArray(rows * 4, random, 0.1);
    const { output, activations } = net.forward(input, rows);
    const expected = tf.tidy(() =>
      reference.apply(tf.tensor2d(input, [rows, 12])).dataSync(),
    ) as Float32Array;
    let worstOutput = 0;
    output.forEach((v, i) => (worstOutput = Math.max(worstOutput, Math.abs(v - expected[i]!))));
    expect(worstOutput).toBeLessThan(1e-5);

    const grad = new Float32Array(net.params.length);
    net.backward(activations, c, grad);
    const tfGrads = tf.tidy(() => {
      const x = tf.tensor2d(input, [rows, 12]);
      const weights = tf.tensor2d(c, [rows, 4]);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(reference.apply(x), weights)),
        reference.variables,
      );
      return reference.variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
    });
    const flat = new Float32Array(net.params.length);
    let offset = 0;
    for (const g of tfGrads) {
      flat.set(g, offset);
      offset += g.length;
    }
    let worstGrad = 0;
    flat.forEach(
      (v, i) => (worstGrad = Math.max(worstGrad, Math.abs(v - grad[i]!) / (1 + Math.abs(v)))),
    );
    expect(worstGrad).toBeLessThan(1e-4);
    reference.dispose();
  });

  it('accumulates into the gradient it is given, and reuses its buffers across batch sizes', () => {
    const random = new SeededRandom(8);
    const net = new DenseMlp([3, 4, 2], random);
    const input = randomArray(6 * 3, random);
    const c = randomArray(6 * 2, random);
    const once = new Float32Array(net.params.length);
    net.backward(net.forward(input, 6).activations, c, once);
    const twice = new Float32Array(net.params.length);
    net.backward(net.forward(input, 6).activations, c, twice);
    net.backward(net.forward(input, 6).activations, c, twice);
    twice.forEach((v, i) => expect(v).toBeCloseTo(2 * once[i]!, 5));
    const small = net.forward(input, 2).output;
    expect(Array.from(small)).toEqual(Array.from(net.forward(input, 6).output.slice(0, 4)));
  });
});
