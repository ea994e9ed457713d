/**
 * Channels: what brought a person. Marketing creates them; a `wechat_qr` channel gets a
 * permanent QR_LIMIT_STR_SCENE code (scene = channel id) from the WeChat API. Scenes seen in
 * webhooks but never created are listed with kind `unknown` (lib/apply/wechat.ts).
 */
import * as z from 'zod';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryIndex } from '../store/query.ts';
import { BadRequestError, ConflictError } from '../errors.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { keys } from '../store/keys.ts';
import { ChannelId } from '../events/hub-event.ts';
import type { Store } from '../store/client.ts';
import { isConditionFailed } from '../store/errors.ts';

export const CHANNEL_KINDS = ['wechat_qr', 'code_batch', 'store', 'ad', 'other'] as const;
/** Platform channels exist implicitly (first touch of a person met through an order). */
export const IMPLICIT_CHANNELS = ['organic', 'tmall', 'jd', 'youzan'] as const;

export const CreateChannel = z.strictObject({
  /** It becomes the QR scene: the same rule as scenes from webhooks and batch channels. */
  id: ChannelId,
  name: z.string().trim().min(1).max(100),
  kind: z.enum(CHANNEL_KINDS),
  welcomeText: z.string().max(600).optional(),
});

export interface Channel {
  channelId: string;
  name: string;
  kind: (typeof CHANNEL_KINDS)[number] | 'unknown';
  welcomeText?: string;
  qr?: { ticket: string; url: string; imageUrl: string };
  createdAt: number;
}

export async function createChannel(store: Store, api: WechatApi, body: unknown, now = Date.now()): Promise<Channel> {
  const parsed = CreateChannel.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid channel', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const c = parsed.data;
  if ((IMPLICIT_CHANNELS as readonly string[]).includes(c.id)) throw new ConflictError(`${c.id} is a built-in channel`);
  const existing = (await store.db.send(new GetCommand({ TableName: store.table, Key: keys.channel(c.id) }))).Item as Channel | undefined;
  if (existing && existing.kind !== 'unknown') throw new ConflictError(`channel ${c.id} exists`, undefined, 'channel_exists');
  const channel: Channel = {
    channelId: c.id,
    name: c.name,
    kind: c.kind,
    ...(c.welcomeText ? { welcomeText: c.welcomeText } : {}),
    createdAt: existing?.createdAt ?? now,
  };
  if (c.kind === 'wechat_qr') {
    const qr = await api.createQrLimitStrScene(c.id);
    channel.qr = { ticket: qr.ticket, url: qr.url, imageUrl: qr.qrImageUrl };
  }
  await store.db.send(
    new PutCommand({
      TableName: store.table,
      Item: { ...channel, ...keys.channel(c.id), ...keys.channelListIndex(c.id) },
      // Claim an id that only webhooks have seen (kind unknown); never overwrite a created one.
      ConditionExpression: 'attribute_not_exists(pk) OR kind = :u',
      ExpressionAttributeValues: { ':u': 'unknown' },
    }),
  ).catch((err: unknown) => {
    if (isConditionFailed(err)) throw new ConflictError(`channel ${c.id} exists`, undefined, 'channel_exists');
    throw err;
  });
  return channel;
}

/** All channels (bounded pages of the channel index). */
export async function listChannels(store: Store, max = 5000): Promise<Channel[]> {
  const out: Channel[] = [];
  for await (const item of queryIndex<Channel & Record<string, unknown>>(store, { pk: keys.channelListIndex('').gsi1pk, max })) {
    const { pk: _a, sk: _b, gsi1pk: _c, gsi1sk: _d, ...c } = item;
    out.push(c);
  }
  return out;
}
