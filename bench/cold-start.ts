/**
 * Cold start: every function of the manifest bundled with esbuild exactly as the CDK stack's
 * NodejsFunction does (stacks/hub-stack.ts `bundling`: bundle, minify, ESM, platform node,
 * target node22, mainFields module,main, the createRequire banner, source map without sources
 * content, nothing external — the AWS SDK is bundled) into a temporary folder; then, for each
 * bundle, the bytes (and gzip bytes, level 6) and the time to `import()` it in a fresh `node`
 * process: the child measures `process.hrtime` around the import itself (median of 5 children).
 * The child runs with the stack's NODE_OPTIONS (`--enable-source-maps`) and an environment that
 * keeps the import off the network (static credentials, region, no secret ARN, no metadata
 * service). The parent also reports the whole child's wall time (process start + import + exit),
 * and the same import once more per round without `--enable-source-maps`, to show its share.
 *
 * Two variants of every function, built and imported interleaved with it in the same run:
 * - untraced: as the stack bundles it for a stage without X-Ray (`tracing: false`), the Powertools
 *   tracer replaced by lib/runtime/tracer-off.ts (stacks/bundling.ts UNTRACED_ALIASES);
 * - runtime SDK: `@aws-sdk/*` and `@smithy/*` left external and loaded from node_modules file by
 *   file, as the Lambda runtime's own SDK would be (the bundle is written inside the repository so
 *   that node resolves them) — the measurement behind keeping the SDK bundled.
 *
 * The banner and target are read from the stack's source so they cannot drift from it. The
 * dashboard's generated page module is built first (scripts/build-dashboard.ts), as before synth.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { entryOf, FUNCTIONS } from '../lib/manifest.ts';
import { lambdaAliases } from '../stacks/bundling.ts';
import { writeDashboardModule } from '../scripts/build-dashboard.ts';
import { BENCH_DIR, fmt, machine, median, round, type BenchResult } from './lib/common.ts';

const ROOT = resolve(BENCH_DIR, '..');

export interface ColdStartOptions {
  runs?: number;
  /** Only these functions (default: the whole manifest). */
  only?: string[];
}

/** The stack's bundling settings, read from its source. */
export function stackBundling(): { banner: string; target: string; mainFields: string[] } {
  const src = readFileSync(join(ROOT, 'stacks', 'hub-stack.ts'), 'utf8');
  const banner = /export const ESM_REQUIRE_BANNER = "([^"]+)";/.exec(src)?.[1];
  const target = /bundling:\s*\{[\s\S]*?target:\s*'([^']+)'/.exec(src)?.[1];
  const main = /mainFields:\s*\[([^\]]*)\]/.exec(src)?.[1];
  if (!banner || !target || !main || !/format:\s*OutputFormat\.ESM/.test(src) || !/minify:\s*true/.test(src) || !/externalModules:\s*\[\]/.test(src)) {
    throw new Error('could not read the bundling settings from stacks/hub-stack.ts');
  }
  return { banner, target, mainFields: [...main.matchAll(/'([^']+)'/g)].map((m) => m[1]!) };
}

const CHILD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  NODE_OPTIONS: '--enable-source-maps',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  HUB_TABLE: 'scrm-hub',
  HUB_TIMEZONE: 'Asia/Shanghai',
  ENGAGEMENT_QUEUE_URL: 'http://127.0.0.1:9/000000000000/engagement',
  STAFF_QUEUE_URL: 'http://127.0.0.1:9/000000000000/staff-alerts',
  POWERTOOLS_SERVICE_NAME: 'scrm-hub',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

const CHILD_SCRIPT = `
const url = process.argv[1];
const t0 = process.hrtime.bigint();
const mod = await import(url);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (typeof mod.handler !== 'function') { process.stderr.write('no handler export'); process.exit(2); }
process.stdout.write(JSON.stringify({ ms }));
process.exit(0);
`;

function importOnce(file: string, sourceMaps = true): Promise<{ importMs: number; processMs: number }> {
  return new Promise((resolveRun, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(file).href], {
      env: sourceMaps ? CHILD_ENV : { ...CHILD_ENV, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const processMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`import of ${file} failed (exit ${code}): ${err.slice(0, 500)}`));
      try {
        resolveRun({ importMs: (JSON.parse(out) as { ms: number }).ms, processMs });
      } catch {
        reject(new Error(`unexpected child output: ${out.slice(0, 200)} ${err.slice(0, 200)}`));
      }
    });
  });
}

type Variant = 'stack' | 'untraced' | 'runtimeSdk';
const VARIANTS: readonly Variant[] = ['stack', 'untraced', 'runtimeSdk'];

interface Bundle {
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  buildMs: number;
  importMs: number[];
  processMs: number[];
}

export async function run(opts: ColdStartOptions = {}): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const runs = opts.runs ?? 5;
  const settings = stackBundling();
  // The dashboard function serves a generated module (lib/dashboard/page.generated.ts, not in
  // git); build it as `npm run synth` does before bundling (its presynth step).
  await writeDashboardModule();
  const dir = mkdtempSync(join(tmpdir(), 'hub-bundles-'));
  // The runtime-SDK variant must resolve @aws-sdk/* from the repository's node_modules.
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const sdkDir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'hub-bundles-'));
  const outfileOf = (name: string, v: Variant) => (v === 'runtimeSdk' ? join(sdkDir, name, 'index.mjs') : join(dir, v, name, 'index.mjs'));
  const specs = FUNCTIONS.filter((f) => !opts.only || opts.only.includes(f.name));
  const rows: { name: string; noMapsMs: number[]; variants: Record<Variant, Bundle> }[] = [];
  try {
    for (const spec of specs) {
      const variants = {} as Record<Variant, Bundle>;
      for (const v of VARIANTS) {
        const outfile = outfileOf(spec.name, v);
        const b0 = Date.now();
        await build({
          entryPoints: [join(ROOT, entryOf(spec))],
          outfile,
          bundle: true,
          minify: true,
          format: 'esm',
          platform: 'node',
          target: settings.target,
          mainFields: settings.mainFields,
          banner: { js: settings.banner },
          sourcemap: true,
          sourcesContent: false,
          external: v === 'runtimeSdk' ? ['@aws-sdk/*', '@smithy/*'] : [],
          alias: Object.fromEntries(Object.entries(lambdaAliases(v !== 'untraced')).map(([from, to]) => [from, join(ROOT, to)])),
          logLevel: 'error',
        });
        const buildMs = Date.now() - b0;
        const code = readFileSync(outfile);
        variants[v] = { bytes: code.length, gzipBytes: gzipSync(code).length, mapBytes: statSync(`${outfile}.map`).size, buildMs, importMs: [], processMs: [] };
      }
      rows.push({ name: spec.name, noMapsMs: [], variants });
    }
    // Interleave the children (function after function, variant after variant, round after
    // round) so background load spreads over all of them alike.
    for (let r = 0; r < runs; r++) {
      for (const row of rows) {
        for (const v of VARIANTS) {
          const res = await importOnce(outfileOf(row.name, v));
          row.variants[v].importMs.push(res.importMs);
          row.variants[v].processMs.push(res.processMs);
        }
        row.noMapsMs.push((await importOnce(outfileOf(row.name, 'stack'), false)).importMs);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(sdkDir, { recursive: true, force: true });
  }

  const variantOf = (b: Bundle) => ({
    bytes: b.bytes,
    gzipBytes: b.gzipBytes,
    importMsMedian: round(median(b.importMs), 1),
    importMsAll: b.importMs.map((x) => round(x, 1)),
  });
  const perFunction = rows.map(({ name, noMapsMs, variants: { stack: r, untraced, runtimeSdk } }) => ({
    name,
    bytes: r.bytes,
    gzipBytes: r.gzipBytes,
    sourceMapBytes: r.mapBytes,
    buildMs: r.buildMs,
    importMsMedian: round(median(r.importMs), 1),
    importMsMin: round(Math.min(...r.importMs), 1),
    importMsMax: round(Math.max(...r.importMs), 1),
    processMsMedian: round(median(r.processMs), 1),
    importMsWithoutSourceMapsMedian: round(median(noMapsMs), 1),
    importMsAll: r.importMs.map((x) => round(x, 1)),
    untraced: variantOf(untraced),
    runtimeSdk: variantOf(runtimeSdk),
  }));
  const summary: [string, string][] = perFunction.map((f) => [
    `${f.name}`,
    `${fmt(f.bytes / 1024, 0)} KB (gzip ${fmt(f.gzipBytes / 1024, 0)} KB), import ${f.importMsMedian} ms (${f.importMsWithoutSourceMapsMedian} ms without source maps; whole process ${f.processMsMedian} ms); ` +
      `untraced ${fmt(f.untraced.bytes / 1024, 0)} KB, ${f.untraced.importMsMedian} ms; runtime SDK ${fmt(f.runtimeSdk.bytes / 1024, 0)} KB, ${f.runtimeSdk.importMsMedian} ms`,
  ]);
  return {
    name: 'cold-start',
    title: 'Cold start: bundle size and import time per function (esbuild as the stack bundles)',
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { functions: rows.length, importRunsPerFunction: runs },
    numbers: { settings: { ...settings, format: 'esm', platform: 'node', minify: true, nodeOptions: CHILD_ENV.NODE_OPTIONS }, functions: perFunction },
    summary,
    notes: [`child node ${process.version} (Lambda runs node22); import time measured inside the child with process.hrtime; median of ${runs}`],
  };
}
