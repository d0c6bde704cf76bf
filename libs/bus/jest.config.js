/** @type {import('jest').Config} */
module.exports = {
  displayName: 'bus',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/bus',
};
