/** @type {import('jest').Config} */
module.exports = {
  displayName: 'rl',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/rl',
};
