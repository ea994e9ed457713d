/**
 * The business metrics (lib/metrics.ts, lib/runtime/metrics.ts): every declared name is emitted
 * by the code or listed as not yet emitted with its reason; the Powertools sink writes each
 * metric with exactly the dimension set the dashboard's SEARCH expects (service plus the
 * metric's own), adds counts up per dimension values and keeps the largest duration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUSINESS_METRICS, NOT_YET_EMITTED, type BusinessMetricName } from '../../lib/metrics.ts';
import { PowertoolsMetricsSink } from '../../lib/runtime/metrics.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('every business metric', () => {
  const code = [...sources('lib'), ...sources('functions')].join('\n');
  const emitted = (name: string) => new RegExp(`\\.add\\('${name}',`).test(code);

  it.each(BUSINESS_METRICS.map((m) => [m.name] as const))('%s is emitted, or listed as not yet emitted (not both)', (name) => {
    const listed = Object.hasOwn(NOT_YET_EMITTED, name);
    expect(emitted(name) !== listed, `${name}: emitted ${emitted(name)}, listed ${listed}`).toBe(true);
  });

  it('the not-yet-emitted list names declared metrics only', () => {
    const names = new Set<string>(BUSINESS_METRICS.map((m) => m.name));
    for (const n of Object.keys(NOT_YET_EMITTED)) expect(names.has(n), n).toBe(true);
  });
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

function captureEmf(): Emf[] {
  const lines: Emf[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const l of text.split('\n')) if (l.includes('"_aws"')) lines.push(JSON.parse(l) as Emf);
    return true;
  });
  return lines;
}

describe('PowertoolsMetricsSink', () => {
  afterEach(() => vi.restoreAllMocks());
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const fresh = () => new PowertoolsMetricsSink(new Metrics({ namespace: 'ScrmHub', serviceName: 'scrm-hub', logger: quiet }));

  // Hand-written: the dimension set of each metric as the dashboard's SEARCH schema names it.
  const expected: [BusinessMetricName, Record<string, string>, string[]][] = [
    ['EventsApplied', { source: 'tmall' }, ['service', 'source']],
    ['Duplicates', { source: 'jd' }, ['service', 'source']],
    ['Refused', { source: 'wechat', reason: 'stale' }, ['service', 'reason', 'source']],
    ['MessagesSuppressed', { reason: 'cap' }, ['service', 'reason']],
    ['CodeScans', { result: 'redeemed' }, ['service', 'result']],
  ];

  it.each(expected)('%s goes out with dimensions %j as %j', (name, dims, set) => {
    const lines = captureEmf();
    const sink = fresh();
    sink.add(name, dims as never);
    sink.flush();
    sink.target.publishStoredMetrics();
    expect(lines).toHaveLength(1);
    expect(lines[0]!._aws.CloudWatchMetrics).toEqual([{ Namespace: 'ScrmHub', Dimensions: [set], Metrics: [{ Name: name, Unit: 'Count' }] }]);
    expect(lines[0]).toMatchObject({ ...dims, service: 'scrm-hub', [name]: 1 });
  });

  it('adds counts up per dimension values, one line each; a metric without dimensions goes out with the instance', () => {
    const lines = captureEmf();
    const sink = fresh();
    sink.add('Refused', { source: 'wechat', reason: 'bad_signature' });
    sink.add('Refused', { reason: 'bad_signature', source: 'wechat' }, 2);
    sink.add('Refused', { source: 'wechat', reason: 'stale' });
    sink.add('MessagesSent', {});
    sink.add('MessagesSent', {});
    sink.add('FoldLagSeconds', {}, 4.5);
    sink.flush();
    sink.target.publishStoredMetrics();
    const refused = lines.filter((l) => 'Refused' in l).map((l) => [l.reason, l.Refused]);
    expect(refused).toEqual([
      ['bad_signature', 3],
      ['stale', 1],
    ]);
    const shared = lines.filter((l) => 'MessagesSent' in l);
    expect(shared).toHaveLength(1);
    expect(shared[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
    expect(shared[0]).toMatchObject({ MessagesSent: [1, 1], FoldLagSeconds: 4.5 });
    expect(shared[0]!._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({ Name: 'FoldLagSeconds', Unit: 'Seconds' });
    // A second flush has nothing left to write.
    lines.length = 0;
    sink.flush();
    expect(lines).toEqual([]);
  });
});
