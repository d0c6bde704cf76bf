/** @type {import('jest').Config} */
module.exports = {
  displayName: 'step-agent',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/step-agent',
};
