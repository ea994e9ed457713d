/** Bounded, paginated reads of the GSI (never a Scan). */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GSI1 } from './keys.ts';
import type { Store } from './client.ts';

export interface IndexQuery {
  pk: string;
  /** Only items whose gsi1sk ≤ this. */
  skAtMost?: string;
  pageSize?: number;
  /** Stop after this many items in all. */
  max?: number;
}

/** Yields the items of one gsi1 partition, page by page. */
export async function* queryIndex<T extends object = Record<string, unknown>>(store: Store, q: IndexQuery): AsyncGenerator<T> {
  let start: Record<string, unknown> | undefined;
  let n = 0;
  do {
    const res = await store.db.send(
      new QueryCommand({
        TableName: store.table,
        IndexName: GSI1,
        KeyConditionExpression: q.skAtMost === undefined ? 'gsi1pk = :p' : 'gsi1pk = :p AND gsi1sk <= :s',
        ExpressionAttributeValues: { ':p': q.pk, ...(q.skAtMost === undefined ? {} : { ':s': q.skAtMost }) },
        Limit: q.pageSize ?? 200,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of res.Items ?? []) {
      yield item as T;
      if (q.max !== undefined && ++n >= q.max) return;
    }
    start = res.LastEvaluatedKey;
  } while (start);
}

/** One item by key (strongly consistent unless `consistent: false`). */
export async function getItem<T extends object = Record<string, unknown>>(
  store: Store,
  key: { pk: string; sk: string },
  o: { consistent?: boolean } = {},
): Promise<T | undefined> {
  const res = await store.db.send(new GetCommand({ TableName: store.table, Key: key, ConsistentRead: o.consistent ?? true }));
  return res.Item as T | undefined;
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
export async function queryPage<T extends object = Record<string, unknown>>(
  store: Store,
  q: PageQuery,
): Promise<{ items: T[]; lastKey?: Record<string, unknown> }> {
  const res = await store.db.send(
    new QueryCommand({
      TableName: store.table,
      ...(q.index ? { IndexName: GSI1 } : {}),
      KeyConditionExpression: q.index ? 'gsi1pk = :p' : q.prefix ? 'pk = :p AND begins_with(sk, :s)' : 'pk = :p',
      ExpressionAttributeValues: { ':p': q.pk, ...(q.prefix && !q.index ? { ':s': q.prefix } : {}) },
      ...(q.newestFirst ? { ScanIndexForward: false } : {}),
      ...(q.consistent ? { ConsistentRead: true } : {}),
      ...(q.projection ? { ProjectionExpression: q.projection } : {}),
      Limit: q.limit,
      ...(q.startKey ? { ExclusiveStartKey: q.startKey } : {}),
    }),
  );
  return { items: (res.Items ?? []) as T[], ...(res.LastEvaluatedKey ? { lastKey: res.LastEvaluatedKey } : {}) };
}

/** An item without its key and index attributes (what a reader shows). */
export function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...rest } = item;
  return rest;
}
