/**
 * Outbox rows: `OUTBOX#<messageId> | #`, one per planned message. While a row waits to be
 * enqueued it carries the pending index `gsi1pk = OUTBOX#<shard>`, `gsi1sk = <createdAt>` (the
 * sweep's bounded lookup); marking it enqueued removes the index attributes (sparse index).
 * The index attributes are written only here.
 */
import { UpdateCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { OutboxRow } from '../../events/messages.ts';
import { bucketOf } from '../../ids.ts';
import type { Store } from '../client.ts';
import { isConditionFailed } from '../errors.ts';
import { GSI1, pad, parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Tx } from '../tx.ts';

/** Pending-index partitions: 32 keep a viral QR's welcome messages (5,000 index writes a second and as many removals) under 1,000 WCU/s per partition (bench scale). */
export const OUTBOX_SHARDS = 32;
const PREFIX = 'OUTBOX';

export const outboxKey = (messageId: string): Key => ({ pk: `${PREFIX}#${messageId}`, sk: ROOT });

/** The message id of an outbox key; throws on any other key. */
export function parseOutboxKey(k: Key): { messageId: string } {
  return { messageId: parseRootKey(k, PREFIX, 'outbox') };
}

export const outboxPendingPartition = (shard: number): string => `${PREFIX}#${shard}`;
export const outboxPendingIndex = (shard: number, createdAt: number) => ({ gsi1pk: outboxPendingPartition(shard), gsi1sk: pad(createdAt) });
export const outboxShardOf = (messageId: string): number => bucketOf(messageId, OUTBOX_SHARDS);

/** An outbox row as stored, without the key, index and lease attributes. */
export function outboxRowFromItem(item: Record<string, unknown>): OutboxRow {
  const { gsi1pk: _a, gsi1sk: _b, pk: _c, sk: _d, drainLeaseUntil: _e, ...row } = item;
  return row as unknown as OutboxRow;
}

/**
 * The update that writes a row's fields (each only if missing) and its pending index at `at`:
 * `if_not_exists` keeps an existing index entry (planning again only re-flags a row), `overwrite`
 * moves it.
 */
function pendingUpdate(row: OutboxRow, at: number, index: 'if_not_exists' | 'overwrite'): { update: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  let i = 0;
  for (const [k, v] of Object.entries(row)) {
    if (v === undefined) continue;
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    sets.push(`#f${i} = if_not_exists(#f${i}, :f${i})`);
    i++;
  }
  const idx = outboxPendingIndex(outboxShardOf(row.messageId), at);
  names['#gp'] = 'gsi1pk';
  names['#gs'] = 'gsi1sk';
  values[':gp'] = idx.gsi1pk;
  values[':gs'] = idx.gsi1sk;
  if (index === 'if_not_exists') sets.push('#gp = if_not_exists(#gp, :gp)', '#gs = if_not_exists(#gs, :gs)');
  else sets.push('#gp = :gp', '#gs = :gs');
  return { update: `SET ${sets.join(', ')}`, names, values };
}

export const outbox = {
  /**
   * Adds the row to the transaction (tag `outbox:<messageId>`). Every field is set only if
   * missing: a row already enqueued keeps `enqueuedAt`; planning it again only re-flags it for
   * the sweep, and the sender's own dedupe keeps it to one send.
   */
  plan(tx: Tx, row: OutboxRow): void {
    const u = pendingUpdate(row, row.createdAt, 'if_not_exists');
    tx.update(`outbox:${row.messageId}`, outboxKey(row.messageId), u);
  },

  /**
   * Puts the row back into the pending index at `at` (epoch ms), so the outbox sweep enqueues it
   * again once `at` has passed: a deferral that outlasts what an SQS delay should hold (a quota
   * reset tomorrow) costs no receives of the queue. Writes the row's fields if it is missing.
   */
  async reschedule(s: Store, row: OutboxRow, at: number): Promise<void> {
    const u = pendingUpdate(row, at, 'overwrite');
    await s.db.send(
      new UpdateCommand({
        TableName: s.table,
        Key: outboxKey(row.messageId),
        UpdateExpression: `${u.update} REMOVE drainLeaseUntil`,
        ExpressionAttributeNames: u.names,
        ExpressionAttributeValues: u.values,
      }),
    );
  },

  /** Whether a row exists for the message (planned, pending or enqueued). */
  async exists(s: Store, messageId: string): Promise<boolean> {
    const res = await s.db.send(new GetCommand({ TableName: s.table, Key: outboxKey(messageId) }));
    return res.Item !== undefined;
  },

  /**
   * Takes a pending row for `leaseMs`: undefined when it is enqueued already, missing, or
   * another drainer holds an unexpired lease.
   */
  async claim(s: Store, messageId: string, now: number, leaseMs: number): Promise<OutboxRow | undefined> {
    try {
      const res = await s.db.send(
        new UpdateCommand({
          TableName: s.table,
          Key: outboxKey(messageId),
          UpdateExpression: 'SET drainLeaseUntil = :until',
          ConditionExpression: 'attribute_exists(gsi1pk) AND (attribute_not_exists(drainLeaseUntil) OR drainLeaseUntil < :now)',
          ExpressionAttributeValues: { ':until': now + leaseMs, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes ? outboxRowFromItem(res.Attributes) : undefined;
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  },

  /** Gives a claimed row back (best effort: the lease expires anyway). */
  async releaseClaim(s: Store, messageId: string): Promise<void> {
    await s.db.send(new UpdateCommand({ TableName: s.table, Key: outboxKey(messageId), UpdateExpression: 'REMOVE drainLeaseUntil' })).catch(() => undefined);
  },

  /** Records the row as enqueued and takes it out of the pending index. */
  async markEnqueued(s: Store, messageId: string, at: number): Promise<void> {
    await s.db.send(
      new UpdateCommand({
        TableName: s.table,
        Key: outboxKey(messageId),
        UpdateExpression: 'SET enqueuedAt = :t REMOVE gsi1pk, gsi1sk, drainLeaseUntil',
        ExpressionAttributeValues: { ':t': at },
      }),
    );
  },

  /** Message ids of rows of one shard pending since `cutoff` or earlier (one query, at most `limit`). */
  async pendingIds(s: Store, shard: number, cutoff: number, limit: number): Promise<string[]> {
    const res = await s.db.send(
      new QueryCommand({
        TableName: s.table,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk <= :c',
        ExpressionAttributeValues: { ':p': outboxPendingPartition(shard), ':c': pad(cutoff) },
        Limit: limit,
      }),
    );
    return (res.Items ?? []).map((i) => String(i.messageId));
  },
};
