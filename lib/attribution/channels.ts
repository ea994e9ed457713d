/**
 * Channels: what brought a person. Marketing creates them; a `wechat_qr` channel gets a
 * permanent QR_LIMIT_STR_SCENE code (scene = channel id) from the WeChat API; a `wecom_contact`
 * channel gets a WeCom 「联系我」 contact way of its staff members (`add_contact_way`, state =
 * channel id, so at most 30 characters: docs/platforms.md#wecom-contact-ways) whose QR URL and
 * config id are stored with it; `guide` and `store` channels are a store guide and a store.
 * Scenes and states seen in webhooks but never created are listed with kind `unknown`
 * (lib/apply/planners/wechat.ts, wecom.ts).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { BadRequestError, ConflictError } from '../errors.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { CONTACT_WAY_MAX_USERS, CONTACT_WAY_STATE_MAX, type WecomApi } from '../wecom/client.ts';
import { ChannelId } from '../events/hub-event.ts';
import type { Store } from '../store/client.ts';
import { isBuiltinChannel } from '../sources/platforms.ts';
import { channels, type Channel as StoredChannel } from '../store/entities/channel.ts';

export const CHANNEL_KINDS = ['wechat_qr', 'wecom_contact', 'guide', 'code_batch', 'store', 'ad', 'other'] as const;

/** A WeCom staff member's userid (letters, digits and `_ . @ -`, at most 64). */
const StaffUserId = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'a WeCom userid is 1-64 letters, digits and _ . @ -');

/**
 * The channel a QR scene (or an organic follow, scene `organic`) of account `appId` credits
 * (docs/design.md#wechat-accounts): the scene itself on the default account (WECHAT_APP_ID, so
 * single-account data keeps its channels), `<appId>:<scene>` on any other, so two accounts'
 * `qrscene_spring` are two channels. An id that would pass 64 characters ends in a digest of the
 * scene instead (`<appId>:h.<hex>`).
 */
export function accountChannelId(appId: string, scene: string, defaultAppId: string): string {
  if (appId === defaultAppId) return scene;
  const id = `${appId}:${scene}`;
  if (id.length <= 64) return id;
  return `${appId}:h.${createHash('sha256').update(scene, 'utf8').digest('hex')}`.slice(0, 64);
}

/** Display facts of a channel in the attribution report. */
export interface ChannelInfo {
  channel: string;
  name: string;
  kind: string;
  /** The official account the channel belongs to (absent: the default account's, or no account's). */
  appId?: string;
}

export const CreateChannel = z.strictObject({
  /** It becomes the QR scene: the same rule as scenes from webhooks and batch channels. */
  id: ChannelId,
  name: z.string().trim().min(1).max(100),
  kind: z.enum(CHANNEL_KINDS),
  welcomeText: z.string().max(600).optional(),
  /** The official account a `wechat_qr` channel's QR belongs to (default: the default account, WECHAT_APP_ID). */
  appId: z.string().min(1).max(32).optional(),
  /** The WeCom staff members (userids) a `wecom_contact` channel's contact way adds the person to. */
  staff: z.array(StaffUserId).min(1).max(CONTACT_WAY_MAX_USERS).optional(),
});

/** The brand's official accounts as channel creation sees them. */
export interface ChannelAccounts {
  /** WECHAT_APP_ID: its scenes are the channel ids themselves. */
  defaultAppId: string;
  /** The API client of a configured official account; undefined for any other appId. */
  official(appId: string): WechatApi | undefined;
  /** The WeCom customer-contact client; undefined when WeCom is not configured (WECOM_CORP_ID, WECOM_CONTACT_SECRET). */
  wecom?: WecomApi | undefined;
}

export interface Channel extends StoredChannel {
  kind: (typeof CHANNEL_KINDS)[number] | 'unknown';
}

const exists = (id: string) => new ConflictError(`channel ${id} exists`, undefined, 'channel_exists');

export async function createChannel(store: Store, api: WechatApi, body: unknown, now: number, accounts?: ChannelAccounts): Promise<Channel> {
  const parsed = CreateChannel.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid channel', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const c = parsed.data;
  if (isBuiltinChannel(c.id)) throw new ConflictError(`${c.id} is a built-in channel`);
  const defaultAppId = accounts?.defaultAppId ?? api.appId;
  const appId = c.appId ?? defaultAppId;
  const accountApi = appId === defaultAppId ? api : accounts?.official(appId);
  if (!accountApi) throw new BadRequestError(`appId ${appId} is not a configured official account`, ['appId: unknown official account'], 'unknown_app');
  if (c.appId !== undefined && c.kind !== 'wechat_qr') throw new BadRequestError('only a wechat_qr channel belongs to an account', ['appId: only with kind wechat_qr']);
  if (c.staff !== undefined && c.kind !== 'wecom_contact') throw new BadRequestError('only a wecom_contact channel has staff', ['staff: only with kind wecom_contact']);
  if (c.kind === 'wecom_contact') {
    if (!c.staff) throw new BadRequestError('a wecom_contact channel needs its staff', ['staff: required with kind wecom_contact']);
    if (c.id.length > CONTACT_WAY_STATE_MAX) throw new BadRequestError(`a wecom_contact channel id is its contact way's state: at most ${CONTACT_WAY_STATE_MAX} characters`, [`id: at most ${CONTACT_WAY_STATE_MAX} characters`], 'state_too_long');
    if (!accounts?.wecom) throw new BadRequestError('WeCom is not configured (WECOM_CORP_ID, WECOM_CONTACT_SECRET)', ['kind: wecom_contact needs WeCom'], 'wecom_not_configured');
  }
  // Scenes are unique per account: the same scene on another account is another channel.
  const channelId = accountChannelId(appId, c.id, defaultAppId);
  const existing = await channels.get(store, channelId);
  if (existing && existing.kind !== 'unknown') throw exists(channelId);
  const channel: Channel = {
    channelId,
    name: c.name,
    kind: c.kind,
    ...(appId !== defaultAppId ? { appId, scene: c.id } : {}),
    ...(c.welcomeText ? { welcomeText: c.welcomeText } : {}),
    createdAt: existing?.createdAt ?? now,
  };
  if (c.kind === 'wechat_qr') {
    const qr = await accountApi.createQrLimitStrScene(c.id);
    channel.qr = { ticket: qr.ticket, url: qr.url, imageUrl: qr.qrImageUrl };
  }
  if (c.kind === 'wecom_contact') {
    // Without the config id a contact way can be neither changed nor deleted: it is stored with the QR.
    const staff = [...new Set(c.staff)];
    const way = await accounts!.wecom!.addContactWay({ state: channelId, users: staff, remark: [...c.name].slice(0, 30).join('') });
    channel.wecom = { configId: way.configId, qrCode: way.qrCode, staff };
  }
  // Claims an id that only webhooks have seen (kind unknown); never overwrites a created one.
  if ((await channels.claim(store, channel)) === 'exists') throw exists(channelId);
  return channel;
}

/** All channels (bounded pages of the channel index). */
export async function listChannels(store: Store, max = 5000): Promise<Channel[]> {
  return (await channels.list(store, { max, pageSize: 200 })).items as Channel[];
}
