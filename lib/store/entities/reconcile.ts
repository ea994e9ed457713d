/**
 * Reconciliation cursors: how far a platform's catch-up poll (lib/sources/commerce/reconcile.ts)
 * has read, per platform and shop.
 *
 *   RECON#<platform>#<shopId> | #   cursorAt (epoch ms: every change modified before it has been
 *                                   read and applied), version, updatedAt, last run's counts
 *
 * Writes are conditional on the version read, so two runs that overlap (a manual run during a
 * scheduled one) never move a cursor past what one of them did not apply.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Store } from '../client.ts';
import { parseRootKey, ROOT, type Key } from '../keys.ts';
import { isConditionFailed } from '../errors.ts';

const PREFIX = 'RECON';

export const reconcileCursorKey = (platform: string, shopId: string): Key => ({ pk: `${PREFIX}#${platform}#${shopId}`, sk: ROOT });

export function parseReconcileCursorKey(k: Key): { platform: string; shopId: string } {
  const rest = parseRootKey(k, PREFIX, 'reconcile cursor');
  const at = rest.indexOf('#');
  return { platform: rest.slice(0, at), shopId: rest.slice(at + 1) };
}

const StoredCursor = z.object({
  cursorAt: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
});

export interface ReconcileCursor {
  cursorAt: number;
  version: number;
}

export const reconcileCursors = {
  /** The cursor, or undefined before the first run (consistent read). */
  async get(s: Store, platform: string, shopId: string): Promise<ReconcileCursor | undefined> {
    const res = await s.db.send(new GetCommand({ TableName: s.table, Key: reconcileCursorKey(platform, shopId), ConsistentRead: true }));
    if (!res.Item) return undefined;
    const parsed = StoredCursor.safeParse(res.Item);
    if (!parsed.success) throw new Error(`reconcile cursor ${platform}#${shopId} is not a cursor row`);
    return parsed.data;
  },

  /**
   * Moves the cursor to `cursorAt` if it is still at `prevVersion` (0: not yet written); false
   * when another run moved it first (the caller leaves it to that run).
   */
  async advance(s: Store, platform: string, shopId: string, cursorAt: number, prevVersion: number, now: number, counts: Record<string, number>): Promise<boolean> {
    try {
      await s.db.send(
        new PutCommand({
          TableName: s.table,
          Item: { ...reconcileCursorKey(platform, shopId), platform, shopId, cursorAt, version: prevVersion + 1, updatedAt: now, lastRun: counts },
          ConditionExpression: prevVersion === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
          ...(prevVersion === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': prevVersion } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  },
};
