import { readFile, rename, writeFile } from 'node:fs/promises';
import type { MlpWeights } from '../ppo/mlp';
import type { PpoState } from '../ppo/ppo-trainer';
import { RlError } from '../rl.error';

/**
 * A trainer's parameters on disk: every float32 in order (policy layers, value layers,
 * log-std) in a little-endian binary file, the shapes in the candidate's JSON record. Binary
 * because a thousand candidates' weights as JSON numbers would take gigabytes.
 */
export interface StateShape {
  policy: number[];
  value: number[];
  actions: number;
  steps: number;
}

export async function writeState(path: string, state: PpoState): Promise<StateShape> {
  const parts: Float32Array[] = [];
  for (const net of [state.policy, state.value]) {
    for (const layer of net.layers) parts.push(layer.weight, layer.bias);
  }
  parts.push(state.logStd);
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const buffer = Buffer.alloc(total * 4);
  let offset = 0;
  for (const part of parts) {
    for (const value of part) offset = buffer.writeFloatLE(value, offset);
  }
  await writeFile(`${path}.tmp`, buffer);
  await rename(`${path}.tmp`, path);
  return {
    policy: state.policy.sizes,
    value: state.value.sizes,
    actions: state.logStd.length,
    steps: state.steps,
  };
}

export async function readState(path: string, shape: StateShape): Promise<PpoState> {
  const buffer = await readFile(path);
  let offset = 0;
  const take = (n: number) => {
    if (offset + n * 4 > buffer.length)
      throw new RlError('CORRUPT_STATE', `${path} is shorter than its shape says`);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = buffer.readFloatLE(offset + i * 4);
    offset += n * 4;
    return out;
  };
  const net = (sizes: number[]): MlpWeights => ({
    sizes,
    layers: sizes.slice(1).map((out, l) => ({ weight: take(sizes[l]! * out), bias: take(out) })),
  });
  const policy = net(shape.policy);
  const value = net(shape.value);
  const logStd = take(shape.actions);
  if (offset !== buffer.length)
    throw new RlError('CORRUPT_STATE', `${path} is longer than its shape says`);
  return { policy, value, logStd, steps: shape.steps };
}
