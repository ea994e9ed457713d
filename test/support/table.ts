/**
 * Reads of a test file's table on DynamoDB Local through the process document client, always
 * strongly consistent and following pagination: items by key, partitions, the whole table,
 * members by identity, and attribution counters summed over their shards.
 */
import { ddb, hubConfig } from './env.ts';
import { GetCommand, QueryCommand, ScanCommand, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';


import type { Key } from '../../lib/store/keys.ts';
import { counterKey, counterPartition } from '../../lib/store/entities/counter.ts';
import { foldAll, type FoldResult } from '../../lib/attribution/fold.ts';
import { deltaPartition, DELTA_SHARDS } from '../../lib/store/entities/credit-delta.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { memberKey } from '../../lib/store/entities/member.ts';

/** An item as the document client returns it. */
export type Item = Record<string, NativeAttributeValue>;

export async function getItem<T = Item>(table: string, key: Key): Promise<T | undefined> {
  return (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item as T | undefined;
}

/** Every item of partition `pk`, or only those whose sort key begins with `skPrefix`. */
export async function queryAll<T = Item>(table: string, pk: string, skPrefix = ''): Promise<T[]> {
  const out: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await ddb().send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: skPrefix ? 'pk = :p AND begins_with(sk, :s)' : 'pk = :p',
        ExpressionAttributeValues: skPrefix ? { ':p': pk, ':s': skPrefix } : { ':p': pk },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...((r.Items ?? []) as T[]));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

const LISTS = ['f', 'u', 'q', 'c', 'o'] as const;

/**
 * Profile items with their whole stored history in `h`: a long history's month buckets
 * (`MEMBER#<id> | HIST#<YYYY-MM>`, lib/store/entities/member-history.ts), found among `items`,
 * appended list by list in month order. The other items are returned as they are.
 */
export function joinHistory<T extends Item>(items: readonly T[]): T[] {
  const buckets = new Map<string, T[]>();
  for (const i of items) if (String(i.sk).startsWith('HIST#')) buckets.set(String(i.pk), [...(buckets.get(String(i.pk)) ?? []), i]);
  return items.map((i) => {
    const mine = i.sk === '#PROFILE' ? buckets.get(String(i.pk)) : undefined;
    if (!mine) return i;
    const h: Item = { f: [], u: [], q: [], c: [], o: [], ...(i.h as Item) };
    for (const b of [...mine].sort((x, y) => (String(x.sk) < String(y.sk) ? -1 : 1))) for (const l of LISTS) h[l] = [...(h[l] as unknown[]), ...(((b.h as Item | undefined)?.[l] as unknown[] | undefined) ?? [])];
    return { ...i, h };
  });
}

/** A member's profile item with its whole stored history in `h` (joinHistory). */
export async function profileWithHistory<T = Item>(table: string, memberId: string): Promise<T | undefined> {
  const partition = await queryAll(table, memberKey(memberId).pk);
  return joinHistory(partition).find((i) => i.sk === '#PROFILE') as T | undefined;
}

export async function scanAll<T = Item>(table: string): Promise<T[]> {
  const out: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...((r.Items ?? []) as T[]));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function itemCount(table: string): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const r = await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    n += r.Count ?? 0;
    start = r.LastEvaluatedKey;
  } while (start);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Members

/** The member id an identity item points at. */
export async function identityOwner(table: string, kind: string, value: string): Promise<string | undefined> {
  const ident = await getItem(table, identityKey(kind, value));
  return ident ? String(ident.memberId) : undefined;
}

/** The member record an identity item points at, as stored (merge pointers not followed). */
export async function memberByIdentity<T = Item>(table: string, kind: string, value: string): Promise<T | undefined> {
  const id = await identityOwner(table, kind, value);
  return id === undefined ? undefined : getItem<T>(table, memberKey(id));
}

/** The surviving record an identity leads to, following merge pointers (at most 5). */
export async function survivorByIdentity<T = Item>(table: string, kind: string, value: string): Promise<T | undefined> {
  let id = await identityOwner(table, kind, value);
  for (let hops = 0; id !== undefined && hops < 5; hops++) {
    const m = await getItem(table, memberKey(id));
    if (!m?.mergedInto) return m as T | undefined;
    id = String(m.mergedInto);
  }
  return undefined;
}

/** The member record of a WeChat openid of the configured official account (as stored). */
export function memberByOpenid<T = Item>(table: string, openid: string): Promise<T | undefined> {
  return memberByIdentity<T>(table, 'wechat_openid', `${hubConfig().WECHAT_APP_ID}:${openid}`);
}

// ---------------------------------------------------------------------------------------------
// Attribution counters (one partition per channel and shard; HUB_COUNTER_SHARDS shards)

/** Credit deltas not yet folded (every delta shard, consistent counts). */
export async function pendingDeltas(table: string): Promise<number> {
  let n = 0;
  for (let s = 0; s < DELTA_SHARDS; s++) {
    const r = await ddb().send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': deltaPartition(s) }, Select: 'COUNT', ConsistentRead: true }));
    n += r.Count ?? 0;
  }
  return n;
}

/** Runs the counter fold (lib/attribution/fold.ts) over the table until no credit delta is left. */
export function foldCounters(table: string): Promise<FoldResult> {
  return foldAll({ store: { db: ddb(), table }, cfg: hubConfig(), now: Date.now });
}

/** The counter items of a channel on every shard (after a fold), or only those whose sort key begins with `skPrefix` (e.g. `first#`). */
export async function counterItems(table: string, channel: string, skPrefix = ''): Promise<Item[]> {
  await foldCounters(table);
  const out: Item[] = [];
  for (let s = 0; s < hubConfig().HUB_COUNTER_SHARDS; s++) out.push(...(await queryAll(table, counterPartition(channel, s), skPrefix)));
  return out;
}

/** A channel's counters summed over its shards: `<model>#<day>:<metric>` → n. A zero (a credit moved away) counts as absent. */
export async function counterTotals(table: string, channel: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const it of await counterItems(table, channel)) {
    for (const [k, v] of Object.entries(it)) if (typeof v === 'number') out[`${String(it.sk)}:${k}`] = (out[`${String(it.sk)}:${k}`] ?? 0) + v;
  }
  return withoutZeros(out);
}

/** One channel-day counter for one model, summed over its shards (read by key): metric → n, zeros dropped. */
export async function counterAt(table: string, channel: string, model: 'first' | 'last', day: string): Promise<Record<string, number>> {
  await foldCounters(table);
  const out: Record<string, number> = {};
  for (let s = 0; s < hubConfig().HUB_COUNTER_SHARDS; s++) {
    const it = await getItem(table, counterKey(channel, s, model, day));
    for (const [k, v] of Object.entries(it ?? {})) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
  }
  return withoutZeros(out);
}

function withoutZeros(totals: Record<string, number>): Record<string, number> {
  for (const k of Object.keys(totals)) if (totals[k] === 0) delete totals[k];
  return totals;
}
