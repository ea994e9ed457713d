/**
 * computeCredits (lib/attribution/credits.ts) on small histories whose credits are worked out by
 * hand from the metric definitions at the top of that file. Every expected value below is
 * written out literally, with the arithmetic beside it; none comes from the code under test.
 *
 * The same cases also check the independent model (test/support/models.ts) that the
 * integration tests compare the hub's counters against.
 *
 * Times are Asia/Shanghai wall clock (UTC+8 all year, no daylight saving): `sh(2025, 3, 11, 0, 30)`
 * is 2025-03-11 00:30 in Shanghai = 2025-03-10 16:30 UTC.
 */
import { describe, expect, it } from 'vitest';
import { computeCredits, contactSpans, diffCredits, emptyHistory, firstTouchOf, mergeHistories, sortHistory, ttcBucket, ttcBucketHours, type Credits, type History } from '../../lib/attribution/credits.ts';
import { modelCredits } from '../support/models.ts';

const TZ = 'Asia/Shanghai';
/** Shanghai wall clock → epoch ms (UTC+8). */
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
/** The credit key of a channel, model and day, spelled out: JSON [channel, model, day]. */
const key = (channel: string, model: 'first' | 'last', day: string) => `["${channel}","${model}","${day}"]`;

/** computeCredits gives exactly `expected`; so does the tests' independent model. */
function expectCredits(h: History, tz: string, expected: Credits): void {
  expect(computeCredits(h, tz), 'computeCredits').toEqual(expected);
  expect(modelCredits(h, tz), 'the independent model in test/support/models.ts').toEqual(expected);
}

describe('computeCredits: a two-day history (Asia/Shanghai)', () => {
  // Day 1 = 2025-03-10, day 2 = 2025-03-11 (local).
  //   F1  03-10 09:00  follows through the store QR `qr_store`          (first follow, first touch)
  //   O1  03-10 12:00  pays a Youzan order of 50.00 (5,000 fen)
  //   U1  03-11 00:30  unfollows                   = 03-10 16:30 UTC: local day 2, UTC day 1
  //   F2  03-11 07:30  follows again through the ad QR `qr_ad`          (not a first follow)
  //   C1  03-11 07:50  scans a product code of batch channel `pack_card`
  //   Q1  03-11 09:00  scans the event QR `qr_event` (already a fan)
  //   R   03-11 10:15  registers
  //   O2  03-11 20:00  pays a Tmall order of 123.45 (12,345 fen)
  const F1 = sh(2025, 3, 10, 9, 0);
  const O1 = sh(2025, 3, 10, 12, 0);
  const U1 = sh(2025, 3, 11, 0, 30);
  const F2 = sh(2025, 3, 11, 7, 30);
  const C1 = sh(2025, 3, 11, 7, 50);
  const Q1 = sh(2025, 3, 11, 9, 0);
  const R = sh(2025, 3, 11, 10, 15);
  const O2 = sh(2025, 3, 11, 20, 0);
  const history = (): History => ({
    follows: [
      { at: F1, channel: 'qr_store' },
      { at: F2, channel: 'qr_ad' },
    ],
    unfollows: [U1],
    qrScans: [{ at: Q1, channel: 'qr_event' }],
    codeScans: [{ at: C1, channel: 'pack_card' }],
    registeredAt: R,
    orders: [
      { key: 'youzan:1:A', paidAt: O1, paidFen: 5_000, platform: 'youzan' },
      { key: 'tmall:2:B', paidAt: O2, paidFen: 12_345, platform: 'tmall' },
    ],
  });

  // First touch = the earliest fact = F1 → `qr_store` (the `first` model credits it everything).
  // Last touch at t = the latest follow / QR scan / code scan at or before t:
  //   at O1 (03-10 12:00) → F1 qr_store;   at U1 (03-11 00:30) → F1 qr_store;
  //   at C1 (07:50) → C1 itself, pack_card;   at Q1, R and O2 → Q1 qr_event.
  // Cohort (convertedFans, sameDayConversions, ttc): on the day of the FIRST FOLLOW, 03-10 —
  //   never on the registration day 03-11; first model → F1's channel, last model → the last
  //   touch at R (qr_event). Same day? 03-10 ≠ 03-11 → no sameDayConversions.
  //   Time to convert: R − F1 = 03-11 10:15 − 03-10 09:00 = 25 h 15 min = 1,515 min → ttc_m1515.
  const EXPECTED: Credits = {
    [key('qr_store', 'first', '2025-03-10')]: { newFans: 1, convertedFans: 1, ttc_m1515: 1, orders: 1, gmvFen: 5_000 },
    [key('qr_store', 'last', '2025-03-10')]: { newFans: 1, orders: 1, gmvFen: 5_000 },
    [key('qr_event', 'last', '2025-03-10')]: { convertedFans: 1, ttc_m1515: 1 },
    [key('qr_store', 'first', '2025-03-11')]: { unfollows: 1, newMembers: 1, scans: 1, qrScans: 1, orders: 1, gmvFen: 12_345 },
    [key('qr_store', 'last', '2025-03-11')]: { unfollows: 1 },
    [key('pack_card', 'last', '2025-03-11')]: { scans: 1 },
    [key('qr_event', 'last', '2025-03-11')]: { newMembers: 1, qrScans: 1, orders: 1, gmvFen: 12_345 },
  };

  it('credits each metric to the hand-computed channel, model and local day', () => {
    expectCredits(history(), TZ, EXPECTED);
  });

  it('credits the conversion to the follow day, not the registration day', () => {
    const c = computeCredits(history(), TZ);
    expect(c[key('qr_store', 'first', '2025-03-10')]!.convertedFans).toBe(1);
    expect(c[key('qr_store', 'first', '2025-03-11')]!.convertedFans).toBeUndefined();
    expect(c[key('qr_store', 'first', '2025-03-11')]!.newMembers).toBe(1);
  });

  it('does not depend on the order the facts are listed in', () => {
    const h = history();
    h.follows.reverse();
    h.orders.reverse();
    expectCredits(h, TZ, EXPECTED);
  });

  it('before the registration: no cohort metrics; registering adds exactly the hand-computed difference', () => {
    const before: History = { ...history(), orders: [{ key: 'youzan:1:A', paidAt: O1, paidFen: 5_000, platform: 'youzan' }] };
    delete before.registeredAt;
    // Without R and O2: newFans, O1, U1, C1, Q1 only.
    const withoutRegistration: Credits = {
      [key('qr_store', 'first', '2025-03-10')]: { newFans: 1, orders: 1, gmvFen: 5_000 },
      [key('qr_store', 'last', '2025-03-10')]: { newFans: 1, orders: 1, gmvFen: 5_000 },
      [key('qr_store', 'first', '2025-03-11')]: { unfollows: 1, scans: 1, qrScans: 1 },
      [key('qr_store', 'last', '2025-03-11')]: { unfollows: 1 },
      [key('pack_card', 'last', '2025-03-11')]: { scans: 1 },
      [key('qr_event', 'last', '2025-03-11')]: { qrScans: 1 },
    };
    expectCredits(before, TZ, withoutRegistration);
    // R and O2 arrive: the cohort lands on 03-10, newMembers and O2 on 03-11.
    expect(diffCredits(withoutRegistration, EXPECTED)).toEqual({
      [key('qr_store', 'first', '2025-03-10')]: { convertedFans: 1, ttc_m1515: 1 },
      [key('qr_event', 'last', '2025-03-10')]: { convertedFans: 1, ttc_m1515: 1 },
      [key('qr_store', 'first', '2025-03-11')]: { newMembers: 1, orders: 1, gmvFen: 12_345 },
      [key('qr_event', 'last', '2025-03-11')]: { newMembers: 1, orders: 1, gmvFen: 12_345 },
    });
  });
});

describe('computeCredits: the local day, not the UTC day', () => {
  // Follow 03-10 23:30 Shanghai (= 15:30 UTC), register 40 minutes later, 03-11 00:10 Shanghai
  // (= 16:10 UTC, still 03-10 in UTC).
  const h = (): History => ({ ...emptyHistory(), follows: [{ at: sh(2025, 3, 10, 23, 30), channel: 'qr_night' }], registeredAt: sh(2025, 3, 11, 0, 10) });

  it('Asia/Shanghai: two local days, so no same-day conversion; newMembers on 03-11', () => {
    // Cohort on the follow day 03-10, 40 min → ttc_m40; registration on its own day 03-11.
    expectCredits(h(), TZ, {
      [key('qr_night', 'first', '2025-03-10')]: { newFans: 1, convertedFans: 1, ttc_m40: 1 },
      [key('qr_night', 'last', '2025-03-10')]: { newFans: 1, convertedFans: 1, ttc_m40: 1 },
      [key('qr_night', 'first', '2025-03-11')]: { newMembers: 1 },
      [key('qr_night', 'last', '2025-03-11')]: { newMembers: 1 },
    });
  });

  it('UTC: both on 03-10, so a same-day conversion', () => {
    expectCredits(h(), 'UTC', {
      [key('qr_night', 'first', '2025-03-10')]: { newFans: 1, convertedFans: 1, sameDayConversions: 1, ttc_m40: 1, newMembers: 1 },
      [key('qr_night', 'last', '2025-03-10')]: { newFans: 1, convertedFans: 1, sameDayConversions: 1, ttc_m40: 1, newMembers: 1 },
    });
  });
});

describe('computeCredits: first touch before the first follow', () => {
  // C 03-10 10:00 scans a code of `pack_card` (first touch); F 10:45 follows via `qr_store`;
  // R 11:15 registers. newFans and the cohort go to the follow's channel under both models;
  // newMembers and scans go to the first touch (pack_card) under `first`, and to the last touch
  // under `last` (at R: F, qr_store; at C: C itself, pack_card). R − F = 30 min, same day.
  const h: History = { ...emptyHistory(), codeScans: [{ at: sh(2025, 3, 10, 10, 0), channel: 'pack_card' }], follows: [{ at: sh(2025, 3, 10, 10, 45), channel: 'qr_store' }], registeredAt: sh(2025, 3, 10, 11, 15) };

  it('credits the cohort to the first follow and the rest to the first touch', () => {
    expectCredits(h, TZ, {
      [key('pack_card', 'first', '2025-03-10')]: { newMembers: 1, scans: 1 },
      [key('pack_card', 'last', '2025-03-10')]: { scans: 1 },
      [key('qr_store', 'first', '2025-03-10')]: { newFans: 1, convertedFans: 1, sameDayConversions: 1, ttc_m30: 1 },
      [key('qr_store', 'last', '2025-03-10')]: { newFans: 1, newMembers: 1, convertedFans: 1, sameDayConversions: 1, ttc_m30: 1 },
    });
  });
});

describe('computeCredits: buyers and strangers', () => {
  it('a buyer first met through a Tmall order who registers: first touch `tmall`, no conversion', () => {
    // No follow: no newFans and no cohort. Last touch falls back to the first touch (no
    // follow or scan at all), so both models credit `tmall`.
    const h: History = { ...emptyHistory(), orders: [{ key: 'tmall:1:T', paidAt: sh(2025, 3, 10, 8, 0), paidFen: 9_900, platform: 'tmall' }], registeredAt: sh(2025, 3, 12, 9, 0) };
    expectCredits(h, TZ, {
      [key('tmall', 'first', '2025-03-10')]: { orders: 1, gmvFen: 9_900 },
      [key('tmall', 'last', '2025-03-10')]: { orders: 1, gmvFen: 9_900 },
      [key('tmall', 'first', '2025-03-12')]: { newMembers: 1 },
      [key('tmall', 'last', '2025-03-12')]: { newMembers: 1 },
    });
  });

  it('someone only ever seen (no touch): credited to the sighting channel', () => {
    const h: History = { ...emptyHistory(), seen: { at: sh(2025, 3, 10, 8, 0), channel: 'organic' }, registeredAt: sh(2025, 3, 10, 8, 1) };
    expectCredits(h, TZ, {
      [key('organic', 'first', '2025-03-10')]: { newMembers: 1 },
      [key('organic', 'last', '2025-03-10')]: { newMembers: 1 },
    });
  });

  it('an order of 0 fen counts as an order and adds no GMV', () => {
    const h: History = { ...emptyHistory(), follows: [{ at: sh(2025, 3, 10, 8, 0), channel: 'qr_a' }], orders: [{ key: 'youzan:1:Z', paidAt: sh(2025, 3, 10, 9, 0), paidFen: 0, platform: 'youzan' }] };
    expectCredits(h, TZ, {
      [key('qr_a', 'first', '2025-03-10')]: { newFans: 1, orders: 1 },
      [key('qr_a', 'last', '2025-03-10')]: { newFans: 1, orders: 1 },
    });
  });

  it('nothing to credit without any fact', () => {
    expectCredits(emptyHistory(), TZ, {});
  });
});

describe('computeCredits: WeCom contacts (newContacts, lostContacts) and first touch across WeChat and WeCom', () => {
  //   A1  03-10 10:00  guide_li adds the person through contact way `cw_store`   (first touch)
  //   A2  03-10 10:05  guide_li again (add_external after add_half): already a contact, nothing new
  //   A3  03-10 11:00  guide_wang adds them without a contact way → `organic`
  //   E1  03-11 09:00  the customer deletes guide_li → a lost contact of cw_store on 03-11
  //   A4  03-12 09:00  guide_li adds them again through `cw_poster` → a new contact of cw_poster
  //   E2  03-12 10:00  guide_wang's contact ends by transfer → not a loss
  //   F   03-12 12:00  follows the official account through `qr_ad` (first follow)
  //   R   03-12 13:00  registers
  // First touch = A1 (cw_store): newMembers (first model) on 03-12 to cw_store; last touch at R = F (qr_ad).
  // Cohort: first follow F → qr_ad on 03-12, same day, R − F = 60 min → ttc_m60, both models (last touch at R is qr_ad).
  const A1 = sh(2025, 3, 10, 10, 0);
  const A2 = sh(2025, 3, 10, 10, 5);
  const A3 = sh(2025, 3, 10, 11, 0);
  const E1 = sh(2025, 3, 11, 9, 0);
  const A4 = sh(2025, 3, 12, 9, 0);
  const E2 = sh(2025, 3, 12, 10, 0);
  const F = sh(2025, 3, 12, 12, 0);
  const R = sh(2025, 3, 12, 13, 0);
  const history = (): History => ({
    ...emptyHistory(),
    follows: [{ at: F, channel: 'qr_ad' }],
    registeredAt: R,
    seen: { at: A1, channel: 'cw_store' },
    contactAdds: [
      { at: A1, guide: 'guide_li', channel: 'cw_store' },
      { at: A2, guide: 'guide_li', channel: 'cw_store' },
      { at: A3, guide: 'guide_wang', channel: 'organic' },
      { at: A4, guide: 'guide_li', channel: 'cw_poster' },
    ],
    contactEnds: [
      { at: E1, guide: 'guide_li', by: 'customer' },
      { at: E2, guide: 'guide_wang', by: 'transfer' },
    ],
  });
  const EXPECTED: Credits = {
    [key('cw_store', 'first', '2025-03-10')]: { newContacts: 1 },
    [key('cw_store', 'last', '2025-03-10')]: { newContacts: 1 },
    [key('organic', 'first', '2025-03-10')]: { newContacts: 1 },
    [key('organic', 'last', '2025-03-10')]: { newContacts: 1 },
    [key('cw_store', 'first', '2025-03-11')]: { lostContacts: 1 },
    [key('cw_store', 'last', '2025-03-11')]: { lostContacts: 1 },
    [key('cw_poster', 'first', '2025-03-12')]: { newContacts: 1 },
    [key('cw_poster', 'last', '2025-03-12')]: { newContacts: 1 },
    [key('qr_ad', 'first', '2025-03-12')]: { newFans: 1, convertedFans: 1, sameDayConversions: 1, ttc_m60: 1 },
    [key('qr_ad', 'last', '2025-03-12')]: { newFans: 1, convertedFans: 1, sameDayConversions: 1, ttc_m60: 1, newMembers: 1 },
    [key('cw_store', 'first', '2025-03-12')]: { newMembers: 1 },
  };

  it('credits contacts to the contact way they began through, losses on their day, transfers not at all', () => {
    expectCredits(history(), TZ, EXPECTED);
    expect(firstTouchOf(history())).toEqual({ at: A1, channel: 'cw_store' });
  });

  it('does not depend on the order the facts are listed in', () => {
    const h = history();
    h.contactAdds!.reverse();
    h.contactEnds!.reverse();
    expectCredits(h, TZ, EXPECTED);
  });

  it('an end that arrives with no add yet credits nothing; the add arriving later gives both', () => {
    const ended: History = { ...emptyHistory(), seen: { at: E1, channel: 'organic' }, contactEnds: [{ at: E1, guide: 'guide_li', by: 'staff' }] };
    expectCredits(ended, TZ, {});
    const both: History = { ...ended, contactAdds: [{ at: A1, guide: 'guide_li', channel: 'cw_store' }] };
    expectCredits(both, TZ, {
      [key('cw_store', 'first', '2025-03-10')]: { newContacts: 1 },
      [key('cw_store', 'last', '2025-03-10')]: { newContacts: 1 },
      [key('cw_store', 'first', '2025-03-11')]: { lostContacts: 1 },
      [key('cw_store', 'last', '2025-03-11')]: { lostContacts: 1 },
    });
  });

  it('at one instant an add counts before an end; among same-instant facts the channel, then the kind of end, decides', () => {
    // An add and its end in the same second: a contact begun and lost that day.
    const sameInstant: History = {
      ...emptyHistory(),
      contactEnds: [{ at: A1, guide: 'guide_li', by: 'customer' }],
      contactAdds: [{ at: A1, guide: 'guide_li', channel: 'cw_store' }],
    };
    expectCredits(sameInstant, TZ, {
      [key('cw_store', 'first', '2025-03-10')]: { newContacts: 1, lostContacts: 1 },
      [key('cw_store', 'last', '2025-03-10')]: { newContacts: 1, lostContacts: 1 },
    });
    // Two adds of one guide in the same second through two ways: the first by channel id begins it.
    // Two ends in the same second: `customer` sorts before `transfer`, so the contact is lost.
    const ties: History = {
      ...emptyHistory(),
      contactAdds: [
        { at: A1, guide: 'guide_li', channel: 'cw_b' },
        { at: A1, guide: 'guide_li', channel: 'cw_a' },
      ],
      contactEnds: [
        { at: E1, guide: 'guide_li', by: 'transfer' },
        { at: E1, guide: 'guide_li', by: 'customer' },
      ],
    };
    expectCredits(ties, TZ, {
      [key('cw_a', 'first', '2025-03-10')]: { newContacts: 1 },
      [key('cw_a', 'last', '2025-03-10')]: { newContacts: 1 },
      [key('cw_a', 'first', '2025-03-11')]: { lostContacts: 1 },
      [key('cw_a', 'last', '2025-03-11')]: { lostContacts: 1 },
    });
    expect(contactSpans(ties)).toEqual([{ guide: 'guide_li', begin: { at: A1, guide: 'guide_li', channel: 'cw_a' }, end: { at: E1, guide: 'guide_li', by: 'customer' } }]);
  });

  it('stores the contact facts in one canonical order: time, guide, then channel or by whom', () => {
    const h: History = {
      ...emptyHistory(),
      contactAdds: [
        { at: A3, guide: 'guide_wang', channel: 'organic' },
        { at: A1, guide: 'guide_zhao', channel: 'cw_a' },
        { at: A1, guide: 'guide_li', channel: 'cw_z' },
        { at: A1, guide: 'guide_li', channel: 'cw_b' },
      ],
      contactEnds: [
        { at: E2, guide: 'guide_wang', by: 'transfer' },
        { at: E1, guide: 'guide_li', by: 'staff' },
        { at: E1, guide: 'guide_li', by: 'customer' },
      ],
    };
    const addsInOrder = [
      { at: A1, guide: 'guide_li', channel: 'cw_b' },
      { at: A1, guide: 'guide_li', channel: 'cw_z' },
      { at: A1, guide: 'guide_zhao', channel: 'cw_a' },
      { at: A3, guide: 'guide_wang', channel: 'organic' },
    ];
    const endsInOrder = [
      { at: E1, guide: 'guide_li', by: 'customer' },
      { at: E1, guide: 'guide_li', by: 'staff' },
      { at: E2, guide: 'guide_wang', by: 'transfer' },
    ];
    const merged = mergeHistories({ ...emptyHistory(), contactAdds: [...h.contactAdds!] }, { ...emptyHistory(), contactEnds: [...h.contactEnds!] });
    expect(merged.contactAdds).toEqual(addsInOrder);
    expect(merged.contactEnds).toEqual(endsInOrder);
    sortHistory(h);
    expect(h.contactAdds).toEqual(addsInOrder);
    expect(h.contactEnds).toEqual(endsInOrder);
    // Without contact facts the history stays without them.
    const none = emptyHistory();
    sortHistory(none);
    expect(mergeHistories(none, emptyHistory())).toEqual(emptyHistory());
    expect(none).toEqual(emptyHistory());
  });

  it('a merge of two records keeps each contact fact once', () => {
    const a = history();
    const b: History = { ...emptyHistory(), contactAdds: [{ at: A1, guide: 'guide_li', channel: 'cw_store' }], contactEnds: [{ at: E1, guide: 'guide_li', by: 'customer' }] };
    const merged = mergeHistories(b, a);
    expect(merged.contactAdds).toHaveLength(4);
    expect(merged.contactEnds).toHaveLength(2);
    expectCredits(merged, TZ, EXPECTED);
  });
});

describe('time-to-convert buckets', () => {
  // Whole minutes below 48 h (2,880 min), whole hours from there.
  it.each([
    [0, 'ttc_m0'],
    [59_999, 'ttc_m0'],
    [60_000, 'ttc_m1'],
    [25 * 3_600_000 + 15 * 60_000, 'ttc_m1515'],
    [48 * 3_600_000 - 1, 'ttc_m2879'],
    [48 * 3_600_000, 'ttc_h48'],
    [74 * 3_600_000 + 30 * 60_000, 'ttc_h74'],
    [-5, 'ttc_m0'],
  ])('%i ms → %s', (ms, bucket) => {
    expect(ttcBucket(ms)).toBe(bucket);
  });

  it.each([
    ['ttc_m90', 1.5],
    ['ttc_m0', 0],
    ['ttc_h74', 74],
    ['newFans', undefined],
    ['ttc_x1', undefined],
  ])('%s → %s hours', (attr, hours) => {
    expect(ttcBucketHours(attr)).toBe(hours);
  });

  it('a conversion after more than 48 hours lands in an hour bucket on the follow day', () => {
    // 03-10 09:00 → 03-13 11:30 = 3 d 2 h 30 min = 74.5 h → ttc_h74.
    const h: History = { ...emptyHistory(), follows: [{ at: sh(2025, 3, 10, 9, 0), channel: 'qr_a' }], registeredAt: sh(2025, 3, 13, 11, 30) };
    expectCredits(h, TZ, {
      [key('qr_a', 'first', '2025-03-10')]: { newFans: 1, convertedFans: 1, ttc_h74: 1 },
      [key('qr_a', 'last', '2025-03-10')]: { newFans: 1, convertedFans: 1, ttc_h74: 1 },
      [key('qr_a', 'first', '2025-03-13')]: { newMembers: 1 },
      [key('qr_a', 'last', '2025-03-13')]: { newMembers: 1 },
    });
  });
});
