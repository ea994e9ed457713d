/**
 * Code batches: a serial range allocated atomically from one sequence, so codes of different
 * batches never collide; codes themselves are derived (codec), never stored until redeemed.
 */
import * as z from 'zod';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isPathId, keys } from '../store/keys.ts';
import type { Store } from '../store/client.ts';
import type { BatchItem } from '../apply/code-scan.ts';
import { newId } from '../ids.ts';
import { ChannelId } from '../events/hub-event.ts';

export const MAX_BATCH = 10_000_000;

export const CreateBatch = z.strictObject({
  sku: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(100),
  points: z.number().int().min(0).max(100_000),
  channel: ChannelId,
  count: z.number().int().min(1).max(MAX_BATCH),
  region: z.string().max(64).optional(),
});

export async function createBatch(store: Store, body: unknown, now = Date.now()): Promise<BatchItem> {
  const parsed = CreateBatch.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid batch', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const b = parsed.data;
  // Scans are counted under the batch's channel: it must be one the report lists.
  const channel = await store.db.send(new GetCommand({ TableName: store.table, Key: keys.channel(b.channel), ConsistentRead: true }));
  if (!channel.Item) throw new BadRequestError(`no channel ${b.channel}: create it first (POST /channels)`, undefined, 'unknown_channel');
  const seq = await store.db.send(
    new UpdateCommand({
      TableName: store.table,
      Key: keys.codeSerialSequence(),
      // `next` is a DynamoDB reserved word: it must go through an attribute name placeholder.
      UpdateExpression: 'ADD #next :n',
      ExpressionAttributeNames: { '#next': 'next' },
      ExpressionAttributeValues: { ':n': b.count },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  const end = Number(seq.Attributes?.next);
  const batch: BatchItem = {
    batchId: newId(now),
    sku: b.sku,
    name: b.name,
    points: b.points,
    channel: b.channel,
    ...(b.region ? { region: b.region } : {}),
    active: true,
    firstSerial: end - b.count,
    count: b.count,
    createdAt: now,
  };
  await store.db.send(
    new PutCommand({ TableName: store.table, Item: { ...batch, ...keys.batch(batch.batchId), ...keys.batchSerialIndex(batch.firstSerial) } }),
  );
  return batch;
}

export async function getBatch(store: Store, batchId: string): Promise<BatchItem> {
  if (!isPathId(batchId)) throw new NotFoundError('no such batch');
  const res = await store.db.send(new GetCommand({ TableName: store.table, Key: keys.batch(batchId) }));
  if (!res.Item) throw new NotFoundError(`no batch ${batchId}`);
  const { pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...b } = res.Item;
  return b as BatchItem;
}

export async function setBatchActive(store: Store, batchId: string, active: boolean): Promise<BatchItem> {
  await getBatch(store, batchId);
  await store.db.send(
    new UpdateCommand({
      TableName: store.table,
      Key: keys.batch(batchId),
      UpdateExpression: 'SET active = :a',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':a': active },
    }),
  );
  return getBatch(store, batchId);
}
