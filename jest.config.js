/** Unit, snapshot, schema and script tests (__tests__), the Magnum demo's tests, and the end-to-end
 * tests on the pod emulator (e2e). Run serially: the e2e tests time failovers on a 2-core machine. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__', '<rootDir>/e2e', '<rootDir>/demos'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }] },
  maxWorkers: 1,
  testTimeout: 60000,
  // A handle a suite leaves open must not hold the run past its report (CI has a time limit);
  // scripts/jest-open-handles.js names any such handle.
  forceExit: true,
  globalTeardown: '<rootDir>/scripts/jest-open-handles.js',
};
