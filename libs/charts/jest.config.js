/** @type {import('jest').Config} */
module.exports = {
  displayName: 'charts',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/charts',
};
