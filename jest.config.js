// Native-ESM jest (NestJS 12, jose 6 and client-node 2 are ESM-only). swc strips types without
// checking them, so `npm test` runs `tsc --noEmit` first.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'es6' },
  },
];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/test/setup/timeouts.ts'],
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'], globals: { defaultTimeoutMs: 15_000 } },
    // Real processes and sockets: a loaded 2-core CI machine needs far more than jest's 5 s default
    // (set by test/setup/timeouts.ts: jest 30 ignores testTimeout per project).
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'], slowTestThreshold: 30, globals: { defaultTimeoutMs: 30_000 } },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'], globals: { defaultTimeoutMs: 60_000 } },
  ],
};
