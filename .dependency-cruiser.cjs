/**
 * Import rules between the layers of lib/, functions/ and stacks/ (`npm run lint:deps`, part of
 * `npm run lint`, so CI fails on a violation). A layer imports only its own layer and lower ones;
 * domain folders may import each other as long as no cycle forms.
 *
 *   L6 entries  functions/*.ts, lib/sources/<id>/handler.ts     one-line Lambda entries
 *   L5 runtime  lib/runtime/                                    handler factories and middlewares
 *   L4 apply    lib/apply/                                      the one write path and the use cases that call it
 *   L3 domain   lib/{members,attribution,engagement,codes,wechat,archive,loyalty,insight}/, lib/sources/** (inbound code)
 *   L2 port     lib/port.ts                                     types only: what planners may use
 *   L1 store    lib/store/                                      the data layer; the ONLY importer of @aws-sdk/*
 *   L0 base     lib/{errors,ids,time,log,queues,csv,manifest,metrics}.ts, lib/events/, lib/config/,
 *               lib/sources/{descriptor-types,platforms}.ts, lib/sources/<id>/descriptor.ts (pure code and data)
 *   tools       lib/simulate/ and lib/analytics/ (imported only by scripts and tests), lib/dashboard/ (browser code,
 *               type-only imports from the rest of lib/)
 *   outside     local/ may import anything in lib/; nothing in lib/, functions/ or stacks/ imports local/
 *
 * There are no tolerated exceptions: any violation fails `npm run lint`.
 */
const ENTRY = '^functions/|^lib/sources/[^/]+/handler\\.ts$';
const RUNTIME = '^lib/runtime/';
const APPLY = '^lib/apply/';
const DOMAIN =
  '^lib/(members|attribution|engagement|codes|wechat|archive|loyalty|insight)/|^lib/sources/(?!descriptor-types\\.ts$|platforms\\.ts$|[^/]+/(descriptor|handler)\\.ts$)';
const PORT = '^lib/port\\.ts$';
const STORE = '^lib/store/';
const BASE =
  '^lib/(errors|ids|time|log|queues|csv|manifest|metrics)\\.ts$|^lib/(events|config)/|^lib/sources/(descriptor-types|platforms)\\.ts$|^lib/sources/[^/]+/descriptor\\.ts$';
const above = (...layers) => ({ path: layers.join('|') });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'no import cycle, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-is-the-floor',
      comment: 'base modules (errors, ids, time, log, queues, manifest, events, config) import nothing above them',
      severity: 'error',
      from: { path: BASE },
      to: above(STORE, PORT, DOMAIN, APPLY, RUNTIME, ENTRY),
    },
    {
      name: 'store-below-domain',
      comment: 'lib/store knows no domain, use case, runtime or entry',
      severity: 'error',
      from: { path: STORE },
      to: above(PORT, DOMAIN, APPLY, RUNTIME, ENTRY),
    },
    {
      name: 'port-below-domain',
      comment: 'lib/port.ts is types the domain uses; it imports nothing above the store',
      severity: 'error',
      from: { path: PORT },
      to: above(DOMAIN, APPLY, RUNTIME, ENTRY),
    },
    {
      name: 'domain-below-apply',
      comment: 'domain code never imports lib/apply, lib/runtime or functions/: it is given a port',
      severity: 'error',
      from: { path: DOMAIN },
      to: above(APPLY, RUNTIME, ENTRY),
    },
    {
      name: 'apply-below-runtime',
      comment: 'use cases do not import the handler runtime or entries',
      severity: 'error',
      from: { path: APPLY },
      to: above(RUNTIME, ENTRY),
    },
    {
      name: 'runtime-below-entries',
      comment: 'the runtime does not import the entries built from it',
      severity: 'error',
      from: { path: RUNTIME },
      to: above(ENTRY),
    },
    {
      name: 'sdk-only-in-store',
      comment: 'AWS SDK imports (types included) belong to lib/store',
      severity: 'error',
      from: { path: '^(lib|functions)/', pathNot: STORE },
      to: { path: 'node_modules/@aws-sdk/' },
    },
    {
      name: 'lib-not-local',
      comment: 'the local runtime builds on lib/; the deployed code never imports local/',
      severity: 'error',
      from: { path: '^(lib|functions|stacks)/' },
      to: { path: '^local/' },
    },
    {
      name: 'simulate-is-a-tool',
      comment: 'the traffic simulator is used by scripts and tests only',
      severity: 'error',
      from: { path: '^(lib|functions)/', pathNot: '^lib/simulate/' },
      to: { path: '^lib/simulate/' },
    },
    {
      name: 'analytics-is-a-tool',
      comment: 'rebuild, replay and SQL over the archive are operator tools: scripts and tests only',
      severity: 'error',
      from: { path: '^(lib|functions)/', pathNot: '^lib/analytics/' },
      to: { path: '^lib/analytics/' },
    },
    {
      name: 'dashboard-types-only',
      comment: 'the browser dashboard imports only types from the rest of lib/',
      severity: 'error',
      from: { path: '^lib/dashboard/' },
      to: { path: '^lib/', pathNot: '^lib/dashboard/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'stacks-import-data-only',
      comment: 'the CDK app reads data modules only: the manifest, the queues, the table definition, the config keys, the business metric names, the archive streams',
      severity: 'error',
      from: { path: '^stacks/' },
      to: { path: '^(lib|functions)/', pathNot: '^lib/(manifest|queues|metrics)\\.ts$|^lib/store/table\\.ts$|^lib/config/|^lib/archive/streams\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: no type cycles either
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
    exclude: { path: '^(cdk\\.out|\\.cache)/|page\\.generated\\.ts$' },
  },
};
