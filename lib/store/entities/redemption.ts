/**
 * Points-mall redemptions and the per-member use count of each reward, both in the member's
 * partition (they are the member's data).
 *
 *   redemption   MEMBER#<memberId> | REDEEM#<idempotencyKey>    gsi1: REDEMPTION#<redemptionId> | <memberId>
 *   reward uses  MEMBER#<memberId> | REWARDUSE#<rewardId>       n: redemptions of the reward not reversed
 *
 * A redemption is created once per member and idempotency key (tag `redemption`), in the
 * transaction that spends the points, so a replayed request finds it and answers it again.
 * It keeps the lots it took from (`takes`), so a reversal puts the points back where they came
 * from. The reward-use row is raised under the reward's per-member limit (tag `reward-use`).
 */
import { splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, queryPage, stripKeys } from '../item-ops.ts';
import type { LotTake } from './lot.ts';
import { memberPartition, parseMemberPartition, queryMemberPartition } from './member.ts';

const SK_PREFIX = 'REDEEM';
const USE_PREFIX = 'REWARDUSE';
const ID_INDEX = 'REDEMPTION';

export const REDEMPTION_TAG = 'redemption';
export const REWARD_USE_TAG = 'reward-use';

export interface RedemptionRow {
  redemptionId: string;
  memberId: string;
  idempotencyKey: string;
  /** SHA-256 of the request's fields besides the key: the same key with another body is refused. */
  bodyHash: string;
  rewardId: string;
  rewardName: string;
  kind: string;
  points: number;
  /** Balance after the redemption. */
  balanceAfter: number;
  takes: LotTake[];
  couponCode?: string;
  /** Physical goods: the fulfilment record (`pending` until shipped outside the hub). */
  fulfilment?: { status: 'pending' | 'cancelled' };
  status: 'done' | 'reversed';
  at: number;
  reversedAt?: number;
}

export const redemptionKey = (memberId: string, idempotencyKey: string): Key => ({ pk: memberPartition(memberId), sk: `${SK_PREFIX}#${idempotencyKey}` });
export function parseRedemptionKey(k: Key): { memberId: string; idempotencyKey: string } {
  return { memberId: parseMemberPartition(k.pk), idempotencyKey: splitKey(k.sk, SK_PREFIX, 1)[0]! };
}
export const rewardUseKey = (memberId: string, rewardId: string): Key => ({ pk: memberPartition(memberId), sk: `${USE_PREFIX}#${rewardId}` });

export const redemptions = {
  create(tx: Tx, r: RedemptionRow): void {
    tx.create(REDEMPTION_TAG, redemptionKey(r.memberId, r.idempotencyKey), { ...r, gsi1pk: `${ID_INDEX}#${r.redemptionId}`, gsi1sk: r.memberId });
  },

  async get(store: Store, memberId: string, idempotencyKey: string): Promise<RedemptionRow | undefined> {
    const item = await getItem<Record<string, unknown>>(store, redemptionKey(memberId, idempotencyKey), { consistent: true });
    return item ? (stripKeys(item) as unknown as RedemptionRow) : undefined;
  },

  /** The redemption an id names (the id index, then a consistent read of the row). */
  async byId(store: Store, redemptionId: string): Promise<RedemptionRow | undefined> {
    const page = await queryPage<{ memberId?: unknown; idempotencyKey?: unknown }>(store, { index: true, pk: `${ID_INDEX}#${redemptionId}`, limit: 1 });
    const hit = page.items[0];
    if (!hit || typeof hit.memberId !== 'string' || typeof hit.idempotencyKey !== 'string') return undefined;
    return redemptions.get(store, hit.memberId, hit.idempotencyKey);
  },

  /** Marks it reversed, only while it is `done`. */
  markReversed(tx: Tx, r: RedemptionRow, at: number): void {
    tx.update(
      REDEMPTION_TAG,
      redemptionKey(r.memberId, r.idempotencyKey),
      {
        update: 'SET #s = :rev, reversedAt = :at' + (r.fulfilment ? ', fulfilment = :f' : ''),
        names: { '#s': 'status' },
        values: { ':rev': 'reversed', ':at': at, ...(r.fulfilment ? { ':f': { status: 'cancelled' } } : {}) },
      },
      { expr: '#s = :done', names: { '#s': 'status' }, values: { ':done': 'done' } },
    );
  },

  /** The member's redemptions (one page). */
  async listForMember(store: Store, memberId: string, limit: number): Promise<RedemptionRow[]> {
    return (await queryMemberPartition<Record<string, unknown>>(store, memberId, 'REDEEM#', { limit })).map((i) => stripKeys(i) as unknown as RedemptionRow);
  },

  /** How many of a reward the member holds (not reversed). */
  async uses(store: Store, memberId: string, rewardId: string): Promise<number> {
    const item = await getItem<{ n?: number }>(store, rewardUseKey(memberId, rewardId), { consistent: true });
    return item?.n ?? 0;
  },

  /** One more use, only below `limit` (absent: no limit). */
  addUse(tx: Tx, memberId: string, rewardId: string, limit: number | undefined): void {
    tx.update(
      REWARD_USE_TAG,
      rewardUseKey(memberId, rewardId),
      { update: 'SET rewardId = :r ADD n :one', values: { ':r': rewardId, ':one': 1 } },
      limit === undefined ? undefined : { expr: 'attribute_not_exists(n) OR n < :limit', values: { ':limit': limit } },
    );
  },

  removeUse(tx: Tx, memberId: string, rewardId: string): void {
    tx.update(REWARD_USE_TAG, rewardUseKey(memberId, rewardId), { update: 'ADD n :minus', values: { ':minus': -1 } }, { expr: 'n > :zero', values: { ':zero': 0 } });
  },
};
