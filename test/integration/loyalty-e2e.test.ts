/**
 * The member centre and the points mall end to end on the local runtime (HTTP gateway → the
 * members and admin functions → DynamoDB Local through the SDK): a member earns points on code
 * scans, redeems a coupon reward (FIFO from the lots, one transaction with the stock), uses the
 * coupon on a Youzan order (redeemed exactly once, duplicates included), redemptions refused
 * with nothing written, an admin reversal back into the original lots, a till redemption, and
 * 50 concurrent redemptions of the last item. Every expected number is computed by hand in
 * the comments; "points balance = ledger" is checked after every step.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hubConfig } from '../support/env.ts';
import { YOUZAN_ON_OFFICIAL_ACCOUNT, useTestHub } from '../support/hub.ts';
import { getItem, memberByOpenid, queryAll } from '../support/table.ts';
import { postCommerce, signedYouzan } from '../support/commerce-client.ts';
import { memberClient } from '../support/member-client.ts';
import { keys } from '../../lib/store/keys.ts';
import { localDay, startOfLocalDay } from '../../lib/time.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- table items and bodies are checked field by field
type Loose = any;

const hub = useTestHub({ queuePrefix: 'loy', functions: ['codes-scan', 'members', 'admin', 'youzan'], env: YOUZAN_ON_OFFICIAL_ACCOUNT });
const api = memberClient(() => hub.url);
const TZ = 'Asia/Shanghai';

const rows = (memberId: string, prefix: string) => queryAll<Loose>(hub.aws.table, keys.memberPartition(memberId), prefix);
const lotsOf = async (memberId: string) => (await rows(memberId, 'LOT#')).map((l) => l.remaining as number);
const ledgerSum = async (memberId: string) => (await rows(memberId, 'LEDGER#')).reduce((s, e) => s + Number(e.delta), 0);
const profile = (openid: string) => memberByOpenid<Loose>(hub.aws.table, openid);
const reward = (rewardId: string) => getItem<Loose>(hub.aws.table, { pk: `REWARD#${rewardId}`, sk: '#' });
const coupon = (code: string) => getItem<Loose>(hub.aws.table, { pk: `COUPON#${code}`, sk: '#' });

/** The profile's balance equals the sum of its ledger, and is what GET /me answers. */
async function balanceIsLedger(openid: string, token: string, expected: number) {
  const m = await profile(openid);
  expect(m.points).toBe(expected);
  expect(await ledgerSum(m.memberId)).toBe(expected);
  expect((await api.member(token, 'GET', '/me')).body.points).toBe(expected);
}

let codeCursor = 0;
/** Codes far enough apart that no member scans a run of close serials (the scan abuse limits). */
function nextCode(codes: string[]): string {
  const c = codes[codeCursor]!;
  codeCursor += 6;
  return c;
}

const cnTime = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

/** A signed Youzan TradePaid push of a paid order by the openid, with coupon numbers in its order_promotion. */
async function youzanPaid(o: { tid: string; fen: number; paidAt: number; openid: string; couponIds: string[]; type?: string; status?: string }) {
  const yuan = (o.fen / 100).toFixed(2);
  const msg = {
    full_order_info: {
      order_info: { tid: o.tid, status: o.status ?? 'WAIT_SELLER_SEND_GOODS', created: cnTime(o.paidAt - 60_000), pay_time: cnTime(o.paidAt), update_time: cnTime(o.paidAt), order_tags: { is_payed: true } },
      buyer_info: { outer_user_id: o.openid },
      pay_info: { total_fee: yuan, post_fee: '0.00', payment: yuan },
    },
    order_promotion: {
      order: o.couponIds.map((id) => ({ promotion_type: 'coupon', sub_promotion_type: 'thirdparty', promotion_type_id: 105, coupon_id: id, discount_fee: '20.00', promotion_title: '会员券' })),
    },
  };
  const type = o.type ?? 'trade_TradePaid';
  const raw = JSON.stringify({
    client_id: hubConfig().YOUZAN_CLIENT_ID,
    id: o.tid,
    kdt_id: 12345678,
    kdt_name: 'loyalty shop',
    root_kdt_id: 12345678,
    mode: 1,
    msg: encodeURIComponent(JSON.stringify(msg)),
    msg_id: `msg-${randomBytes(6).toString('hex')}`,
    sendCount: 1,
    sign: 'informational',
    status: '',
    test: false,
    type,
    version: Math.floor(o.paidAt / 1000),
  });
  const res = await postCommerce(hub.url, signedYouzan(raw, type), 'application/json');
  expect(res.status, res.text).toBe(200);
  return raw;
}

/** End of the 12th month after the local month of `at`: 00:00 local on the first day after it, minus 1 ms. */
function expiryOf(at: number): number {
  const [y, m] = localDay(at, TZ).split('-').map(Number) as [number, number];
  // month m (1-based) + 12 → the first day of month m + 13, i.e. (y + 1)-(m + 1)-01.
  const nextY = m === 12 ? y + 2 : y + 1;
  const nextM = m === 12 ? 1 : m + 1;
  return startOfLocalDay(`${nextY}-${String(nextM).padStart(2, '0')}-01`, TZ) - 1;
}

describe('points mall and coupons', () => {
  it('earn on scans, redeem a coupon FIFO, use it on a Youzan order exactly once; refusals write nothing; a reversal restores the lots', async () => {
    const codes = await api.batch({ sku: 'SKU-LOY', name: 'Loyalty tea', points: 60, channel: 'loy_batch', count: 400 });
    const openid = 'loy_member_a';
    for (let i = 0; i < 3; i++) {
      const r = await api.scan(openid, nextCode(codes));
      expect(r.body, r.text).toMatchObject({ result: 'redeemed', points: 60 });
    }
    const token = await api.session(openid);
    const memberId = String((await profile(openid)).memberId);
    // Three lots of 60.
    expect(await lotsOf(memberId)).toEqual([60, 60, 60]);
    await balanceIsLedger(openid, token, 180);
    const me = (await api.member(token, 'GET', '/me')).body;
    const firstLot = (await rows(memberId, 'LOT#'))[0];
    expect(me).toEqual({
      memberId,
      status: 'fan',
      tier: 'normal',
      // No paid order yet: silver (¥1,000 = 100,000 fen) is 100,000 fen away.
      tierProgress: { gmvFen: 0, next: 'silver', nextThresholdFen: 100_000, remainingFen: 100_000 },
      points: 180,
      // The three lots were earned within the same local month: all 180 expire together.
      nextExpiry: { at: expiryOf(Number(firstLot.earnedAt)), points: 180 },
      lifecycle: 'prospect',
    });

    // Admin rewards.
    const couponReward = await api.admin('POST', '/rewards', { name: '满100减20', points: 100, stock: 5, kind: 'coupon', perMemberLimit: 2, couponValueFen: 2000, couponThresholdFen: 10_000, validDays: 30 });
    expect(couponReward.status, couponReward.text).toBe(201);
    const R1 = String(couponReward.body.rewardId);
    const goldOnly = (await api.admin('POST', '/rewards', { name: 'Gold mug', points: 10, stock: 3, kind: 'physical', minTier: 'gold' })).body.rewardId;
    const expired = (await api.admin('POST', '/rewards', { name: 'Old tote', points: 10, stock: 3, kind: 'physical', availableFrom: 1_000, availableUntil: Date.now() - 1_000 })).body.rewardId;
    const none = (await api.admin('POST', '/rewards', { name: 'Sold out', points: 10, stock: 0, kind: 'virtual' })).body.rewardId;
    expect((await api.admin('POST', '/rewards', { name: 'bad', points: 10, stock: 1, kind: 'coupon', validDays: 3 })).status).toBe(400);
    expect((await api.admin('GET', '/rewards')).body.rewards.map((r: Loose) => r.name)).toEqual(['满100减20', 'Gold mug', 'Old tote', 'Sold out']);
    // As this member sees them (180 points, normal tier).
    expect((await api.member(token, 'GET', '/me/rewards')).body.rewards.map((r: Loose) => [r.name, r.redeemable, r.reason])).toEqual([
      ['满100减20', true, undefined],
      ['Gold mug', false, 'not_eligible'],
      ['Old tote', false, 'not_eligible'],
      ['Sold out', false, 'out_of_stock'],
    ]);

    // Redeem R1 with key k1: 100 points FIFO from [60, 60, 60] → [0, 20, 60]; balance 80.
    const k1 = await api.member(token, 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k1-0001' });
    expect(k1.status, k1.text).toBe(201);
    expect(k1.body).toMatchObject({ rewardId: R1, kind: 'coupon', spent: 100, points: 80, status: 'done', coupon: { valueFen: 2000, thresholdFen: 10_000, source: 'reward', status: 'issued' } });
    const C1 = String(k1.body.coupon.code);
    expect(C1).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
    expect(k1.body.coupon.validUntil - k1.body.coupon.validFrom).toBe(30 * 86_400_000);
    expect(await lotsOf(memberId)).toEqual([0, 20, 60]);
    await balanceIsLedger(openid, token, 80);
    expect(await reward(R1)).toMatchObject({ stock: 4, redeemed: 1 });

    // The same key again: the same answer, nothing more written. The same key for another reward: 409.
    const before = (await rows(memberId, '')).length;
    const replay = await api.member(token, 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k1-0001' });
    expect([replay.status, replay.body]).toEqual([201, k1.body]);
    const clash = await api.member(token, 'POST', '/me/redemptions', { rewardId: none, idempotencyKey: 'key-k1-0001' });
    expect([clash.status, clash.body.error]).toEqual([409, 'idempotency_conflict']);
    // Refusals: 80 < 100; below the reward's tier; expired; no stock; unknown reward; bad body.
    const refused = [
      [{ rewardId: R1, idempotencyKey: 'key-k2-0002' }, 409, 'insufficient_points'],
      [{ rewardId: goldOnly, idempotencyKey: 'key-gold-01' }, 403, 'not_eligible'],
      [{ rewardId: expired, idempotencyKey: 'key-old-001' }, 403, 'not_eligible'],
      [{ rewardId: none, idempotencyKey: 'key-none-01' }, 409, 'out_of_stock'],
      [{ rewardId: 'nosuchreward', idempotencyKey: 'key-nosuch1' }, 404, 'not_found'],
      [{ rewardId: R1, idempotencyKey: 'short' }, 400, 'bad_request'],
    ] as const;
    for (const [body, status, error] of refused) {
      const r = await api.member(token, 'POST', '/me/redemptions', body);
      expect([r.status, r.body.error], JSON.stringify(body)).toEqual([status, error]);
      expect(typeof r.body.message).toBe('string');
    }
    expect((await rows(memberId, '')).length).toBe(before);
    expect(await reward(R1)).toMatchObject({ stock: 4, redeemed: 1 });
    expect((await api.member('not-a-token', 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k2-0002' })).status).toBe(401);

    // The coupon used on a Youzan order of ¥150.00: redeemed by the order; the order earns 150 points (a lot of 150).
    // Paid after the scans (the next whole second: Youzan times have seconds), so its lot is the newest.
    const paidAt = (Math.floor(Date.now() / 1000) + 1) * 1000;
    const tid = `E2026LOY${randomBytes(4).toString('hex')}`;
    await youzanPaid({ tid, fen: 15_000, paidAt, openid, couponIds: [C1, '2592102628'] });
    const orderRef = `youzan:12345678:${tid}`;
    const used = await coupon(C1);
    expect(used).toMatchObject({ status: 'redeemed', redeemedBy: { kind: 'order', ref: orderRef } });
    // Delivered again (a re-push with a new msg_id) and a later status of the same order: still once.
    await youzanPaid({ tid, fen: 15_000, paidAt, openid, couponIds: [C1] });
    await youzanPaid({ tid, fen: 15_000, paidAt, openid, couponIds: [C1], type: 'trade_TradeSuccess', status: 'TRADE_SUCCESS' });
    expect(await coupon(C1)).toEqual(used);
    expect(await getItem<Loose>(hub.aws.table, { pk: `ORDER#youzan#12345678#${tid}`, sk: '#' })).toMatchObject({ coupons: [C1], pointsEarned: 150 });
    expect(await lotsOf(memberId)).toEqual([0, 20, 60, 150]);
    await balanceIsLedger(openid, token, 230);
    // A till cannot use it again.
    const till = await api.admin('POST', `/coupons/${C1}/redeem`, { store: 'SH001', receipt: 'R-1' });
    expect([till.status, till.body.error]).toEqual([409, 'coupon_used']);
    expect((await api.member(token, 'GET', '/me/coupons')).body.coupons).toEqual([expect.objectContaining({ code: C1, status: 'redeemed' })]);
    expect((await api.member(token, 'GET', '/me/orders')).body.orders).toEqual([
      { platform: 'youzan', orderId: tid, status: 'completed', totalFen: 15_000, paidFen: 15_000, paidAt, refundedFen: 0, pointsEarned: 150, lines: [] },
    ]);

    // k2 now: 100 FIFO from [0, 20, 60, 150] → [0, 0, 0, 130]; balance 130.
    const k2 = await api.member(token, 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k2-0002' });
    expect([k2.status, k2.body.points]).toEqual([201, 130]);
    expect(await lotsOf(memberId)).toEqual([0, 0, 0, 130]);
    await balanceIsLedger(openid, token, 130);
    // Two of R1 held: the per-member limit (2) refuses a third.
    const k3 = await api.member(token, 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k3-0003' });
    expect([k3.status, k3.body.error]).toEqual([409, 'limit_reached']);

    // The admin reverses k2: 20, 60 and 20 go back into the lots they came from → [0, 20, 60, 150]; balance 230.
    const rev = await api.admin('POST', `/redemptions/${String(k2.body.redemptionId)}/reverse`);
    expect(rev.status, rev.text).toBe(200);
    expect(rev.body).toMatchObject({ status: 'reversed', coupon: { code: k2.body.coupon.code, status: 'revoked' } });
    expect(await lotsOf(memberId)).toEqual([0, 20, 60, 150]);
    const expiries = (await rows(memberId, 'LOT#')).map((l) => l.expiresAtMs);
    expect(expiries.slice(1, 3)).toEqual([expiryOf(Number((await rows(memberId, 'LOT#'))[1].earnedAt)), expiryOf(Number((await rows(memberId, 'LOT#'))[2].earnedAt))]);
    await balanceIsLedger(openid, token, 230);
    expect(await reward(R1)).toMatchObject({ stock: 4, redeemed: 1 });
    // Reversing again answers the reversal; the revoked coupon cannot be used at a till.
    expect((await api.admin('POST', `/redemptions/${String(k2.body.redemptionId)}/reverse`)).body).toEqual(rev.body);
    expect((await api.admin('POST', `/coupons/${String(k2.body.coupon.code)}/redeem`, { store: 'SH001', receipt: 'R-2' })).body.error).toBe('coupon_revoked');
    // A coupon already used cannot be reversed.
    expect((await api.admin('POST', `/redemptions/${String(k1.body.redemptionId)}/reverse`)).body.error).toBe('coupon_used');
    await balanceIsLedger(openid, token, 230);

    // k3 now fits the limit again; its coupon is used at a till: the threshold (10,000 fen) first.
    const k3b = await api.member(token, 'POST', '/me/redemptions', { rewardId: R1, idempotencyKey: 'key-k3-0003' });
    expect([k3b.status, k3b.body.points]).toEqual([201, 130]);
    const C3 = String(k3b.body.coupon.code);
    expect((await api.admin('POST', `/coupons/${C3}/redeem`, { store: 'SH001', receipt: 'R-3', amountFen: 9_999 })).body.error).toBe('below_threshold');
    const ok = await api.admin('POST', `/coupons/${C3}/redeem`, { store: 'SH001', receipt: 'R-3', amountFen: 12_000 });
    expect([ok.status, ok.body.status]).toEqual([200, 'redeemed']);
    expect((await api.admin('POST', `/coupons/${C3}/redeem`, { store: 'SH001', receipt: 'R-3', amountFen: 12_000 })).body).toEqual(ok.body);
    expect((await api.admin('POST', `/coupons/${C3}/redeem`, { store: 'SH002', receipt: 'R-9' })).body.error).toBe('coupon_used');
    expect((await api.admin('POST', '/coupons/NOSUCHCOUPON/redeem', { store: 'SH001', receipt: 'R-4' })).status).toBe(404);
    await balanceIsLedger(openid, token, 130);

    // The ledger, two a page, newest first by the time of each change (the order's +150 is dated
    // at its payment): −100 (k3), +100 (k2 reversed), −100 (k2), +150 (order), −100 (k1), +60 ×3.
    const seen: number[] = [];
    const ats: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.member(token, 'GET', `/me/points?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status, page.text).toBe(200);
      expect(page.body.balance).toBe(130);
      seen.push(...page.body.entries.map((e: Loose) => e.delta));
      ats.push(...page.body.entries.map((e: Loose) => e.at));
      cursor = page.body.next;
    } while (cursor);
    expect([...seen].sort((a, b) => a - b)).toEqual([-100, -100, -100, 60, 60, 60, 100, 150]);
    expect(ats).toEqual([...ats].sort((a, b) => b - a));
    expect(seen.slice(-4)).toEqual([-100, 60, 60, 60]);
  }, 120_000);

  it('50 concurrent redemptions of a reward with stock 1: exactly one succeeds, the others are refused out_of_stock and spend nothing', async () => {
    const codes = await api.batch({ sku: 'SKU-RUSH', name: 'Rush tea', points: 60, channel: 'loy_rush', count: 400 });
    const people = Array.from({ length: 50 }, (_, i) => `loy_rush_${i}`);
    for (const p of people) expect((await api.scan(p, nextCode(codes))).body).toMatchObject({ result: 'redeemed', points: 60 });
    const tokens = await Promise.all(people.map((p) => api.session(p)));
    const last = (await api.admin('POST', '/rewards', { name: 'Last one', points: 50, stock: 1, kind: 'physical' })).body.rewardId;
    const results = await Promise.all(tokens.map((t, i) => api.member(t, 'POST', '/me/redemptions', { rewardId: last, idempotencyKey: `rush-key-${i}` })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(49).fill(409)]);
    for (const r of results) if (r.status === 409) expect(r.body.error).toBe('out_of_stock');
    const winner = results.findIndex((r) => r.status === 201);
    expect(results[winner]!.body).toMatchObject({ spent: 50, points: 10, kind: 'physical', fulfilment: { status: 'pending' } });
    expect(await reward(last)).toMatchObject({ stock: 0, redeemed: 1 });
    // 60 − 50 = 10 for the winner, 60 for everyone else; each balance is its ledger.
    for (const [i, p] of people.entries()) {
      const m = await profile(p);
      const want = i === winner ? 10 : 60;
      expect([p, m.points, await ledgerSum(m.memberId)]).toEqual([p, want, want]);
      expect((await rows(m.memberId, 'REDEEM#')).length).toBe(i === winner ? 1 : 0);
    }
    // 150 requests to set up 50 members on a shared machine: a generous limit, no timing asserted.
  }, 180_000);
});
