/**
 * Points-mall rewards: what a member may spend points on, with the stock left.
 *
 *   REWARD#<rewardId> | #    gsi1: REWARDS | <createdAt, padded>#<rewardId>
 *
 * Created once (tag `reward`). A redemption takes one from `stock` in its transaction under the
 * condition that one is left (tag `reward:<rewardId>`), so concurrent redemptions of the last
 * item can never oversell; a reversal puts it back.
 */
import { pad, parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, queryIndex, stripKeys } from '../item-ops.ts';

const PREFIX = 'REWARD';
const LIST_PARTITION = 'REWARDS';

export type RewardKind = 'coupon' | 'physical' | 'virtual';

export interface Reward {
  rewardId: string;
  name: string;
  /** The price in points. */
  points: number;
  /** Items left to redeem. */
  stock: number;
  /** Items redeemed (and not reversed). */
  redeemed: number;
  kind: RewardKind;
  perMemberLimit?: number;
  couponValueFen?: number;
  couponPercentOff?: number;
  couponThresholdFen?: number;
  /** Days a coupon it issues stays valid. */
  validDays?: number;
  /** Lowest tier that may redeem it. */
  minTier?: string;
  /** Epoch ms: redeemable from / until. */
  availableFrom?: number;
  availableUntil?: number;
  createdAt: number;
}

export const rewardKey = (rewardId: string): Key => ({ pk: `${PREFIX}#${rewardId}`, sk: ROOT });
export const parseRewardKey = (k: Key): string => parseRootKey(k, PREFIX);
export const rewardTag = (rewardId: string): string => `reward:${rewardId}`;

export const rewards = {
  create(tx: Tx, r: Reward): void {
    tx.create('reward', rewardKey(r.rewardId), { ...r, gsi1pk: LIST_PARTITION, gsi1sk: `${pad(r.createdAt)}#${r.rewardId}` });
  },

  async get(store: Store, rewardId: string): Promise<Reward | undefined> {
    const item = await getItem<Record<string, unknown>>(store, rewardKey(rewardId), { consistent: true });
    return item ? (stripKeys(item) as unknown as Reward) : undefined;
  },

  /** Every reward, oldest first (bounded by `max`). */
  async list(store: Store, max: number): Promise<Reward[]> {
    const out: Reward[] = [];
    for await (const item of queryIndex<Record<string, unknown>>(store, { pk: LIST_PARTITION, max })) out.push(stripKeys(item) as unknown as Reward);
    return out;
  },

  /** One item out of stock, only while one is left. */
  take(tx: Tx, rewardId: string): void {
    tx.update(
      rewardTag(rewardId),
      rewardKey(rewardId),
      { update: 'SET stock = stock - :one, redeemed = redeemed + :one', values: { ':one': 1 } },
      { expr: 'stock >= :one', values: { ':one': 1 } },
    );
  },

  /** One item back into stock (a reversed redemption). */
  putBack(tx: Tx, rewardId: string): void {
    tx.update(rewardTag(rewardId), rewardKey(rewardId), { update: 'SET stock = stock + :one, redeemed = redeemed - :one', values: { ':one': 1 } }, { expr: 'attribute_exists(pk)' });
  },
};
