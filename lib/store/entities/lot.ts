/**
 * Points lots: what one earn added, with what is left of it and when it expires.
 *
 *   MEMBER#<memberId> | LOT#<earnedAt, padded>#<lotId>    gsi1: LOTEXP#<local day of expiry>#<shard> | <memberId>
 *
 * Shards: a day's expiry index is LOTEXP_SHARDS partitions (shard = bucketOf(memberId)), like the
 * due-work index: under 双11 every paid order files a lot expiring on the same day a year later,
 * ≈ 875 WCU/s on one partition (88 % of DynamoDB's 1,000 per partition, bench/README.md "scale");
 * eight take ≈ 110 each. The reminder sweep reads every shard of a day, and the day's unsharded
 * partition `LOTEXP#<local day>` that lots written before the sharding still sit in.
 *
 * A new lot is an insert-if-absent update (`Tx.add` with set-if-missing attributes), so a
 * consume planned later in the same transaction can still lower its `remaining`; a stored lot
 * is taken from under a condition on the `remaining` it was read with.
 */
import { pad, splitKey, unpad, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryIndex, stripKeys } from '../item-ops.ts';
import { localDay } from '../../time.ts';
import { bucketOf } from '../../ids.ts';
import { memberPartition, parseMemberPartition, queryMemberPartition } from './member.ts';

const SK_PREFIX = 'LOT';
const EXPIRY_PREFIX = 'LOTEXP';

export interface Lot {
  pk: string;
  sk: string;
  lotId: string;
  memberId: string;
  earned: number;
  remaining: number;
  earnedAt: number;
  expiresAtMs: number;
  reason: string;
  ref: string;
}

/** Points taken from one stored lot (its key), as a reversal needs them. */
export interface LotTake {
  pk: string;
  sk: string;
  n: number;
}

export const lotKey = (memberId: string, earnedAt: number, lotId: string): Key => ({
  pk: memberPartition(memberId),
  sk: `${SK_PREFIX}#${pad(earnedAt)}#${lotId}`,
});

export function parseLotKey(k: Key): { memberId: string; earnedAt: number; lotId: string } {
  const [at, lotId] = splitKey(k.sk, SK_PREFIX, 2) as [string, string];
  return { memberId: parseMemberPartition(k.pk), earnedAt: unpad(at, k.sk, SK_PREFIX), lotId };
}

/** Expiry-index partitions per local day. */
export const LOTEXP_SHARDS = 8;

/** `LOTEXP#<local day>#<shard>`; without a shard, the unsharded partition of lots written before the sharding. */
export const lotExpiryPartition = (localDay: string, shard?: number): string =>
  shard === undefined ? `${EXPIRY_PREFIX}#${localDay}` : `${EXPIRY_PREFIX}#${localDay}#${shard}`;
export const lotExpiryShardOf = (memberId: string): number => bucketOf(memberId, LOTEXP_SHARDS);
export const lotExpiryIndex = (localDay: string, memberId: string) => ({ gsi1pk: lotExpiryPartition(localDay, lotExpiryShardOf(memberId)), gsi1sk: memberId });

/** Lots read per member partition (bounded). */
const OPEN_LOTS_LIMIT = 200;

export const lots = {
  /** Writes a lot not yet committed (insert-if-absent; a rewrite in the same transaction merges). */
  upsertNew(tx: Tx, lot: Lot, tz: string): void {
    const { pk, sk, ...attrs } = lot;
    tx.add({ pk, sk }, {}, { ...attrs, ...lotExpiryIndex(localDay(lot.expiresAtMs, tz), lot.memberId) });
  },

  /** Takes `n` points from a stored lot, under a condition on the `remaining` it was read with. */
  take(tx: Tx, lot: Lot, n: number): void {
    tx.update(
      `lot:${lot.lotId}`,
      { pk: lot.pk, sk: lot.sk },
      { update: 'SET remaining = :r', values: { ':r': lot.remaining - n } },
      { expr: 'remaining = :old', values: { ':old': lot.remaining } },
    );
  },

  /** Puts `n` points back into a stored lot (a reversed redemption): the lot keeps its expiry. */
  giveBack(tx: Tx, take: LotTake): void {
    tx.update(`lot:${take.sk}`, { pk: take.pk, sk: take.sk }, { update: 'ADD remaining :n', values: { ':n': take.n } }, { expr: 'attribute_exists(pk)' });
  },

  /** The lots of one member partition, consistent (at most 200: the first page). */
  inPartition(store: Store, memberId: string): Promise<Lot[]> {
    return queryMemberPartition<Lot>(store, memberId, 'LOT#', { consistent: true, limit: OPEN_LOTS_LIMIT });
  },

  /** The lots for the member view, keys stripped. */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    return (await queryMemberPartition(store, memberId, 'LOT#', { limit })).map(stripKeys);
  },

  /**
   * Lots expiring on a local day (the expiry index), page by page: every shard in turn, then the
   * day's unsharded partition (lots written before the sharding).
   */
  async *expiringOn(store: Store, localDay: string): AsyncGenerator<Record<string, unknown>> {
    for (let shard = 0; shard < LOTEXP_SHARDS; shard++) yield* queryIndex(store, { pk: lotExpiryPartition(localDay, shard) });
    yield* queryIndex(store, { pk: lotExpiryPartition(localDay) });
  },
};
