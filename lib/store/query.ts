/** Bounded, paginated reads of the GSI (never a Scan). */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
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
