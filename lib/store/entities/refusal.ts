/**
 * Refusal rows: a refused request kept for review (scan limits, a phone bound to another WeChat
 * person, refunds above the amount paid), under `keys.refusal` (lib/store/keys.ts):
 *
 *   REFUSAL#<local day> | <at, padded>#<id>    TTL 180 days
 *
 * Written alone (outside any event transaction: the event itself was refused), or through
 * `Tx.create` by a planner that refuses inside its transaction.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../keys.ts';
import type { Store } from '../client.ts';

/** How long a refusal is kept for review. */
export const REFUSAL_TTL_DAYS = 180;

/** The TTL (epoch seconds) of a refusal recorded at `now`. */
export const refusalExpiresAt = (now: number): number => Math.floor(now / 1000) + REFUSAL_TTL_DAYS * 86_400;

export const refusals = {
  /** Writes (or, for the same day, time and id, rewrites) one refusal row. */
  async record(store: Store, at: { localDay: string; at: number; id: string }, attrs: Record<string, unknown>): Promise<void> {
    await store.db.send(new PutCommand({ TableName: store.table, Item: { ...keys.refusal(at.localDay, at.at, at.id), ...attrs } }));
  },
};
