/**
 * WeCom events → member effects (docs/platforms.md#wecom-external-contact-events).
 *
 * - `wecom.contact`: the person is found or created by `wecom_external_userid`
 *   (`<corpId>:<external_userid>`); the guide (the staff member's `userid`) is added or removed
 *   on the record by the event's time, so any arrival order gives the same record. An add's
 *   `State` names the contact way's channel: the first sighting through it is the person's first
 *   touch when it is their earliest event anywhere (WeChat or WeCom alike). `edit_external_contact`
 *   and `transfer_fail` only make sure the person exists. A removal by transfer
 *   (`DELETE_BY_TRANSFER`) is recorded as such, not as a lost contact. Adds and ends are also
 *   facts of the attribution history (newContacts, lostContacts: lib/attribution/credits.ts).
 *   An add with a WelcomeCode plans the welcome (`wecom_welcome`, lib/wecom/welcome.ts): the
 *   contact way channel's welcomeText, else the rules' welcomeOnContact text.
 * - `wecom.unknown`: recorded (its dedupe row and the archive), changes nothing.
 */
import { ChannelId, type WecomEvent } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { ORGANIC, type WecomGuide } from '../../members/model.ts';
import { resolveMember, saveMember, unionidIdentity, wecomIdentity } from '../../members/identity.ts';
import { WECOM_CONTACT_LOOKUP_RULE, WECOM_WELCOME_RULE } from '../../events/messages.ts';
import { channels } from '../../store/entities/channel.ts';

type ContactEvent = Extract<WecomEvent, { type: 'wecom.contact' }>;

const isAdd = (e: ContactEvent) => e.change === 'add_external_contact' || e.change === 'add_half_external_contact';

/** The channel an add came through: its State when that is a channel id, else organic. */
export function contactChannel(e: ContactEvent): string {
  return e.state !== undefined && ChannelId.safeParse(e.state).success ? e.state : ORGANIC;
}

/** The planner of every WeCom event type (the wecom webhook function's only planners). */
export const WECOM_PLANNERS: Planners<WecomEvent> = { 'wecom.contact': planWecom, 'wecom.unknown': planWecom, 'wecom.unionid': planWecom };

export async function planWecom(event: WecomEvent, p: Port): Promise<PlanOutput> {
  if (event.type === 'wecom.unknown') return {};
  if (event.type === 'wecom.unionid') return planWecomUnionid(event, p);
  const add = isAdd(event);
  const channel = add ? contactChannel(event) : undefined;
  const resolved = await resolveMember(p, event, [wecomIdentity(event.corpId, event.externalUserId)], {
    createAs: 'fan',
    ...(channel !== undefined ? { seenChannel: channel } : {}),
  });
  if (!resolved) return {};
  const m = resolved.member;
  const at = event.occurredAt;
  const w = (m.wecom ??= { corpId: event.corpId, externalUserId: event.externalUserId, guides: {} });
  const guide: WecomGuide = (w.guides[event.userId] ??= {});
  const h = m.history;
  if (add) {
    // The unionid is asked for after the reply, once per contact (lib/apply/unionid.ts).
    if (Object.keys(w.guides).length === 1 && guide.addedAt === undefined && !m.unionid && p.cfg.WECOM_CONTACT_SECRET !== undefined) {
      p.emit({ memberId: m.memberId, ruleId: WECOM_CONTACT_LOOKUP_RULE, step: `${event.corpId}:${event.externalUserId}`, class: 'transactional', destination: 'member', payload: {}, appId: event.corpId, openid: event.externalUserId, triggeredAt: at });
    }
    if (guide.addedAt === undefined || at > guide.addedAt) {
      guide.addedAt = at;
      if (event.state !== undefined) guide.state = event.state;
      else delete guide.state;
    }
    // The attribution fact (lib/attribution/credits.ts newContacts); a redelivery is stopped by the dedupe marker.
    const adds = (h.contactAdds ??= []);
    if (!adds.some((a) => a.at === at && a.guide === event.userId)) adds.push({ at, guide: event.userId, channel: channel! });
    const item = channel !== ORGANIC ? await p.reads.channel(channel!) : undefined;
    if (channel !== ORGANIC && !item) channels.ensureListed(p.tx, channel!, p.now);
    const welcome = p.cfg.rules.welcomeOnContact;
    if (event.welcomeCode !== undefined && welcome.enabled && p.cfg.WECOM_CONTACT_SECRET !== undefined) {
      // WeCom accepts the code for 20 s: the row is sent at once by the engagement sender (lib/wecom/welcome.ts).
      const text = typeof item?.welcomeText === 'string' && item.welcomeText ? item.welcomeText : welcome.text;
      p.emit({ memberId: m.memberId, ruleId: WECOM_WELCOME_RULE, step: `${event.userId}:${at}`, class: 'transactional', destination: 'member', payload: { welcomeCode: event.welcomeCode, text, userId: event.userId, channel: channel! }, appId: event.corpId, openid: event.externalUserId, triggeredAt: at });
    }
  } else if (event.change === 'del_external_contact' || event.change === 'del_follow_user') {
    const by = event.deleteSource === 'DELETE_BY_TRANSFER' ? 'transfer' : event.change === 'del_external_contact' ? 'staff' : 'customer';
    if (guide.removedAt === undefined || at > guide.removedAt) {
      guide.removedAt = at;
      guide.removedBy = by;
    }
    const ends = (h.contactEnds ??= []);
    if (!ends.some((e) => e.at === at && e.guide === event.userId)) ends.push({ at, guide: event.userId, by });
  }
  saveMember(p, event, resolved);
  return { memberId: m.memberId };
}

/**
 * wecom.unionid: binds `wechat_unionid` to the WeCom customer, which merges their record with the
 * person's WeChat records (the older survives; a record with another unionid is never merged).
 */
async function planWecomUnionid(event: Extract<WecomEvent, { type: 'wecom.unionid' }>, p: Port): Promise<PlanOutput> {
  const resolved = await resolveMember(p, event, [wecomIdentity(event.corpId, event.externalUserId), unionidIdentity(event.unionid)], { createAs: 'fan', create: false });
  if (!resolved) return {};
  resolved.member.unionid = event.unionid;
  saveMember(p, event, resolved);
  return { memberId: resolved.member.memberId, result: { memberId: resolved.member.memberId, merged: resolved.absorbed.length } };
}
