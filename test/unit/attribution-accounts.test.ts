/**
 * Several WeChat accounts in one member's history (lib/attribution/credits.ts): the brand's first
 * follow against the first follow of each further account (`laterAccountFans`), the canonical
 * order of facts at the same instant (time, then channel, then account), the last touch before
 * an event, and merging follows of different accounts. Expected values are worked out by hand
 * from the metric definitions at the top of credits.ts and written out literally.
 *
 * Times are Asia/Shanghai wall clock (UTC+8, no daylight saving).
 */
import { describe, expect, it } from 'vitest';
import { computeCredits, emptyHistory, firstFollow, lastTouchAt, mergeHistories, sortHistory, type History, type PaidOrder, type Touch } from '../../lib/attribution/credits.ts';

const TZ = 'Asia/Shanghai';
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
const key = (channel: string, model: 'first' | 'last', day: string) => `["${channel}","${model}","${day}"]`;

describe('computeCredits: first follows per account', () => {
  it('credits the brand first follow as newFans and the first follow of each further account as laterAccountFans', () => {
    // Listed out of time order on purpose.
    //   wxB   03-11 10:00 qr_b   first follow of account wxB (a further account)  → laterAccountFans, 03-11, qr_b
    //   deflt 03-10 09:00 qr_a   first follow of the brand (default account)      → newFans, 03-10, qr_a
    //   deflt 03-12 09:00 qr_c   the default account again                         → nothing
    //   wxB   03-12 10:00 qr_d   wxB again                                         → nothing
    //   wxC   03-13 08:00 qr_e   first follow of wxC                               → laterAccountFans, 03-13, qr_e
    const h: History = {
      ...emptyHistory(),
      follows: [
        { at: sh(2025, 3, 11, 10), channel: 'qr_b', app: 'wxB' },
        { at: sh(2025, 3, 10, 9), channel: 'qr_a' },
        { at: sh(2025, 3, 12, 9), channel: 'qr_c' },
        { at: sh(2025, 3, 12, 10), channel: 'qr_d', app: 'wxB' },
        { at: sh(2025, 3, 13, 8), channel: 'qr_e', app: 'wxC' },
      ],
    };
    expect(computeCredits(h, TZ)).toEqual({
      [key('qr_a', 'first', '2025-03-10')]: { newFans: 1 },
      [key('qr_a', 'last', '2025-03-10')]: { newFans: 1 },
      [key('qr_b', 'first', '2025-03-11')]: { laterAccountFans: 1 },
      [key('qr_b', 'last', '2025-03-11')]: { laterAccountFans: 1 },
      [key('qr_e', 'first', '2025-03-13')]: { laterAccountFans: 1 },
      [key('qr_e', 'last', '2025-03-13')]: { laterAccountFans: 1 },
    });
  });

  it('a single account gives newFans only, however many times the person follows it', () => {
    const h: History = {
      ...emptyHistory(),
      follows: [
        { at: sh(2025, 3, 12, 9), channel: 'qr_c', app: 'wxB' },
        { at: sh(2025, 3, 10, 9), channel: 'qr_a', app: 'wxB' },
      ],
    };
    expect(computeCredits(h, TZ)).toEqual({
      [key('qr_a', 'first', '2025-03-10')]: { newFans: 1 },
      [key('qr_a', 'last', '2025-03-10')]: { newFans: 1 },
    });
  });
});

describe('sortHistory: ties at the same instant', () => {
  const T = sh(2025, 3, 10, 9);
  const sorted = (follows: Touch[]) => {
    const h: History = { ...emptyHistory(), follows: follows.map((f) => ({ ...f })) };
    sortHistory(h);
    return h.follows;
  };

  it('orders by channel before account, in either arrival order', () => {
    const a: Touch = { at: T, channel: 'qr_a', app: 'wx2' };
    const b: Touch = { at: T, channel: 'qr_b', app: 'wx1' };
    expect(sorted([a, b])).toEqual([a, b]);
    expect(sorted([b, a])).toEqual([a, b]);
  });

  it('orders by account within one channel, the default account (no app) first', () => {
    const d: Touch = { at: T, channel: 'qr' };
    const w1: Touch = { at: T, channel: 'qr', app: 'wx1' };
    const w2: Touch = { at: T, channel: 'qr', app: 'wx2' };
    expect(sorted([w1, w2])).toEqual([w1, w2]);
    expect(sorted([w2, w1])).toEqual([w1, w2]);
    expect(sorted([w2, d, w1])).toEqual([d, w1, w2]);
    expect(sorted([w1, w2, d])).toEqual([d, w1, w2]);
  });

  it('orders paid orders at the same time by key', () => {
    const o = (k: string): PaidOrder => ({ key: k, platform: 'tmall', paidAt: T, paidFen: 100 });
    const h: History = { ...emptyHistory(), orders: [o('k2'), o('k1'), o('k3')] };
    sortHistory(h);
    expect(h.orders.map((x) => x.key)).toEqual(['k1', 'k2', 'k3']);
  });
});

describe('firstFollow', () => {
  it('is the earliest follow of any account, whatever the stored order; none without follows', () => {
    const h: History = {
      ...emptyHistory(),
      follows: [
        { at: 300, channel: 'f3', app: 'wxB' },
        { at: 100, channel: 'f1', app: 'wxC' },
        { at: 200, channel: 'f2' },
      ],
    };
    expect(firstFollow(h)).toEqual({ at: 100, channel: 'f1', app: 'wxC' });
    expect(h.follows.map((f) => f.at)).toEqual([300, 100, 200]); // the history itself is left as stored
    expect(firstFollow(emptyHistory())).toBeUndefined();
  });
});

describe('lastTouchAt', () => {
  const h: History = {
    ...emptyHistory(),
    follows: [
      { at: 300, channel: 'f3' },
      { at: 100, channel: 'f1' },
      { at: 900, channel: 'f9' },
    ],
    qrScans: [{ at: 200, channel: 'q2' }],
    codeScans: [{ at: 300, channel: 'c3' }],
    seen: { at: 50, channel: 'seen' },
  };
  it.each([
    // t, the latest follow or scan at or before t (ties at 300: channel c3 < f3, so f3 is the later)
    [100, 'f1'],
    [250, 'q2'],
    [300, 'f3'],
    [899, 'f3'],
    [900, 'f9'],
    [10_000, 'f9'],
    [99, 'seen'], // no marketing touch yet: the first touch (the sighting at 50)
  ])('at %i → %s', (t, channel) => {
    expect(lastTouchAt(h, t)?.channel).toBe(channel);
  });
});

describe('mergeHistories: accounts', () => {
  it('keeps follows of different accounts at the same time and channel as separate facts', () => {
    const T = sh(2025, 3, 10, 9);
    const a: History = { ...emptyHistory(), follows: [{ at: T, channel: 'qr', app: 'wxB' }] };
    const b: History = {
      ...emptyHistory(),
      follows: [
        { at: T, channel: 'qr', app: 'wxA' },
        { at: T, channel: 'qr', app: 'wxB' },
        { at: T, channel: 'qr' },
      ],
    };
    expect(mergeHistories(a, b).follows).toEqual([
      { at: T, channel: 'qr' },
      { at: T, channel: 'qr', app: 'wxA' },
      { at: T, channel: 'qr', app: 'wxB' },
    ]);
  });

  it('takes the earlier sighting and the earlier registration, whichever side holds them', () => {
    const a: History = { ...emptyHistory(), seen: { at: 40, channel: 'late' }, registeredAt: 900 };
    const b: History = { ...emptyHistory(), seen: { at: 35, channel: 'early' }, registeredAt: 800 };
    const expected = { ...emptyHistory(), seen: { at: 35, channel: 'early' }, registeredAt: 800 };
    expect(mergeHistories(a, b)).toEqual(expected);
    expect(mergeHistories(b, a)).toEqual(expected);
  });
});
