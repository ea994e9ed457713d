/**
 * Attribution counter shards: `COUNT#<channelId>#<shard>` | `<model>#<local day>`, one item per
 * channel, shard, model and local day, carrying summed metrics (`newFans`, `gmvFen`, …) and the
 * time-to-convert histogram (`ttc_m<minutes>`, `ttc_h<hours>`) as top-level numbers, plus
 * `channel`, `model`, `day` set when the item is first written. Members add their credit
 * differences in the event's transaction (lib/attribution/credits.ts); the attribution API
 * reads one shard's day range with one Query.
 */
import { ForeignKeyError, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryPages, type RequestCounter } from '../item-ops.ts';

const PREFIX = 'COUNT';

export interface CounterId {
  channelId: string;
  shard: number;
  model: string;
  day: string;
}

export const counterPartition = (channelId: string, shard: number): string => `${PREFIX}#${channelId}#${shard}`;
export const counterSk = (model: string, day: string): string => `${model}#${day}`;
export const counterKey = (channelId: string, shard: number, model: string, day: string): Key => ({
  pk: counterPartition(channelId, shard),
  sk: counterSk(model, day),
});

/** `<model>#<day>` → fields (the model is a word, the day YYYY-MM-DD: neither holds `#`). */
export function parseCounterSk(sk: string): { model: string; day: string } {
  const i = sk.indexOf('#');
  if (i <= 0 || i === sk.length - 1) throw new ForeignKeyError(sk, 'counter sort');
  return { model: sk.slice(0, i), day: sk.slice(i + 1) };
}

/** `COUNT#<channelId>#<shard>` → fields (channel ids hold no `#`: lib/events/hub-event.ts ChannelId). */
export function parseCounterPartition(pk: string): { channelId: string; shard: number } {
  const [channelId, shardField] = splitKey(pk, PREFIX, 2, 'counter') as [string, string];
  const shard = Number(shardField);
  if (!/^\d+$/.test(shardField) || !Number.isSafeInteger(shard)) throw new ForeignKeyError(pk, 'counter');
  return { channelId, shard };
}

export function parseCounterKey(k: Key): CounterId {
  return { ...parseCounterPartition(k.pk), ...parseCounterSk(k.sk) };
}

/** One counter item: where it counts, and its numeric attributes (metrics and histogram). */
export interface CounterRow extends CounterId {
  values: Record<string, number>;
}

const STORED_FIELDS = new Set(['pk', 'sk', 'channel', 'model', 'day']);

export function counterFromItem(item: Record<string, unknown>): CounterRow {
  const id = parseCounterKey({ pk: String(item.pk), sk: String(item.sk) });
  const values: Record<string, number> = {};
  for (const [attr, v] of Object.entries(item)) if (!STORED_FIELDS.has(attr) && typeof v === 'number') values[attr] = v;
  return { ...id, values };
}

export const counters = {
  /** Adds `metrics` to one counter item in `tx` (merged with other adds to the same item). */
  add(tx: Tx, id: CounterId, metrics: Record<string, number>): void {
    tx.add(counterKey(id.channelId, id.shard, id.model, id.day), metrics, { channel: id.channelId, day: id.day, model: id.model });
  },

  /** The items of one channel shard for `model` over local days from..to (inclusive), at most `maxPages` pages. */
  async readRange(
    s: Store,
    channelId: string,
    shard: number,
    model: string,
    from: string,
    to: string,
    o: { maxPages: number; counter?: RequestCounter },
  ): Promise<{ items: CounterRow[]; complete: boolean; requests: number }> {
    const { items, complete, requests } = await queryPages(
      s,
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': counterPartition(channelId, shard), ':a': counterSk(model, from), ':b': counterSk(model, to) },
      },
      o.maxPages,
      o.counter,
    );
    return { items: items.map(counterFromItem), complete, requests };
  },
};
