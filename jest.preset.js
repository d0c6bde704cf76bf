// Shared jest settings for every project: @swc/jest for speed (types are checked by the
// `typecheck` target, not by jest), module names mapped from tsconfig.base.json paths.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace(/[/\\^$+?.()|[\]{}]/g, '\\$&')}$`,
    path.join(__dirname, target),
  ]),
);

const swc = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

/**
 * ES-module-only packages that CommonJS dependencies require(): jest on Node 20 cannot load
 * them untransformed (node-opcua-debug requires hexy 0.4, which is ESM). tfjs-core ships its
 * gradient registrations only as ES modules (dist/register_all_gradients.js); they share the
 * CommonJS bundle's engine and registries through tfjs's global namespace.
 */
const esmOnlyPackages = ['hexy', '@tensorflow/tfjs-core'];

module.exports = {
  testEnvironment: path.join(__dirname, 'tools', 'jest', 'node-environment.js'),
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  transform: {
    [`/node_modules/(${esmOnlyPackages.join('|')})/.+\\.js$`]: [
      '@swc/jest',
      { ...swc, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } } },
    ],
    '^.+\\.ts$': ['@swc/jest', swc],
  },
};
