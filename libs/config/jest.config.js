/** @type {import('jest').Config} */
module.exports = {
  displayName: 'config',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/config',
};
