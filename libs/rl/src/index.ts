export * from './lib/env/env';
export * from './lib/env/step-env';
export * from './lib/ppo/tensor-backend';
export * from './lib/ppo/mlp';
export * from './lib/ppo/ppo-trainer';
export * from './lib/evaluation/closed-loop';
export * from './lib/export/onnx-export';
