/**
 * The member programme rules as pure functions: every tier boundary and the rolling window's
 * expiry, every lifecycle transition (won-back included), the RFM cut points, the rules'
 * schemas and environment parsing, the next-review instant, and derive()'s use of them
 * (upgrade-only tier, review-index entry).
 */
import { describe, expect, it } from 'vitest';
import { higherTier, lifecycleOf, nextReviewAt, REVIEW_SHARDS, reviewDay, rfmOf, rollingGmvFen, tierOf, tierRank } from '../../lib/members/lifecycle.ts';
import { DEFAULT_LIFECYCLE_DAYS, DEFAULT_MEMBER_RULES, DEFAULT_RFM_CUTS, DEFAULT_TIERS, type MemberRules } from '../../lib/config/members.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { createStoredMember, derive } from '../../lib/members/record.ts';
import { bucketOf } from '../../lib/ids.ts';
import type { History } from '../../lib/attribution/credits.ts';
import { modelLifecycle, modelRfm, modelTier } from '../support/models.ts';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
/** Shanghai is UTC+8 all year: local wall-clock time → epoch ms. */
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
const T0 = sh(2025, 3, 10, 12);

let seq = 0;
/** A history with paid orders [paidAt, paidFen]. */
function orders(...os: [number, number][]): Pick<History, 'orders'> {
  return { orders: os.map(([paidAt, paidFen]) => ({ key: `youzan:shop:o${seq++}`, paidAt, paidFen, platform: 'youzan' })) };
}

describe('tierOf: rolling 12-month paid GMV against the thresholds', () => {
  it('defaults are normal 0 / silver ¥1,000 / gold ¥5,000 / diamond ¥20,000 (in fen)', () => {
    expect(DEFAULT_TIERS).toEqual({ normal: 0, silver: 100_000, gold: 500_000, diamond: 2_000_000 });
  });

  it.each([
    [0, 'normal'],
    [1, 'normal'],
    [99_999, 'normal'],
    [100_000, 'silver'],
    [100_001, 'silver'],
    [499_999, 'silver'],
    [500_000, 'gold'],
    [1_999_999, 'gold'],
    [2_000_000, 'diamond'],
    [50_000_000, 'diamond'],
  ] as const)('GMV %i fen → %s', (fen, tier) => {
    expect(tierOf(orders([T0, fen]), T0)).toBe(tier);
  });

  it('no order at all is normal', () => {
    expect(tierOf({ orders: [] }, T0)).toBe('normal');
  });

  it('sums every order inside the window; the order that crosses upgrades', () => {
    const h = orders([T0 - 200 * DAY, 60_000], [T0 - 100 * DAY, 39_999]);
    expect(rollingGmvFen(h, T0)).toBe(99_999);
    expect(tierOf(h, T0)).toBe('normal');
    h.orders.push({ key: 'youzan:shop:cross', paidAt: T0, paidFen: 1, platform: 'youzan' });
    expect(rollingGmvFen(h, T0)).toBe(100_000);
    expect(tierOf(h, T0)).toBe('silver');
  });

  it('an order leaves the window exactly 365 days after payment', () => {
    const h = orders([T0, 500_000]);
    expect(tierOf(h, T0 + 365 * DAY - 1)).toBe('gold');
    expect(rollingGmvFen(h, T0 + 365 * DAY - 1)).toBe(500_000);
    expect(tierOf(h, T0 + 365 * DAY)).toBe('normal');
    expect(rollingGmvFen(h, T0 + 365 * DAY)).toBe(0);
  });

  it('expiry of the older of two orders moves the member down one tier, not to normal', () => {
    const h = orders([T0, 400_000], [T0 + 100 * DAY, 150_000]);
    const now = T0 + 100 * DAY;
    expect(tierOf(h, now)).toBe('gold'); // 550,000
    expect(tierOf(h, T0 + 365 * DAY)).toBe('silver'); // 150,000
    expect(tierOf(h, T0 + 465 * DAY)).toBe('normal');
  });

  it('counts the paid amount, not net of refunds (the fact keeps paidFen)', () => {
    // A refund lowers points, not the order fact: GMV of the fact is what counts.
    expect(tierOf(orders([T0, 100_000]), T0)).toBe('silver');
  });

  it('thresholds and window are configurable', () => {
    const tiers = { normal: 0, silver: 10, gold: 20, diamond: 30 };
    expect(tierOf(orders([T0, 9]), T0, tiers)).toBe('normal');
    expect(tierOf(orders([T0, 10]), T0, tiers)).toBe('silver');
    expect(tierOf(orders([T0, 20]), T0, tiers)).toBe('gold');
    expect(tierOf(orders([T0, 30]), T0, tiers)).toBe('diamond');
    expect(tierOf(orders([T0 - 31 * DAY, 30]), T0, tiers, 31)).toBe('normal');
    expect(tierOf(orders([T0 - 31 * DAY + 1, 30]), T0, tiers, 31)).toBe('diamond');
  });

  it('ranks tiers; unknown names rank as normal', () => {
    expect(['normal', 'silver', 'gold', 'diamond', 'vip'].map(tierRank)).toEqual([0, 1, 2, 3, 0]);
    expect(higherTier('gold', 'silver')).toBe('gold');
    expect(higherTier('silver', 'diamond')).toBe('diamond');
    expect(higherTier('vip', 'normal')).toBe('normal');
  });
});

describe('lifecycleOf', () => {
  it('defaults: at risk from 90 days, lapsed beyond 180, tier window 365', () => {
    expect(DEFAULT_LIFECYCLE_DAYS).toEqual({ atRisk: 90, lapsed: 180, tierWindow: 365 });
  });

  it('prospect without a paid order', () => {
    expect(lifecycleOf({ orders: [] }, T0)).toBe('prospect');
  });

  it('new: one order, less than 90 days ago', () => {
    const h = orders([T0, 100]);
    expect(lifecycleOf(h, T0)).toBe('new');
    expect(lifecycleOf(h, T0 + 90 * DAY - 1)).toBe('new');
  });

  it('new → at_risk at exactly 90 days; at_risk through exactly 180; lapsed after', () => {
    const h = orders([T0, 100]);
    expect(lifecycleOf(h, T0 + 90 * DAY)).toBe('at_risk');
    expect(lifecycleOf(h, T0 + 180 * DAY)).toBe('at_risk');
    expect(lifecycleOf(h, T0 + 180 * DAY + 1)).toBe('lapsed');
    expect(lifecycleOf(h, T0 + 3000 * DAY)).toBe('lapsed');
  });

  it('repeat: two or more orders, the last less than 90 days ago', () => {
    const h = orders([T0 - 10 * DAY, 100], [T0, 100]);
    expect(lifecycleOf(h, T0)).toBe('repeat');
    expect(lifecycleOf(h, T0 + 90 * DAY - 1)).toBe('repeat');
    expect(lifecycleOf(h, T0 + 90 * DAY)).toBe('at_risk');
    expect(lifecycleOf(h, T0 + 180 * DAY + 1)).toBe('lapsed');
  });

  it('at_risk → repeat on a new order', () => {
    const h = orders([T0, 100]);
    expect(lifecycleOf(h, T0 + 120 * DAY)).toBe('at_risk');
    h.orders.push({ key: 'youzan:shop:back', paidAt: T0 + 120 * DAY, paidFen: 100, platform: 'youzan' });
    expect(lifecycleOf(h, T0 + 120 * DAY)).toBe('repeat');
  });

  it('lapsed → won_back on an order after a gap of more than 180 days', () => {
    const h = orders([T0, 100]);
    const back = T0 + 180 * DAY + 1;
    expect(lifecycleOf(h, back)).toBe('lapsed');
    h.orders.push({ key: 'youzan:shop:back', paidAt: back, paidFen: 100, platform: 'youzan' });
    expect(lifecycleOf(h, back)).toBe('won_back');
    expect(lifecycleOf(h, back + 90 * DAY - 1)).toBe('won_back');
  });

  it('a gap of exactly 180 days is not a lapse: repeat, not won_back', () => {
    expect(lifecycleOf(orders([T0, 100], [T0 + 180 * DAY, 100]), T0 + 180 * DAY)).toBe('repeat');
    expect(lifecycleOf(orders([T0, 100], [T0 + 180 * DAY + 1, 100]), T0 + 180 * DAY + 1)).toBe('won_back');
  });

  it('won_back → repeat on the next order; won_back → at_risk → lapsed without one', () => {
    const back = T0 + 400 * DAY;
    const h = orders([T0, 100], [back, 100]);
    expect(lifecycleOf(h, back + DAY)).toBe('won_back');
    expect(lifecycleOf(h, back + 90 * DAY)).toBe('at_risk');
    expect(lifecycleOf(h, back + 181 * DAY)).toBe('lapsed');
    h.orders.push({ key: 'youzan:shop:next', paidAt: back + 20 * DAY, paidFen: 100, platform: 'youzan' });
    expect(lifecycleOf(h, back + 20 * DAY)).toBe('repeat');
  });

  it('only the gap before the latest order decides: an old lapse does not make a repeat buyer won_back', () => {
    const h = orders([T0, 100], [T0 + 300 * DAY, 100], [T0 + 310 * DAY, 100]);
    expect(lifecycleOf(h, T0 + 311 * DAY)).toBe('repeat');
  });

  it('arrival order does not matter (facts are sorted by payment time)', () => {
    const h = orders([T0 + 400 * DAY, 100], [T0, 100]);
    expect(lifecycleOf(h, T0 + 401 * DAY)).toBe('won_back');
  });

  it('walks prospect → new → repeat → at_risk → lapsed → won_back → repeat', () => {
    const h: Pick<History, 'orders'> = { orders: [] };
    const stages: string[] = [lifecycleOf(h, T0)];
    h.orders.push({ key: 'a', paidAt: T0, paidFen: 100, platform: 'youzan' });
    stages.push(lifecycleOf(h, T0 + DAY));
    h.orders.push({ key: 'b', paidAt: T0 + 30 * DAY, paidFen: 100, platform: 'youzan' });
    stages.push(lifecycleOf(h, T0 + 31 * DAY));
    stages.push(lifecycleOf(h, T0 + 130 * DAY));
    stages.push(lifecycleOf(h, T0 + 220 * DAY));
    h.orders.push({ key: 'c', paidAt: T0 + 250 * DAY, paidFen: 100, platform: 'youzan' });
    stages.push(lifecycleOf(h, T0 + 250 * DAY));
    h.orders.push({ key: 'd', paidAt: T0 + 260 * DAY, paidFen: 100, platform: 'youzan' });
    stages.push(lifecycleOf(h, T0 + 260 * DAY));
    expect(stages).toEqual(['prospect', 'new', 'repeat', 'at_risk', 'lapsed', 'won_back', 'repeat']);
  });

  it('day thresholds are configurable', () => {
    const d = { atRisk: 30, lapsed: 60, tierWindow: 365 };
    const h = orders([T0, 100]);
    expect(lifecycleOf(h, T0 + 30 * DAY - 1, d)).toBe('new');
    expect(lifecycleOf(h, T0 + 30 * DAY, d)).toBe('at_risk');
    expect(lifecycleOf(h, T0 + 60 * DAY, d)).toBe('at_risk');
    expect(lifecycleOf(h, T0 + 60 * DAY + 1, d)).toBe('lapsed');
    h.orders.push({ key: 'x', paidAt: T0 + 61 * DAY, paidFen: 100, platform: 'youzan' });
    expect(lifecycleOf(h, T0 + 61 * DAY, d)).toBe('won_back');
  });
});

describe('rfmOf', () => {
  it('defaults', () => {
    expect(DEFAULT_RFM_CUTS).toEqual({ recencyDays: [30, 60, 90, 180], frequency: [2, 3, 5, 10], monetaryFen: [50_000, 100_000, 500_000, 2_000_000] });
  });

  it('undefined without a paid order', () => {
    expect(rfmOf({ orders: [] }, T0)).toBeUndefined();
  });

  it.each([
    [0, 5],
    [30 * DAY, 5],
    [30 * DAY + 1, 4],
    [60 * DAY, 4],
    [60 * DAY + 1, 3],
    [90 * DAY, 3],
    [90 * DAY + 1, 2],
    [180 * DAY, 2],
    [180 * DAY + 1, 1],
    [1000 * DAY, 1],
  ])('R: %i ms since the last order → %i', (since, r) => {
    expect(rfmOf(orders([T0 - 500 * DAY, 1], [T0, 1]), T0 + since)!.r).toBe(r);
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 3],
    [5, 4],
    [9, 4],
    [10, 5],
    [25, 5],
  ])('F: %i orders → %i', (n, f) => {
    const h = orders(...Array.from({ length: n }, (_, i) => [T0 - i * DAY, 1] as [number, number]));
    expect(rfmOf(h, T0)!.f).toBe(f);
  });

  it.each([
    [0, 1],
    [49_999, 1],
    [50_000, 2],
    [99_999, 2],
    [100_000, 3],
    [499_999, 3],
    [500_000, 4],
    [1_999_999, 4],
    [2_000_000, 5],
  ])('M: %i fen (lifetime) → %i', (fen, m) => {
    expect(rfmOf(orders([T0 - 1000 * DAY, 0], [T0, fen]), T0)!.m).toBe(m);
  });

  it('F and M are lifetime: an order outside the tier window still counts', () => {
    expect(rfmOf(orders([T0 - 800 * DAY, 1_000_000], [T0, 1_000_000]), T0)).toEqual({ r: 5, f: 2, m: 5 });
  });

  it('cut points are configurable', () => {
    const cuts = { recencyDays: [1, 2, 3, 4] as [number, number, number, number], frequency: [2, 4, 6, 8] as [number, number, number, number], monetaryFen: [10, 20, 30, 40] as [number, number, number, number] };
    const h = orders([T0, 15], [T0 - DAY, 15], [T0 - 2 * DAY, 15], [T0 - 3 * DAY, 0]);
    expect(rfmOf(h, T0 + 2.5 * DAY, cuts)).toEqual({ r: 3, f: 3, m: 5 });
    expect(rfmOf(h, T0 + 4 * DAY + 1, cuts)).toEqual({ r: 1, f: 3, m: 5 });
  });
});

describe('tier, lifecycle and RFM of whole members, worked out by hand (default rules)', () => {
  // Rules: tiers silver 100,000 / gold 500,000 / diamond 2,000,000 fen of paid GMV in the last
  // 365 days (an order paid exactly 365 days ago has left); lifecycle at_risk from 90 days since
  // the last order, lapsed beyond 180, won_back when the last order came > 180 days after the one
  // before; R cuts 30/60/90/180 days (≤ cut), F minimums 2/3/5/10 orders, M minimums
  // 50,000/100,000/500,000/2,000,000 fen (lifetime).
  // orders: [days before now, paidFen]
  const rows: [string, [number, number][], string, string, { r: number; f: number; m: number } | undefined][] = [
    // nothing paid
    ['no order', [], 'normal', 'prospect', undefined],
    // 30,000 < 100,000 → normal; 10 d < 90, one order → new; R 10 ≤ 30 → 5, F 1 → 1, M 30,000 < 50,000 → 1
    ['one small order 10 days ago', [[10, 30_000]], 'normal', 'new', { r: 5, f: 1, m: 1 }],
    // 80,000 + 40,000 = 120,000 ≥ 100,000 → silver; gap 200 − 20 = 180 d, not > 180 → repeat;
    // R 20 → 5, F 2 → 2, M 120,000 ≥ 100,000 → 3
    ['two orders 180 days apart', [[200, 80_000], [20, 40_000]], 'silver', 'repeat', { r: 5, f: 2, m: 3 }],
    // window: 400 d ago has left → 100,000 → silver; since 100 d, 90 ≤ 100 ≤ 180 → at_risk;
    // R 100 > 90, ≤ 180 → 2, F 2 → 2, M 700,000 ≥ 500,000 → 4
    ['a big old order and a silver one 100 days ago', [[400, 600_000], [100, 100_000]], 'silver', 'at_risk', { r: 2, f: 2, m: 4 }],
    // 20,000 + 20,000 = 40,000 → normal; gap 300 − 5 = 295 > 180 → won_back; R 5 → 5, F 2 → 2, M 40,000 → 1
    ['back after 295 days', [[300, 20_000], [5, 20_000]], 'normal', 'won_back', { r: 5, f: 2, m: 1 }],
    // 2,500,000 in the window → diamond; since 181 > 180 → lapsed; R 181 > 180 → 1, F 1, M ≥ 2,000,000 → 5
    ['a diamond order 181 days ago', [[181, 2_500_000]], 'diamond', 'lapsed', { r: 1, f: 1, m: 5 }],
    // 10 × 60,000 = 600,000 → gold; since 1 d, 10 orders → repeat; R 5, F 10 → 5, M 600,000 → 4
    ['ten orders on ten days', [[10, 60_000], [9, 60_000], [8, 60_000], [7, 60_000], [6, 60_000], [5, 60_000], [4, 60_000], [3, 60_000], [2, 60_000], [1, 60_000]], 'gold', 'repeat', { r: 5, f: 5, m: 4 }],
    // 100,000 → silver; since exactly 90 d → at_risk; R 90 is not > 90 → 3, F 1, M 100,000 → 3
    ['one order exactly 90 days ago', [[90, 100_000]], 'silver', 'at_risk', { r: 3, f: 1, m: 3 }],
    // the order of exactly 365 days ago has left the window → 1,000 → normal; gap 335 > 180 → won_back;
    // R 30 is not > 30 → 5, F 2 → 2, M 501,000 → 4 (lifetime)
    ['a gold order exactly 365 days ago and a small one 30 days ago', [[365, 500_000], [30, 1_000]], 'normal', 'won_back', { r: 5, f: 2, m: 4 }],
  ];

  it.each(rows)('%s', (_name, os, tier, lifecycle, rfm) => {
    const h = orders(...os.map(([daysAgo, fen]) => [T0 - daysAgo * DAY, fen] as [number, number]));
    expect({ tier: tierOf(h, T0), lifecycle: lifecycleOf(h, T0), rfm: rfmOf(h, T0) }).toEqual({ tier, lifecycle, rfm });
    // The independent model the integration tests use agrees with the same table.
    const rules = { tiers: DEFAULT_TIERS, days: DEFAULT_LIFECYCLE_DAYS, rfm: DEFAULT_RFM_CUTS };
    expect({ tier: modelTier(h, T0, rules), lifecycle: modelLifecycle(h, T0, rules), rfm: modelRfm(h, T0, rules) }, 'test/support/models.ts').toEqual({ tier, lifecycle, rfm });
  });
});

/** The member rules of a configuration loaded from `env` (the local runtime's defaults fill the rest). */
const parseMemberRules = (env: Record<string, string>) => loadConfig({ env, local: true }).memberRules;

describe('rules configuration (zod, environment)', () => {
  it('unset variables give the defaults', () => {
    expect(parseMemberRules({})).toEqual({ tiers: DEFAULT_TIERS, days: DEFAULT_LIFECYCLE_DAYS, rfm: DEFAULT_RFM_CUTS });
  });

  it('HUB_TIER_THRESHOLDS_FEN overrides any subset; normal stays 0', () => {
    const r = parseMemberRules({ HUB_TIER_THRESHOLDS_FEN: '{"gold":600000}' });
    expect(r.tiers).toEqual({ normal: 0, silver: 100_000, gold: 600_000, diamond: 2_000_000 });
    expect(parseMemberRules({ HUB_TIER_THRESHOLDS_FEN: '{"normal":0,"silver":1,"gold":2,"diamond":3}' }).tiers).toEqual({ normal: 0, silver: 1, gold: 2, diamond: 3 });
  });

  it.each([
    ['{"silver":'],
    ['{"silver":600000}'],
    ['{"silver":0}'],
    ['{"normal":5}'],
    ['{"platinum":1}'],
    ['{"gold":-1}'],
    ['{"gold":1.5}'],
  ])('rejects HUB_TIER_THRESHOLDS_FEN=%s naming the variable', (raw) => {
    expect(() => parseMemberRules({ HUB_TIER_THRESHOLDS_FEN: raw })).toThrow(/HUB_TIER_THRESHOLDS_FEN/);
  });

  it('HUB_LIFECYCLE_DAYS and HUB_RFM_CUTS override and validate', () => {
    const r = parseMemberRules({ HUB_LIFECYCLE_DAYS: '{"atRisk":60}', HUB_RFM_CUTS: '{"frequency":[3,6,9,12]}' });
    expect(r.days).toEqual({ atRisk: 60, lapsed: 180, tierWindow: 365 });
    expect(r.rfm).toEqual({ ...DEFAULT_RFM_CUTS, frequency: [3, 6, 9, 12] });
    expect(() => parseMemberRules({ HUB_LIFECYCLE_DAYS: '{"atRisk":180,"lapsed":180}' })).toThrow(/HUB_LIFECYCLE_DAYS.*atRisk must be fewer days/);
    expect(() => parseMemberRules({ HUB_RFM_CUTS: '{"recencyDays":[30,30,90,180]}' })).toThrow(/HUB_RFM_CUTS.*rise strictly/);
    expect(() => parseMemberRules({ HUB_RFM_CUTS: '{"monetaryFen":[1,2,3]}' })).toThrow(/HUB_RFM_CUTS/);
  });

  it('an invalid rule fails the configuration load, with every invalid variable named', () => {
    expect(() => parseMemberRules({ HUB_TIER_THRESHOLDS_FEN: '{"gold":1}', HUB_RFM_CUTS: 'nope' })).toThrow(
      /^invalid configuration: HUB_TIER_THRESHOLDS_FEN: \(value\): tier thresholds must rise strictly.*; HUB_RFM_CUTS is not valid JSON$/,
    );
    expect(() => parseMemberRules({ HUB_LIFECYCLE_DAYS: '' })).toThrow(/HUB_LIFECYCLE_DAYS is set but empty/);
  });

  it('the loaded rules are frozen: nothing downstream can change them', () => {
    const rules = parseMemberRules({ HUB_TIER_THRESHOLDS_FEN: '{"gold":700000}' });
    expect(rules.tiers.gold).toBe(700_000);
    expect(Object.isFrozen(rules.tiers) && Object.isFrozen(rules.rfm.recencyDays)).toBe(true);
    expect(parseMemberRules({}).tiers.gold).toBe(500_000);
  });
});

describe('nextReviewAt and reviewDay', () => {
  const rules: MemberRules = { tiers: DEFAULT_TIERS, days: DEFAULT_LIFECYCLE_DAYS, rfm: DEFAULT_RFM_CUTS };

  it('nothing to review without orders', () => {
    expect(nextReviewAt({ orders: [] }, T0, rules)).toBeUndefined();
  });

  it('walks every instant something changes for one ¥1,000 order, then stops', () => {
    const h = orders([T0, 100_000]);
    const chain: number[] = [];
    const snapshot = (t: number) => JSON.stringify([tierOf(h, t), lifecycleOf(h, t), rfmOf(h, t)]);
    for (let t: number | undefined = nextReviewAt(h, T0, rules); t !== undefined; t = nextReviewAt(h, t, rules)) {
      chain.push(t);
      // Something really changes at each review instant.
      expect(snapshot(t)).not.toBe(snapshot(t - 1));
    }
    expect(chain.map((t) => t - T0)).toEqual([30 * DAY + 1, 60 * DAY + 1, 90 * DAY, 90 * DAY + 1, 180 * DAY + 1, 365 * DAY]);
    // and nothing changes after the last one
    expect(snapshot(T0 + 365 * DAY)).toBe(snapshot(T0 + 5000 * DAY));
  });

  it('every order leaving the window is a review instant', () => {
    const h = orders([T0, 100_000], [T0 + 200 * DAY, 100_000]);
    expect(nextReviewAt(h, T0 + 364 * DAY, rules)).toBe(T0 + 365 * DAY); // the first order leaves
    expect(nextReviewAt(h, T0 + 365 * DAY, rules)).toBe(T0 + 380 * DAY + 1); // lapsed (and R → 1)
    expect(nextReviewAt(h, T0 + 381 * DAY, rules)).toBe(T0 + 565 * DAY); // the second order leaves
    expect(nextReviewAt(h, T0 + 565 * DAY, rules)).toBeUndefined();
  });

  it('reviewDay is the local day after the instant (Asia/Shanghai)', () => {
    expect(reviewDay(sh(2025, 3, 10, 23, 30), TZ)).toBe('2025-03-11');
    expect(reviewDay(sh(2025, 3, 10, 0, 10), TZ)).toBe('2025-03-11');
    expect(reviewDay(sh(2025, 12, 31, 12), TZ)).toBe('2026-01-01');
  });
});

describe('derive() keeps tier, lifecycle, RFM and the review entry current', () => {
  type Indexed = ReturnType<typeof createStoredMember> & { gsi1pk?: string; gsi1sk?: string };

  it('upgrades at once, never downgrades on a write; lifecycle and RFM follow the clock', () => {
    const m = createStoredMember('M-derive-1', T0, 'buyer', 'youzan') as Indexed;
    derive(m, T0, TZ, DEFAULT_MEMBER_RULES);
    expect({ tier: m.tier, lifecycle: m.lifecycle, rfm: m.rfm, gsi1pk: m.gsi1pk }).toEqual({ tier: 'normal', lifecycle: 'prospect', rfm: undefined, gsi1pk: undefined });

    m.history.orders.push({ key: 'youzan:1:a', paidAt: T0, paidFen: 100_000, platform: 'youzan' });
    derive(m, T0, TZ, DEFAULT_MEMBER_RULES);
    expect({ tier: m.tier, lifecycle: m.lifecycle, rfm: m.rfm }).toEqual({ tier: 'silver', lifecycle: 'new', rfm: { r: 5, f: 1, m: 3 } });
    const shard = bucketOf('M-derive-1', REVIEW_SHARDS);
    // Next change: R falls 30 days + 1 ms later (2025-04-09 12:00 local) → reviewed on 2025-04-10.
    expect(m.gsi1pk).toBe(`REVIEW#2025-04-10#${shard}`);
    expect(m.gsi1sk).toBe('M-derive-1');

    m.history.orders.push({ key: 'youzan:1:b', paidAt: T0 + DAY, paidFen: 400_000, platform: 'youzan' });
    derive(m, T0 + DAY, TZ, DEFAULT_MEMBER_RULES);
    expect(m.tier).toBe('gold');
    expect(m.lifecycle).toBe('repeat');

    // 400 days later the window is empty, but a write does not downgrade: it files the member
    // for the next nightly review (2026-04-14 12:00 → 04-15), which owes the downgrade.
    derive(m, T0 + 400 * DAY, TZ, DEFAULT_MEMBER_RULES);
    expect({ tier: m.tier, lifecycle: m.lifecycle, rfm: m.rfm }).toEqual({ tier: 'gold', lifecycle: 'lapsed', rfm: { r: 1, f: 2, m: 4 } });
    expect(m.gsi1pk).toBe(`REVIEW#2026-04-15#${shard}`);
    // Once the tier matches what the window earns, nothing is left to review.
    m.tier = 'normal';
    derive(m, T0 + 400 * DAY, TZ, DEFAULT_MEMBER_RULES);
    expect(m.gsi1pk).toBeUndefined();
    expect(m.gsi1sk).toBeUndefined();
  });

  it('the review entry moves forward with each write and disappears when nothing is left', () => {
    const m = createStoredMember('M-derive-2', T0, 'buyer', 'youzan') as Indexed;
    m.history.orders.push({ key: 'youzan:1:c', paidAt: T0, paidFen: 10_000, platform: 'youzan' });
    const shard = bucketOf('M-derive-2', REVIEW_SHARDS);
    derive(m, T0 + 100 * DAY, TZ, DEFAULT_MEMBER_RULES); // at_risk, next: lapsed at T0+180d+1 (2025-09-06 local) → 09-07
    expect(m.lifecycle).toBe('at_risk');
    expect(m.gsi1pk).toBe(`REVIEW#2025-09-07#${shard}`);
    derive(m, T0 + 300 * DAY, TZ, DEFAULT_MEMBER_RULES); // next: window exit at T0+365d (2026-03-10) → 03-11
    expect(m.gsi1pk).toBe(`REVIEW#2026-03-11#${shard}`);
    derive(m, T0 + 365 * DAY, TZ, DEFAULT_MEMBER_RULES);
    expect(m.gsi1pk).toBeUndefined();
  });
});
