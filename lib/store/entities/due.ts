/**
 * Due work: a member's scheduled nudge (repurchase ladder step, lapse alert, birthday).
 *
 *   MEMBER#<memberId> | DUE#<kind>#<key>    gsi1 (while pending): DUE#<local day>#<shard> | <dueAt, padded>#<memberId>
 *
 * One row per kind and key (a reschedule replaces it); the nudge sweep marks it done in the
 * transaction that plans its message, which takes it out of the index.
 *
 * Shards: a day's index is DUE_SHARDS partitions (shard = bucketOf(memberId)), like the review
 * index: under 双11 (833 paid orders a second, each filing its repurchase reminders under one
 * day) one partition would take ≈ 1,667 WCU/s, over DynamoDB's 1,000 per partition; eight take
 * ≈ 208 each (bench/README.md, "scale"). The sweep reads every shard of a day, and the day's
 * unsharded partition `DUE#<local day>` that rows filed before the sharding still sit in.
 */
import { ForeignKeyError, pad, splitKey, unpad, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryIndex } from '../item-ops.ts';
import { localDay } from '../../time.ts';
import { bucketOf } from '../../ids.ts';
import { memberPartition, parseMemberPartition } from './member.ts';

const SK_PREFIX = 'DUE';
const INDEX_PREFIX = 'DUE';

/** What the data layer needs of a due row; the schedule's row type extends it. */
export interface DueItem {
  memberId: string;
  kind: string;
  key: string;
  dueAt: number;
}

export const dueKey = (memberId: string, kind: string, key: string): Key => ({ pk: memberPartition(memberId), sk: `${SK_PREFIX}#${kind}#${key}` });

export function parseDueKey(k: Key): { memberId: string; kind: string; key: string } {
  const [kind, key] = splitKey(k.sk, SK_PREFIX, 2) as [string, string];
  return { memberId: parseMemberPartition(k.pk), kind, key };
}

/** Index partitions per local day. */
export const DUE_SHARDS = 8;

/** `DUE#<local day>#<shard>`; without a shard, the unsharded partition of rows filed before the sharding. */
export const duePartition = (localDay: string, shard?: number): string => (shard === undefined ? `${INDEX_PREFIX}#${localDay}` : `${INDEX_PREFIX}#${localDay}#${shard}`);
export const dueShardOf = (memberId: string): number => bucketOf(memberId, DUE_SHARDS);
export const dueIndex = (localDay: string, dueAt: number, memberId: string) => ({
  gsi1pk: duePartition(localDay, dueShardOf(memberId)),
  gsi1sk: `${pad(dueAt)}#${memberId}`,
});

/** `<dueAt, padded>#<memberId>` → {dueAt, memberId}. */
export function parseDueIndexSk(gsi1sk: string): { dueAt: number; memberId: string } {
  const at = gsi1sk.indexOf('#');
  const field = at < 0 ? gsi1sk : gsi1sk.slice(0, at);
  const memberId = at < 0 ? '' : gsi1sk.slice(at + 1);
  if (!memberId) throw new ForeignKeyError(gsi1sk, 'due index');
  return { dueAt: unpad(field, gsi1sk, 'due index'), memberId };
}

export const dues = {
  /** Schedules (or reschedules) a row; `tag` names it in the transaction. */
  write(tx: Tx, tag: string, row: DueItem, tz: string): void {
    tx.put(tag, dueKey(row.memberId, row.kind, row.key), { ...row, ...dueIndex(localDay(row.dueAt, tz), row.dueAt, row.memberId) });
  },

  /** Done: out of the index, with its outcome; fails (tag `due`) if another sweep took it or it moved. */
  markDone(tx: Tx, row: DueItem, outcome: string, now: number): void {
    tx.update(
      'due',
      dueKey(row.memberId, row.kind, row.key),
      { update: 'SET doneAt = :t, outcome = :o REMOVE gsi1pk, gsi1sk', values: { ':t': now, ':o': outcome } },
      { expr: 'attribute_exists(gsi1pk) AND dueAt = :d', values: { ':d': row.dueAt } },
    );
  },

  /**
   * Pending rows of a local day due at or before `upTo`, page by page: every shard in turn
   * (oldest first within a shard), then the day's unsharded partition (rows filed before the
   * sharding).
   */
  async *listDue<T extends DueItem>(store: Store, day: string, upTo: number): AsyncGenerator<T> {
    const skAtMost = `${pad(upTo)}#~`;
    for (let shard = 0; shard < DUE_SHARDS; shard++) yield* queryIndex<T>(store, { pk: duePartition(day, shard), skAtMost });
    yield* queryIndex<T>(store, { pk: duePartition(day), skAtMost });
  },
};
