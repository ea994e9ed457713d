/**
 * member.register: the member centre binds a proven phone; the fan becomes a member. The
 * conversion counters follow from the history (registration time), inside this transaction.
 *
 * - An SMS proof is consumed here: the code row is deleted under a condition on its HMAC, so a
 *   code serves one registration (a second use re-plans, finds no row → 400).
 * - A phone whose identity row leads to a record of another WeChat person is refused
 *   (PhoneBoundElsewhereError → a uniform 409 in lib/members/register.ts); never merged.
 */
import type { HubEventOf } from '../events/hub-event.ts';
import { BadRequestError, ConflictError, PhoneBoundElsewhereError } from '../errors.ts';
import { otps } from '../store/entities/otp.ts';
import { readMember } from '../members/record.ts';
import { identities, identityRef } from '../store/entities/identity.ts';
import { ORGANIC } from '../members/model.ts';
import { planWelcomeOnRegister } from '../engagement/rules.ts';
import { scheduleBirthday } from '../engagement/schedule.ts';
import type { PlanContext, PlanOutput } from './context.ts';
import { wechatIdentity } from './wechat.ts';

export async function planRegister(e: HubEventOf<'member.register'>, ctx: PlanContext): Promise<PlanOutput> {
  if (e.proof.kind === 'sms') {
    const owner = { phoneHash: e.phoneHash, appId: e.appId, openid: e.openid };
    const otp = await otps.get(ctx.store, owner);
    if (!otp || otp.codeHash !== e.proof.codeHash || otp.expiresAt * 1000 <= ctx.now) {
      throw new BadRequestError('the SMS code is wrong, expired or used up: ask for a new one', undefined, 'invalid_sms_code');
    }
    otps.consume(ctx.tx, owner, e.proof.codeHash);
  }
  const phone = { kind: 'phone' as const, value: e.phoneHash };
  const holderId = (await identities.readMany(ctx.store, [phone])).get(identityRef(phone));
  const holder = holderId ? await readMember(ctx.store, holderId) : undefined;
  if (holder?.wechat && (holder.wechat.appId !== e.appId || holder.wechat.openid !== e.openid)) throw new PhoneBoundElsewhereError(holder.memberId);
  const resolved = await ctx.resolveMember([wechatIdentity(e.appId, e.openid), phone], {
    createAs: 'member',
    seenChannel: ORGANIC,
    wechat: { appId: e.appId, openid: e.openid },
  });
  const m = resolved!.member;
  if (m.phoneHash && m.phoneHash !== e.phoneHash) {
    throw new ConflictError('this member already registered another phone number', undefined, 'phone_conflict');
  }
  const registeredAt = m.history.registeredAt;
  const first = registeredAt === undefined;
  if (first || e.occurredAt < registeredAt) m.history.registeredAt = e.occurredAt;
  m.phoneHash = e.phoneHash;
  m.phoneMasked = e.phoneMasked;
  if (e.name) m.name = e.name;
  if (e.birthday) m.birthday = e.birthday;
  if (first) planWelcomeOnRegister(ctx, m, e.appId, e.openid, e.occurredAt);
  if (first && e.birthday) scheduleBirthday(ctx, m, e.birthday, e.occurredAt);
  ctx.saveMember();
  return { memberId: m.memberId, result: { memberId: m.memberId, alreadyRegistered: !first } };
}
