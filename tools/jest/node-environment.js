// jest's node environment, with the host's typed-array constructors. Native addons
// (onnxruntime-node) create their buffers in the host realm, and onnxruntime-common checks
// `data instanceof Float32Array` against the sandbox's: jest's own realm makes every output
// tensor fail that check. Sharing the constructors keeps the
// sandbox otherwise intact.
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class NodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NodeEnvironment;
