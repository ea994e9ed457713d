/**
 * member.register: the member centre binds a proven phone; the fan becomes a member. The
 * conversion counters follow from the history (registration time), inside this transaction.
 *
 * - An SMS proof is consumed here: the code row is deleted under a condition on its HMAC, so a
 *   code serves one registration (a second use re-plans, finds no row → 400).
 * - A phone whose identity row leads to a record of another WeChat person is refused
 *   (PhoneBoundElsewhereError → a uniform 409 in lib/apply/register-member.ts); never merged.
 * - A first registration through a referral link credits the referrer (lib/loyalty/referrals.ts).
 */
import type { HubEventOf } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { BadRequestError, ConflictError, PhoneBoundElsewhereError } from '../../errors.ts';
import { otps } from '../../store/entities/otp.ts';
import { identityRef } from '../../store/entities/identity.ts';
import { ORGANIC } from '../../members/model.ts';
import type { StoredMember } from '../../members/record.ts';
import { resolveMember, saveMember, unionidIdentity, wechatIdentity } from '../../members/identity.ts';
import { presenceOn } from '../../members/model.ts';
import { planEngagement } from '../../engagement/rules/plan.ts';
import { recordConsent } from './consent.ts';
import { planReferral } from '../../loyalty/referrals.ts';

/**
 * Whether the record holding the phone is the caller: the same address on the caller's app, or
 * (several apps) the same unionid. A record with no WeChat address (orders only) is no other person.
 */
function samePerson(holder: StoredMember, e: HubEventOf<'member.register'>): boolean {
  if (!holder.wechat && !holder.apps) return true;
  if (holder.wechat?.appId === e.appId && holder.wechat.openid === e.openid) return true;
  if (holder.apps?.[e.appId]?.openid === e.openid) return true;
  return e.unionid !== undefined && holder.unionid === e.unionid;
}

/** The registration's planner (the members function applies only these and CONSENT_PLANNERS). */
export const REGISTER_PLANNERS: Planners<HubEventOf<'member.register'>> = { 'member.register': planRegister };

export async function planRegister(e: HubEventOf<'member.register'>, p: Port): Promise<PlanOutput> {
  if (e.proof.kind === 'sms') {
    const owner = { phoneHash: e.phoneHash, appId: e.appId, openid: e.openid };
    const otp = await p.reads.otp(owner);
    if (!otp || otp.codeHash !== e.proof.codeHash || otp.expiresAt * 1000 <= p.now) {
      throw new BadRequestError('the SMS code is wrong, expired or used up: ask for a new one', undefined, 'invalid_sms_code');
    }
    otps.consume(p.tx, owner, e.proof.codeHash);
  }
  const phone = { kind: 'phone' as const, value: e.phoneHash };
  const holderId = (await p.reads.identities([phone])).get(identityRef(phone));
  const holder = holderId ? await p.reads.member<StoredMember>(holderId) : undefined;
  if (holder && !samePerson(holder, e)) throw new PhoneBoundElsewhereError(holder.memberId);
  const ids = [wechatIdentity(e.appId, e.openid), phone, ...(e.unionid ? [unionidIdentity(e.unionid)] : [])];
  const resolved = await resolveMember(p, e, ids, {
    createAs: 'member',
    seenChannel: ORGANIC,
    wechat: { appId: e.appId, openid: e.openid },
  });
  const m = resolved!.member;
  if (p.cfg.wechatApps.length > 1) presenceOn(m, e.appId, e.openid);
  if (e.unionid) m.unionid = e.unionid;
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
  if (e.privacyPolicyVersion !== undefined || e.marketingConsent !== undefined) {
    recordConsent(p, m, e, { marketing: e.marketingConsent ?? m.consent?.marketing ?? false, channel: 'register', ...(e.privacyPolicyVersion ? { policyVersion: e.privacyPolicyVersion } : {}) });
  }
  if (first) {
    const trigger = { kind: 'first_registration' as const, appId: e.appId, openid: e.openid, at: e.occurredAt };
    planEngagement(p, e.birthday ? { ...trigger, birthday: e.birthday } : trigger, m);
    if (e.referral) await planReferral(p, m, e.referral, e.occurredAt);
  }
  saveMember(p, e, resolved!);
  return { memberId: m.memberId, result: { memberId: m.memberId, alreadyRegistered: !first } };
}
