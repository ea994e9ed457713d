/**
 * Credit deltas: `DELTA#<shard>` | `<at>#<memberId>#<version>`, one item per member write that moved
 * the member's attribution credits (lib/members/record.ts writeMember), created in the event's
 * own transaction. It carries the credit difference (`c`: credit key → metric → amount, the
 * keys of lib/attribution/credits.ts) and when it was written (`at`).
 *
 * The event's transaction therefore touches no shared item: the counters are moved later by the
 * fold (lib/attribution/fold.ts), which adds a batch of deltas to the counter and rollup items
 * and deletes those deltas in ONE transaction, each delete conditional on the delta still being
 * there, so a delta is counted exactly once however often a fold runs or is retried.
 *
 * Unique by construction: a member's version rises by one in every write, under a condition on
 * the version read (entities/member.ts), so `<memberId>#<new version>` is written once; `<at>`
 * (the commit attempt's clock, zero-padded) orders a shard oldest first. The shard, a hash of
 * `<memberId>#<version>`, spreads one hot channel's deltas over DELTA_SHARDS partitions.
 */
import { ForeignKeyError, pad, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryPage } from '../item-ops.ts';
import { bucketOf } from '../../ids.ts';

const PREFIX = 'DELTA';
/** Partitions the deltas are spread over; the fold sweeps every one (lib/attribution/fold.ts). */
export const DELTA_SHARDS = 32;

/** Credit key → metric → amount (lib/attribution/credits.ts Credits). */
export type CreditDiff = Record<string, Record<string, number>>;

export interface CreditDelta {
  shard: number;
  /** The sort key: `<at>#<memberId>#<version>`. */
  id: string;
  credits: CreditDiff;
  /** When the event's transaction wrote it (epoch ms). */
  at: number;
  /**
   * Partial folds so far (0 when none): a delta with more credit rows than one fold transaction
   * holds is folded a part at a time, each part rewriting the rest under this checkpoint.
   */
  part: number;
}

export const deltaPartition = (shard: number): string => `${PREFIX}#${shard}`;
export const deltaId = (at: number, memberId: string, version: number): string => `${pad(at)}#${memberId}#${pad(version)}`;
/** The shard of a member's write: the same for every attempt of it, whatever its clock. */
export const deltaShardOf = (memberId: string, version: number): number => bucketOf(`${memberId}#${version}`, DELTA_SHARDS);
export const deltaKey = (shard: number, id: string): Key => ({ pk: deltaPartition(shard), sk: id });

/** `DELTA#<shard>` → the shard; ForeignKeyError on any other key. */
export function parseDeltaPartition(pk: string): number {
  const [field] = splitKey(pk, PREFIX, 1, 'credit delta') as [string];
  const shard = Number(field);
  if (!/^\d+$/.test(field) || shard >= DELTA_SHARDS) throw new ForeignKeyError(pk, 'credit delta');
  return shard;
}

export function deltaFromItem(item: Record<string, unknown>): CreditDelta {
  return {
    shard: parseDeltaPartition(String(item.pk)),
    id: String(item.sk),
    credits: (item.c ?? {}) as CreditDiff,
    at: typeof item.at === 'number' ? item.at : 0,
    part: typeof item.p === 'number' ? item.p : 0,
  };
}

/** The transaction tag of a delta's delete in a fold (a failed condition: another fold took it). */
export const deltaTag = (d: Pick<CreditDelta, 'shard' | 'id'>): string => `delta:${d.shard}:${d.id}`;

/** The delta exists with the checkpoint it was read at. */
const asRead = (d: Pick<CreditDelta, 'part'>) =>
  d.part === 0 ? { expr: 'attribute_exists(pk) AND attribute_not_exists(p)' } : { expr: 'p = :p', values: { ':p': d.part } };

export const creditDeltas = {
  /** Writes the member's credit difference as a new delta item in the event's transaction. */
  create(tx: Tx, memberId: string, version: number, credits: CreditDiff, at: number): void {
    tx.create('credit-delta', deltaKey(deltaShardOf(memberId, version), deltaId(at, memberId, version)), { c: credits, at });
  },

  /** Deletes a delta in a fold's transaction, only if it is still there as read (else the fold is retried without it). */
  consume(tx: Tx, d: Pick<CreditDelta, 'shard' | 'id' | 'part'>): void {
    tx.delete(deltaTag(d), deltaKey(d.shard, d.id), asRead(d));
  },

  /** Replaces a delta by the credits a partial fold left (its checkpoint one higher), only if it is still there as read. */
  shrink(tx: Tx, d: CreditDelta, rest: CreditDiff): void {
    tx.put(deltaTag(d), deltaKey(d.shard, d.id), { c: rest, at: d.at, p: d.part + 1 }, asRead(d));
  },

  /**
   * Replaces a delta by the same credits under another sort key (an erasure takes the member id
   * out of it: lib/privacy/erase.ts), in the same shard, only if it is still there as read; the
   * fold counts the new item exactly as it would have counted the old one.
   */
  rekey(tx: Tx, d: CreditDelta, newId: string): void {
    tx.delete(deltaTag(d), deltaKey(d.shard, d.id), asRead(d));
    tx.create(`rekeyed:${d.shard}:${newId}`, deltaKey(d.shard, newId), { c: d.credits, at: d.at, ...(d.part > 0 ? { p: d.part } : {}) });
  },

  /** The oldest deltas of one shard (one page, at most `limit`; consistent: a fold sees every committed one). */
  async page(s: Store, shard: number, limit: number): Promise<CreditDelta[]> {
    const page = await queryPage(s, { pk: deltaPartition(shard), limit, consistent: true });
    return page.items.map(deltaFromItem);
  },
};
