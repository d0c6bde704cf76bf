import * as tf from '@tensorflow/tfjs-core';
import type { SeededRandom } from '@pipac/twin';
import { RlError } from '../rl.error';

/** The weights of a dense tanh network, row-major [in × out] per layer, as exported to ONNX. */
export interface MlpWeights {
  sizes: number[];
  layers: { weight: Float32Array; bias: Float32Array }[];
}

/** Refuses weights of another network's shape (SHAPE_MISMATCH). */
export function checkShape(weights: MlpWeights, sizes: readonly number[]): void {
  if (weights.sizes.join('x') !== sizes.join('x'))
    throw new RlError(
      'SHAPE_MISMATCH',
      `weights are ${weights.sizes.join('x')}, the network is ${sizes.join('x')}`,
    );
}

/**
 * A multilayer perceptron with tanh hidden layers and a linear output, its parameters as
 * TensorFlow.js variables (trained by tfjs's autodiff and Adam). Initialised from a seeded
 * generator, scaled normal (LeCun, gain `gain` on hidden layers, `outputGain` on the last),
 * so the same seed gives the same network on any machine.
 */
export class Mlp {
  readonly variables: tf.Variable[] = [];
  private readonly layers: { weight: tf.Variable; bias: tf.Variable }[] = [];

  constructor(
    readonly sizes: number[],
    random: SeededRandom,
    options: { gain?: number; outputGain?: number; name: string },
  ) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const last = l + 2 === sizes.length;
      const gain = last ? (options.outputGain ?? 1) : (options.gain ?? Math.SQRT2);
      const values = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < values.length; i++)
        values[i] = (random.normal() * gain) / Math.sqrt(fanIn);
      const weight = tf.variable(
        tf.tensor2d(values, [fanIn, fanOut]),
        true,
        `${options.name}/w${l}`,
      );
      const bias = tf.variable(tf.zeros([fanOut]), true, `${options.name}/b${l}`);
      this.layers.push({ weight, bias });
      this.variables.push(weight, bias);
    }
  }

  apply(input: tf.Tensor2D): tf.Tensor2D {
    let x = input;
    this.layers.forEach(({ weight, bias }, l) => {
      const z = tf.add<tf.Tensor2D>(tf.matMul(x, weight), bias);
      x = l + 1 < this.layers.length ? tf.tanh(z) : z;
    });
    return x;
  }

  weights(): MlpWeights {
    return {
      sizes: [...this.sizes],
      layers: this.layers.map(({ weight, bias }) => ({
        weight: Float32Array.from(weight.dataSync()),
        bias: Float32Array.from(bias.dataSync()),
      })),
    };
  }

  setWeights(weights: MlpWeights): void {
    checkShape(weights, this.sizes);
    weights.layers.forEach((layer, l) => {
      const target = this.layers[l]!;
      target.weight.assign(tf.tensor2d(layer.weight, target.weight.shape as [number, number]));
      target.bias.assign(tf.tensor1d(layer.bias));
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
