/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec', '<rootDir>/marbles'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  // Specs import the package by its public name, so they exercise exactly what users import.
  moduleNameMapper: {
    '^rxjs-sluice$': '<rootDir>/src/index.ts',
    '^rxjs-sluice/node$': '<rootDir>/src/node/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
