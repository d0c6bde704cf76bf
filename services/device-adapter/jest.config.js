/** @type {import('jest').Config} */
module.exports = {
  displayName: 'device-adapter',
  preset: '../../jest.preset.js',
  rootDir: '.',
  setupFiles: ['<rootDir>/../../libs/opcua/src/testing/jest-setup.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/device-adapter',
};
