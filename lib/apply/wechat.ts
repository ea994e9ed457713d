/**
 * WeChat events → member effects. Facts go into the member's history (so arrival order does
 * not matter); derived fields and attribution counters follow from it (lib/members/record.ts).
 */
import type { WechatEvent } from '../events/hub-event.ts';
import { sendByMsgIdKey, sends } from '../store/entities/send.ts';
import { channelFromItem, channelKey, channels } from '../store/entities/channel.ts';
import { ORGANIC } from '../members/model.ts';
import { interacted } from '../members/model.ts';
import type { PlanContext, PlanOutput } from './context.ts';
import { planWelcomeOnFollow } from '../engagement/rules.ts';

export const wechatIdentity = (appId: string, openid: string) => ({ kind: 'wechat_openid' as const, value: `${appId}:${openid}` });

export async function planWechat(event: WechatEvent, ctx: PlanContext): Promise<PlanOutput> {
  if (event.type === 'wechat.template_receipt') return planReceipt(event, ctx);
  if (event.type === 'wechat.unknown') return {};
  const channel = event.type === 'wechat.follow' || event.type === 'wechat.scan' ? (event.scene ?? ORGANIC) : ORGANIC;
  // Every event creates the record if needed (even an unfollow): dropping a fact for an unknown
  // person would make the final state depend on which of their events arrived first.
  const resolved = await ctx.resolveMember([wechatIdentity(event.appId, event.openid)], {
    createAs: 'fan',
    seenChannel: channel,
    wechat: { appId: event.appId, openid: event.openid },
  });
  if (!resolved) return {};
  const m = resolved.member;
  const at = event.occurredAt;
  switch (event.type) {
    case 'wechat.follow': {
      const firstFollow = m.history.follows.length === 0;
      m.history.follows.push({ at, channel });
      interacted(m, at);
      const ch = event.scene ? await ensureChannel(ctx, event.scene) : undefined;
      if (firstFollow) planWelcomeOnFollow(ctx, m, event, ch?.welcomeText);
      break;
    }
    case 'wechat.scan':
      m.history.qrScans.push({ at, channel });
      interacted(m, at);
      await ensureChannel(ctx, event.scene);
      // A scan proves the person follows the account.
      if (m.history.follows.length === 0 && m.wechat) m.wechat.followed = true;
      break;
    case 'wechat.unfollow':
      m.history.unfollows.push(at);
      break;
    case 'wechat.interaction':
      interacted(m, at);
      if (m.wechat && m.history.follows.length === 0 && m.history.unfollows.length === 0) m.wechat.followed = true;
      break;
  }
  ctx.saveMember();
  return { memberId: m.memberId };
}

/**
 * Returns the channel; a channel id seen in a webhook but never created by marketing is
 * listed as `unknown`.
 */
export async function ensureChannel(ctx: PlanContext, channelId: string): Promise<{ welcomeText?: string } | undefined> {
  const existing = await ctx.get(channelKey(channelId));
  if (existing) return channelFromItem(existing);
  channels.ensureListed(ctx.tx, channelId, ctx.now);
  return undefined;
}

/** TEMPLATESENDJOBFINISH: the receipt updates the send record the sender wrote. */
async function planReceipt(event: Extract<WechatEvent, { type: 'wechat.template_receipt' }>, ctx: PlanContext): Promise<PlanOutput> {
  const byMsg = await ctx.get<{ idempotencyKey?: string }>(sendByMsgIdKey(event.appId, event.msgId));
  if (!byMsg?.idempotencyKey) return {};
  sends.recordReceipt(ctx.tx, byMsg.idempotencyKey, event.status, event.occurredAt);
  return {};
}
