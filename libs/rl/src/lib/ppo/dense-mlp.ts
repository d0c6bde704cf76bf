import type { SeededRandom } from '@pipac/twin';
import { checkShape, type MlpWeights } from './mlp';
import { RlError } from '../rl.error';

/** What a forward pass keeps for the backward pass: every layer's output, row-major. */
export interface MlpActivations {
  rows: number;
  /** activations[0] is the input; activations[l + 1] layer l's output (tanh, or linear last). */
  activations: Float32Array[];
}

/**
 * The same network as `Mlp` (tanh hidden layers, linear output, row-major [in × out]
 * weights, the same seeded initialisation), in plain Float32Arrays with a hand-written
 * backward pass: the alternative to TensorFlow.js that `npm run bench:mlp` measures at PPO's
 * sizes. Not used by the trainer: at the update's 128–256-row minibatches TensorFlow.js's
 * WebAssembly kernels are 1.4–2× faster; only at the rollouts' 4 rows is this faster, where
 * the forward pass is 5 % of a candidate's time (docs/agents.md, "The learning math").
 *
 * Parameters are one flat array, layer by layer: weights [in × out], then biases [out];
 * gradients use the same layout, so an optimiser sees one vector.
 */
export class DenseMlp {
  readonly params: Float32Array;
  /** Offset of each layer's weights in `params`; its biases follow them. */
  private readonly offsets: number[] = [];
  private buffers: Float32Array[] = [];
  private capacity = 0;
  private delta = new Float32Array(0);
  private deltaNext = new Float32Array(0);

  constructor(
    readonly sizes: readonly number[],
    random: SeededRandom,
    options: { gain?: number; outputGain?: number } = {},
  ) {
    if (sizes.length < 2 || sizes.some((n) => !(Number.isInteger(n) && n >= 1)))
      throw new RlError(
        'INVALID_CONFIG',
        `layer sizes must be positive integers, got ${sizes.join('x')}`,
      );
    let total = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.offsets.push(total);
      total += sizes[l]! * sizes[l + 1]! + sizes[l + 1]!;
    }
    this.params = new Float32Array(total);
    // The draws of Mlp, in its order: a layer's weights, normal × gain / √fan-in; biases 0.
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const last = l + 2 === sizes.length;
      const gain = last ? (options.outputGain ?? 1) : (options.gain ?? Math.SQRT2);
      const end = this.offsets[l]! + fanIn * sizes[l + 1]!;
      for (let i = this.offsets[l]!; i < end; i++)
        this.params[i] = (random.normal() * gain) / Math.sqrt(fanIn);
    }
  }

  get layers(): number {
    return this.sizes.length - 1;
  }

  /**
   * Outputs for `rows` inputs (row-major, rows × sizes[0]), and the activations the backward
   * pass needs: views into buffers that the next call overwrites.
   */
  forward(
    input: Float32Array,
    rows: number,
  ): { output: Float32Array; activations: MlpActivations } {
    this.reserve(rows);
    const activations: Float32Array[] = [input.subarray(0, rows * this.sizes[0]!)];
    let x = activations[0]!;
    for (let l = 0; l < this.layers; l++) {
      const n = this.sizes[l]!;
      const m = this.sizes[l + 1]!;
      const w = this.offsets[l]!;
      const out = this.buffers[l]!.subarray(0, rows * m);
      affine(x, rows, n, m, this.params, w, out);
      if (l + 1 < this.layers) for (let i = 0; i < out.length; i++) out[i] = Math.tanh(out[i]!);
      activations.push(out);
      x = out;
    }
    return { output: x, activations: { rows, activations } };
  }

  /**
   * Adds to `grad` (the layout of `params`) the gradient of a loss whose derivative with
   * respect to the outputs of the last forward pass is `outputGrad` (rows × last size).
   * Call before the next forward pass: the activations are views into reused buffers.
   */
  backward(activations: MlpActivations, outputGrad: Float32Array, grad: Float32Array): void {
    const { rows } = activations;
    const acts = activations.activations;
    let delta = this.delta;
    let next = this.deltaNext;
    delta.set(outputGrad.subarray(0, rows * this.sizes[this.layers]!));
    for (let l = this.layers - 1; l >= 0; l--) {
      const n = this.sizes[l]!;
      const m = this.sizes[l + 1]!;
      const w = this.offsets[l]!;
      const x = acts[l]!;
      const p = this.params;
      // delta holds dL/dz of this layer (z before the activation), rows × m.
      affineGradient(x, delta, rows, n, m, grad, w);
      if (l === 0) break;
      // dL/dz of the layer below: (delta · Wᵀ) ⊙ (1 − a²), a its tanh output.
      for (let i = 0; i < rows; i++) {
        const o = i * m;
        for (let k = 0; k < n; k++) {
          const row = w + k * m;
          let sum = 0;
          for (let j = 0; j < m; j++) sum += delta[o + j]! * p[row + j]!;
          const a = x[i * n + k]!;
          next[i * n + k] = sum * (1 - a * a);
        }
      }
      [delta, next] = [next, delta];
    }
  }

  weights(): MlpWeights {
    return {
      sizes: [...this.sizes],
      layers: this.offsets.map((w, l) => {
        const n = this.sizes[l]!;
        const m = this.sizes[l + 1]!;
        return {
          weight: this.params.slice(w, w + n * m),
          bias: this.params.slice(w + n * m, w + n * m + m),
        };
      }),
    };
  }

  setWeights(weights: MlpWeights): void {
    checkShape(weights, this.sizes);
    weights.layers.forEach((layer, l) => {
      const w = this.offsets[l]!;
      this.params.set(layer.weight, w);
      this.params.set(layer.bias, w + layer.weight.length);
    });
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    this.buffers = this.sizes.slice(1).map((m) => new Float32Array(rows * m));
    const widest = Math.max(...this.sizes);
    this.delta = new Float32Array(rows * widest);
    this.deltaNext = new Float32Array(rows * widest);
  }
}

/**
 * out = x · W + b for `rows` rows, W [n × m] at `w` in `p` and b after it. Four rows share each
 * load of a weight (fewer loads than row by row; `npm run bench:mlp` measures the whole).
 */
function affine(
  x: Float32Array,
  rows: number,
  n: number,
  m: number,
  p: Float32Array,
  w: number,
  out: Float32Array,
): void {
  const b = w + n * m;
  let i = 0;
  for (; i + 3 < rows; i += 4) {
    const o0 = i * m;
    const o1 = o0 + m;
    const o2 = o1 + m;
    const o3 = o2 + m;
    for (let j = 0; j < m; j++) {
      const bias = p[b + j]!;
      out[o0 + j] = bias;
      out[o1 + j] = bias;
      out[o2 + j] = bias;
      out[o3 + j] = bias;
    }
    for (let k = 0; k < n; k++) {
      const x0 = x[i * n + k]!;
      const x1 = x[(i + 1) * n + k]!;
      const x2 = x[(i + 2) * n + k]!;
      const x3 = x[(i + 3) * n + k]!;
      const row = w + k * m;
      for (let j = 0; j < m; j++) {
        const weight = p[row + j]!;
        out[o0 + j]! += x0 * weight;
        out[o1 + j]! += x1 * weight;
        out[o2 + j]! += x2 * weight;
        out[o3 + j]! += x3 * weight;
      }
    }
  }
  for (; i < rows; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) out[o + j] = p[b + j]!;
    for (let k = 0; k < n; k++) {
      const xik = x[i * n + k]!;
      const row = w + k * m;
      for (let j = 0; j < m; j++) out[o + j]! += xik * p[row + j]!;
    }
  }
}

/** grad[W] += xᵀ · delta and grad[b] += Σ rows of delta, four rows per pass over a weight row. */
function affineGradient(
  x: Float32Array,
  delta: Float32Array,
  rows: number,
  n: number,
  m: number,
  grad: Float32Array,
  w: number,
): void {
  const b = w + n * m;
  let i = 0;
  for (; i + 3 < rows; i += 4) {
    const o0 = i * m;
    const o1 = o0 + m;
    const o2 = o1 + m;
    const o3 = o2 + m;
    for (let j = 0; j < m; j++)
      grad[b + j]! += delta[o0 + j]! + delta[o1 + j]! + delta[o2 + j]! + delta[o3 + j]!;
    for (let k = 0; k < n; k++) {
      const x0 = x[i * n + k]!;
      const x1 = x[(i + 1) * n + k]!;
      const x2 = x[(i + 2) * n + k]!;
      const x3 = x[(i + 3) * n + k]!;
      const row = w + k * m;
      for (let j = 0; j < m; j++)
        grad[row + j]! +=
          x0 * delta[o0 + j]! + x1 * delta[o1 + j]! + x2 * delta[o2 + j]! + x3 * delta[o3 + j]!;
    }
  }
  for (; i < rows; i++) {
    const o = i * m;
    for (let j = 0; j < m; j++) grad[b + j]! += delta[o + j]!;
    for (let k = 0; k < n; k++) {
      const xik = x[i * n + k]!;
      const row = w + k * m;
      for (let j = 0; j < m; j++) grad[row + j]! += xik * delta[o + j]!;
    }
  }
}
