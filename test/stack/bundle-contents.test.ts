/**
 * What a function's bundle carries (docs/deploy.md#bundles), from esbuild's metafile with the
 * stack's aliases (stacks/bundling.ts). A webhook function (and tmc-pull, reconcile, members)
 * bundles the planners of the events it applies and no other: the order webhooks carry neither
 * the WeChat planner nor its keyword matching (lib/insight, re2js). A function that never applies
 * an event carries no planner map (PLANNERS is pure). A function bundled without X-Ray carries
 * the tracer-off module instead of the Powertools tracer and the X-Ray SDK.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { entryOf, FUNCTIONS } from '../../lib/manifest.ts';
import { lambdaAliases } from '../../stacks/bundling.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The modules with code in function `name`'s bundle (repository-relative paths). */
async function inputsOf(name: string, tracing = true): Promise<string[]> {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`no function ${name}`);
  const r = await build({
    entryPoints: [join(ROOT, entryOf(spec))],
    outdir: 'out', // nothing is written
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'error',
    alias: Object.fromEntries(Object.entries(lambdaAliases(tracing)).map(([from, to]) => [from, join(ROOT, to)])),
  });
  // Only what is in the output: a module imported but wholly tree-shaken has 0 bytes there.
  return Object.values(r.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([f]) => f));
}

const PLANNER_FILES = ['wechat', 'wecom', 'orders', 'code-scan', 'register', 'consent', 'index'].map((p) => `lib/apply/planners/${p}.ts`);

// Hand-written: the planner modules of the events each function applies.
const OWN_PLANNERS: Record<string, string[]> = {
  wechat: ['wechat'],
  wecom: ['wecom'],
  tmall: ['orders'],
  jd: ['orders'],
  youzan: ['orders'],
  'tmall-mei': ['orders'],
  'codes-scan': ['code-scan'],
  'tmc-pull': ['orders'],
  reconcile: ['orders'],
  members: ['register', 'consent'],
};

describe('function bundles', () => {
  it.each(Object.entries(OWN_PLANNERS))('%s carries its own planners and no other', async (name, own) => {
    const inputs = await inputsOf(name);
    expect(PLANNER_FILES.filter((f) => inputs.includes(f)).sort()).toEqual(own.map((p) => `lib/apply/planners/${p}.ts`).sort());
    // lib/apply/apply.ts is the write path with every planner.
    expect(inputs).not.toContain('lib/apply/apply.ts');
    expect(inputs).toContain('lib/apply/apply-with.ts');
    const keywordMatching = inputs.some((f) => f.startsWith('lib/insight/') || f.includes('node_modules/re2js/'));
    expect(keywordMatching).toBe(name === 'wechat');
  });

  it('a function that applies no event (admin) carries neither the planner map nor the WeChat planner, although it imports lib/apply/apply.ts', async () => {
    const inputs = await inputsOf('admin');
    // admin uses helpers of lib/apply/planners/orders.ts (order references), not its planners.
    expect(inputs).not.toContain('lib/apply/planners/index.ts');
    expect(inputs).not.toContain('lib/apply/planners/wechat.ts');
    expect(inputs.some((f) => f.includes('node_modules/re2js/'))).toBe(false);
  });

  it('with X-Ray: the Powertools tracer and the X-Ray SDK; without: the tracer-off module only', async () => {
    const xray = (inputs: string[]) => inputs.filter((f) => f.includes('node_modules/aws-xray-sdk-core/') || f.includes('node_modules/@aws-lambda-powertools/tracer/'));
    const traced = await inputsOf('tmall', true);
    const untraced = await inputsOf('tmall', false);
    expect(xray(traced).length).toBeGreaterThan(0);
    expect(traced).not.toContain('lib/runtime/tracer-off.ts');
    expect(xray(untraced)).toEqual([]);
    expect(untraced).toContain('lib/runtime/tracer-off.ts');
  });
});
