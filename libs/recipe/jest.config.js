/** @type {import('jest').Config} */
module.exports = {
  displayName: 'recipe',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/libs/recipe',
};
