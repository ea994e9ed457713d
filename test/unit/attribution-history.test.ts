/**
 * The history attribution is computed from: canonical order, merging two members' histories,
 * the credit key and the conversion-delay buckets. Every expected value is written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { computeCredits, emptyHistory, firstTouchOf, mergeHistories, parseCreditKey, sortHistory, ttcBucketHours, type History } from '../../lib/attribution/credits.ts';

const order = (key: string, paidAt: number, paidFen = 100, platform = 'tmall') => ({ key, paidAt, paidFen, platform });

describe('credit keys and delay buckets', () => {
  it('parses a credit key back into its parts', () => {
    expect(parseCreditKey('["wechat:qr:store_01","last","2025-03-10"]')).toEqual({ channel: 'wechat:qr:store_01', model: 'last', day: '2025-03-10' });
  });
  it.each([
    ['ttc_m90', 1.5],
    ['ttc_m0', 0],
    ['ttc_h49', 49],
    ['xttc_m1', undefined],
    ['ttc_m1x', undefined],
    ['ttc_x1', undefined],
    ['newFans', undefined],
  ])('%s → %s hours', (attr, hours) => {
    expect(ttcBucketHours(attr)).toBe(hours);
  });
});

describe('canonical order', () => {
  it('sorts touches by time then channel, unfollows numerically, orders by paid time then key', () => {
    const h: History = {
      follows: [
        { at: 200, channel: 'b' },
        { at: 100, channel: 'z' },
        { at: 200, channel: 'a' },
      ],
      unfollows: [100, 9, 10],
      qrScans: [
        { at: 50, channel: 'q2' },
        { at: 50, channel: 'q1' },
      ],
      codeScans: [
        { at: 70, channel: 'c' },
        { at: 60, channel: 'd' },
      ],
      orders: [order('o2', 200), order('o1', 300), order('o0', 200)],
    };
    sortHistory(h);
    expect(h).toEqual({
      follows: [
        { at: 100, channel: 'z' },
        { at: 200, channel: 'a' },
        { at: 200, channel: 'b' },
      ],
      unfollows: [9, 10, 100],
      qrScans: [
        { at: 50, channel: 'q1' },
        { at: 50, channel: 'q2' },
      ],
      codeScans: [
        { at: 60, channel: 'd' },
        { at: 70, channel: 'c' },
      ],
      orders: [order('o0', 200), order('o2', 200), order('o1', 300)],
    });
  });

  it('orders paid at the same instant keep key order when already sorted', () => {
    const h: History = { ...emptyHistory(), orders: [order('o0', 200), order('o2', 200), order('o5', 200)] };
    sortHistory(h);
    expect(h.orders.map((o) => o.key)).toEqual(['o0', 'o2', 'o5']);
  });

  it('the first touch among simultaneous ones is the lowest channel', () => {
    expect(firstTouchOf({ ...emptyHistory(), follows: [{ at: 5, channel: 'b' }], codeScans: [{ at: 5, channel: 'a' }] })).toEqual({ at: 5, channel: 'a' });
  });

  it('a registration with no touch at all credits nothing', () => {
    expect(computeCredits({ ...emptyHistory(), registeredAt: 1_741_579_200_000 }, 'Asia/Shanghai')).toEqual({});
  });
});

describe('mergeHistories', () => {
  it('unions the facts once each, keeps the earliest registration and first sighting, sorted', () => {
    const a: History = {
      follows: [
        { at: 300, channel: 'f1' },
        { at: 100, channel: 'f0' },
      ],
      unfollows: [400, 20],
      qrScans: [{ at: 10, channel: 'q' }],
      codeScans: [{ at: 30, channel: 'c' }],
      orders: [order('o-b', 500, 100), order('o-a', 50, 200)],
      registeredAt: 900,
      seen: { at: 40, channel: 'seen-a' },
    };
    const b: History = {
      follows: [
        { at: 100, channel: 'f0' }, // the same follow as a's
        { at: 100, channel: 'f9' }, // same time, other channel: another follow
      ],
      unfollows: [20, 3],
      qrScans: [{ at: 10, channel: 'q' }],
      codeScans: [{ at: 5, channel: 'c2' }],
      orders: [order('o-a', 60, 999), order('o-c', 70, 300)], // o-a again: a's copy is kept
      registeredAt: 800,
      seen: { at: 35, channel: 'seen-b' },
    };
    expect(mergeHistories(a, b)).toEqual({
      follows: [
        { at: 100, channel: 'f0' },
        { at: 100, channel: 'f9' },
        { at: 300, channel: 'f1' },
      ],
      unfollows: [3, 20, 400],
      qrScans: [{ at: 10, channel: 'q' }],
      codeScans: [
        { at: 5, channel: 'c2' },
        { at: 30, channel: 'c' },
      ],
      orders: [order('o-a', 50, 200), order('o-c', 70, 300), order('o-b', 500, 100)],
      registeredAt: 800,
      seen: { at: 35, channel: 'seen-b' },
    });
  });

  it('registration and sighting from whichever side has them; none when neither has', () => {
    const reg: History = { ...emptyHistory(), registeredAt: 0, seen: { at: 7, channel: 's' } };
    expect(mergeHistories(emptyHistory(), reg)).toEqual({ ...emptyHistory(), registeredAt: 0, seen: { at: 7, channel: 's' } });
    expect(mergeHistories(reg, emptyHistory())).toEqual({ ...emptyHistory(), registeredAt: 0, seen: { at: 7, channel: 's' } });
    expect(mergeHistories({ ...emptyHistory(), registeredAt: 10 }, { ...emptyHistory(), registeredAt: 9 }).registeredAt).toBe(9);
    const none = mergeHistories(emptyHistory(), emptyHistory());
    expect(none).toEqual(emptyHistory());
    expect('registeredAt' in none || 'seen' in none).toBe(false);
  });

  it('unfollows sort numerically (not as text) and orders by paid time', () => {
    const m = mergeHistories({ ...emptyHistory(), unfollows: [100], orders: [order('x', 1000)] }, { ...emptyHistory(), unfollows: [9], orders: [order('y', 200)] });
    expect(m.unfollows).toEqual([9, 100]);
    const scans = mergeHistories({ ...emptyHistory(), qrScans: [{ at: 20, channel: 'q' }] }, { ...emptyHistory(), qrScans: [{ at: 10, channel: 'q' }] });
    expect(scans.qrScans).toEqual([
      { at: 10, channel: 'q' },
      { at: 20, channel: 'q' },
    ]);
    expect(m.orders.map((o) => o.key)).toEqual(['y', 'x']);
  });
});
