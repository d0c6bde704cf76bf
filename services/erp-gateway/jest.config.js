/** @type {import('jest').Config} */
module.exports = {
  displayName: 'erp-gateway',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/erp-gateway',
};
