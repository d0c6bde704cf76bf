/** @type {import('jest').Config} */
module.exports = {
  displayName: 'cell',
  preset: '../../jest.preset.js',
  rootDir: '.',
  setupFiles: ['<rootDir>/../../libs/opcua/src/testing/jest-setup.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/cell',
  // The whole cell runs in accelerated time: minutes, not seconds.
  testTimeout: 180_000,
};
