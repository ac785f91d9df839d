/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec', '<rootDir>/marbles'],
  testMatch: ['**/*.spec.ts'],
  // Jest's default leaves a core idle (workers = cores - 1); the specs spend much of their time waiting on child
  // processes and timers, so one worker per core is faster on small machines and no slower on large ones.
  maxWorkers: '100%',
  // tsconfig.json sets isolatedModules, so ts-jest transpiles each file alone; npm test type-checks the whole tree first.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Specs import the package by its public name, so they exercise exactly what users import.
  moduleNameMapper: {
    '^rxjs-sluice$': '<rootDir>/src/index.ts',
    '^rxjs-sluice/node$': '<rootDir>/src/node/index.ts',
    '^rxjs-sluice/testing$': '<rootDir>/src/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
