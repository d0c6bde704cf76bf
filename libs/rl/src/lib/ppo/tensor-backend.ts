import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone has no gradient functions: this registers them (tfjs's umbrella package does the same).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Registers the backend; in Node its loader reads the .wasm beside its script from disk.
import '@tensorflow/tfjs-backend-wasm';
import { RlError } from '../rl.error';

export type TensorBackend = 'wasm' | 'cpu';

/**
 * Selects TensorFlow.js's backend for training. 'wasm' (XNNPACK kernels, the .wasm files
 * shipped in the package, loaded from disk: nothing is downloaded) trains small MLPs 2–4×
 * faster than 'cpu' (plain JavaScript) on this project's machines (DEPENDENCIES.md); 'cpu'
 * needs no initialisation. Both give the same results to float32 round-off.
 */
export async function useTensorBackend(backend: TensorBackend = 'wasm'): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend)))
    throw new RlError('BACKEND_UNAVAILABLE', `TensorFlow.js backend "${backend}" failed to start`);
  await tf.ready();
}
