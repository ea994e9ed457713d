/**
 * The raw reads entity modules share: one GetItem, and a bounded, paginated Query that counts
 * its requests (the attribution API reports them). Only lib/store uses the SDK's commands.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type PutCommandInput, type QueryCommandInput, type QueryCommandOutput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './errors.ts';
import type { Store } from './client.ts';
import type { Key } from './keys.ts';

/** Counts DynamoDB requests across the calls of one operation (e.g. one API request). */
export interface RequestCounter {
  requests: number;
}

export interface ReadOptions {
  consistent?: boolean;
  counter?: RequestCounter;
}

export async function getItem(s: Store, key: Key, o: ReadOptions = {}): Promise<Record<string, unknown> | undefined> {
  if (o.counter) o.counter.requests++;
  const out = await s.db.send(new GetCommand({ TableName: s.table, Key: key, ...(o.consistent ? { ConsistentRead: true } : {}) }));
  return out.Item as Record<string, unknown> | undefined;
}

export type PagedQuery = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;

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
    const out: QueryCommandOutput = await s.db.send(new QueryCommand({ ...input, TableName: s.table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
    if (!start) return { items, complete: true, requests };
  }
  return { items, complete: false, requests };
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

/** The stored item without its key and index attributes. */
export function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...rest } = item;
  return rest;
}

/** `prefix` + rest of `value`; throws when `value` does not start with `prefix` (a foreign key). */
export function afterPrefix(value: string, prefix: string, what: string): string {
  if (!value.startsWith(prefix) || value.length === prefix.length) throw new Error(`not a ${what} key: ${value}`);
  return value.slice(prefix.length);
}
