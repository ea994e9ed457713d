/**
 * Whole-table reads and writes for the operator tools of the archive (scripts/rebuild.ts): a
 * rebuild copies the reference data marketing created (channels, code batches, the serial
 * sequence) into a fresh table, and compares the rebuilt table with the live one item by item.
 * These are Scans — used by a tool run by hand with the operator's credentials, and by one
 * function only: the erasure's table sweep (`scanPage`, lib/privacy/erase.ts; the manifest grants
 * `Scan` to `privacy` alone), one bounded page at a time.
 */
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from './client.ts';
import { batchKey, serialSequenceKey } from './entities/batch.ts';
import { channelKey } from './entities/channel.ts';
import { parseCounterPartition, parseCounterSk } from './entities/counter.ts';
import { parseIdentityKey } from './entities/identity.ts';
import { memberKey, parseMemberPartition } from './entities/member.ts';
import { parseOrderKey } from './entities/order.ts';

export type Item = Record<string, unknown>;

/** Every item of the table (parallel-free Scan, page after page). */
export async function* scanItems(s: Store): AsyncGenerator<Item> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await s.db.send(new ScanCommand({ TableName: s.table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of page.Items ?? []) yield item;
    start = page.LastEvaluatedKey;
  } while (start);
}

/** One Scan page from `start` (at most `limit` items) and where the next one starts. */
export async function scanPage(s: Store, o: { start?: Record<string, unknown>; limit: number }): Promise<{ items: Item[]; next?: Record<string, unknown> }> {
  const page = await s.db.send(new ScanCommand({ TableName: s.table, Limit: o.limit, ...(o.start ? { ExclusiveStartKey: o.start } : {}) }));
  return { items: (page.Items ?? []) as Item[], ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
}

/** True when the table holds no item. */
export async function isEmptyTable(s: Store): Promise<boolean> {
  const page = await s.db.send(new ScanCommand({ TableName: s.table, Limit: 1 }));
  return !page.Items?.length;
}

/** Writes items (BatchWriteItem, 25 at a time, unprocessed ones again). */
export async function putItems(s: Store, items: readonly Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length; attempt++) {
      if (attempt > 8) throw new Error('BatchWriteItem left items unprocessed after 8 attempts');
      const out = await s.db.send(new BatchWriteCommand({ RequestItems: { [s.table]: requests } }));
      requests = (out.UnprocessedItems?.[s.table] ?? []) as typeof requests;
      if (requests.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

const CHANNEL_PREFIX = channelKey('').pk;
const BATCH_PREFIX = batchKey('').pk;
const SEQUENCE = serialSequenceKey();
/** The sort key of every root item (`#`). */

/** Reference data created by marketing, not by events: channels, code batches and the serial sequence. */
export function isReferenceItem(item: Item): boolean {
  const pk = String(item.pk);
  return item.sk === SEQUENCE.sk && (pk.startsWith(CHANNEL_PREFIX) || pk.startsWith(BATCH_PREFIX) || pk === SEQUENCE.pk);
}

/** What the differences report compares, read from one table. */
export interface TableFacts {
  /** `kind#value` → memberId of every bound identity. */
  identities: Map<string, string>;
  /** memberId → its profile item (merged-away records included, with `mergedInto`). */
  members: Map<string, Item>;
  /** `platform#shopId#orderId` → order item. */
  orders: Map<string, Item>;
  /** `channel#model#day` → summed counter fields (every shard added up). */
  counters: Map<string, Record<string, number>>;
}

const PROFILE_SK = memberKey('x').sk;

function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Reads identities, member profiles, orders and counters (summing the shards) from a table. */
export async function tableFacts(s: Store): Promise<TableFacts> {
  const facts: TableFacts = { identities: new Map(), members: new Map(), orders: new Map(), counters: new Map() };
  for await (const item of scanItems(s)) {
    const pk = String(item.pk);
    const sk = String(item.sk);
    const ident = sk === SEQUENCE.sk ? tryParse(() => parseIdentityKey({ pk })) : undefined;
    if (ident && typeof item.memberId === 'string') {
      facts.identities.set(`${ident.kind}#${ident.value}`, item.memberId);
      continue;
    }
    if (sk === PROFILE_SK) {
      const memberId = tryParse(() => parseMemberPartition(pk));
      if (memberId) facts.members.set(memberId, item);
      continue;
    }
    const order = sk === SEQUENCE.sk ? tryParse(() => parseOrderKey({ pk })) : undefined;
    if (order) {
      facts.orders.set(`${order.platform}#${order.shopId}#${order.orderId}`, item);
      continue;
    }
    const counter = tryParse(() => ({ ...parseCounterPartition(pk), ...parseCounterSk(sk) }));
    if (counter) {
      const key = `${counter.channelId}#${counter.model}#${counter.day}`;
      const sums = facts.counters.get(key) ?? {};
      for (const [k, v] of Object.entries(item)) if (typeof v === 'number') sums[k] = (sums[k] ?? 0) + v;
      facts.counters.set(key, sums);
    }
  }
  return facts;
}
