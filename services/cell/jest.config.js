/** @type {import('jest').Config} */
module.exports = {
  displayName: 'cell',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/cell',
};
