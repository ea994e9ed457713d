/**
 * The pure parts of the counter fold and of the rollup read: which deltas fit one transaction
 * (lib/attribution/fold.ts batchOf, planFold), which periods sum to a range (query.ts
 * periodPlan), and a member write's credit difference as one delta (members/record.ts). Expected
 * values are counted by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { batchOf, counterShardOf, planFold } from '../../lib/attribution/fold.ts';
import { periodPlan } from '../../lib/attribution/query.ts';
import { creditKey } from '../../lib/attribution/credits.ts';
import { sumCredits } from '../../lib/members/record.ts';
import { deltaId, deltaShardOf, type CreditDelta } from '../../lib/store/entities/credit-delta.ts';
import { Tx } from '../../lib/store/tx.ts';

const follow = (i: number, channel: string): CreditDelta => ({
  shard: 3,
  id: deltaId(1_000 + i, `M${i}`, 1),
  at: 1_000 + i,
  part: 0,
  credits: { [creditKey(channel, 'first', '2026-03-10')]: { newFans: 1 }, [creditKey(channel, 'last', '2026-03-10')]: { newFans: 1 } },
});

describe('batchOf', () => {
  it('one channel and day: 6 shared items (counter, day and month rollup × 2 models) leave room for 94 deletes', () => {
    const page = Array.from({ length: 100 }, (_, i) => follow(i, 'hot'));
    const b = batchOf(page);
    expect('whole' in b && b.whole.length).toBe(94);
  });

  it('a channel per delta: 7 items each (1 delete + 6), so 14 fit in 100', () => {
    const page = Array.from({ length: 20 }, (_, i) => follow(i, `ch${i}`));
    const b = batchOf(page);
    expect('whole' in b && b.whole.length).toBe(14);
  });

  it('stops a batch before one item would get more than 200 metric names (its update expression stays under 4 KB)', () => {
    // One channel and day: 8 shared items (6 + the 2 cohort rollups), so 92 deltas would fit by
    // items; but each brings 3 new histogram names to the cohort rollups: 2 + 3n ≤ 200 → n = 66.
    const page = Array.from({ length: 100 }, (_, i): CreditDelta => ({
      ...follow(i, 'hot'),
      credits: { ...follow(i, 'hot').credits, [creditKey('hot', 'cohort', '2026-03-10')]: { acquired: 1, gmvFen_30: 100 + i, [`gh30_${1000 + i}`]: 1, [`gh90_${1000 + i}`]: 1, [`gh180_${1000 + i}`]: 1 } },
    }));
    const b = batchOf(page);
    expect('whole' in b && b.whole.length).toBe(66);
    const few = batchOf(page.map((d) => ({ ...d, credits: { ...d.credits, [creditKey('hot', 'cohort', '2026-03-10')]: { acquired: 1 } } })));
    expect('whole' in few && few.whole.length).toBe(92);
  });

  it('a delta larger than a transaction: the rows that fit beside its rewrite, the rest kept', () => {
    // 60 days from 2025-01-01, one model: Jan's 31 rows take 31 × 2 + 1 month = 63 items, the
    // rewrite 1; Feb's month 1, each Feb row 2 more: 64 + 1 + 2k ≤ 100 → k = 17 rows, 99 items.
    const credits: Record<string, Record<string, number>> = {};
    for (let i = 0; i < 60; i++) credits[creditKey('big', 'first', new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10))] = { orders: 1 };
    const b = batchOf([{ shard: 0, id: 'x', at: 0, part: 0, credits }]);
    expect('part' in b).toBe(true);
    if (!('part' in b)) return;
    expect(b.rows).toHaveLength(48);
    expect(Object.keys(b.rest)).toHaveLength(12);
    expect(b.rows.at(-1)).toBe(creditKey('big', 'first', '2025-02-17'));
    const tx = new Tx('t');
    expect(planFold(tx, b, 0).folded).toEqual([]);
    const built = tx.build();
    expect(built.items).toHaveLength(99);
    // The rewrite keeps the rest under the next checkpoint, only if nobody folded it meanwhile.
    expect(built.items[0]!.Put).toMatchObject({ Item: { c: b.rest, p: 1 }, ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(p)' });
  });
});

describe('planFold', () => {
  it('deletes each delta under its checkpoint and adds its rows to the counter shard, day and month rollups', () => {
    const tx = new Tx('t');
    const d = { ...follow(0, 'qr1'), part: 2 };
    planFold(tx, { whole: [d] }, 1);
    const { tags, items } = tx.build();
    expect(tags).toEqual([
      `delta:3:${d.id}`,
      'counter:COUNT#qr1#1:first#2026-03-10',
      'counter:ROLLUP#first#2026-03-10:qr1#1',
      'counter:ROLLUP#first#2026-03:qr1#1',
      'counter:COUNT#qr1#1:last#2026-03-10',
      'counter:ROLLUP#last#2026-03-10:qr1#1',
      'counter:ROLLUP#last#2026-03:qr1#1',
    ]);
    expect(items[0]!.Delete).toMatchObject({ ConditionExpression: 'p = :p', ExpressionAttributeValues: { ':p': 2 } });
  });

  it('a cohort row goes to its day and month rollups only (no counter item): 9 items per delta of its own channel, so 11 fit in 100', () => {
    const tx = new Tx('t');
    const d: CreditDelta = { ...follow(0, 'qr1'), credits: { ...follow(0, 'qr1').credits, [creditKey('qr1', 'cohort', '2026-03-10')]: { acquired: 1 } } };
    planFold(tx, { whole: [d] }, 1);
    expect(tx.build().tags.filter((t) => t.includes('cohort'))).toEqual(['counter:ROLLUP#cohort#2026-03-10:qr1#1', 'counter:ROLLUP#cohort#2026-03:qr1#1']);
    // A channel per delta: 1 delete + 6 channel items + 2 cohort rollups = 9 → ⌊100 / 9⌋ = 11.
    const page = Array.from({ length: 20 }, (_, i): CreditDelta => ({ ...follow(i, `ch${i}`), credits: { ...follow(i, `ch${i}`).credits, [creditKey(`ch${i}`, 'cohort', '2026-03-10')]: { acquired: 1 } } }));
    const b = batchOf(page);
    expect('whole' in b && b.whole.length).toBe(11);
  });

  it('folds delta shard s into counter shard s mod HUB_COUNTER_SHARDS', () => {
    expect([0, 3, 4, 7, 31].map((s) => counterShardOf(s, 4))).toEqual([0, 3, 0, 3, 3]);
  });
});

describe('credit deltas', () => {
  it('sums a member write with the records it absorbs; zeros and empty rows dropped', () => {
    const k1 = creditKey('a', 'first', '2026-01-01');
    const k2 = creditKey('b', 'last', '2026-01-02');
    expect(sumCredits([{ [k1]: { newFans: 1, scans: 2 } }, { [k1]: { newFans: -1 }, [k2]: { orders: -1 } }, { [k2]: { orders: 1 } }])).toEqual({ [k1]: { scans: 2 } });
  });

  it('one write of a member is one key and one shard whatever its clock; another version moves on', () => {
    expect(deltaId(5, 'M1', 3)).toBe('0000000000000005#M1#0000000000000003');
    expect(deltaShardOf('M1', 3)).toBe(deltaShardOf('M1', 3));
    const shards = new Set(Array.from({ length: 200 }, (_, v) => deltaShardOf('M1', v)));
    expect(shards.size).toBeGreaterThan(16);
  });
});

describe('periodPlan', () => {
  const plan = (from: string, to: string) => periodPlan(from, to).map((p) => `${p.sign > 0 ? '+' : '-'}${p.period}`);

  it('whole months are one period; a single day is one', () => {
    expect(plan('2026-02-01', '2026-02-28')).toEqual(['+2026-02']);
    expect(plan('2026-03-10', '2026-03-10')).toEqual(['+2026-03-10']);
  });

  it('a partial month: its days when they are fewer, else the month less the other days', () => {
    // 16 days in, 15 out: 16 ≤ 1 + 15 → the 16 days.
    expect(plan('2026-01-16', '2026-01-31')).toHaveLength(16);
    // 17 in, 14 out: the month and the 14 days before the 15th, subtracted.
    const p = plan('2026-01-15', '2026-01-31');
    expect(p).toHaveLength(15);
    expect(p[0]).toBe('+2026-01');
    expect(p.slice(1)).toEqual(Array.from({ length: 14 }, (_, i) => `-2026-01-${String(i + 1).padStart(2, '0')}`));
  });

  it('90 days (2026-09-05..2026-12-03): 10 periods', () => {
    // Sep: month − 1..4; Oct, Nov whole; Dec 1..3.
    expect(plan('2026-09-05', '2026-12-03')).toEqual([
      '+2026-09', '-2026-09-01', '-2026-09-02', '-2026-09-03', '-2026-09-04', '+2026-10', '+2026-11', '+2026-12-01', '+2026-12-02', '+2026-12-03',
    ]);
  });

  it('no 90-day range needs more than 36 periods (every start in a year)', () => {
    let worst = 0;
    for (let i = 0; i < 366; i++) {
      const from = new Date(Date.UTC(2026, 0, 1 + i));
      const to = new Date(from.getTime() + 89 * 86_400_000);
      worst = Math.max(worst, periodPlan(from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)).length);
    }
    expect(worst).toBeLessThanOrEqual(36);
  });
});
