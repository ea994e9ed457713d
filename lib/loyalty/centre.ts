/**
 * The member centre's reads, for the member a session names (lib/members/session.ts), and only
 * that member's data — no other person's record, identity or id:
 *
 *   GET /me           {memberId, status, tier, tierProgress, points, nextExpiry, lifecycle, phone?}
 *   GET /me/points    ?limit=1..100&cursor=<next>  → {balance, entries: [{delta, balanceAfter, reason, at}], next?}
 *   GET /me/orders    → {orders: [{platform, orderId, status, totalFen, paidFen, paidAt?, refundedFen, pointsEarned, lines}]}
 *   GET /me/coupons   → {coupons: [{code, valueFen | percentOff, thresholdFen, validFrom, validUntil, source, status, …}]}
 *   GET /me/rewards   → {rewards: [{…reward, redeemable, reason?}]}
 *
 * Tier progress: the rolling paid GMV of the tier window (HUB_LIFECYCLE_DAYS tierWindow) and
 * what the next tier needs (HUB_TIER_THRESHOLDS_FEN); the next expiry: the earliest expiry of
 * the member's open lots and the points expiring then.
 */
import type { HubConfig } from '../config/index.ts';
import { BadRequestError } from '../errors.ts';
import { rollingGmvFen, TIERS, tierRank } from '../members/lifecycle.ts';
import type { StoredMember } from '../members/record.ts';
import { coupons } from '../store/entities/coupon.ts';
import { ledger } from '../store/entities/ledger.ts';
import { orders } from '../store/entities/order.ts';
import { redemptions } from '../store/entities/redemption.ts';
import type { Store } from '../store/client.ts';
import { couponView } from './coupons.ts';
import { listRewards, refusalFor, rewardView, spendable } from './rewards.ts';

export interface CentreDeps {
  cfg: HubConfig;
  store: Store;
  now: number;
}

/** Items of a kind listed per record (one page). */
const LIST_LIMIT = 100;

/** Every record id the member's data lives under (its own and those merged into it). */
const recordIds = (m: StoredMember) => [m.memberId, ...(m.mergedFrom ?? [])];

export async function meView(m: StoredMember, deps: CentreDeps) {
  const rules = deps.cfg.memberRules;
  const gmvFen = rollingGmvFen(m.history, deps.now, rules.days.tierWindow);
  const next = TIERS.find((t) => tierRank(t) > tierRank(m.tier));
  const { open } = await spendable(deps.store, m, deps.now);
  const firstExpiry = open.length ? Math.min(...open.map((l) => l.expiresAtMs)) : undefined;
  return {
    memberId: m.memberId,
    status: m.status,
    tier: m.tier,
    tierProgress: next
      ? { gmvFen, next, nextThresholdFen: rules.tiers[next], remainingFen: Math.max(0, rules.tiers[next] - gmvFen) }
      : { gmvFen, next: null },
    points: m.points,
    nextExpiry: firstExpiry === undefined ? null : { at: firstExpiry, points: open.filter((l) => l.expiresAtMs === firstExpiry).reduce((s, l) => s + l.remaining, 0) },
    lifecycle: m.lifecycle,
    ...(m.phoneMasked ? { phone: m.phoneMasked } : {}),
  };
}

export async function mePoints(m: StoredMember, deps: CentreDeps, q: Record<string, string | undefined>) {
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new BadRequestError('limit must be 1..100');
  const page = await ledger.page(deps.store, m.memberId, limit, q.cursor);
  return {
    balance: m.points,
    entries: page.rows.map((e) => ({ delta: e.delta, balanceAfter: e.balanceAfter, reason: e.reason, at: e.at })),
    ...(page.next ? { next: page.next } : {}),
  };
}

export async function meOrders(m: StoredMember, deps: CentreDeps) {
  const rows = (await Promise.all(recordIds(m).map((id) => orders.listForMember(deps.store, id, LIST_LIMIT)))).flat();
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  return {
    orders: rows
      .sort((a, b) => num(b.firstSeenAt) - num(a.firstSeenAt))
      .map((o) => ({
        platform: o.platform,
        orderId: o.orderId,
        status: o.status,
        totalFen: o.totalFen,
        paidFen: o.paidFen,
        ...(o.paidAt !== undefined ? { paidAt: o.paidAt } : {}),
        refundedFen: o.refundedFen,
        pointsEarned: num(o.pointsEarned) - num(o.pointsClawed),
        lines: Array.isArray(o.lines) ? (o.lines as { sku?: string; title?: string; quantity?: number }[]).map((l) => ({ sku: l.sku, title: l.title, quantity: l.quantity })) : [],
      })),
  };
}

export async function meCoupons(m: StoredMember, deps: CentreDeps) {
  const rows = (await Promise.all(recordIds(m).map((id) => coupons.listForMember(deps.store, id, LIST_LIMIT)))).flat();
  return { coupons: rows.sort((a, b) => b.issuedAt - a.issuedAt).map(couponView) };
}

export async function meRewards(m: StoredMember, deps: CentreDeps) {
  const all = await listRewards({ store: deps.store, now: () => deps.now });
  const { points } = await spendable(deps.store, m, deps.now);
  const out = [];
  for (const r of all) {
    const uses = r.perMemberLimit === undefined ? 0 : await redemptions.uses(deps.store, m.memberId, r.rewardId);
    const refusal = refusalFor(r, { tier: m.tier, spendable: points, uses }, deps.now);
    out.push({ ...rewardView(r), redeemable: !refusal, ...(refusal ? { reason: refusal.error } : {}) });
  }
  return { rewards: out };
}
