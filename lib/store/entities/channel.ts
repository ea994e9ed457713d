/**
 * Channel items: `CHANNEL#<channelId>` | `#`, listed on gsi1 under `CHANNELS` (gsi1sk = the id).
 * Marketing creates them (lib/attribution/channels.ts); a scene seen in a webhook but never
 * created is listed with kind `unknown` (ensureListed, in the event's transaction).
 */
import { GSI1, parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, putIf, queryPages, stripKeys, type ReadOptions, type RequestCounter } from '../item-ops.ts';

export interface Channel {
  channelId: string;
  name: string;
  kind: string;
  /** The WeChat account a `wechat_qr` channel (or a scene seen on it) belongs to; absent: the default account, or none. */
  appId?: string;
  /** The QR scene on that account, when it differs from the channel id. */
  scene?: string;
  welcomeText?: string;
  qr?: { ticket: string; url: string; imageUrl: string };
  /** A `wecom_contact` channel's contact way: its config id, QR image URL and staff userids. */
  wecom?: { configId: string; qrCode: string; staff: string[] };
  createdAt: number;
}

/** A listed channel: the summary projection carries only id, name and kind. */
export type ListedChannel = Pick<Channel, 'channelId'> & Partial<Omit<Channel, 'channelId'>>;

/** The kind of a channel only webhooks have seen. */
export const UNKNOWN_KIND = 'unknown';

const PREFIX = 'CHANNEL';
export const CHANNEL_LIST_PARTITION = 'CHANNELS';

export const channelKey = (channelId: string): Key => ({ pk: `${PREFIX}#${channelId}`, sk: ROOT });
export function parseChannelKey(k: Key): { channelId: string } {
  return { channelId: parseRootKey(k, PREFIX, 'channel') };
}
export const channelListIndex = (channelId: string) => ({ gsi1pk: CHANNEL_LIST_PARTITION, gsi1sk: channelId });

/** The full stored item of a channel (key and list index included). */
export const channelToItem = (c: Channel): Record<string, unknown> => ({ ...c, ...channelKey(c.channelId), ...channelListIndex(c.channelId) });

/** The channel of a stored item; the id falls back to the list index (summary projection). */
export function channelFromItem(item: Record<string, unknown>): ListedChannel {
  const id = typeof item.channelId === 'string' ? item.channelId : typeof item.gsi1sk === 'string' ? item.gsi1sk : '';
  return { ...(stripKeys(item) as Partial<Channel>), channelId: id };
}

export interface ListOptions {
  /** At most this many items (pages of `pageSize` up to it). */
  max: number;
  pageSize: number;
  /** `summary`: only id, name and kind. */
  projection?: 'summary';
  counter?: RequestCounter;
}

/**
 * How long a container keeps a channel item it read for an event (ms). Every follow and QR scan
 * reads its channel; under a viral QR that one item would take thousands of strongly consistent
 * reads a second (3,000 RCU/s per partition). What the cache can delay by up to this long: a
 * new welcome text, or the name of a channel created after webhooks listed it as `unknown`.
 * A channel not found is never cached (the event lists it; the next read finds it).
 */
export const CHANNEL_CACHE_TTL_MS = 30_000;
const channelCache = new Map<string, { channel: ListedChannel; until: number }>();
const CHANNEL_CACHE_MAX = 10_000;

export const channels = {
  /** The channel item as this container last read it, at most CHANNEL_CACHE_TTL_MS old; else a consistent read. */
  async getCached(s: Store, channelId: string, clock: () => number = Date.now): Promise<ListedChannel | undefined> {
    const id = `${s.table}\u0000${channelId}`;
    const hit = channelCache.get(id);
    const now = clock();
    if (hit && hit.until > now) return hit.channel;
    const item = await getItem(s, channelKey(channelId), { consistent: true });
    if (!item) {
      channelCache.delete(id);
      return undefined;
    }
    const channel = channelFromItem(item);
    if (channelCache.size >= CHANNEL_CACHE_MAX) channelCache.clear();
    channelCache.set(id, { channel, until: now + CHANNEL_CACHE_TTL_MS });
    return channel;
  },

  /** Drops every cached channel (benchmarks measuring the uncached read). */
  forgetCached(): void {
    channelCache.clear();
  },

  async get(s: Store, channelId: string, o: ReadOptions = {}): Promise<Channel | undefined> {
    const item = await getItem(s, channelKey(channelId), o);
    return item ? (channelFromItem(item) as Channel) : undefined;
  },

  /** Creates the channel, or claims one only webhooks have seen (kind unknown); never overwrites a created one. */
  async claim(s: Store, c: Channel): Promise<'created' | 'exists'> {
    const created = await putIf(s, { Item: channelToItem(c), ConditionExpression: 'attribute_not_exists(pk) OR kind = :u', ExpressionAttributeValues: { ':u': UNKNOWN_KIND } });
    return created ? 'created' : 'exists';
  },

  /** Lists a scene seen in a webhook as an `unknown` channel unless the item exists (tag `channel:<id>`). */
  ensureListed(tx: Tx, channelId: string, now: number, appId?: string): void {
    const index = channelListIndex(channelId);
    const app = appId === undefined ? '' : ', #a = if_not_exists(#a, :a)';
    tx.update(`channel:${channelId}`, channelKey(channelId), {
      update: `SET #id = if_not_exists(#id, :id), #n = if_not_exists(#n, :id), #k = if_not_exists(#k, :k), #c = if_not_exists(#c, :c), gsi1pk = :gp, gsi1sk = :gs${app}`,
      names: { '#id': 'channelId', '#n': 'name', '#k': 'kind', '#c': 'createdAt', ...(appId === undefined ? {} : { '#a': 'appId' }) },
      values: { ':id': channelId, ':k': UNKNOWN_KIND, ':c': now, ':gp': index.gsi1pk, ':gs': index.gsi1sk, ...(appId === undefined ? {} : { ':a': appId }) },
    });
  },

  /** The channel index, page by page; `complete` is false when `max` was reached with more left. */
  async list(s: Store, o: ListOptions): Promise<{ items: ListedChannel[]; complete: boolean; requests: number }> {
    const { items, complete, requests } = await queryPages(
      s,
      {
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': CHANNEL_LIST_PARTITION },
        Limit: o.pageSize,
        ...(o.projection === 'summary' ? { ProjectionExpression: 'gsi1sk, channelId, #n, kind, appId', ExpressionAttributeNames: { '#n': 'name' } } : {}),
      },
      Math.ceil(o.max / o.pageSize),
      o.counter,
    );
    return { items: items.slice(0, o.max).map(channelFromItem), complete: complete && items.length <= o.max, requests };
  },
};
