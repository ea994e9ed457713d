/**
 * The mutation-score gate of `npm run test:mutation` (docs/testing.md, "Mutation testing").
 *
 *   tsx scripts/mutation-thresholds.ts [--report reports/mutation/mutation.json]
 *                                      [--thresholds test/mutation-thresholds.json]
 *
 * Reads StrykerJS's JSON report (mutation-testing-report-schema: `files` → path → `mutants[]`
 * with a `status`) and the committed table of minimum scores per mutated file, prints one row
 * per file and exits 1 when any file scores below its minimum, when a file of the table is
 * missing from the report, or when the report has a mutated file the table does not list.
 * Exit 2: the report or the table cannot be read.
 *
 * Score, as Stryker defines it: detected / valid × 100, where detected = Killed + Timeout and
 * valid = detected + Survived + NoCoverage (Ignored, CompileError and RuntimeError mutants do
 * not count).
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod';

const MutantStatus = z.enum(['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored', 'Pending']);

const Report = z.object({
  schemaVersion: z.string(),
  files: z.record(z.string(), z.object({ mutants: z.array(z.object({ status: MutantStatus })) })),
});

const Thresholds = z.object({
  /** Path (relative to the repository root) → minimum mutation score in percent. */
  minimumScore: z.record(z.string().min(1), z.number().min(0).max(100)),
});

export interface FileScore {
  file: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  /** Percent, or null when the file has no valid mutant. */
  score: number | null;
}

export function scoreOf(file: string, statuses: readonly z.infer<typeof MutantStatus>[]): FileScore {
  const count = (s: z.infer<typeof MutantStatus>) => statuses.filter((x) => x === s).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return { file, killed, timeout, survived, noCoverage, ignored: count('Ignored'), score: valid ? ((killed + timeout) / valid) * 100 : null };
}

export interface GateRow extends FileScore {
  minimum: number | undefined;
  verdict: 'ok' | 'below' | 'missing from report' | 'not in thresholds';
}

/** One row per file of the table or the report; pure, so the rule is unit-testable. */
export function gate(report: z.infer<typeof Report>, minimumScore: Record<string, number>, root: string): GateRow[] {
  const scores = new Map<string, FileScore>();
  for (const [path, { mutants }] of Object.entries(report.files)) {
    const file = relative(root, resolve(root, path)).split('\\').join('/');
    scores.set(file, scoreOf(file, mutants.map((m) => m.status)));
  }
  const rows: GateRow[] = [];
  for (const [file, minimum] of Object.entries(minimumScore)) {
    const s = scores.get(file);
    if (!s) {
      rows.push({ ...scoreOf(file, []), minimum, verdict: 'missing from report' });
      continue;
    }
    rows.push({ ...s, minimum, verdict: s.score !== null && s.score >= minimum ? 'ok' : 'below' });
  }
  for (const [file, s] of scores) if (!(file in minimumScore)) rows.push({ ...s, minimum: undefined, verdict: 'not in thresholds' });
  return rows;
}

function table(rows: readonly GateRow[]): string {
  const head = ['file', 'score %', 'minimum %', 'killed', 'timeout', 'survived', 'no cov', 'ignored', 'verdict'];
  const body = rows.map((r) => [
    r.file,
    r.score === null ? '-' : r.score.toFixed(2),
    r.minimum === undefined ? '-' : r.minimum.toFixed(2),
    String(r.killed),
    String(r.timeout),
    String(r.survived),
    String(r.noCoverage),
    String(r.ignored),
    r.verdict,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function main(): number {
  const { values } = parseArgs({
    options: {
      report: { type: 'string', default: 'reports/mutation/mutation.json' },
      thresholds: { type: 'string', default: 'test/mutation-thresholds.json' },
    },
  });
  let report: z.infer<typeof Report>;
  let thresholds: z.infer<typeof Thresholds>;
  try {
    report = Report.parse(JSON.parse(readFileSync(values.report, 'utf8')));
    thresholds = Thresholds.parse(JSON.parse(readFileSync(values.thresholds, 'utf8')));
  } catch (err) {
    console.error(`mutation thresholds: cannot read ${values.report} or ${values.thresholds}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const rows = gate(report, thresholds.minimumScore, process.cwd());
  console.log(table(rows));
  const failed = rows.filter((r) => r.verdict !== 'ok');
  if (failed.length) {
    console.error(`\nmutation thresholds: ${failed.length} file(s) fail: ${failed.map((r) => `${r.file} (${r.verdict})`).join(', ')}`);
    console.error(`Kill the surviving mutants with tests (reports/mutation/mutation.html lists them); a minimum may only rise.`);
    return 1;
  }
  console.log(`\nmutation thresholds: all ${rows.length} files at or above their minimum`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
