/**
 * The transactional outbox. Rules plan messages inside the event's transaction (an outbox row
 * per message, keyed by its idempotency key); after the commit the rows are sent to SQS and
 * marked enqueued. A row left pending (SQS failed after the commit, the process died) is
 * drained by the event's redelivery (its dedupe marker lists the rows) or by the outbox sweep.
 * The sender dedupes on the same key, so a row enqueued twice is still sent once.
 */
import type { Tx } from '../store/tx.ts';
import { outbox, OUTBOX_SHARDS } from '../store/entities/outbox.ts';
import { sendOutboxRow } from '../store/sqs.ts';
import { sqs } from '../store/client.ts';
import { stableId } from '../ids.ts';
import { TransientError } from '../errors.ts';
import type { ApplyDeps, OutboxDrainer } from '../port.ts';
import type { PlannedMessage } from '../events/messages.ts';

export type { Destination, MessageClass, OutboxRow, PlannedMessage } from '../events/messages.ts';
export { OUTBOX_SHARDS } from '../store/entities/outbox.ts';

export const messageIdOf = (m: Pick<PlannedMessage, 'memberId' | 'ruleId' | 'step'>) => stableId(m.memberId, m.ruleId, m.step);

/** Adds outbox rows to the transaction; returns their message ids. */
export function planOutboxRows(tx: Tx, messages: PlannedMessage[], now: number): string[] {
  const ids: string[] = [];
  for (const m of messages) {
    const messageId = messageIdOf(m);
    if (ids.includes(messageId)) continue;
    ids.push(messageId);
    outbox.plan(tx, { ...m, messageId, createdAt: now });
  }
  return ids;
}

export type { OutboxDrainer } from '../port.ts';

const sqsDrainer: OutboxDrainer = (row, queueUrl) => sendOutboxRow(sqs(), row, queueUrl);

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
    const row = await outbox.claim(deps, messageId, now, DRAIN_LEASE_MS);
    if (!row) continue; // enqueued, or another drainer holds it
    const queueUrl = row.destination === 'staff' ? deps.cfg.STAFF_QUEUE_URL : deps.cfg.ENGAGEMENT_QUEUE_URL;
    if (!queueUrl) continue;
    try {
      await (deps.drainer ?? sqsDrainer)(row, queueUrl);
    } catch (err) {
      failure = err;
      await outbox.releaseClaim(deps, messageId);
      continue;
    }
    await outbox.markEnqueued(deps, messageId, deps.now());
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
    const ids = await outbox.pendingIds(deps, shard, cutoff, opts.limit ?? 500);
    try {
      drained += await drainOutbox(ids, deps);
    } catch {
      failed++;
    }
  }
  return { drained, failed };
}
