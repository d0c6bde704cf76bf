/** @type {import('jest').Config} */
module.exports = {
  displayName: 'opcua',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/opcua',
};
