/**
 * Points-mall redemptions:
 *   POST /me/redemptions {rewardId, idempotencyKey}  (member session)
 *        → 201 {redemptionId, rewardId, kind, spent, points (balance after), coupon?, fulfilment?, status, at}
 *   POST /redemptions/{id}/reverse                    (admin) → 200 the redemption, reversed
 *
 * One transaction spends the points first-in-first-out from the member's lots (ledger row,
 * balance on the profile under its version), takes one item of the reward's stock under the
 * condition that one is left, counts the member's use under the per-member limit, issues what
 * the reward is (a coupon; a pending fulfilment for physical goods) and records the redemption
 * under the member's idempotency key. Concurrent redemptions of the last item: one commits, the
 * others' stock condition fails, they read again and are refused `out_of_stock`.
 *
 * Refusals (nothing written): 409 `insufficient_points`, `out_of_stock`, `limit_reached`; 403
 * `not_eligible` (not yet available, expired, below the reward's tier); 404 an unknown reward;
 * 409 `idempotency_conflict` for a key already used with another reward. The same key with the
 * same reward answers the first redemption again (201, the same body).
 *
 * A reversal puts the points back into the lots they were taken from (their original expiry),
 * the item back into stock, the member's use back, withdraws an unused coupon (a used one → 409
 * `coupon_used`) and cancels a pending fulfilment; reversing twice answers the reversal again.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import { stableId } from '../ids.ts';
import { issues } from '../members/caller.ts';
import { consume, restore, type PointsPort } from '../members/points.ts';
import { readMember, writeMember, type StoredMember } from '../members/record.ts';
import { coupons, type Coupon } from '../store/entities/coupon.ts';
import { lots } from '../store/entities/lot.ts';
import { redemptions, type RedemptionRow } from '../store/entities/redemption.ts';
import { rewards } from '../store/entities/reward.ts';
import { isPathId } from '../store/keys.ts';
import type { Tx } from '../store/tx.ts';
import { couponView, hubIssuer } from './coupons.ts';
import { refusalFor, spendable } from './rewards.ts';
import { transact, type LoyaltyDeps } from './transact.ts';

export interface RedeemDeps extends LoyaltyDeps {
  cfg: HubConfig;
}

const RedemptionRequest = z.strictObject({
  rewardId: z.string().min(1).max(64),
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, '8-64 letters, digits, _ or -'),
});

const bodyHash = (rewardId: string) => createHash('sha256').update(JSON.stringify({ rewardId })).digest('hex');

/** What points need, over the store, for one attempt. */
function pointsPort(deps: RedeemDeps, tx: Tx, now: number): PointsPort {
  return { tx, now, tz: deps.cfg.HUB_TIMEZONE, reads: { lots: (memberId) => lots.inPartition(deps.store, memberId) } };
}

function saveMember(deps: RedeemDeps, tx: Tx, m: StoredMember, now: number): void {
  writeMember(tx, m, false, { tz: deps.cfg.HUB_TIMEZONE, shards: deps.cfg.HUB_COUNTER_SHARDS, now, rules: deps.cfg.memberRules });
}

export function redemptionView(r: RedemptionRow, coupon?: Coupon) {
  return {
    redemptionId: r.redemptionId,
    rewardId: r.rewardId,
    rewardName: r.rewardName,
    kind: r.kind,
    spent: r.points,
    points: r.balanceAfter,
    ...(coupon ? { coupon: couponView(coupon) } : {}),
    ...(r.fulfilment ? { fulfilment: r.fulfilment } : {}),
    status: r.status,
    at: r.at,
    ...(r.reversedAt !== undefined ? { reversedAt: r.reversedAt } : {}),
  };
}

async function withCoupon(deps: LoyaltyDeps, r: RedemptionRow) {
  return redemptionView(r, r.couponCode ? await coupons.get(deps.store, r.couponCode) : undefined);
}

export async function redeem(deps: RedeemDeps, memberId: string, body: unknown) {
  const parsed = RedemptionRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid redemption', issues(parsed.error));
  const { rewardId, idempotencyKey } = parsed.data;
  const hash = bodyHash(rewardId);
  return transact(deps, async (tx, now) => {
    const m = await readMember(deps.store, memberId);
    if (!m) throw new NotFoundError('no member record for this WeChat user yet');
    const existing = await redemptions.get(deps.store, m.memberId, idempotencyKey);
    if (existing) {
      if (existing.bodyHash !== hash) throw new ConflictError('this idempotencyKey was already used for another redemption', undefined, 'idempotency_conflict');
      return withCoupon(deps, existing);
    }
    const reward = await rewards.get(deps.store, rewardId);
    if (!reward) throw new NotFoundError(`no reward ${rewardId}`);
    const port = pointsPort(deps, tx, now);
    const { points } = await spendable(deps.store, m, now);
    const uses = await redemptions.uses(deps.store, m.memberId, rewardId);
    const refusal = refusalFor(reward, { tier: m.tier, spendable: points, uses }, now);
    if (refusal) throw refusal.error === 'not_eligible' ? new ForbiddenError(refusal.message, undefined, refusal.error) : new ConflictError(refusal.message, undefined, refusal.error);

    const redemptionId = stableId('redemption', m.memberId, idempotencyKey);
    const takes = await consume(port, m, reward.points, 'redemption', redemptionId, now);
    saveMember(deps, tx, m, now);
    rewards.take(tx, rewardId);
    redemptions.addUse(tx, m.memberId, rewardId, reward.perMemberLimit);
    const coupon =
      reward.kind === 'coupon'
        ? hubIssuer.issue(
            tx,
            m.memberId,
            {
              source: 'reward',
              ref: redemptionId,
              ...(reward.couponValueFen !== undefined ? { valueFen: reward.couponValueFen } : {}),
              ...(reward.couponPercentOff !== undefined ? { percentOff: reward.couponPercentOff } : {}),
              ...(reward.couponThresholdFen !== undefined ? { thresholdFen: reward.couponThresholdFen } : {}),
              validDays: reward.validDays ?? 30,
            },
            now,
          )
        : undefined;
    const row: RedemptionRow = {
      redemptionId,
      memberId: m.memberId,
      idempotencyKey,
      bodyHash: hash,
      rewardId,
      rewardName: reward.name,
      kind: reward.kind,
      points: reward.points,
      balanceAfter: m.points,
      takes,
      ...(coupon ? { couponCode: coupon.code } : {}),
      ...(reward.kind === 'physical' ? { fulfilment: { status: 'pending' as const } } : {}),
      status: 'done',
      at: now,
    };
    redemptions.create(tx, row);
    return redemptionView(row, coupon);
  });
}

export async function reverseRedemption(deps: RedeemDeps, redemptionId: string) {
  if (!isPathId(redemptionId)) throw new NotFoundError('no such redemption');
  const found = await redemptions.byId(deps.store, redemptionId);
  if (!found) throw new NotFoundError(`no redemption ${redemptionId}`);
  return transact(deps, async (tx, now) => {
    const r = await redemptions.get(deps.store, found.memberId, found.idempotencyKey);
    if (!r) throw new NotFoundError(`no redemption ${redemptionId}`);
    if (r.status === 'reversed') return withCoupon(deps, r);
    const m = await readMember(deps.store, r.memberId);
    if (!m) throw new NotFoundError(`no member ${r.memberId}`);
    const coupon = r.couponCode ? await coupons.get(deps.store, r.couponCode) : undefined;
    if (coupon?.status === 'redeemed') throw new ConflictError('the coupon of this redemption was already used', undefined, 'coupon_used');
    if (coupon?.status === 'issued') coupons.revoke(tx, coupon.code, now);
    restore(pointsPort(deps, tx, now), m, r.takes, 'redemption_reversal', redemptionId, now);
    saveMember(deps, tx, m, now);
    rewards.putBack(tx, r.rewardId);
    redemptions.removeUse(tx, r.memberId, r.rewardId);
    redemptions.markReversed(tx, r, now);
    const reversed: RedemptionRow = { ...r, status: 'reversed', reversedAt: now, ...(r.fulfilment ? { fulfilment: { status: 'cancelled' } } : {}) };
    return redemptionView(reversed, coupon && coupon.status === 'issued' ? { ...coupon, status: 'revoked', revokedAt: now } : coupon);
  });
}
