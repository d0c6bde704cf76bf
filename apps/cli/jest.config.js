/** @type {import('jest').Config} */
module.exports = {
  displayName: 'cli',
  preset: '../../jest.preset.js',
  rootDir: '.',
  // `pipac start` loads node-opcua: its benign start-up warnings (logged late) go quiet.
  setupFiles: ['<rootDir>/../../libs/opcua/src/testing/jest-setup.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/apps/cli',
};
