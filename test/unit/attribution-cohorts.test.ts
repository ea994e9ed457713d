/**
 * Cohort credits (lib/attribution/cohorts.ts) and the cohort read's pure parts
 * (lib/attribution/cohort-query.ts) against tables worked out by hand, the arithmetic beside each
 * value. Times are Asia/Shanghai wall clock (UTC+8, no daylight saving).
 */
import { describe, expect, it } from 'vitest';
import { cohortCredits, gmvBucket, gmvBucketWidth, isoWeekOf, mondayOf, bucketOfAttr } from '../../lib/attribution/cohorts.ts';
import { diffCredits, emptyHistory, type History } from '../../lib/attribution/credits.ts';
import { addCohortValues, cohortCount, cohortsOf, parseCohortQuery, topThreshold } from '../../lib/attribution/cohort-query.ts';
import { memberCredits, creditsGiven, createStoredMember } from '../../lib/members/record.ts';
import { BadRequestError } from '../../lib/errors.ts';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
const key = (channel: string, day: string) => `["${channel}","cohort","${day}"]`;

describe('cohortCredits: one member, three horizons', () => {
  //   F   2025-03-10 09:00  follows through qr_store (first touch; cohort day 2025-03-10)
  //   O1  F + 10 d          5,000 fen
  //   R   F + 45 d          registers
  //   O2  F + 60 d          12,345 fen
  //   O3  F + 100 d         20,000 fen
  //   O4  F + 200 d         1,000 fen (beyond every horizon)
  const F = sh(2025, 3, 10, 9);
  const h: History = {
    ...emptyHistory(),
    follows: [{ at: F, channel: 'qr_store' }],
    registeredAt: F + 45 * DAY,
    orders: [
      { key: 'youzan:s:1', paidAt: F + 10 * DAY, paidFen: 5_000, platform: 'youzan' },
      { key: 'youzan:s:2', paidAt: F + 60 * DAY, paidFen: 12_345, platform: 'youzan' },
      { key: 'youzan:s:3', paidAt: F + 100 * DAY, paidFen: 20_000, platform: 'youzan' },
      { key: 'youzan:s:4', paidAt: F + 200 * DAY, paidFen: 1_000, platform: 'youzan' },
    ],
  };

  it('gives the hand-computed row', () => {
    expect(cohortCredits(h, TZ)).toEqual({
      [key('qr_store', '2025-03-10')]: {
        acquired: 1,
        // 30 d: O1 only; registered at 45 d: not yet a member.
        buyers_30: 1,
        gmvFen_30: 5_000,
        // 5,000: 4,096 ≤ 5,000 < 8,192 → width 2^(12−6) = 64; ⌊5,000 / 64⌋ = 78 → 78 × 64 = 4,992
        gh30_4992: 1,
        // 90 d: O1 + O2 = 17,345, member.
        members_90: 1,
        buyers_90: 1,
        repeatBuyers_90: 1,
        gmvFen_90: 17_345,
        // 16,384 ≤ 17,345 < 32,768 → width 256; ⌊17,345 / 256⌋ = 67 → 17,152
        gh90_17152: 1,
        // 180 d: O1 + O2 + O3 = 37,345.
        members_180: 1,
        buyers_180: 1,
        repeatBuyers_180: 1,
        gmvFen_180: 37_345,
        // 32,768 ≤ 37,345 < 65,536 → width 512; ⌊37,345 / 512⌋ = 72 → 36,864
        gh180_36864: 1,
      },
    });
  });

  it('counts an order exactly H days after the first touch, not one a millisecond later', () => {
    const at = (ms: number): History => ({ ...emptyHistory(), follows: [{ at: F, channel: 'a' }], orders: [{ key: 'k', paidAt: F + ms, paidFen: 100, platform: 'youzan' }] });
    expect(cohortCredits(at(30 * DAY), TZ)[key('a', '2025-03-10')]).toMatchObject({ buyers_30: 1, gmvFen_30: 100, gh30_100: 1 });
    const late = cohortCredits(at(30 * DAY + 1), TZ)[key('a', '2025-03-10')]!;
    expect(late.buyers_30).toBeUndefined();
    expect(late).toMatchObject({ buyers_90: 1, gmvFen_90: 100 });
  });

  it('a registration before the first touch counts at every horizon; one after 180 days at none', () => {
    const reg = (r: number): History => ({ ...emptyHistory(), follows: [{ at: F, channel: 'a' }], registeredAt: r });
    expect(cohortCredits(reg(F - DAY), TZ)).toEqual({ [key('a', '2025-03-10')]: { acquired: 1, members_30: 1, members_90: 1, members_180: 1 } });
    expect(cohortCredits(reg(F + 181 * DAY), TZ)).toEqual({ [key('a', '2025-03-10')]: { acquired: 1 } });
  });

  it('the cohort day is the local day: 00:30 in Shanghai is the previous UTC day', () => {
    const h2: History = { ...emptyHistory(), follows: [{ at: sh(2025, 4, 1, 0, 30), channel: 'a' }] };
    expect(Object.keys(cohortCredits(h2, TZ))).toEqual([key('a', '2025-04-01')]);
  });

  it('a late earlier touch moves the member: the difference takes the old row back and gives the new one', () => {
    const before: History = { ...emptyHistory(), follows: [{ at: F, channel: 'qr_a' }], orders: [{ key: 'k', paidAt: F + 5 * DAY, paidFen: 300, platform: 'youzan' }] };
    const after: History = { ...before, codeScans: [{ at: F - 20 * DAY, channel: 'pack' }] };
    // The order is now 25 days after the first touch (2025-02-18 09:00): still within 30.
    expect(diffCredits(cohortCredits(before, TZ), cohortCredits(after, TZ))).toEqual({
      // 300 ≥ 128: width 2^(8−6) = 4, ⌊300 / 4⌋ × 4 = 300
      [key('qr_a', '2025-03-10')]: { acquired: -1, buyers_30: -1, gmvFen_30: -300, gh30_300: -1, buyers_90: -1, gmvFen_90: -300, gh90_300: -1, buyers_180: -1, gmvFen_180: -300, gh180_300: -1 },
      [key('pack', '2025-02-18')]: { acquired: 1, buyers_30: 1, gmvFen_30: 300, gh30_300: 1, buyers_90: 1, gmvFen_90: 300, gh90_300: 1, buyers_180: 1, gmvFen_180: 300, gh180_300: 1 },
    });
  });

  it('a growing GMV moves the member from one histogram bucket to the next', () => {
    const one: History = { ...emptyHistory(), follows: [{ at: F, channel: 'a' }], orders: [{ key: 'k1', paidAt: F + DAY, paidFen: 120, platform: 'youzan' }] };
    const two: History = { ...one, orders: [...one.orders, { key: 'k2', paidAt: F + 2 * DAY, paidFen: 90, platform: 'youzan' }] };
    const d = diffCredits(cohortCredits(one, TZ), cohortCredits(two, TZ))[key('a', '2025-03-10')]!;
    // 120 is exact; 210: width 2, ⌊210 / 2⌋ × 2 = 210
    expect(d).toMatchObject({ gh30_120: -1, gh30_210: 1, repeatBuyers_30: 1, gmvFen_30: 90 });
  });

  it('a history without any touch gives nothing', () => {
    expect(cohortCredits(emptyHistory(), TZ)).toEqual({});
  });
});

describe('GMV histogram buckets', () => {
  // [amount, lower bound, width], by hand: exact below 128; else keep the top 7 bits.
  const TABLE: [number, number, number][] = [
    [1, 1, 1],
    [127, 127, 1],
    [128, 128, 2],
    [129, 128, 2],
    [255, 254, 2],
    [256, 256, 4],
    [300, 300, 4],
    [303, 300, 4],
    [5_000, 4_992, 64],
    [1_000_000, 999_424, 8_192], // 2^19 ≤ 10^6 < 2^20: width 2^13; ⌊10^6 / 8,192⌋ = 122 → 999,424
  ];
  it.each(TABLE)('%i fen → bucket %i (width %i)', (amount, lower, width) => {
    expect(gmvBucket(amount)).toBe(lower);
    expect(gmvBucketWidth(lower)).toBe(width);
    // The stated bound: the bucket holds the amount and is at most 1/64 of its lower bound wide.
    expect(lower <= amount && amount < lower + width).toBe(true);
    if (lower >= 128) expect(width * 64).toBeLessThanOrEqual(lower);
  });
  it('reads bucket attributes of one horizon only', () => {
    expect(bucketOfAttr('gh90_17152', 90)).toBe(17_152);
    expect(bucketOfAttr('gh90_17152', 30)).toBeUndefined();
    expect(bucketOfAttr('gh90_x', 90)).toBeUndefined();
    expect(bucketOfAttr('gmvFen_90', 90)).toBeUndefined();
  });
});

describe('the top threshold', () => {
  it('is the bucket of the ⌈n/5⌉-th highest value', () => {
    // 10 customers: ⌈10/5⌉ = 2; from the top 200 (1), then 100 (cumulative 4 ≥ 2).
    expect(topThreshold(new Map([[100, 3], [200, 1], [50, 6]]))).toBe(100);
    // 5 customers: 1; the highest bucket holds it.
    expect(topThreshold(new Map([[500, 1], [10, 4]]))).toBe(500);
    // 15 customers: ⌈15/5⌉ = 3 (not ⌈0.2 × 15⌉ = 4 in floating point): 300 holds 3.
    expect(topThreshold(new Map([[300, 3], [200, 1], [100, 11]]))).toBe(300);
    // Buckets emptied by moves (0) are not customers.
    expect(topThreshold(new Map([[900, 0], [40, 2]]))).toBe(40);
    expect(topThreshold(new Map())).toBeNull();
    expect(topThreshold(new Map([[5, 0]]))).toBeNull();
  });

  it('sums one horizon of rollup values', () => {
    const into = { acquired: 0, members: 0, buyers: 0, repeatBuyers: 0, gmvFen: 0, hist: new Map<number, number>() };
    addCohortValues(into, { acquired: 2, members_90: 1, buyers_90: 2, repeatBuyers_90: 1, gmvFen_90: 700, gh90_300: 1, gh90_400: 1, gh30_300: 1, gmvFen_30: 300, channel: 'x' }, 90);
    addCohortValues(into, { acquired: 1, gh90_300: 1, gh90_400: -1 }, 90);
    expect(into).toEqual({ acquired: 3, members: 1, buyers: 2, repeatBuyers: 1, gmvFen: 700, hist: new Map([[300, 2], [400, 0]]) });
  });
});

describe('cohorts and query validation', () => {
  it('ISO weeks by hand from a calendar', () => {
    expect(isoWeekOf('2026-01-01')).toBe('2026-W01'); // a Thursday
    expect(isoWeekOf('2025-12-29')).toBe('2026-W01'); // its Monday
    expect(isoWeekOf('2024-12-30')).toBe('2025-W01');
    expect(isoWeekOf('2021-01-03')).toBe('2020-W53'); // a Sunday
    expect(isoWeekOf('2026-12-03')).toBe('2026-W49');
    expect(mondayOf('2023-01-01')).toBe('2022-12-26');
    expect(mondayOf('2023-01-02')).toBe('2023-01-02');
  });

  it('lists the whole cohorts a range touches', () => {
    expect(cohortsOf('2025-11-15', '2026-02-03', 'month')).toEqual([
      { cohort: '2025-11', periods: ['2025-11'], lastDay: '2025-11-30' },
      { cohort: '2025-12', periods: ['2025-12'], lastDay: '2025-12-31' },
      { cohort: '2026-01', periods: ['2026-01'], lastDay: '2026-01-31' },
      { cohort: '2026-02', periods: ['2026-02'], lastDay: '2026-02-28' },
    ]);
    const weeks = cohortsOf('2026-01-01', '2026-01-12', 'week');
    expect(weeks.map((w) => [w.cohort, w.periods[0], w.lastDay])).toEqual([
      ['2026-W01', '2025-12-29', '2026-01-04'],
      ['2026-W02', '2026-01-05', '2026-01-11'],
      ['2026-W03', '2026-01-12', '2026-01-18'],
    ]);
    expect(weeks[0]!.periods).toHaveLength(7);
    expect(cohortCount('2025-11-15', '2026-02-03', 'month')).toBe(4);
    expect(cohortCount('2026-01-01', '2026-01-12', 'week')).toBe(3);
  });

  it('defaults to months at 90 days and refuses bad input with the reason', () => {
    expect(parseCohortQuery({ from: '2026-01-01', to: '2026-03-31' })).toEqual({ from: '2026-01-01', to: '2026-03-31', granularity: 'month', horizon: 90 });
    expect(parseCohortQuery({ from: '2026-01-01', to: '2026-03-31', granularity: 'week', horizon: '180' })).toMatchObject({ granularity: 'week', horizon: 180 });
    const code = (q: Record<string, string>) => {
      try {
        parseCohortQuery(q);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(BadRequestError);
        return (err as BadRequestError).code;
      }
    };
    expect(code({ from: '2026-01-01', to: '2026-03-31', granularity: 'quarter' })).toBe('bad_granularity');
    expect(code({ from: '2026-01-01', to: '2026-03-31', horizon: '45' })).toBe('bad_horizon');
    expect(code({ from: '2026-13-01', to: '2026-03-31' })).toBe('bad_date');
    expect(code({ from: '2026-01-01' })).toBe('bad_date');
    expect(code({ from: '2026-03-01', to: '2026-01-31' })).toBe('bad_range');
    // 24 months is the most; 25 is too many. 53 weeks is the most; 54 too many.
    expect(code({ from: '2024-01-01', to: '2025-12-31' })).toBe('accepted');
    expect(code({ from: '2024-01-01', to: '2026-01-01' })).toBe('range_too_long');
    expect(code({ from: '2025-01-06', to: '2026-01-11', granularity: 'week' })).toBe('accepted'); // Mondays 2025-01-06 … 2026-01-05: 53
    expect(code({ from: '2025-01-06', to: '2026-01-12', granularity: 'week' })).toBe('range_too_long');
  });
});

describe('what a record has given', () => {
  it('a record written before cohort credits has given only its channel credits; its next write gives the cohort row whole', () => {
    const m = createStoredMember('m1', sh(2025, 3, 10, 9), 'fan', 'qr_a');
    m.history.follows.push({ at: sh(2025, 3, 10, 9), channel: 'qr_a' });
    const full = memberCredits(m.history, TZ);
    expect(full[key('qr_a', '2025-03-10')]).toEqual({ acquired: 1 });
    expect(memberCredits(m.history, TZ, false)[key('qr_a', '2025-03-10')]).toBeUndefined();
    // A record with its legacy credits map has given exactly that map.
    expect(creditsGiven({ ...m, credits: { x: { newFans: 1 } } }, TZ)).toEqual({ x: { newFans: 1 } });
  });
});
