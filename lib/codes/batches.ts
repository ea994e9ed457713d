/**
 * Code batches: a serial range allocated atomically from one sequence, so codes of different
 * batches never collide; codes themselves are derived (codec), never stored until redeemed.
 */
import * as z from 'zod';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isPathId } from '../store/keys.ts';
import type { Store } from '../store/client.ts';
import { batches, type Batch } from '../store/entities/batch.ts';
import { channels } from '../store/entities/channel.ts';
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

export async function createBatch(store: Store, body: unknown, now: number): Promise<Batch> {
  const parsed = CreateBatch.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid batch', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const b = parsed.data;
  // Scans are counted under the batch's channel: it must be one the report lists.
  if (!(await channels.get(store, b.channel, { consistent: true }))) {
    throw new BadRequestError(`no channel ${b.channel}: create it first (POST /channels)`, undefined, 'unknown_channel');
  }
  const firstSerial = await batches.allocateSerials(store, b.count);
  const batch: Batch = {
    batchId: newId(now),
    sku: b.sku,
    name: b.name,
    points: b.points,
    channel: b.channel,
    ...(b.region ? { region: b.region } : {}),
    active: true,
    firstSerial,
    count: b.count,
    createdAt: now,
  };
  await batches.put(store, batch);
  return batch;
}

export async function getBatch(store: Store, batchId: string): Promise<Batch> {
  if (!isPathId(batchId)) throw new NotFoundError('no such batch');
  const b = await batches.get(store, batchId);
  if (!b) throw new NotFoundError(`no batch ${batchId}`);
  return b;
}

export async function setBatchActive(store: Store, batchId: string, active: boolean): Promise<Batch> {
  await getBatch(store, batchId);
  if (!(await batches.setActive(store, batchId, active))) throw new NotFoundError(`no batch ${batchId}`);
  return getBatch(store, batchId);
}
