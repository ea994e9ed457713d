/**
 * limitReason: the code-scan abuse limits as a pure function of one openid's scan-limit row for
 * the local day. Every branch, its precedence and its boundaries.
 */
import { describe, expect, it } from 'vitest';
import { limitReason, SERIAL_GAP } from '../../lib/codes/limits.ts';

const T = 1_763_000_000_000;
const MIN = 60_000;
/** Lenient limits except where a test tightens one. */
const cfg = (over: Partial<{ daily: number; burst: number; windowMs: number; sequential: number }> = {}) => ({
  daily: 100,
  burst: 100,
  windowMs: 10 * MIN,
  sequential: 100,
  ...over,
});
/** A scan-limit row: `recent` as [at, serial] pairs, count defaulting to their number. */
const row = (recent: [number, number][], count = recent.length) => ({ count, recent, version: count });
/** `n` redemptions long ago (outside any window here), serials far apart. */
const old = (n: number): [number, number][] => Array.from({ length: n }, (_, i) => [T - 24 * 60 * MIN, 1_000 + i * 10]);

describe('first redemption', () => {
  it('is never limited without a row, even at the tightest limits', () => {
    expect(limitReason(undefined, 5, T, cfg({ daily: 1, burst: 1, windowMs: 1_000, sequential: 2 }))).toBeUndefined();
  });

  it('is never limited with a row that counts zero, even when its recent list would trip every limit', () => {
    const l = row([[T - 1, 4], [T - 2, 6]], 0);
    expect(limitReason(l, 5, T, cfg({ daily: 1, burst: 1, windowMs: MIN, sequential: 2 }))).toBeUndefined();
  });

  it('a second redemption is limited at the tightest limits (the first check that applies: daily)', () => {
    expect(limitReason(row([[T - 1, 100]]), 5, T, cfg({ daily: 1, burst: 1, windowMs: MIN, sequential: 2 }))).toBe('daily_limit');
  });
});

describe('daily limit', () => {
  it('allows redemptions up to the limit and refuses the one after', () => {
    expect(limitReason(row(old(2)), 1, T, cfg({ daily: 3 }))).toBeUndefined();
    expect(limitReason(row(old(3)), 1, T, cfg({ daily: 3 }))).toBe('daily_limit');
    expect(limitReason(row(old(4)), 1, T, cfg({ daily: 3 }))).toBe('daily_limit');
  });

  it('counts `count`, not the (capped) recent list', () => {
    expect(limitReason(row(old(2), 20), 1, T, cfg({ daily: 20 }))).toBe('daily_limit');
    expect(limitReason(row(old(2), 19), 1, T, cfg({ daily: 20 }))).toBeUndefined();
  });

  it('takes precedence over burst and sequential serials', () => {
    const l = row([[T - 1, 4], [T - 2, 6], [T - 3, 100]]);
    expect(limitReason(l, 5, T, cfg({ daily: 3, burst: 1, sequential: 2 }))).toBe('daily_limit');
  });
});

describe('burst', () => {
  it('allows `burst` redemptions in the window and refuses the next', () => {
    const two: [number, number][] = [[T - MIN, 10], [T - 2 * MIN, 20]];
    const three: [number, number][] = [...two, [T - 3 * MIN, 30]];
    expect(limitReason(row(two), 1, T, cfg({ burst: 3 }))).toBeUndefined();
    expect(limitReason(row(three), 1, T, cfg({ burst: 3 }))).toBe('burst');
  });

  it('the window is half-open: exactly windowMs ago is outside, one ms less is inside', () => {
    const w = 10 * MIN;
    const outside = row([[T - MIN, 10], [T - w, 20]]);
    const inside = row([[T - MIN, 10], [T - w + 1, 20]]);
    expect(limitReason(outside, 1, T, cfg({ burst: 2, windowMs: w }))).toBeUndefined();
    expect(limitReason(inside, 1, T, cfg({ burst: 2, windowMs: w }))).toBe('burst');
  });

  it('ignores redemptions older than the window however many there are (below the daily limit)', () => {
    const l = row([...old(10), [T - 1, 5_000]]);
    expect(limitReason(l, 1, T, cfg({ burst: 2 }))).toBeUndefined();
  });

  it('counts a redemption at the same instant', () => {
    expect(limitReason(row([[T, 10]]), 1, T, cfg({ burst: 1 }))).toBe('burst');
  });

  it('takes precedence over sequential serials', () => {
    const l = row([[T - 1, 4], [T - 2, 6]]);
    expect(limitReason(l, 5, T, cfg({ burst: 2, sequential: 2 }))).toBe('burst');
  });
});

describe('sequential serials', () => {
  it('refuses the scan that would complete a run of `sequential` from below', () => {
    expect(limitReason(row([[T - 1, 8], [T - 2, 9]]), 10, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, 9]]), 10, T, cfg({ sequential: 3 }))).toBeUndefined();
  });

  it('from above', () => {
    expect(limitReason(row([[T - 1, 11], [T - 2, 12]]), 10, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, 11]]), 10, T, cfg({ sequential: 3 }))).toBeUndefined();
  });

  it('filling a gap between two neighbours', () => {
    expect(limitReason(row([[T - 1, 9], [T - 2, 11]]), 10, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
  });

  it('counts the whole run on both sides', () => {
    const l = row([[T - 1, 7], [T - 2, 8], [T - 3, 9], [T - 4, 11]]);
    expect(limitReason(l, 10, T, cfg({ sequential: 5 }))).toBe('sequential_serials');
    expect(limitReason(l, 10, T, cfg({ sequential: 6 }))).toBeUndefined();
  });

  it(`small gaps (up to ${SERIAL_GAP}) do not break the run; a larger one does`, () => {
    // 6, 8 and 10 skip one code each: still a walk through the range.
    expect(limitReason(row([[T - 1, 6], [T - 2, 8]]), 10, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    // 10 - 4 = 6 and 6 - 4 = 2: the largest gaps that chain.
    expect(limitReason(row([[T - 1, 2], [T - 2, 6]]), 10, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    // 5 apart breaks it: 10 stands alone, its neighbours 4 and 15 are too far.
    expect(limitReason(row([[T - 1, 4], [T - 2, 15], [T - 3, 20]]), 10, T, cfg({ sequential: 3 }))).toBeUndefined();
  });

  it('at the smallest limit (2) one neighbour is enough', () => {
    expect(limitReason(row([[T - 1, 11]]), 10, T, cfg({ sequential: 2 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, 14]]), 10, T, cfg({ sequential: 2 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, 15]]), 10, T, cfg({ sequential: 2 }))).toBeUndefined();
  });

  it('counts neighbours redeemed outside the burst window too (the whole day)', () => {
    const l = row([[T - 5 * 60 * MIN, 9], [T - 6 * 60 * MIN, 11]]);
    expect(limitReason(l, 10, T, cfg({ sequential: 3, windowMs: MIN }))).toBe('sequential_serials');
  });

  it('serial 0 has no lower neighbour', () => {
    expect(limitReason(row([[T - 1, 1], [T - 2, 2]]), 0, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, 1]]), 0, T, cfg({ sequential: 3 }))).toBeUndefined();
  });

  it('works at the top of the serial range', () => {
    const top = Number.MAX_SAFE_INTEGER;
    expect(limitReason(row([[T - 1, top - 1], [T - 2, top - 2]]), top, T, cfg({ sequential: 3 }))).toBe('sequential_serials');
    expect(limitReason(row([[T - 1, top - 2]]), top, T, cfg({ sequential: 3 }))).toBeUndefined();
  });
});

describe('no limit applies', () => {
  it('answers undefined below every limit', () => {
    const l = row([[T - 1, 10], [T - 2, 20], [T - 3, 30]]);
    expect(limitReason(l, 15, T, cfg({ daily: 4, burst: 4, sequential: 2 }))).toBeUndefined();
  });
});
