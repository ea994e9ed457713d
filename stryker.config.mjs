// @ts-check
/**
 * Mutation testing (`npm run test:mutation`): StrykerJS changes one operator, literal or branch
 * at a time in the modules whose bugs cost the most, and reruns the fast unit lane
 * (vitest.unit.config.ts: test/unit, no emulators) against each change. A change that no test
 * notices ("survived") is a gap in the tests. scripts/mutation-thresholds.ts then checks each
 * module's score against test/mutation-thresholds.json. See docs/testing.md, "Mutation testing".
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.unit.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  // Every run starts from nothing: a cached result must never hide a new survivor.
  incremental: false,
  concurrency: 2,
  // Module-level code (the status tables, the codec's decode table, constants) runs once at
  // import, so each of its mutants needs the whole unit lane (~250 × 15 s); that would triple
  // the run. Those tables are pinned by known-answer tests instead (docs/testing.md).
  ignoreStatic: true,
  timeoutMS: 5_000,
  // String literals here are mostly refusal and log texts (and encoding names whose empty
  // replacement means the same utf8); the strings that matter (hash names, the code tag domain)
  // are pinned by the known-answer vectors of the unit lane. Leaving them out keeps the run
  // inside CI's budget (docs/testing.md, "Mutation testing").
  mutator: { excludedMutations: ['StringLiteral'] },
  mutate: [
    'lib/attribution/credits.ts',
    'lib/codes/codec.ts',
    'lib/codes/limits.ts',
    'lib/sources/commerce/status.ts',
    'lib/sources/tmall/status.ts',
    'lib/sources/jd/status.ts',
    'lib/sources/youzan/status.ts',
    'lib/sources/commerce/sign-common.ts',
    'lib/sources/tmall/sign.ts',
    'lib/sources/jd/sign.ts',
    'lib/sources/youzan/sign.ts',
    'lib/sources/wechat/crypto.ts',
    'lib/sources/wechat/signature.ts',
    'lib/engagement/guardrails.ts',
    'lib/members/lifecycle.ts',
    // The pure part of points: lot expiry (earn/consume and the FIFO order need the store's lot rows).
    'lib/members/points.ts:22-31',
    'lib/store/entities/dedupe.ts',
    // Building the transaction (commit() is covered by the emulator lane).
    'lib/store/tx.ts:1-158',
    'lib/store/tx.ts:189-196',
  ],
  ignorePatterns: ['.cache', 'cdk.out', 'coverage', '.data', 'test-results', 'reports', 'bench/results'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  // Scores per module are enforced by scripts/mutation-thresholds.ts; this is the overall floor.
  thresholds: { high: 90, low: 80, break: null },
};

export default config;
