#!/usr/bin/env node
// The `pipac` entry point. Runs the TypeScript sources through tsx, so a clean clone needs
// no build step; path aliases come from the workspace's tsconfig.base.json.
'use strict';
const path = require('node:path');

process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', '..', '..', 'tsconfig.base.json');
require('tsx/cjs');
require('../src/main.ts').run();
