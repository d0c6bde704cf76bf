// Bootstrap of a population-training worker thread: the project runs its TypeScript through
// tsx (no build step), and a worker thread does not inherit the main thread's require hook.
'use strict';
const path = require('node:path');

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
require('./candidate.worker.ts');
