/**
 * Refused requests kept for review: `REFUSAL#<local day>` | `<at>#<id>` (16-digit padded `at`),
 * `kind` scan (limited), registration (phone bound to another WeChat person) or refund (above
 * the amount paid), with the facts of the refusal; TTL HUB_REFUSAL_RETENTION_DAYS (default 180).
 */
import { dayTimedKeys } from './day-timed.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { PutCommand } from '@aws-sdk/lib-dynamodb';

const PREFIX = 'REFUSAL';
/** How long a refusal is kept by default, in days (HUB_REFUSAL_RETENTION_DAYS). */
export const REFUSAL_RETENTION_DAYS = 180;

/** `kind` and the facts of the refusal; `at` orders the row in its day. */
export interface Refusal {
  at: number;
  [fact: string]: unknown;
}

const KEYS = dayTimedKeys(PREFIX, 'refusal');
export const refusalPartition = KEYS.partition;
export const refusalKey = KEYS.build;
export const parseRefusalKey = KEYS.parse;

/** The refusal with its expiry (`now` in ms). */
const withTtl = (r: Refusal, now: number, days: number) => ({ ...r, expiresAt: Math.floor(now / 1000) + days * 86_400 });

export const refusals = {
  /** Records the refusal in `tx` (tag `refusal`), expiring `retentionDays` after `now`. */
  record(tx: Tx, localDay: string, id: string, r: Refusal, now: number, retentionDays = REFUSAL_RETENTION_DAYS): void {
    tx.create('refusal', refusalKey(localDay, r.at, id), withTtl(r, now, retentionDays));
  },

  /** Writes the refusal on its own (a redelivery rewrites the same row). */
  async put(s: Store, localDay: string, id: string, r: Refusal, now: number, retentionDays = REFUSAL_RETENTION_DAYS): Promise<void> {
    await s.db.send(new PutCommand({ TableName: s.table, Item: { ...refusalKey(localDay, r.at, id), ...withTtl(r, now, retentionDays) } }));
  },
};
