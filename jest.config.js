/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // End-to-end tests spawn processes and PTYs; two cores do not want more workers.
  maxWorkers: 2,
  testTimeout: 60_000,
};
