/**
 * The transactional outbox. Rules plan messages inside the event's transaction (an outbox row
 * per message, keyed by its idempotency key); after the commit the rows are sent to SQS and
 * marked enqueued. A row left pending (SQS failed after the commit, the process died) is
 * drained by the event's redelivery (its dedupe marker lists the rows) or by the outbox sweep.
 * The sender dedupes on the same key, so a row enqueued twice is still sent once.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Tx } from '../store/tx.ts';
import { keys, GSI1, pad } from '../store/keys.ts';
import { sqs } from '../store/client.ts';
import { isConditionFailed } from '../store/errors.ts';
import { bucketOf, stableId } from '../ids.ts';
import { TransientError } from '../errors.ts';
import type { ApplyDeps } from '../apply/index.ts';

export type MessageClass = 'transactional' | 'marketing';
export type Destination = 'member' | 'staff';

export interface PlannedMessage {
  memberId: string;
  ruleId: string;
  /** Distinguishes several messages of one rule for one member (ladder step, order id, lot). */
  step: string;
  class: MessageClass;
  destination: Destination;
  /** What the sender renders: template variables, text, coupon, etc. */
  payload: Record<string, unknown>;
  /** WeChat addressing for member messages. */
  appId?: string;
  openid?: string;
  /** When the triggering event happened (the interaction window is measured from it). */
  triggeredAt: number;
}

export interface OutboxRow extends PlannedMessage {
  messageId: string;
  createdAt: number;
  enqueuedAt?: number;
}

export const OUTBOX_SHARDS = 4;

export const messageIdOf = (m: Pick<PlannedMessage, 'memberId' | 'ruleId' | 'step'>) => stableId(m.memberId, m.ruleId, m.step);

/** Adds outbox rows to the transaction; returns their message ids. */
export function planOutboxRows(tx: Tx, messages: PlannedMessage[], now: number): string[] {
  const ids: string[] = [];
  for (const m of messages) {
    const messageId = messageIdOf(m);
    if (ids.includes(messageId)) continue;
    ids.push(messageId);
    const row: Record<string, unknown> = { ...m, messageId, createdAt: now };
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
    const idx = keys.outboxPendingIndex(bucketOf(messageId, OUTBOX_SHARDS), now);
    names['#gp'] = 'gsi1pk';
    names['#gs'] = 'gsi1sk';
    values[':gp'] = idx.gsi1pk;
    values[':gs'] = idx.gsi1sk;
    // A row already enqueued keeps `enqueuedAt`; re-planning it only re-flags it for the sweep,
    // and the sender's own dedupe keeps it to one send.
    sets.push('#gp = if_not_exists(#gp, :gp)', '#gs = if_not_exists(#gs, :gs)');
    tx.update(`outbox:${messageId}`, keys.outbox(messageId), { update: `SET ${sets.join(', ')}`, names, values });
  }
  return ids;
}

export type OutboxDrainer = (row: OutboxRow, queueUrl: string) => Promise<void>;

const sqsDrainer: OutboxDrainer = async (row, queueUrl) => {
  await sqs().send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(row),
      MessageAttributes: {
        class: { DataType: 'String', StringValue: row.class },
        ruleId: { DataType: 'String', StringValue: row.ruleId },
      },
    }),
  );
};

/** How long a drainer holds a row it is sending; after that another may take it over. */
export const DRAIN_LEASE_MS = 30_000;

/**
 * Sends pending rows to their queue and marks them enqueued. Each row is first claimed with a
 * conditional lease, so concurrent drainers (a redelivery racing the first delivery, the sweep)
 * enqueue it once. Throws TransientError if SQS fails (the row stays pending for the retry).
 */
export async function drainOutbox(messageIds: string[], deps: ApplyDeps): Promise<number> {
  let enqueued = 0;
  let failure: unknown;
  for (const messageId of messageIds) {
    const now = deps.now();
    let row: (OutboxRow & Record<string, unknown>) | undefined;
    try {
      const claimed = await deps.db.send(
        new UpdateCommand({
          TableName: deps.table,
          Key: keys.outbox(messageId),
          UpdateExpression: 'SET drainLeaseUntil = :until',
          ConditionExpression: 'attribute_exists(gsi1pk) AND (attribute_not_exists(drainLeaseUntil) OR drainLeaseUntil < :now)',
          ExpressionAttributeValues: { ':until': now + DRAIN_LEASE_MS, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      row = claimed.Attributes as (OutboxRow & Record<string, unknown>) | undefined;
    } catch (err) {
      if (isConditionFailed(err)) continue; // enqueued, or another drainer holds it
      throw err;
    }
    if (!row) continue;
    const queueUrl = row.destination === 'staff' ? deps.cfg.STAFF_QUEUE_URL : deps.cfg.ENGAGEMENT_QUEUE_URL;
    if (!queueUrl) continue;
    try {
      const { gsi1pk: _a, gsi1sk: _b, pk: _c, sk: _d, drainLeaseUntil: _e, ...body } = row;
      await (deps.drainer ?? sqsDrainer)(body as OutboxRow, queueUrl);
    } catch (err) {
      failure = err;
      await deps.db
        .send(new UpdateCommand({ TableName: deps.table, Key: keys.outbox(messageId), UpdateExpression: 'REMOVE drainLeaseUntil' }))
        .catch(() => undefined); // the lease expires anyway
      continue;
    }
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: keys.outbox(messageId),
        UpdateExpression: 'SET enqueuedAt = :t REMOVE gsi1pk, gsi1sk, drainLeaseUntil',
        ExpressionAttributeValues: { ':t': deps.now() },
      }),
    );
    enqueued++;
  }
  if (failure) throw new TransientError('message queue unavailable after commit; the outbox keeps the message');
  return enqueued;
}

/** The sweep: drains every pending row older than `minAgeMs` (bounded by `limit`). */
export async function sweepOutbox(deps: ApplyDeps, opts: { minAgeMs?: number; limit?: number } = {}): Promise<{ drained: number; failed: number }> {
  const cutoff = deps.now() - (opts.minAgeMs ?? 30_000);
  let drained = 0;
  let failed = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const res = await deps.db.send(
      new QueryCommand({
        TableName: deps.table,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk <= :c',
        ExpressionAttributeValues: { ':p': `OUTBOX#${shard}`, ':c': pad(cutoff) },
        Limit: opts.limit ?? 500,
      }),
    );
    const ids = (res.Items ?? []).map((i) => String(i.messageId));
    try {
      drained += await drainOutbox(ids, deps);
    } catch {
      failed++;
    }
  }
  return { drained, failed };
}
