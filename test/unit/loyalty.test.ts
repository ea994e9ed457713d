/**
 * The loyalty domain's pure parts and its planners on an in-memory port: referral tokens
 * (valid, forged, expired), the referral planner (credit, cap, self, unknown), the reversal of
 * referrals between merged records, redemption refusals, and coupons redeemed from an order's
 * promotion data. Expected values are written out by hand.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fakePort, testConfig } from '../support/fake-port.ts';
import { planReferral, readReferralToken, referralLink, referralsWithin, unwindMergedReferrals } from '../../lib/loyalty/referrals.ts';
import { refusalFor } from '../../lib/loyalty/rewards.ts';
import { redeemOnOrder } from '../../lib/loyalty/coupons.ts';
import { createStoredMember, type StoredMember } from '../../lib/members/record.ts';
import type { Coupon } from '../../lib/store/entities/coupon.ts';
import type { Reward } from '../../lib/store/entities/reward.ts';
import { normaliseYouzanPush } from '../../lib/sources/youzan/normalise.ts';

const T = Date.UTC(2026, 5, 15, 4, 0, 0); // 2026-06-15 12:00 Asia/Shanghai
const DAY = 86_400_000;
const cfg = testConfig({ HUB_SESSION_SECRET: 'a-session-secret-of-at-least-32-characters!', HUB_REFERRAL_POINTS: 100, HUB_REFERRAL_MONTHLY_CAP: 2, HUB_REFERRAL_TOKEN_TTL_DAYS: 30 });

function member(id: string, o: Partial<StoredMember> = {}): StoredMember {
  const m = createStoredMember(id, T - 10 * DAY, 'member');
  return Object.assign(m, o);
}

describe('referral tokens', () => {
  it('a link carries a token that reads back to its member until it expires 30 days on', () => {
    const { token, expiresAt, link } = referralLink(cfg, 'MEMBER_A', T);
    expect(expiresAt).toBe(T + 30 * DAY);
    expect(link).toBe(`${cfg.HUB_MEMBER_CENTRE_URL}?ref=${token}`);
    expect(readReferralToken(cfg, token, T + 30 * DAY - 1000)).toEqual({ referrerId: 'MEMBER_A' });
    expect(readReferralToken(cfg, token, T + 30 * DAY)).toEqual({ rejected: 'expired' });
  });

  it('refuses a token signed otherwise, altered, or not a token at all, as forged', () => {
    const payload = Buffer.from(JSON.stringify({ r: 'MEMBER_A', exp: T / 1000 + 100 })).toString('base64url');
    const other = createHmac('sha256', 'another-secret-another-secret-another').update(`referral.${payload}`).digest('base64url');
    expect(readReferralToken(cfg, `${payload}.${other}`, T)).toEqual({ rejected: 'forged' });
    // A session-style MAC (no `referral.` purpose prefix) does not verify either.
    const sessionMac = createHmac('sha256', cfg.HUB_SESSION_SECRET!).update(payload).digest('base64url');
    expect(readReferralToken(cfg, `${payload}.${sessionMac}`, T)).toEqual({ rejected: 'forged' });
    const { token } = referralLink(cfg, 'MEMBER_A', T);
    const swapped = `${Buffer.from(JSON.stringify({ r: 'MEMBER_B', exp: T / 1000 + 100 })).toString('base64url')}.${token.split('.')[1]}`;
    expect(readReferralToken(cfg, swapped, T)).toEqual({ rejected: 'forged' });
    for (const junk of ['', 'abc', 'a.b', `${'x'.repeat(500)}.${'y'.repeat(43)}`]) expect(readReferralToken(cfg, junk, T)).toEqual({ rejected: 'forged' });
  });
});

describe('planReferral', () => {
  const claimOf = (id: string) => ({ referrerId: id });

  it('credits the referrer 100 points and records the referral; the third paid one in a month is capped', async () => {
    const referrer = member('A', { points: 0 });
    const p = fakePort({ now: T, cfg, reads: { member: async () => referrer as never } });
    await planReferral(p, member('B'), claimOf('A'), T);
    expect(referrer.points).toBe(100);
    expect(referrer.history.referrals).toEqual([{ at: T, memberId: 'B', points: 100 }]);
    expect(p.tags().filter((t) => !t.startsWith('counter:')).map((t) => t.replace(/^ledger:.*/, 'ledger'))).toEqual(['ledger', 'member', 'credit-delta', 'referral']);

    // Two paid referrals already this local month (one on the 1st, one today): the next is capped.
    const busy = member('A2', { points: 200 });
    busy.history.referrals = [
      { at: Date.UTC(2026, 4, 31, 16, 30), memberId: 'X1', points: 100 }, // 2026-06-01 00:30 local
      { at: T - 1000, memberId: 'X2', points: 100 },
    ];
    const q = fakePort({ now: T, cfg, reads: { member: async () => busy as never } });
    const referred = member('C');
    await planReferral(q, referred, claimOf('A2'), T);
    expect(busy.points).toBe(200);
    expect(busy.history.referrals!.map((r) => [r.memberId, r.points])).toEqual([['X1', 100], ['X2', 100], ['C', 0]]);
    expect(referred.referredBy).toBe('A2');
    // Last month's referrals do not count against this month's cap.
    const lastMonth = member('A3', { points: 200 });
    lastMonth.history.referrals = [
      { at: Date.UTC(2026, 4, 31, 15, 30), memberId: 'Y1', points: 100 }, // 2026-05-31 23:30 local
      { at: Date.UTC(2026, 4, 20), memberId: 'Y2', points: 100 },
    ];
    await planReferral(fakePort({ now: T, cfg, reads: { member: async () => lastMonth as never } }), member('D'), claimOf('A3'), T);
    expect(lastMonth.points).toBe(300);
  });

  it("ignores (records, credits nothing) the member's own link, a record merged with the referrer, an unknown referrer and a rejected token", async () => {
    const self = member('S');
    const p1 = fakePort({ now: T, cfg, reads: { member: async () => self as never } });
    await planReferral(p1, self, claimOf('S'), T);
    expect([self.points, p1.tags()]).toEqual([0, ['referral']]);
    const merged = member('M', { mergedFrom: ['OLD'] });
    const p2 = fakePort({ now: T, cfg, reads: { member: async () => merged as never } });
    await planReferral(p2, member('OLD'), claimOf('OLD'), T);
    expect([merged.points, p2.tags()]).toEqual([0, ['referral']]);
    const p3 = fakePort({ now: T, cfg });
    await planReferral(p3, member('N'), claimOf('GONE'), T);
    expect(p3.tags()).toEqual(['referral']);
    const p4 = fakePort({ now: T, cfg });
    await planReferral(p4, member('N2'), { rejected: 'expired' }, T);
    expect(p4.tags()).toEqual(['referral']);
  });
});

describe('referrals between merged records', () => {
  it('are found in both directions and reversed: points back out, the referral out of the history', async () => {
    const survivor = member('A', { points: 250, mergedFrom: ['B'] });
    survivor.history.referrals = [
      { at: T - DAY, memberId: 'B', points: 100 }, // A referred B; B is now A
      { at: T, memberId: 'C', points: 100 },
      { at: T, memberId: 'A', points: 50 }, // B (merged) referred A
    ];
    expect(referralsWithin(survivor).map((r) => r.memberId)).toEqual(['B', 'A']);
    const p = fakePort({ now: T, cfg });
    await unwindMergedReferrals(p, survivor);
    // 250 − 100 − 50 = 100; only C remains.
    expect(survivor.points).toBe(100);
    expect(survivor.history.referrals).toEqual([{ at: T, memberId: 'C', points: 100 }]);
    expect(p.tags().filter((t) => t.startsWith('ledger:'))).toHaveLength(2);
    const untouched = member('Z', { points: 100 });
    untouched.history.referrals = [{ at: T, memberId: 'Q', points: 100 }];
    const q = fakePort({ now: T, cfg });
    await unwindMergedReferrals(q, untouched);
    expect([untouched.points, q.tags()]).toEqual([100, []]);
  });
});

describe('redemption refusals', () => {
  const reward: Reward = { rewardId: 'R', name: 'mug', points: 100, stock: 3, redeemed: 0, kind: 'physical', perMemberLimit: 2, minTier: 'silver', availableFrom: T - DAY, availableUntil: T + DAY, createdAt: T - 2 * DAY };
  const ok = { tier: 'gold', spendable: 100, uses: 1 };
  it.each([
    ['redeemable', reward, ok, T, undefined],
    ['not yet available', reward, ok, T - DAY - 1, 'not_eligible'],
    ['expired (availableUntil is exclusive)', reward, ok, T + DAY, 'not_eligible'],
    ['below the tier', reward, { ...ok, tier: 'normal' }, T, 'not_eligible'],
    ['out of stock', { ...reward, stock: 0 }, ok, T, 'out_of_stock'],
    ['at the limit', reward, { ...ok, uses: 2 }, T, 'limit_reached'],
    ['one point short', reward, { ...ok, spendable: 99 }, T, 'insufficient_points'],
  ] as const)('%s', (_name, r, m, now, error) => {
    expect(refusalFor(r, m, now)?.error).toBe(error);
  });
});

describe('coupons on an order', () => {
  const coupon = (code: string, o: Partial<Coupon> = {}): Coupon => ({
    code, memberId: 'M', valueFen: 2000, thresholdFen: 0, validFrom: T - DAY, validUntil: T + DAY, source: 'reward', ref: 'r', issuer: 'hub', status: 'issued', issuedAt: T - DAY, ...o,
  });
  it('redeems the hub coupons the order names that are issued; counts its own earlier redemption; leaves the rest', async () => {
    const store: Record<string, Coupon> = {
      FRESHCODE0001: coupon('FRESHCODE0001'),
      MINEALREADY01: coupon('MINEALREADY01', { status: 'redeemed', redeemedBy: { kind: 'order', ref: 'youzan:1:E1' } }),
      ELSEWHERE0001: coupon('ELSEWHERE0001', { status: 'redeemed', redeemedBy: { kind: 'pos', ref: 'S:R' } }),
      REVOKED000001: coupon('REVOKED000001', { status: 'revoked' }),
    };
    const p = fakePort({ now: T, cfg, reads: { coupon: async (c) => store[c] } });
    const used = await redeemOnOrder(p, ['FRESHCODE0001', 'MINEALREADY01', 'ELSEWHERE0001', 'REVOKED000001', '2592102628', 'bad#code'], 'youzan:1:E1', T);
    expect(used).toEqual(['FRESHCODE0001', 'MINEALREADY01']);
    expect(p.tags()).toEqual(['coupon:FRESHCODE0001']);
  });

  it('reads the coupon numbers of a Youzan order from order_promotion.order[].coupon_id', () => {
    const msg = {
      full_order_info: { order_info: { tid: 'E1', status: 'WAIT_SELLER_SEND_GOODS', pay_time: '2026-06-15 12:00:00', update_time: '2026-06-15 12:00:00', order_tags: { is_payed: true } }, buyer_info: { yz_open_id: 'yz1' }, pay_info: { total_fee: '10.00', payment: '10.00' } },
      order_promotion: { order: [{ promotion_type: 'coupon', sub_promotion_type: 'card', coupon_id: '2592102628', discount_fee: '0.1' }, { promotion_type: 'meetReduce', discount_fee: '1.00' }, { coupon_id: 'HUBCODE00001' }, { coupon_id: '2592102628' }] },
    };
    const raw = JSON.stringify({ client_id: 'c', id: 'E1', kdt_id: 1, msg: encodeURIComponent(JSON.stringify(msg)), msg_id: 'm1', type: 'trade_TradePaid', version: 1 });
    expect(normaliseYouzanPush(raw).event).toMatchObject({ couponCodes: ['2592102628', 'HUBCODE00001'] });
    const none = JSON.stringify({ client_id: 'c', id: 'E1', kdt_id: 1, msg: encodeURIComponent(JSON.stringify({ full_order_info: msg.full_order_info })), msg_id: 'm2', type: 'trade_TradePaid', version: 1 });
    expect(normaliseYouzanPush(none).event).not.toHaveProperty('couponCodes');
  });
});
