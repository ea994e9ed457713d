/**
 * The raw reads and writes entity modules share: one GetItem; a Query one page at a time, a
 * bounded number of pages, or every page of a gsi1 partition (never a Scan); conditional single
 * writes; the item without its key attributes. Reads can count their requests (the attribution
 * API reports them). Only lib/store uses the SDK's commands.
 */
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type BatchGetCommandOutput, type PutCommandInput, type QueryCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './errors.ts';
import { TransientError } from '../errors.ts';
import { GSI1, type Key } from './keys.ts';
import type { Store } from './client.ts';

/** Counts DynamoDB requests across the calls of one operation (e.g. one API request). */
export interface RequestCounter {
  requests: number;
}

export interface ReadOptions {
  /** Strongly consistent read (default: eventually consistent). */
  consistent?: boolean;
  counter?: RequestCounter;
}

/** One item by key. */
export async function getItem<T extends object = Record<string, unknown>>(s: Store, key: Key, o: ReadOptions = {}): Promise<T | undefined> {
  if (o.counter) o.counter.requests++;
  const out = await s.db.send(new GetCommand({ TableName: s.table, Key: key, ...(o.consistent ? { ConsistentRead: true } : {}) }));
  return out.Item as T | undefined;
}

export type PagedQuery = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;

/** One Query request from `start`. */
async function queryOnce<T>(s: Store, input: PagedQuery, start?: Record<string, unknown>): Promise<{ items: T[]; lastKey?: Record<string, unknown> }> {
  const out = await s.db.send(new QueryCommand({ ...input, TableName: s.table, ...(start ? { ExclusiveStartKey: start } : {}) }));
  return { items: (out.Items ?? []) as T[], ...(out.LastEvaluatedKey ? { lastKey: out.LastEvaluatedKey } : {}) };
}

export interface Pages {
  items: Record<string, unknown>[];
  /** False when `maxPages` pages were read and more remained. */
  complete: boolean;
  /** Query requests made. */
  requests: number;
}

/** Up to `maxPages` pages of one Query. */
export async function queryPages(s: Store, input: PagedQuery, maxPages: number, counter?: RequestCounter): Promise<Pages> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  let requests = 0;
  for (let page = 0; page < maxPages; page++) {
    requests++;
    if (counter) counter.requests++;
    const out = await queryOnce<Record<string, unknown>>(s, input, start);
    items.push(...out.items);
    start = out.lastKey;
    if (!start) return { items, complete: true, requests };
  }
  return { items, complete: false, requests };
}

export interface PageQuery {
  /** The partition: `pk`, or `gsi1pk` when `index` is set. */
  pk: string;
  index?: boolean;
  /** Only sort keys beginning with this (table queries). */
  prefix?: string;
  newestFirst?: boolean;
  consistent?: boolean;
  limit: number;
  projection?: string;
  startKey?: Record<string, unknown>;
}

/** One page of a partition of the table or of gsi1. */
export function queryPage<T extends object = Record<string, unknown>>(s: Store, q: PageQuery): Promise<{ items: T[]; lastKey?: Record<string, unknown> }> {
  return queryOnce<T>(
    s,
    {
      ...(q.index ? { IndexName: GSI1 } : {}),
      KeyConditionExpression: q.index ? 'gsi1pk = :p' : q.prefix ? 'pk = :p AND begins_with(sk, :s)' : 'pk = :p',
      ExpressionAttributeValues: { ':p': q.pk, ...(q.prefix && !q.index ? { ':s': q.prefix } : {}) },
      ...(q.newestFirst ? { ScanIndexForward: false } : {}),
      ...(q.consistent ? { ConsistentRead: true } : {}),
      ...(q.projection ? { ProjectionExpression: q.projection } : {}),
      Limit: q.limit,
    },
    q.startKey,
  );
}

export interface IndexQuery {
  pk: string;
  /** Only items whose gsi1sk ≤ this. */
  skAtMost?: string;
  pageSize?: number;
  /** Stop after this many items in all. */
  max?: number;
}

/** Yields the items of one gsi1 partition, page by page. */
export async function* queryIndex<T extends object = Record<string, unknown>>(s: Store, q: IndexQuery): AsyncGenerator<T> {
  const input: PagedQuery = {
    IndexName: GSI1,
    KeyConditionExpression: q.skAtMost === undefined ? 'gsi1pk = :p' : 'gsi1pk = :p AND gsi1sk <= :s',
    ExpressionAttributeValues: { ':p': q.pk, ...(q.skAtMost === undefined ? {} : { ':s': q.skAtMost }) },
    Limit: q.pageSize ?? 200,
  };
  let start: Record<string, unknown> | undefined;
  let n = 0;
  do {
    const page = await queryOnce<T>(s, input, start);
    for (const item of page.items) {
      yield item;
      if (q.max !== undefined && ++n >= q.max) return;
    }
    start = page.lastKey;
  } while (start);
}

/** Runs a conditional write; false when its condition failed, other errors thrown. */
async function whenCondition(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

/** A conditional PutItem: false when the condition failed. */
export function putIf(s: Store, input: Omit<PutCommandInput, 'TableName'>): Promise<boolean> {
  return whenCondition(s.db.send(new PutCommand({ ...input, TableName: s.table })));
}

/** A conditional UpdateItem: false when the condition failed. */
export function updateIf(s: Store, input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
  return whenCondition(s.db.send(new UpdateCommand({ ...input, TableName: s.table })));
}

/** The stored item without its key and index attributes (what a reader shows). */
export function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...rest } = item;
  return rest;
}

/** Deletes one item by key (absent: nothing happens). */
export async function deleteItem(s: Store, key: Key): Promise<void> {
  await s.db.send(new DeleteCommand({ TableName: s.table, Key: { pk: key.pk, sk: key.sk } }));
}

/** Removes attributes of an item that still exists and sets others; false when it is gone. */
export function removeAttributes(s: Store, key: Key, remove: readonly string[], set: Record<string, unknown>): Promise<boolean> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const removes = remove.map((n, i) => ((names[`#r${i}`] = n), `#r${i}`));
  const sets = Object.entries(set).map(([n, v], i) => ((names[`#s${i}`] = n), (values[`:s${i}`] = v), `#s${i} = :s${i}`));
  const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
  return updateIf(s, {
    Key: { pk: key.pk, sk: key.sk },
    UpdateExpression: update,
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  });
}

/** Every item of a table partition (`pk`, consistent) or of a gsi1 partition (`gsi1pk`), all pages. */
export async function allItems(s: Store, q: { pk: string } | { gsi1pk: string }): Promise<Record<string, unknown>[]> {
  const input: PagedQuery =
    'pk' in q
      ? { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': q.pk }, ConsistentRead: true }
      : { IndexName: GSI1, KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': q.gsi1pk } };
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await queryOnce<Record<string, unknown>>(s, input, start);
    out.push(...page.items);
    start = page.lastKey;
  } while (start);
  return out;
}

/** Items by key (BatchGetItem, 100 at a time, consistent, unprocessed keys again); absent ones are left out. */
export async function itemsByKey(s: Store, keys: readonly Key[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const unique = [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
      [s.table]: { Keys: unique.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk })), ConsistentRead: true },
    };
    for (let attempt = 0; request && attempt < 8; attempt++) {
      const res: BatchGetCommandOutput = await s.db.send(new BatchGetCommand({ RequestItems: request }));
      out.push(...((res.Responses?.[s.table] ?? []) as Record<string, unknown>[]));
      const rest = res.UnprocessedKeys?.[s.table]?.Keys;
      request = rest?.length ? { [s.table]: { Keys: rest, ConsistentRead: true } } : undefined;
      if (request) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
    if (request) throw new TransientError('BatchGetItem left keys unprocessed');
  }
  return out;
}
