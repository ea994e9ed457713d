/**
 * `npm run bench`: every benchmark in one process run, one after the other, each in its own
 * module under bench/. Prints a table, writes bench/results/<name>.json (machine, node, date,
 * load average at start and end, iterations, numbers) and bench/results/summary.md.
 *
 *   npm run bench                  all of them
 *   npm run bench -- ingest e2e    only these (ingest, dynamo-cost, attribution, e2e, cold-start, scale)
 *
 * DynamoDB Local and the local SQS server are started once, on free ports, for the benchmarks
 * that need them, and stopped at the end. Logs below WARN are off unless HUB_LOG_LEVEL is set.
 * `npm run bench` also silences the AWS SDK's Node version notice (the environment variable
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, set by the npm script, never by code).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { logger } = await import('../lib/log.ts');
if (!process.env.HUB_LOG_LEVEL && !process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');
const { describeError, machine, RESULTS_DIR, writeResult } = await import('./lib/common.ts');
type BenchResult = import('./lib/common.ts').BenchResult;
type LocalEmulator = import('../local/emulators.ts').LocalEmulator;

const ALL = ['ingest', 'dynamo-cost', 'attribution', 'e2e', 'cold-start', 'scale'] as const;
type Name = (typeof ALL)[number];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const w of wanted) {
  if (!(ALL as readonly string[]).includes(w)) {
    console.error(`unknown benchmark "${w}"; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
}
const selected: Name[] = wanted.length ? ALL.filter((n) => wanted.includes(n)) : [...ALL];

const started = Date.now();
const startMachine = machine();
console.log(
  `SCRM Hub benchmarks — ${startMachine.cpuCount} × ${startMachine.cpus[0]?.model ?? 'cpu'}, node ${startMachine.node}, ` +
    `load average ${startMachine.loadAvgAtStart.join(' / ')} (1/5/15 min)`,
);

let emulators: { dynamo: LocalEmulator; sqs: LocalEmulator } | undefined;
async function needEmulators(): Promise<{ dynamo: LocalEmulator; sqs: LocalEmulator }> {
  if (emulators) return emulators;
  const { startDynamoLocal, startSqsLocal } = await import('../local/emulators.ts');
  const t0 = Date.now();
  const [dynamo, sqs] = await Promise.all([startDynamoLocal({ port: 0 }), startSqsLocal({ port: 0 })]);
  console.log(`emulators up in ${Date.now() - t0} ms (DynamoDB Local ${dynamo.endpoint}, SQS ${sqs.endpoint})`);
  emulators = { dynamo, sqs };
  return emulators;
}

const runners: Record<Name, () => Promise<BenchResult>> = {
  ingest: async () => (await import('./ingest.ts')).run(),
  'dynamo-cost': async () => (await import('./dynamo-cost.ts')).run({ dynamoEndpoint: (await needEmulators()).dynamo.endpoint }),
  attribution: async () => (await import('./attribution.ts')).run({ dynamoEndpoint: (await needEmulators()).dynamo.endpoint }),
  e2e: async () => {
    const e = await needEmulators();
    return (await import('./e2e.ts')).run({ dynamoEndpoint: e.dynamo.endpoint, sqsEndpoint: e.sqs.endpoint });
  },
  'cold-start': async () => (await import('./cold-start.ts')).run(),
  scale: async () => (await import('./scale.ts')).run({ dynamoEndpoint: (await needEmulators()).dynamo.endpoint }),
};

const results: BenchResult[] = [];
const failures: { name: string; error: string }[] = [];
try {
  for (const name of selected) {
    // The JVM is not needed for the pure-CPU and bundling benchmarks: stop it first so it does
    // not compete with them.
    if ((name === 'cold-start' || name === 'ingest') && emulators) {
      await Promise.all([emulators.dynamo.stop(), emulators.sqs.stop()]);
      emulators = undefined;
    }
    process.stdout.write(`\n▶ ${name} … `);
    const t0 = Date.now();
    try {
      const result = await runners[name]();
      results.push(result);
      const file = writeResult(result);
      console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${file}`);
      printTable(result);
    } catch (err) {
      const error = describeError(err);
      failures.push({ name, error });
      console.log(`FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s\n${error}`);
    }
  }
} finally {
  if (emulators) await Promise.all([emulators.dynamo.stop(), emulators.sqs.stop()]);
}

const endMachine = machine();
// Benchmarks not run this time keep their rows from their last result file (marked with its date).
const earlier: BenchResult[] = ALL.filter((n) => !selected.includes(n))
  .map((n) => join(RESULTS_DIR, `${n}.json`))
  .filter((f) => existsSync(f))
  .map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchResult);
writeFileSync(join(RESULTS_DIR, 'summary.md'), summaryMarkdown(results, failures, earlier));
console.log(
  `\nall done in ${((Date.now() - started) / 1000).toFixed(1)} s; load average at the end ${endMachine.loadAvgAtStart.join(' / ')}; ` +
    `summary → ${join(RESULTS_DIR, 'summary.md')}`,
);
if (failures.length) {
  console.error(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.name).join(', ')}`);
  process.exitCode = 1;
}

// Every benchmark stops what it started (hub, stand-ins, clients) and the emulators are stopped
// above, so the process ends here. Should something still hold the event loop, name it and end
// with a failure instead of hanging.
const lingering = setTimeout(() => {
  const handles = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
  console.error(`the process did not exit 10 s after the last benchmark; still open: ${handles.join(', ') || 'nothing named'}`);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 3);
}, 10_000);
lingering.unref();

function printTable(r: BenchResult): void {
  const width = Math.max(...r.summary.map(([k]) => k.length), 10);
  console.log(`  ${r.title}`);
  for (const [k, v] of r.summary) console.log(`  ${k.padEnd(width)}  ${v}`);
  console.log(`  load average ${r.machine.loadAvgAtStart.join('/')} → ${r.loadAvgAtEnd.join('/')}`);
}

function summaryMarkdown(rs: BenchResult[], failed: { name: string; error: string }[], earlier: BenchResult[]): string {
  const m = startMachine;
  const lines = [
    '# Benchmark summary',
    '',
    `Generated by \`npm run bench\` on ${m.date}: ${m.cpuCount} × ${m.cpus[0]?.model ?? 'cpu'}, ${m.totalMemMb} MB, node ${m.node}, ${m.platform}.`,
    `Load average (1/5/15 min) at the start: ${m.loadAvgAtStart.join(' / ')}; at the end: ${endMachine.loadAvgAtStart.join(' / ')}.`,
    'Other work ran on the same machine at the same time; the load averages above say how much.',
    '',
    '| benchmark | metric | value |',
    '|---|---|---|',
  ];
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  for (const r of rs) {
    for (const [k, v] of r.summary) lines.push(`| ${r.name} | ${esc(k)} | ${esc(v)} |`);
    lines.push(`| ${r.name} | load average start → end | ${r.machine.loadAvgAtStart.join('/')} → ${r.loadAvgAtEnd.join('/')} |`);
  }
  for (const r of earlier) {
    for (const [k, v] of r.summary) lines.push(`| ${r.name} (run ${r.machine.date.slice(0, 16)}) | ${esc(k)} | ${esc(v)} |`);
  }
  for (const f of failed) lines.push(`| ${f.name} | FAILED | ${esc(f.error.split('\n')[0] ?? '')} |`);
  lines.push('', 'Details, with every number and the iterations, in the JSON file of each benchmark.', '');
  return lines.join('\n');
}
