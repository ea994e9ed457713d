/**
 * Send budget of WeCom app messages per staff member (docs/platforms.md#wecom-app-messages:
 * WeCom drops, silently, what one member receives beyond 30 a minute or 1,000 an hour):
 *
 *   STAFFRATE#<corpId>:<userid> | m#<minute start, epoch ms> / h#<hour start, epoch ms>   n; TTL 2 hours
 *
 * `take` counts one message in both windows in one transaction, each conditional on staying
 * within its limit: either both count it or neither does.
 */
import { splitKey, TTL_ATTRIBUTE, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import { Tx } from '../tx.ts';
import { TxConditionFailed } from '../errors.ts';

const PREFIX = 'STAFFRATE';
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export const staffRateKey = (corpId: string, userId: string, window: 'm' | 'h', start: number): Key => ({ pk: `${PREFIX}#${corpId}:${userId}`, sk: `${window}#${start}` });
export function parseStaffRateKey(k: Key): { staff: string; window: string; start: number } {
  const [window, start] = k.sk.split('#') as [string, string];
  return { staff: splitKey(k.pk, PREFIX, 1, 'staff rate')[0]!, window, start: Number(start) };
}

export interface StaffRateLimits {
  perMinute: number;
  perHour: number;
}

export type Take = { ok: true } | { ok: false; retryAt: number };

export const staffRates = {
  /** Counts one message to `userId` at `now` if both windows have room; else when to try again. */
  async take(s: Store, corpId: string, userId: string, now: number, limits: StaffRateLimits): Promise<Take> {
    const minute = now - (now % MINUTE_MS);
    const hour = now - (now % HOUR_MS);
    const expires = { [TTL_ATTRIBUTE]: Math.ceil((hour + 2 * HOUR_MS) / 1000) };
    const tx = new Tx(s.table);
    for (const [tag, window, start, limit] of [['minute', 'm', minute, limits.perMinute], ['hour', 'h', hour, limits.perHour]] as const) {
      tx.update(
        tag,
        staffRateKey(corpId, userId, window, start),
        { update: 'ADD n :one SET #ttl = :ttl', names: { '#ttl': TTL_ATTRIBUTE }, values: { ':one': 1, ':ttl': expires[TTL_ATTRIBUTE] } },
        { expr: 'attribute_not_exists(n) OR n < :limit', values: { ':limit': limit } },
      );
    }
    try {
      await tx.commit(s.db);
      return { ok: true };
    } catch (err) {
      if (!(err instanceof TxConditionFailed)) throw err;
      return { ok: false, retryAt: err.tags.includes('hour') ? hour + HOUR_MS : minute + MINUTE_MS };
    }
  },
};
