// Two projects: fast unit tests beside the code (*.spec.ts), and end-to-end tests against the real app (test/**/*.e2e-spec.ts).
const moduleNameMapper = {
  '^@app/(core|media|config|jobs)$': '<rootDir>/libs/$1/src',
  '^@app/(core|media|config|jobs)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', {}] };
// a key prefix of its own per test file when the tests share one Redis (REDIS_URL set)
const setupFiles = ['<rootDir>/test/support/redis-key-prefix.ts'];
// every file is checked for open handles at its end (test/support/leak-environment.js), so the run exits by itself
const common = { testEnvironment: '<rootDir>/test/support/leak-environment.js', moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform, setupFiles };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
