/**
 * The runtime of the code under test in this test file: the running test hub's (hub.ts registers
 * it), else the file's own (env.ts), else — for pure helpers used before either, or by a
 * benchmark — the local defaults over this environment. No vitest import: the signing helpers
 * (wechat-client.ts, commerce-client.ts) that read it are shared with bench/.
 */
import { loadConfig, type HubConfig } from '../../lib/config/index.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';

let active: (() => Runtime) | undefined;
let fileRuntime: Runtime | undefined;
let defaults: HubConfig | undefined;

/** The code under test takes its runtime from `source` from now on (undefined: back to the file's). */
export function setActiveRuntime(source: (() => Runtime) | undefined): void {
  active = source;
}

/** The file's own runtime (env.ts useLocalAws). */
export function setFileRuntime(runtime: Runtime | undefined): void {
  fileRuntime = runtime;
}

/** The runtime of the code under test: the running test hub's, else this file's. */
export function activeRuntime(): Runtime {
  const rt = active?.() ?? fileRuntime;
  if (!rt) throw new Error('no runtime yet: await useLocalAws() or start the test hub first');
  return rt;
}

/** The configuration of the code under test (see activeRuntime); before any runtime, the local defaults over this environment. */
export function hubConfig(): HubConfig {
  if (active || fileRuntime) return activeRuntime().cfg;
  defaults ??= loadConfig({ env: process.env, local: true });
  return defaults;
}
