const preset = require('../../jest.preset.js');

/**
 * jose (the gateway's JWT verifier) and oidc-provider (the OpenID provider its SSO tests run)
 * ship only ES modules; jest on Node 20 cannot require() them untransformed, so they are
 * compiled like the preset's own ES-module-only packages.
 */
const esmOnlyPackages = ['jose', 'oidc-provider'];
const [esmTransform] = Object.entries(preset.transform).filter(([pattern]) =>
  pattern.startsWith('/node_modules/'),
);

/** @type {import('jest').Config} */
module.exports = {
  displayName: 'erp-gateway',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '../../coverage/services/erp-gateway',
  transformIgnorePatterns: preset.transformIgnorePatterns.map((pattern) =>
    pattern.replace('(?!(', `(?!(${esmOnlyPackages.join('|')}|`),
  ),
  transform: { [`/node_modules/(${esmOnlyPackages.join('|')})/.+\\.js$`]: esmTransform[1] },
};
