/**
 * The learning math at PPO's sizes (`npm run bench:mlp`): DenseMlp (plain Float32Arrays,
 * hand-written backward pass) against TensorFlow.js's WebAssembly backend, which trains the
 * agents today, on the same weights, side by side in one process. Rows: hidden widths of the
 * population's search space; a 4-row forward pass (one per rollout cycle of 4 environments)
 * and a 256-row forward and backward pass (one PPO minibatch), microseconds per call (median
 * of BENCH_ROUNDS rounds) and the ratio. Prints what it measured; no targets here (bench:rl
 * has them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { StepSpace } from '@pipac/control';
import { compilePlant, loadRecipe } from '@pipac/recipe';
import { SeededRandom } from '@pipac/twin';
import { Mlp, useTensorBackend } from '../src/index';
import { DenseMlp } from '../src/lib/ppo/dense-mlp';

const root = join(__dirname, '..', '..', '..');
const model = compilePlant(loadRecipe(join(root, 'recipes', 'paracetamol.yaml')));
const space = new StepSpace(model, 'hydrogenation');
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);

/** Median µs per call of `run`, `calls` calls per round. */
function time(run: () => void, calls: number): number {
  for (let i = 0; i < Math.min(calls, 50); i++) run();
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) run();
    perCall.push(Number(process.hrtime.bigint() - started) / 1000 / calls);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(rounds / 2)]!;
}

function compare(hidden: number[]): string[] {
  const sizes = [space.observationSize, ...hidden, space.actionSize];
  const random = new SeededRandom(1);
  const dense = new DenseMlp(sizes, random);
  const reference = new Mlp(sizes, new SeededRandom(1), { name: `bench${hidden.join('x')}` });
  const input = Float32Array.from({ length: 256 * sizes[0]! }, () => random.normal());
  const outputGrad = Float32Array.from(
    { length: 256 * sizes.at(-1)! },
    () => random.normal() * 0.01,
  );
  const grad = new Float32Array(dense.params.length);
  const lines: string[] = [];
  for (const rows of [4, 256]) {
    const x = input.subarray(0, rows * sizes[0]!);
    const c = outputGrad.subarray(0, rows * sizes.at(-1)!);
    const calls = rows === 4 ? 5000 : 300;
    const denseForward = time(() => dense.forward(x, rows), calls);
    const tfForward = time(
      () => tf.tidy(() => reference.apply(tf.tensor2d(x, [rows, sizes[0]!])).dataSync()),
      calls,
    );
    lines.push(row(sizes, `forward, ${rows} rows`, denseForward, tfForward));
    const denseBoth = time(() => {
      grad.fill(0);
      const { activations } = dense.forward(x, rows);
      dense.backward(activations, c, grad);
    }, calls);
    const tfBoth = time(
      () =>
        tf.tidy(() => {
          const input2d = tf.tensor2d(x, [rows, sizes[0]!]);
          const weights = tf.tensor2d(c, [rows, sizes.at(-1)!]);
          const { grads } = tf.variableGrads(
            () => tf.sum(tf.mul(reference.apply(input2d), weights)),
            reference.variables,
          );
          for (const g of Object.values(grads)) g.dataSync();
        }),
      calls,
    );
    lines.push(row(sizes, `forward + backward, ${rows} rows`, denseBoth, tfBoth));
  }
  reference.dispose();
  return lines;
}

function row(sizes: number[], what: string, dense: number, tfjs: number): string {
  return (
    `${sizes.join('-').padEnd(14)} ${what.padEnd(28)} ` +
    `${dense.toFixed(1).padStart(9)} ${tfjs.toFixed(1).padStart(9)} ${(tfjs / dense).toFixed(1).padStart(7)}×`
  );
}

async function main(): Promise<void> {
  await useTensorBackend('wasm');
  console.log(
    `DenseMlp against TensorFlow.js ${tf.version_core} (${tf.getBackend()}), Node ${process.version}`,
  );
  console.log(
    `${'layers'.padEnd(14)} ${'pass'.padEnd(28)} ${'dense µs'.padStart(9)} ${'tfjs µs'.padStart(9)} ${'faster'.padStart(8)}`,
  );
  for (const hidden of [
    [32, 32],
    [64, 64],
    [128, 128],
    [64, 64, 64],
  ])
    for (const line of compare(hidden)) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
