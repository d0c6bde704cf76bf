import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import type { MlpWeights } from '../ppo/mlp';
import { RlError } from '../rl.error';

/** ONNX opset the exported graphs use (Gemm, Tanh, Clip with tensor bounds: opset 13). */
export const ONNX_OPSET = 13;
/** ONNX IR version matching opset 13. */
const IR_VERSION = 7;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

export interface ExportedPolicy {
  /** The serialised ModelProto. */
  bytes: Uint8Array;
  /** 'sha256:<hex>' of the bytes: the model version every setpoint command carries. */
  version: string;
}

/**
 * Serialises a trained policy network (the Gaussian's mean) as an ONNX model:
 * observation [batch, n] → Gemm → Tanh → … → Gemm → Clip(−1, 1) → action [batch, k].
 * The weights are stored raw (little-endian float32), exactly the training values; `metadata`
 * lands in the model's metadata_props (the model card's fields) so the file describes itself.
 */
export function exportPolicyToOnnx(
  weights: MlpWeights,
  metadata: Record<string, string> = {},
): ExportedPolicy {
  const initializer: onnx.ITensorProto[] = [];
  const node: onnx.INodeProto[] = [];
  let input = 'observation';
  weights.layers.forEach((layer, l) => {
    const fanIn = weights.sizes[l]!;
    const fanOut = weights.sizes[l + 1]!;
    if (layer.weight.length !== fanIn * fanOut || layer.bias.length !== fanOut)
      throw new RlError('SHAPE_MISMATCH', `layer ${l}: weights do not match ${fanIn}x${fanOut}`);
    initializer.push(tensor(`W${l}`, [fanIn, fanOut], layer.weight));
    initializer.push(tensor(`b${l}`, [fanOut], layer.bias));
    const last = l + 1 === weights.layers.length;
    const linear = last ? 'mean' : `z${l}`;
    node.push({
      opType: 'Gemm',
      input: [input, `W${l}`, `b${l}`],
      output: [linear],
      name: `dense${l}`,
    });
    if (!last) {
      node.push({ opType: 'Tanh', input: [linear], output: [`h${l}`], name: `tanh${l}` });
      input = `h${l}`;
    }
  });
  initializer.push(tensor('action_low', [], Float32Array.of(-1)));
  initializer.push(tensor('action_high', [], Float32Array.of(1)));
  node.push({
    opType: 'Clip',
    input: ['mean', 'action_low', 'action_high'],
    output: ['action'],
    name: 'clip',
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'pipac',
    producerVersion: '1',
    graph: {
      name: 'policy',
      node,
      initializer,
      input: [valueInfo('observation', weights.sizes[0]!)],
      output: [valueInfo('action', weights.sizes.at(-1)!)],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, version: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

function tensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function valueInfo(name: string, size: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: size }] } },
    },
  };
}
