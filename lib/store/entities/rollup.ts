/**
 * Attribution rollups: `ROLLUP#<model>#<period>` | `<channelId>#<shard>`, where the period is a
 * local day (`YYYY-MM-DD`) or a month (`YYYY-MM`). Each carries the same summed metrics and
 * time-to-convert histogram as a counter item (entities/counter.ts) for one channel and counter
 * shard over that period, plus `channel` and `shard`.
 *
 * The fold (lib/attribution/fold.ts) adds every credit row to the channel-day counter item, the
 * day rollup and the month rollup in one transaction, so the three agree at every instant, for
 * today and for any late credit to a closed day. One Query of a period's partition returns every
 * channel's figures for that period: the dashboard's channel table over 90 days is a few month
 * and day partitions, not a Query per channel and shard (lib/attribution/query.ts).
 */
import { ForeignKeyError, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryPages, type RequestCounter } from '../item-ops.ts';

const PREFIX = 'ROLLUP';

/** A period: a local day `YYYY-MM-DD` or a month `YYYY-MM`. */
export const monthOf = (day: string): string => day.slice(0, 7);

export const rollupPartition = (model: string, period: string): string => `${PREFIX}#${model}#${period}`;
export const rollupKey = (model: string, period: string, channelId: string, shard: number): Key => ({
  pk: rollupPartition(model, period),
  sk: `${channelId}#${shard}`,
});

/** `<channelId>#<shard>` → fields (channel ids hold no `#`: lib/events/hub-event.ts ChannelId). */
export function parseRollupSk(sk: string): { channelId: string; shard: number } {
  const i = sk.lastIndexOf('#');
  const shard = Number(sk.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(sk.slice(i + 1))) throw new ForeignKeyError(sk, 'rollup sort');
  return { channelId: sk.slice(0, i), shard };
}

export interface RollupRow {
  channelId: string;
  shard: number;
  values: Record<string, number>;
}

const STORED_FIELDS = new Set(['pk', 'sk', 'channel', 'shard']);

export function rollupFromItem(item: Record<string, unknown>): RollupRow {
  const values: Record<string, number> = {};
  for (const [attr, v] of Object.entries(item)) if (!STORED_FIELDS.has(attr) && typeof v === 'number') values[attr] = v;
  return { ...parseRollupSk(String(item.sk)), values };
}

export const rollups = {
  /** Adds `metrics` to the rollup of one channel shard for one period, in `tx` (merged with other adds to it). */
  add(tx: Tx, model: string, period: string, channelId: string, shard: number, metrics: Record<string, number>): void {
    tx.add(rollupKey(model, period, channelId, shard), metrics, { channel: channelId, shard });
  },

  /** Every channel's rollup rows for one model and period (at most `maxPages` pages). */
  async readPeriod(s: Store, model: string, period: string, o: { maxPages: number; counter?: RequestCounter }): Promise<{ items: RollupRow[]; complete: boolean }> {
    const { items, complete } = await queryPages(
      s,
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': rollupPartition(model, period) } },
      o.maxPages,
      o.counter,
    );
    return { items: items.map(rollupFromItem), complete };
  },
};
