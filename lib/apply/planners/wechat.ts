/**
 * WeChat events → member effects. Facts go into the member's history (so arrival order does
 * not matter); derived fields and attribution counters follow from it (lib/members/record.ts).
 */
import type { WechatEvent } from '../../events/hub-event.ts';
import type { PlanOutput, Port } from '../../port.ts';
import { sends } from '../../store/entities/send.ts';
import { channels } from '../../store/entities/channel.ts';
import { interacted, ORGANIC } from '../../members/model.ts';
import { resolveMember, saveMember, wechatIdentity } from '../../members/identity.ts';
import { planEngagement } from '../../engagement/rules/plan.ts';
import { interactionKindOf } from '../../engagement/windows.ts';
import { recordSubscription } from '../../engagement/subscriptions.ts';

export async function planWechat(event: WechatEvent, p: Port): Promise<PlanOutput> {
  if (event.type === 'wechat.template_receipt') return planReceipt(event, p);
  if (event.type === 'wechat.unknown') return {};
  const channel = event.type === 'wechat.follow' || event.type === 'wechat.scan' ? (event.scene ?? ORGANIC) : ORGANIC;
  // Every event creates the record if needed (even an unfollow): dropping a fact for an unknown
  // person would make the final state depend on which of their events arrived first.
  const resolved = await resolveMember(p, event, [wechatIdentity(event.appId, event.openid)], {
    createAs: 'fan',
    seenChannel: channel,
    wechat: { appId: event.appId, openid: event.openid },
  });
  if (!resolved) return {};
  const m = resolved.member;
  const at = event.occurredAt;
  let passiveReply: string | undefined;
  switch (event.type) {
    case 'wechat.follow': {
      const firstFollow = m.history.follows.length === 0;
      m.history.follows.push({ at, channel });
      interacted(m, at, 'follow');
      const ch = event.scene ? await ensureChannel(p, event.scene) : undefined;
      if (firstFollow) {
        const trigger = { kind: 'first_follow' as const, appId: event.appId, openid: event.openid, at, scene: event.scene };
        passiveReply = planEngagement(p, ch?.welcomeText !== undefined ? { ...trigger, channelText: ch.welcomeText } : trigger, m).reply;
      }
      break;
    }
    case 'wechat.scan':
      m.history.qrScans.push({ at, channel });
      interacted(m, at, 'qr_scan');
      await ensureChannel(p, event.scene);
      // A scan proves the person follows the account.
      if (m.history.follows.length === 0 && m.wechat) m.wechat.followed = true;
      break;
    case 'wechat.unfollow':
      m.history.unfollows.push(at);
      break;
    case 'wechat.subscription':
      recordSubscription((m.subscriptions ??= {}), event.action, event.items, at);
      break;
    case 'wechat.interaction': {
      // VIEW and LOCATION open no customer-service window: they are not interactions here.
      const kind = interactionKindOf(event);
      if (kind) interacted(m, at, kind);
      if (m.wechat && m.history.follows.length === 0 && m.history.unfollows.length === 0) m.wechat.followed = true;
      break;
    }
  }
  saveMember(p, event, resolved);
  // The passive reply is kept in the dedupe marker's result: WeChat's retry of this push is a
  // duplicate and is answered `success`, so the welcome is shown once.
  return passiveReply === undefined ? { memberId: m.memberId } : { memberId: m.memberId, result: { passiveReply } };
}

/**
 * Returns the channel; a channel id seen in a webhook but never created by marketing is
 * listed as `unknown`.
 */
async function ensureChannel(p: Port, channelId: string): Promise<{ welcomeText?: string } | undefined> {
  const existing = await p.reads.channel(channelId);
  if (existing) return existing;
  channels.ensureListed(p.tx, channelId, p.now);
  return undefined;
}

/** TEMPLATESENDJOBFINISH: the receipt updates the send record the sender wrote. */
async function planReceipt(event: Extract<WechatEvent, { type: 'wechat.template_receipt' }>, p: Port): Promise<PlanOutput> {
  const byMsg = await p.reads.sendByMsgId(event.appId, event.msgId);
  if (!byMsg?.idempotencyKey) return {};
  sends.recordReceipt(p.tx, byMsg.idempotencyKey, event.status, event.occurredAt);
  return {};
}
