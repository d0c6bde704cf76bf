/** @type {import('jest').Config} */
module.exports = {
  displayName: 'opcua',
  preset: '../../jest.preset.js',
  rootDir: '.',
  setupFiles: ['<rootDir>/src/testing/jest-setup.ts'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/opcua',
};
