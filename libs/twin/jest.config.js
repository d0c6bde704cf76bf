/** @type {import('jest').Config} */
module.exports = {
  displayName: 'twin',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/twin',
};
