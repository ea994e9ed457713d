/**
 * The points mall's rewards, managed by admins:
 *   POST /rewards  {name, points, stock, kind: coupon | physical | virtual, perMemberLimit?,
 *                   couponValueFen? | couponPercentOff?, couponThresholdFen?, validDays?,
 *                   minTier?, availableFrom?, availableUntil?}  → 201 the reward
 *   GET  /rewards  → {rewards}: every reward (admin)
 * and as a member sees them (GET /me/rewards): each reward with whether this member may redeem
 * it now and, if not, why (the same reasons a redemption would be refused with).
 */
import * as z from 'zod';
import { BadRequestError } from '../errors.ts';
import { newId } from '../ids.ts';
import { TIERS, tierRank } from '../members/lifecycle.ts';
import { issues } from '../members/caller.ts';
import { rewards, type Reward } from '../store/entities/reward.ts';
import { lots, type Lot } from '../store/entities/lot.ts';
import { openLots } from '../members/points.ts';
import type { StoredMember } from '../members/record.ts';
import type { Store } from '../store/client.ts';
import { transact, type LoyaltyDeps } from './transact.ts';

/** Rewards listed at most (one mall). */
export const MAX_REWARDS = 500;

const fen = z.number().int().positive().max(100_000_000);

export const RewardInput = z
  .strictObject({
    name: z.string().trim().min(1).max(64),
    points: z.number().int().positive().max(10_000_000),
    stock: z.number().int().nonnegative().max(10_000_000),
    kind: z.enum(['coupon', 'physical', 'virtual']),
    perMemberLimit: z.number().int().positive().max(1000).optional(),
    couponValueFen: fen.optional(),
    couponPercentOff: z.number().int().min(1).max(99).optional(),
    couponThresholdFen: z.number().int().nonnegative().max(100_000_000).optional(),
    validDays: z.number().int().min(1).max(366).optional(),
    minTier: z.enum(TIERS).optional(),
    availableFrom: z.number().int().nonnegative().optional(),
    availableUntil: z.number().int().nonnegative().optional(),
  })
  .superRefine((r, ctx) => {
    const coupon = r.couponValueFen !== undefined || r.couponPercentOff !== undefined || r.couponThresholdFen !== undefined;
    if (r.kind === 'coupon' && (r.couponValueFen === undefined) === (r.couponPercentOff === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['couponValueFen'], message: 'a coupon reward has exactly one of couponValueFen or couponPercentOff' });
    }
    if (r.kind !== 'coupon' && coupon) ctx.addIssue({ code: 'custom', path: ['kind'], message: 'coupon fields belong to kind "coupon"' });
    if (r.kind === 'coupon' && r.validDays === undefined) ctx.addIssue({ code: 'custom', path: ['validDays'], message: 'a coupon reward says how many days its coupon is valid' });
    if (r.availableFrom !== undefined && r.availableUntil !== undefined && r.availableFrom >= r.availableUntil) {
      ctx.addIssue({ code: 'custom', path: ['availableUntil'], message: 'availableUntil must be after availableFrom' });
    }
  });

export async function createReward(deps: LoyaltyDeps, body: unknown): Promise<Reward> {
  const parsed = RewardInput.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid reward', issues(parsed.error));
  const rewardId = newId(deps.now());
  return transact(deps, async (tx, now) => {
    const reward: Reward = { ...parsed.data, rewardId, redeemed: 0, createdAt: now };
    rewards.create(tx, reward);
    return reward;
  });
}

export const listRewards = (deps: LoyaltyDeps) => rewards.list(deps.store, MAX_REWARDS);

/**
 * The member's open lots (unexpired, with points left; own and merged-in records) and what can
 * be spent: the balance, never more than the open lots hold.
 */
export async function spendable(store: Store, m: StoredMember, now: number): Promise<{ open: Lot[]; points: number }> {
  const open = await openLots({ now, reads: { lots: (id) => lots.inPartition(store, id) } }, m);
  return { open, points: Math.min(m.points, open.reduce((s, l) => s + l.remaining, 0)) };
}

/** Why a member may not redeem a reward now (the refusal a redemption answers), or undefined. */
export type Refusal = { error: 'not_eligible' | 'out_of_stock' | 'limit_reached' | 'insufficient_points'; message: string };

export function refusalFor(r: Reward, m: { tier: string; spendable: number; uses: number }, now: number): Refusal | undefined {
  if (r.availableFrom !== undefined && now < r.availableFrom) return { error: 'not_eligible', message: 'this reward is not available yet' };
  if (r.availableUntil !== undefined && now >= r.availableUntil) return { error: 'not_eligible', message: 'this reward has expired' };
  if (r.minTier !== undefined && tierRank(m.tier) < tierRank(r.minTier)) return { error: 'not_eligible', message: `this reward is for ${r.minTier} members and above` };
  if (r.stock < 1) return { error: 'out_of_stock', message: 'this reward is out of stock' };
  if (r.perMemberLimit !== undefined && m.uses >= r.perMemberLimit) return { error: 'limit_reached', message: `at most ${r.perMemberLimit} per member` };
  if (m.spendable < r.points) return { error: 'insufficient_points', message: `this reward costs ${r.points} points; ${m.spendable} can be spent` };
  return undefined;
}

/** A reward as members see it. */
export function rewardView(r: Reward) {
  return {
    rewardId: r.rewardId,
    name: r.name,
    points: r.points,
    kind: r.kind,
    inStock: r.stock > 0,
    ...(r.perMemberLimit !== undefined ? { perMemberLimit: r.perMemberLimit } : {}),
    ...(r.couponValueFen !== undefined ? { couponValueFen: r.couponValueFen } : {}),
    ...(r.couponPercentOff !== undefined ? { couponPercentOff: r.couponPercentOff } : {}),
    ...(r.couponThresholdFen !== undefined ? { couponThresholdFen: r.couponThresholdFen } : {}),
    ...(r.validDays !== undefined ? { validDays: r.validDays } : {}),
    ...(r.minTier !== undefined ? { minTier: r.minTier } : {}),
    ...(r.availableUntil !== undefined ? { availableUntil: r.availableUntil } : {}),
  };
}
