/**
 * The fast lane (`npm run test:unit`): the pure tests in test/unit — no DynamoDB Local, no SQS
 * server, no child processes, so no globalSetup. `npm test` runs these files too. A test here
 * that needs the emulators (test/support/env.ts, hub.ts) finds no `inject()` values and fails:
 * that keeps the lane pure. Tests that spawn processes or use the emulators live in
 * test/integration/.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['node_modules/**', '.cache/**', 'cdk.out/**'],
    pool: 'threads',
    testTimeout: 10_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
