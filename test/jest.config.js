/** @type {import('jest').Config} */
module.exports = {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  setupFiles: ['<rootDir>/../libs/opcua/src/testing/jest-setup.ts'],
  testMatch: ['<rootDir>/**/*.e2e.spec.ts'],
  // Real brokers and servers: one suite at a time, generous limits.
  maxWorkers: 1,
  testTimeout: 120_000,
};
