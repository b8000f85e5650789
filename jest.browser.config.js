// Jest for the browser test alone (`npm run test:browser`): it starts the app as `npm start` does and drives Swagger
// UI in Chromium, so it needs no test database and stays out of `npm test` (jest.config.js does not match it).
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1', '^test/(.*)$': '<rootDir>/test/$1' },
  testEnvironment: 'node',
  testTimeout: 120000,
};
