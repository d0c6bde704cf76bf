// Workspace lint rules. Module boundaries follow DESIGN.md: libraries never import services;
// domain libraries (recipe, twin, contracts, control, rl) stay plain TypeScript with no framework, broker,
// OPC UA, database or telemetry import, so they can be tested and benchmarked alone.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const infrastructureImports = [
  '@nestjs/*',
  'kafkajs',
  'node-opcua',
  'node-opcua-*',
  'typeorm',
  'pg',
  'better-sqlite3',
  '@opentelemetry/*',
  'express',
];

/** Project roots that must stay framework-free (scope:domain and scope:contracts). */
const domainLibraries = ['libs/recipe', 'libs/twin', 'libs/contracts', 'libs/control', 'libs/rl'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({
    ...config,
    files: ['**/*.ts'],
  })),
  {
    ignores: ['**/src/generated/**', '**/dist', '**/node_modules', '**/coverage', '**/tmp', '**/.nx', '**/*.js', '**/*.mjs', '**/*.cjs', 'jest.config.js'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            // Axis 1, type: what kind of project may depend on what.
            // The CLI is a composition root (`pipac start` runs the whole cell in one process).
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:service', 'type:composition'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            // A composition wires services into one process (services/cell); services never
            // import each other.
            { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:lib', 'type:service'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // Scenario and integration tests (test/) compose services as a deployment would.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:service', 'type:composition'] },
            // Axis 2, scope: domain libraries are pure; infrastructure may build on them.
            {
              sourceTag: 'scope:domain',
              onlyDependOnLibsWithTags: ['scope:domain'],
              bannedExternalImports: infrastructureImports,
            },
            {
              sourceTag: 'scope:contracts',
              onlyDependOnLibsWithTags: ['scope:contracts'],
              bannedExternalImports: infrastructureImports,
            },
            {
              sourceTag: 'scope:infra',
              onlyDependOnLibsWithTags: ['scope:infra', 'scope:contracts', 'scope:domain'],
            },
            {
              sourceTag: 'scope:test',
              onlyDependOnLibsWithTags: ['scope:composition', 'scope:cell', 'scope:infra', 'scope:contracts', 'scope:domain'],
            },
            {
              sourceTag: 'scope:composition',
              onlyDependOnLibsWithTags: ['scope:composition', 'scope:cell', 'scope:infra', 'scope:contracts', 'scope:domain'],
            },
            {
              sourceTag: 'scope:cell',
              onlyDependOnLibsWithTags: ['scope:infra', 'scope:contracts', 'scope:domain'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // noUncheckedIndexedAccess is on: in numeric code over typed arrays, `x[i]!` after a
      // bounds-respecting loop is the idiom, so the assertion itself is not flagged.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // An async function without await is how a port implementation turns throws into
      // rejected promises; the rule would force try/catch wrappers instead.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      // A function a newcomer cannot read top to bottom is a set of steps without names
      // (issue 14): production code keeps every function, nested ones included, to 100 lines.
      'max-lines-per-function': ['error', { max: 100 }],
    },
  },
  {
    // Belt and braces for the domain libraries: ESLint's own rule needs no project graph,
    // so it also stops a package that is not installed yet.
    files: domainLibraries.map((root) => `${root}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: infrastructureImports.map((pattern) => ({
            group: [pattern],
            message: 'domain libraries stay framework-free (DESIGN.md): no NestJS, Kafka, OPC UA, database or telemetry here',
          })),
        },
      ],
    },
  },
  {
    // Tests, test fixtures and benchmarks: a describe block is as long as its cases.
    files: ['**/*.spec.ts', 'test/**/*.ts', '**/testing/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      'max-lines-per-function': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // An async function without await is how a port implementation turns throws into
      // rejected promises; the rule would force try/catch wrappers instead.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
];
