import { describe, expect, it } from 'vitest';
import { gate, scoreOf } from '../../scripts/mutation-thresholds.ts';

const mutants = (spec: Record<string, number>) =>
  Object.entries(spec).flatMap(([status, n]) => Array.from({ length: n }, () => ({ status }) as { status: 'Killed' }));

describe('mutation-score gate (scripts/mutation-thresholds.ts)', () => {
  it('scores detected / valid: timeouts count as detected, ignored and errors do not count', () => {
    // 6 killed + 2 timeout = 8 detected of 8 + 1 survived + 1 no coverage = 10 valid → 80 %.
    const s = scoreOf('a.ts', ['Killed', 'Killed', 'Killed', 'Killed', 'Killed', 'Killed', 'Timeout', 'Timeout', 'Survived', 'NoCoverage', 'Ignored', 'CompileError', 'RuntimeError']);
    expect(s).toEqual({ file: 'a.ts', killed: 6, timeout: 2, survived: 1, noCoverage: 1, ignored: 1, score: 80 });
    expect(scoreOf('b.ts', ['Ignored']).score).toBeNull();
  });

  it('passes a file at its minimum and fails one just below it', () => {
    const report = {
      schemaVersion: '2',
      files: {
        'lib/a.ts': { mutants: mutants({ Killed: 4, Survived: 1 }) }, // 80 %
        'lib/b.ts': { mutants: mutants({ Killed: 79, Survived: 21 }) }, // 79 %
      },
    };
    const rows = gate(report, { 'lib/a.ts': 80, 'lib/b.ts': 80 }, '/repo');
    expect(rows.map((r) => [r.file, r.score, r.verdict])).toEqual([
      ['lib/a.ts', 80, 'ok'],
      ['lib/b.ts', 79, 'below'],
    ]);
  });

  it('fails a listed file missing from the report, and a mutated file missing from the table', () => {
    const report = { schemaVersion: '2', files: { 'lib/new.ts': { mutants: mutants({ Killed: 1 }) } } };
    const rows = gate(report, { 'lib/gone.ts': 90 }, '/repo');
    expect(rows.map((r) => [r.file, r.verdict])).toEqual([
      ['lib/gone.ts', 'missing from report'],
      ['lib/new.ts', 'not in thresholds'],
    ]);
  });

  it('fails a file whose mutants were all ignored (no score is not a pass)', () => {
    const report = { schemaVersion: '2', files: { 'lib/a.ts': { mutants: mutants({ Ignored: 3 }) } } };
    expect(gate(report, { 'lib/a.ts': 0 }, '/repo')[0]!.verdict).toBe('below');
  });

  it('reads report paths relative to the repository root', () => {
    const report = { schemaVersion: '2', files: { '/repo/lib/a.ts': { mutants: mutants({ Killed: 1 }) } } };
    expect(gate(report, { 'lib/a.ts': 100 }, '/repo')[0]!.verdict).toBe('ok');
  });
});
