/**
 * Channels: what brought a person. Marketing creates them; a `wechat_qr` channel gets a
 * permanent QR_LIMIT_STR_SCENE code (scene = channel id) from the WeChat API. Scenes seen in
 * webhooks but never created are listed with kind `unknown` (lib/apply/planners/wechat.ts).
 */
import * as z from 'zod';
import { BadRequestError, ConflictError } from '../errors.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { ChannelId } from '../events/hub-event.ts';
import type { Store } from '../store/client.ts';
import { isBuiltinChannel } from '../sources/platforms.ts';
import { channels, type Channel as StoredChannel } from '../store/entities/channel.ts';

export const CHANNEL_KINDS = ['wechat_qr', 'code_batch', 'store', 'ad', 'other'] as const;

/** Display facts of a channel in the attribution report. */
export interface ChannelInfo {
  channel: string;
  name: string;
  kind: string;
}

export const CreateChannel = z.strictObject({
  /** It becomes the QR scene: the same rule as scenes from webhooks and batch channels. */
  id: ChannelId,
  name: z.string().trim().min(1).max(100),
  kind: z.enum(CHANNEL_KINDS),
  welcomeText: z.string().max(600).optional(),
});

export interface Channel extends StoredChannel {
  kind: (typeof CHANNEL_KINDS)[number] | 'unknown';
}

const exists = (id: string) => new ConflictError(`channel ${id} exists`, undefined, 'channel_exists');

export async function createChannel(store: Store, api: WechatApi, body: unknown, now = Date.now()): Promise<Channel> {
  const parsed = CreateChannel.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid channel', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const c = parsed.data;
  if (isBuiltinChannel(c.id)) throw new ConflictError(`${c.id} is a built-in channel`);
  const existing = await channels.get(store, c.id);
  if (existing && existing.kind !== 'unknown') throw exists(c.id);
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
  // Claims an id that only webhooks have seen (kind unknown); never overwrites a created one.
  if ((await channels.claim(store, channel)) === 'exists') throw exists(c.id);
  return channel;
}

/** All channels (bounded pages of the channel index). */
export async function listChannels(store: Store, max = 5000): Promise<Channel[]> {
  return (await channels.list(store, { max, pageSize: 200 })).items as Channel[];
}
