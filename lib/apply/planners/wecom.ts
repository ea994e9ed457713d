/**
 * WeCom events → member effects (docs/platforms.md#wecom-external-contact-events).
 *
 * - `wecom.contact`: the person is found or created by `wecom_external_userid`
 *   (`<corpId>:<external_userid>`); the guide (the staff member's `userid`) is added or removed
 *   on the record by the event's time, so any arrival order gives the same record. An add's
 *   `State` names the contact way's channel: the first sighting through it is the person's first
 *   touch when it is their earliest event anywhere (WeChat or WeCom alike). `edit_external_contact`
 *   and `transfer_fail` only make sure the person exists. A removal by transfer
 *   (`DELETE_BY_TRANSFER`) is recorded as such, not as a lost contact.
 * - `wecom.unknown`: recorded (its dedupe row and the archive), changes nothing.
 */
import { ChannelId, type WecomEvent } from '../../events/hub-event.ts';
import type { PlanOutput, Port } from '../../port.ts';
import { ORGANIC, type WecomGuide } from '../../members/model.ts';
import { resolveMember, saveMember, unionidIdentity, wecomIdentity } from '../../members/identity.ts';
import { WECOM_CONTACT_LOOKUP_RULE } from '../../events/messages.ts';
import { channels } from '../../store/entities/channel.ts';

type ContactEvent = Extract<WecomEvent, { type: 'wecom.contact' }>;

const isAdd = (e: ContactEvent) => e.change === 'add_external_contact' || e.change === 'add_half_external_contact';

/** The channel an add came through: its State when that is a channel id, else organic. */
export function contactChannel(e: ContactEvent): string {
  return e.state !== undefined && ChannelId.safeParse(e.state).success ? e.state : ORGANIC;
}

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
    if (channel !== undefined && channel !== ORGANIC && !(await p.reads.channel(channel))) channels.ensureListed(p.tx, channel, p.now);
  } else if (event.change === 'del_external_contact' || event.change === 'del_follow_user') {
    if (guide.removedAt === undefined || at > guide.removedAt) {
      guide.removedAt = at;
      guide.removedBy = event.deleteSource === 'DELETE_BY_TRANSFER' ? 'transfer' : event.change === 'del_external_contact' ? 'staff' : 'customer';
    }
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
