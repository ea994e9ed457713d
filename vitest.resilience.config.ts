/** Resilience suite (fault injection, long-running scenarios): `npm run test:resilience`. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/resilience/**/*.test.ts'],
    exclude: ['node_modules/**', '.cache/**', 'cdk.out/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
