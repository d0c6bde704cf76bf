/** @type {import('jest').Config} */
module.exports = {
  displayName: 'persistence',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/persistence',
};
