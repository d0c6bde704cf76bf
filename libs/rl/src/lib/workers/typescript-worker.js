// Bootstrap of a WorkerPool thread: the project runs its TypeScript through tsx (no build
// step), and a worker thread does not inherit the main thread's require hook. It registers
// the loader, then loads the worker module the pool named (`workerData.module`).
'use strict';
const path = require('node:path');
const { workerData } = require('node:worker_threads');

process.env.TSX_TSCONFIG_PATH ??= path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  '..',
  'tsconfig.base.json',
);
require('tsx/cjs');
require(workerData.module);
