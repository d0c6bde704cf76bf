/** @type {import('jest').Config} */
module.exports = {
  displayName: 'control',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/control',
};
