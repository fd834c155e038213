'use strict';

/**
 * Three projects: `unit` runs in-process against src, `integration` spawns real processes, and
 * `e2e` runs the multi-host lab (network namespaces, real HAProxy and nginx; needs root).
 */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }];
/** The Node binaries of the test matrix (tools/lib/node-lines.js) are not modules of ours. */
const modulePathIgnorePatterns = ['<rootDir>/.cache/'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/tools/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        '\\.integration\\.test\\.ts$',
        '\\.e2e\\.test\\.ts$',
      ],
      modulePathIgnorePatterns,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/packages/*/test/**/*.integration.test.ts'],
      modulePathIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/packages/*/test/**/*.e2e.test.ts'],
      modulePathIgnorePatterns,
    },
  ],
  testTimeout: 30000,
};
