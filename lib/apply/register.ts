/**
 * member.register: the member centre binds a phone; the fan becomes a member. The conversion
 * counters follow from the history (registration time), inside this transaction.
 */
import type { HubEventOf } from '../events/hub-event.ts';
import { ConflictError } from '../errors.ts';
import { ORGANIC } from '../members/model.ts';
import { planWelcomeOnRegister } from '../engagement/rules.ts';
import { scheduleBirthday } from '../engagement/schedule.ts';
import type { PlanContext, PlanOutput } from './context.ts';
import { wechatIdentity } from './wechat.ts';

export async function planRegister(e: HubEventOf<'member.register'>, ctx: PlanContext): Promise<PlanOutput> {
  const resolved = await ctx.resolveMember([wechatIdentity(e.appId, e.openid), { kind: 'phone', value: e.phoneHash }], {
    createAs: 'member',
    seenChannel: ORGANIC,
    wechat: { appId: e.appId, openid: e.openid },
  });
  const m = resolved!.member;
  if (m.phoneHash && m.phoneHash !== e.phoneHash) {
    throw new ConflictError('this member already registered another phone number', undefined, 'phone_conflict');
  }
  const first = m.h.r === undefined;
  if (first || e.occurredAt < m.h.r!) m.h.r = e.occurredAt;
  m.phoneHash = e.phoneHash;
  m.phoneMasked = e.phoneMasked;
  if (e.name) m.name = e.name;
  if (e.birthday) m.birthday = e.birthday;
  if (first) planWelcomeOnRegister(ctx, m, e.appId, e.openid, e.occurredAt);
  if (first && e.birthday) scheduleBirthday(ctx, m, e.birthday, e.occurredAt);
  ctx.saveMember();
  return { memberId: m.memberId, result: { memberId: m.memberId, alreadyRegistered: !first } };
}
