import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Policy } from './policy.controller';
import { PolicyError } from './policy.error';

/**
 * A policy exported to ONNX, run by onnxruntime-node on the CPU: one observation in, one
 * action out. The session is set up for latency, not throughput: one thread (the models are
 * a few thousand weights; thread hand-off would cost more than the maths), sequential
 * execution, all graph optimisations. Its version is the SHA-256 of the file, so the version
 * a command carries names exactly the bytes that produced it.
 */
export class OnnxPolicy implements Policy {
  private constructor(
    private readonly session: InferenceSession,
    readonly version: string,
    readonly observationSize: number,
  ) {}

  static async fromFile(path: string, observationSize: number): Promise<OnnxPolicy> {
    return OnnxPolicy.fromBytes(new Uint8Array(await readFile(path)), observationSize);
  }

  static async fromBytes(bytes: Uint8Array, observationSize: number): Promise<OnnxPolicy> {
    const session = await InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    if (!session.inputNames.includes('observation') || !session.outputNames.includes('action')) {
      await session.release();
      throw new PolicyError(
        'NOT_A_POLICY',
        `not a pipac policy: inputs ${session.inputNames.join(', ')}, outputs ${session.outputNames.join(', ')} (expected observation → action)`,
      );
    }
    const version = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return new OnnxPolicy(session, version, observationSize);
  }

  async act(observation: Float32Array): Promise<Float32Array> {
    return (await this.actBatch(observation, 1)).slice();
  }

  /** Actions for `count` observations laid end to end. */
  async actBatch(observations: Float32Array, count: number): Promise<Float32Array> {
    if (observations.length !== count * this.observationSize) {
      throw new PolicyError(
        'SHAPE_MISMATCH',
        `expected ${count} × ${this.observationSize} observation values, got ${observations.length}`,
      );
    }
    const input = new Tensor('float32', observations, [count, this.observationSize]);
    const output = await this.session.run({ observation: input });
    return output['action']!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
