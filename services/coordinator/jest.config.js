/** @type {import('jest').Config} */
module.exports = {
  displayName: 'coordinator',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/coordinator',
};
