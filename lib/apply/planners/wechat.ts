/**
 * WeChat events → member effects. Facts go into the member's history (so arrival order does
 * not matter); derived fields and attribution counters follow from it (lib/members/record.ts).
 */
import type { WechatEvent } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { sends } from '../../store/entities/send.ts';
import { channels } from '../../store/entities/channel.ts';
import { followedOn, interactedOn, ORGANIC, presenceOn, unfollowedOn } from '../../members/model.ts';
import { resolveMember, saveMember, unionidIdentity, wechatIdentity } from '../../members/identity.ts';
import { planEngagement } from '../../engagement/rules/plan.ts';
import { interactionKindOf } from '../../engagement/windows.ts';
import { recordSubscription } from '../../engagement/subscriptions.ts';
import { accountChannelId } from '../../attribution/channels.ts';
import { UNIONID_LOOKUP_RULE } from '../../events/messages.ts';
import { firstTouchOf } from '../../attribution/credits.ts';
import { planInsight } from '../../insight/plan.ts';

/** The planner of every WeChat event type (the wechat webhook function's only planners). */
export const WECHAT_PLANNERS: Planners<WechatEvent> = {
  'wechat.follow': planWechat,
  'wechat.scan': planWechat,
  'wechat.unfollow': planWechat,
  'wechat.interaction': planWechat,
  'wechat.template_receipt': planWechat,
  'wechat.mass_receipt': planWechat,
  'wechat.subscription': planWechat,
  'wechat.unknown': planWechat,
  'wechat.unionid': planWechat,
};

export async function planWechat(event: WechatEvent, p: Port): Promise<PlanOutput> {
  if (event.type === 'wechat.template_receipt') return planReceipt(event, p);
  if (event.type === 'wechat.mass_receipt') return planMassReceipt(event, p);
  if (event.type === 'wechat.unknown') return {};
  if (event.type === 'wechat.unionid') return planUnionid(event, p);
  const defaultApp = p.cfg.WECHAT_APP_ID;
  const isDefault = event.appId === defaultApp;
  const scene = event.type === 'wechat.follow' || event.type === 'wechat.scan' ? (event.scene ?? ORGANIC) : ORGANIC;
  // Scenes belong to their account: the default account's are the channel ids themselves.
  const channel = accountChannelId(event.appId, scene, defaultApp);
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
  // Per-app state exists in an estate of several apps; a hub of one account keeps its records as they were.
  const app = p.cfg.wechatApps.length > 1 ? presenceOn(m, event.appId, event.openid) : undefined;
  const hasFollowFacts = app !== undefined && (app.lastFollowAt !== undefined || app.unfollowedAt !== undefined);
  let passiveReply: string | undefined;
  // A keyword reply is given again to WeChat's retry (the user may not have seen the first answer); a welcome is not.
  let replyOnRetry = false;
  switch (event.type) {
    case 'wechat.follow': {
      const firstFollow = m.history.follows.length === 0;
      const firstOnAccount = app?.firstFollowAt === undefined && !m.history.follows.some((f) => (f.app ?? defaultApp) === event.appId);
      // A follow of the default account is stored as before accounts were per app (no `app`).
      m.history.follows.push(isDefault ? { at, channel } : { at, channel, app: event.appId });
      if (app) followedOn(app, at);
      interactedOn(m, app, at, 'follow');
      const ch = event.scene ? await ensureChannel(p, channel, event.appId) : undefined;
      if (firstFollow) {
        const trigger = { kind: 'first_follow' as const, appId: event.appId, openid: event.openid, at, scene: event.scene };
        passiveReply = planEngagement(p, ch?.welcomeText !== undefined ? { ...trigger, channelText: ch.welcomeText } : trigger, m).reply;
      }
      // The unionid is asked for after the reply: a message the engagement queue carries (lib/apply/unionid.ts).
      if (firstOnAccount && !m.unionid && hasUnionidSource(p, event.appId)) planUnionidLookup(p, m.memberId, event.appId, event.openid, at);
      break;
    }
    case 'wechat.scan':
      m.history.qrScans.push({ at, channel });
      interactedOn(m, app, at, 'qr_scan');
      await ensureChannel(p, channel, event.appId);
      // A scan proves the person follows the account.
      if (app && !hasFollowFacts) app.followed = true;
      if (m.history.follows.length === 0 && m.wechat) m.wechat.followed = true;
      break;
    case 'wechat.unfollow':
      m.history.unfollows.push(at);
      if (app) unfollowedOn(app, at);
      break;
    case 'wechat.subscription':
      recordSubscription((m.subscriptions ??= {}), event.action, event.items, at);
      break;
    case 'wechat.interaction': {
      // VIEW and LOCATION open no customer-service window (lib/engagement/windows.ts), yet prove a follow.
      interactedOn(m, app, at, interactionKindOf(event));
      if (app && !hasFollowFacts) app.followed = true;
      if (m.wechat && m.history.follows.length === 0 && m.history.unfollows.length === 0) m.wechat.followed = true;
      // Menu and keyword counters, and a matched keyword's reply (lib/insight/plan.ts).
      passiveReply = await planInsight(p, event, firstTouchOf(m.history)?.channel ?? ORGANIC);
      replyOnRetry = passiveReply !== undefined;
      break;
    }
  }
  saveMember(p, event, resolved);
  // The passive reply is kept in the dedupe marker's result: WeChat's retry of this push is a
  // duplicate, answered `success` after a welcome (shown once) and with the same reply after a
  // keyword (`replyOnRetry`, lib/sources/wechat/source.ts passiveReplyOf).
  if (passiveReply === undefined) return { memberId: m.memberId };
  return { memberId: m.memberId, result: replyOnRetry ? { passiveReply, replyOnRetry } : { passiveReply } };
}

/**
 * A unionid only joins several apps: a hub of one account never asks (its follows cost no
 * lookup). The app must be configured (a push reaches the planner only for one that is).
 */
function hasUnionidSource(p: Port, appId: string): boolean {
  return p.cfg.wechatApps.length > 1 && p.cfg.wechatApps.some((a) => a.appId === appId);
}

/** Plans the `cgi-bin/user/info` call that learns the follower's unionid (one per member and address). */
function planUnionidLookup(p: Port, memberId: string, appId: string, openid: string, at: number): void {
  p.emit({ memberId, ruleId: UNIONID_LOOKUP_RULE, step: `${appId}:${openid}`, class: 'transactional', destination: 'member', payload: {}, appId, openid, triggeredAt: at });
}

/**
 * wechat.unionid: WeChat named the open-platform unionid of an address (user/info after a
 * follow). Binds `wechat_unionid`, which merges the address's record with the one the unionid
 * already belongs to (the older survives); a record that holds another unionid is never merged
 * (ConflictError, lib/members/identity.ts). The address must be known: the lookup follows a
 * committed follow.
 */
async function planUnionid(event: Extract<WechatEvent, { type: 'wechat.unionid' }>, p: Port): Promise<PlanOutput> {
  const resolved = await resolveMember(p, event, [wechatIdentity(event.appId, event.openid), unionidIdentity(event.unionid)], { createAs: 'fan', create: false });
  if (!resolved) return {};
  resolved.member.unionid = event.unionid;
  presenceOn(resolved.member, event.appId, event.openid);
  saveMember(p, event, resolved);
  return { memberId: resolved.member.memberId, result: { memberId: resolved.member.memberId, merged: resolved.absorbed.length } };
}

/**
 * Returns the channel; a channel id seen in a webhook but never created by marketing is
 * listed as `unknown`.
 */
async function ensureChannel(p: Port, channelId: string, appId: string): Promise<{ welcomeText?: string } | undefined> {
  const existing = await p.reads.channel(channelId);
  if (existing) return existing;
  channels.ensureListed(p.tx, channelId, p.now, appId === p.cfg.WECHAT_APP_ID ? undefined : appId);
  return undefined;
}

/** TEMPLATESENDJOBFINISH: the receipt updates the send record the sender wrote. */
async function planReceipt(event: Extract<WechatEvent, { type: 'wechat.template_receipt' }>, p: Port): Promise<PlanOutput> {
  const byMsg = await p.reads.sendByMsgId(event.appId, event.msgId);
  if (!byMsg?.idempotencyKey) return {};
  sends.recordReceipt(p.tx, byMsg.idempotencyKey, event.status, event.occurredAt);
  return {};
}

/**
 * MASSSENDJOBFINISH: the counts are recorded on the send that issued the mass send, found by
 * the msg_id WeChat answered it with (the same `SENDMSG#<appId>#<msgid>` row as template
 * receipts). The push carries the mass-send helper as sender, never a member: no member is
 * touched. Setting the same values twice changes nothing (a WeChat retry is also a duplicate).
 */
async function planMassReceipt(event: Extract<WechatEvent, { type: 'wechat.mass_receipt' }>, p: Port): Promise<PlanOutput> {
  const byMsg = await p.reads.sendByMsgId(event.appId, event.msgId);
  if (!byMsg?.idempotencyKey) return {};
  const { status, rawStatus, totalCount, filterCount, sentCount, errorCount } = event;
  sends.recordMassReceipt(p.tx, byMsg.idempotencyKey, { status, rawStatus, totalCount, filterCount, sentCount, errorCount }, event.occurredAt);
  return {};
}
