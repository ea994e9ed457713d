/**
 * Attribution rollups: `ROLLUP#<model>#<period>` | `<channelId>#<shard>`, where the period is a
 * local day (`YYYY-MM-DD`) or a month (`YYYY-MM`). Each carries the same summed metrics and
 * time-to-convert histogram as a counter item (entities/counter.ts) for one channel and counter
 * shard over that period, plus `channel` and `shard`. The model is `first` or `last`, or `cohort`:
 * the cohort credits of lib/attribution/cohorts.ts, keyed by the local day of the first touch,
 * which exist only as rollups (the fold writes no counter item for them).
 *
 * The fold (lib/attribution/fold.ts) adds every credit row to the channel-day counter item, the
 * day rollup and the month rollup in one transaction, so the three agree at every instant, for
 * today and for any late credit to a closed day. One Query of a period's partition returns every
 * channel's figures for that period: the dashboard's channel table over 90 days is a few month
 * and day partitions, not a Query per channel and shard (lib/attribution/query.ts).
 *
 * Backfill (lib/attribution/backfill.ts): counters written before rollups existed have no rollup,
 * or one holding only what the fold added since. Because the fold adds the same amount to a
 * counter and its day rollup in one transaction, counter − day rollup is exactly what was counted
 * before rollups, at any instant; the backfill reads the two together (TransactGetItems: one
 * snapshot) and adds that difference to the day and month rollups once, marking the day rollup
 * (`backfilled`, a string the figures ignore) under the condition that it is not marked yet.
 */
import { TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import { ForeignKeyError, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryPages, type RequestCounter } from '../item-ops.ts';
import { counterFromItem, counterKey, type CounterId } from './counter.ts';

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

/** Marks a day rollup whose pre-rollup counts were added (its value: the run's ISO time). */
const BACKFILLED = 'backfilled';

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

  /**
   * A counter item and its day rollup in one consistent snapshot (TransactGetItems): their
   * numeric values (empty when absent) and whether the rollup was backfilled already.
   */
  async withCounter(s: Store, id: CounterId): Promise<{ counter: Record<string, number>; day: Record<string, number>; backfilled: boolean }> {
    const dayKey = rollupKey(id.model, id.day, id.channelId, id.shard);
    const out = await s.db.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: s.table, Key: counterKey(id.channelId, id.shard, id.model, id.day) } }, { Get: { TableName: s.table, Key: dayKey } }] }));
    const [c, d] = (out.Responses ?? []).map((r) => r?.Item as Record<string, unknown> | undefined);
    return { counter: c ? counterFromItem(c).values : {}, day: d ? rollupFromItem(d).values : {}, backfilled: d?.[BACKFILLED] !== undefined };
  },

  /**
   * Adds a counter's pre-rollup counts to its day and month rollups, in `tx`; the day rollup is
   * marked, and the transaction fails (tag `rollup-backfill`) if it was marked already.
   */
  backfill(tx: Tx, id: CounterId, missing: Record<string, number>, at: string): void {
    const names: Record<string, string> = { '#bf': BACKFILLED, '#ch': 'channel', '#sh': 'shard' };
    const values: Record<string, unknown> = { ':bf': at, ':ch': id.channelId, ':sh': id.shard };
    const adds = Object.entries(missing).map(([metric, n], i) => {
      names[`#m${i}`] = metric;
      values[`:m${i}`] = n;
      return `#m${i} :m${i}`;
    });
    tx.update(
      'rollup-backfill',
      rollupKey(id.model, id.day, id.channelId, id.shard),
      { update: `SET #bf = :bf, #ch = :ch, #sh = :sh${adds.length ? ` ADD ${adds.join(', ')}` : ''}`, names, values },
      { expr: 'attribute_not_exists(#bf)' },
    );
    tx.add(rollupKey(id.model, monthOf(id.day), id.channelId, id.shard), missing, { channel: id.channelId, shard: id.shard });
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
