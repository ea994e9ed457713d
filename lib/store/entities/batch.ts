/**
 * Code batches: `BATCH#<batchId>` | `#`, indexed on gsi1 under `BATCHES` by first serial
 * (16-digit padded) so the batch of a serial is the last one starting at or before it. Serial
 * ranges come from one sequence item, `SEQ#codes` | `#` (attribute `next`), so codes of two
 * batches never collide.
 */
import { UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GSI1, pad, parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import { getItem, queryPages, stripKeys, updateIf, type ReadOptions } from '../item-ops.ts';

export interface Batch {
  batchId: string;
  sku: string;
  name: string;
  points: number;
  channel: string;
  region?: string;
  active: boolean;
  firstSerial: number;
  count: number;
  createdAt: number;
}

const PREFIX = 'BATCH';
export const BATCH_PARTITION = 'BATCHES';

export const batchKey = (batchId: string): Key => ({ pk: `${PREFIX}#${batchId}`, sk: ROOT });
export function parseBatchKey(k: Key): { batchId: string } {
  return { batchId: parseRootKey(k, PREFIX, 'batch') };
}
/** Batches by first serial: the batch of a serial is the last one starting at or before it. */
export const batchSerialIndex = (firstSerial: number) => ({ gsi1pk: BATCH_PARTITION, gsi1sk: pad(firstSerial) });
export const serialSequenceKey = (): Key => ({ pk: 'SEQ#codes', sk: ROOT });

export const batchToItem = (b: Batch): Record<string, unknown> => ({ ...b, ...batchKey(b.batchId), ...batchSerialIndex(b.firstSerial) });
export const batchFromItem = (item: Record<string, unknown>): Batch => stripKeys(item) as unknown as Batch;

export const batches = {
  async get(s: Store, batchId: string, o: ReadOptions = {}): Promise<Batch | undefined> {
    const item = await getItem(s, batchKey(batchId), o);
    return item ? batchFromItem(item) : undefined;
  },

  async put(s: Store, b: Batch): Promise<void> {
    await s.db.send(new PutCommand({ TableName: s.table, Item: batchToItem(b) }));
  },

  /** Sets `active` on an existing batch; false when there is none. */
  setActive(s: Store, batchId: string, active: boolean): Promise<boolean> {
    return updateIf(s, { Key: batchKey(batchId), UpdateExpression: 'SET active = :a', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':a': active } });
  },

  /** The batch a serial belongs to: one bounded Query on the batch index. */
  async ofSerial(s: Store, serial: number): Promise<Batch | undefined> {
    const { items } = await queryPages(
      s,
      {
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk <= :s',
        ExpressionAttributeValues: { ':p': BATCH_PARTITION, ':s': pad(serial) },
        ScanIndexForward: false,
        Limit: 1,
      },
      1,
    );
    const b = items[0] ? batchFromItem(items[0]) : undefined;
    return b && serial < b.firstSerial + b.count ? b : undefined;
  },

  /** Allocates `count` serials atomically; returns the first. */
  async allocateSerials(s: Store, count: number): Promise<number> {
    const seq = await s.db.send(
      new UpdateCommand({
        TableName: s.table,
        Key: serialSequenceKey(),
        // `next` is a DynamoDB reserved word: it must go through an attribute name placeholder.
        UpdateExpression: 'ADD #next :n',
        ExpressionAttributeNames: { '#next': 'next' },
        ExpressionAttributeValues: { ':n': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(seq.Attributes?.next) - count;
  },
};
