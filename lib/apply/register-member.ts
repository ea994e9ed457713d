/**
 * The member centre's registration (POST /members): who is calling (identifyCaller), proof that
 * the caller holds the phone, then `member.register`. Everything is checked before any write.
 *
 * - Proof of possession is required: `phoneCode` from the mini program's phone-number
 *   component (exchanged with WeChat `wxa/business/getuserphonenumber`; its number must be the
 *   one given) or `smsCode` from POST /members/sms-code (otp.ts). Neither → 400
 *   `phone_proof_required`, nothing written.
 * - The answer is the caller's own view only: member id, status, masked phone, points, tier.
 * - A phone bound to another WeChat person → one uniform 409 `phone_unavailable` that says
 *   nothing about the other record; nothing is merged and the attempt is recorded for review
 *   (a `registration` refusal row). A phone known only from orders (no WeChat person) joins the
 *   caller's record: the caller proved it holds that phone.
 */
import * as z from 'zod';
import { BadRequestError, ConflictError, PhoneBoundElsewhereError, UpstreamApiError } from '../errors.ts';
import type { HubConfig } from '../config/index.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { Birthday, PolicyVersion, type PhoneProof } from '../events/hub-event.ts';
import { hashPhone, maskPhone, normalisePhone } from '../members/phone.ts';
import { applyWith } from './apply-with.ts';
import { REGISTER_PLANNERS } from './planners/register.ts';
import type { ApplyDeps } from '../port.ts';
import { readMember } from '../members/record.ts';
import { ownView } from '../members/view.ts';
import type { Store } from '../store/client.ts';
import { refusals } from '../store/entities/refusal.ts';
import { localDay } from '../time.ts';
import { newId, stableId } from '../ids.ts';
import { CallerFields, identifyCaller, issues, type Caller } from '../members/caller.ts';
import { checkSmsCode } from '../members/otp.ts';
import { readReferralToken } from '../loyalty/referrals.ts';

export const RegisterRequest = z.strictObject({
  ...CallerFields,
  phone: z.string().min(1).max(32),
  phoneCode: z.string().min(1).max(512).optional(),
  smsCode: z.string().min(1).max(16).optional(),
  name: z.string().trim().min(1).max(64).optional(),
  birthday: Birthday.optional(),
  /** The privacy-policy version the form showed and the person accepted (docs/privacy.md#consent). */
  privacyPolicyVersion: PolicyVersion.optional(),
  /** The separate marketing consent (its own tick box, never pre-ticked); absent: not given. */
  marketingConsent: z.boolean().optional(),
  /** The signed token of a referral link (lib/loyalty/referrals.ts); a bad one is recorded, never refused. */
  referralToken: z.string().min(1).max(600).optional(),
});

/** The one answer for a phone bound to someone else, whatever that record is. */
export const phoneUnavailable = () =>
  new ConflictError('this phone number cannot be bound to this WeChat account; please contact customer service', undefined, 'phone_unavailable');

export interface RegisterDeps {
  cfg: HubConfig;
  /** The default account's client. */
  api: WechatApi;
  /** The client of any configured app (the caller's app exchanges its codes). */
  wechat?: (appId: string) => WechatApi;
  apply: ApplyDeps;
  now?: () => number;
}

/** The phone a `phoneCode` proves (mainland numbers only), checked against the one given. */
async function provenByWechat(api: WechatApi, code: string, phone: string): Promise<void> {
  let info;
  try {
    info = await api.phoneNumber(code);
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) throw new BadRequestError('the phoneCode was rejected by WeChat (expired, used or of another app)', undefined, 'invalid_phone_code');
    throw err;
  }
  let proven: string | undefined;
  try {
    proven = info.countryCode === '86' ? normalisePhone(info.purePhoneNumber) : undefined;
  } catch {
    proven = undefined;
  }
  if (proven !== phone) throw new BadRequestError('the phoneCode proves another phone number than the one given', undefined, 'phone_mismatch');
}

export async function register(body: unknown, deps: RegisterDeps) {
  const parsed = RegisterRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid registration', issues(parsed.error));
  const req = parsed.data;
  const phone = normalisePhone(req.phone);
  if (req.phoneCode === undefined && req.smsCode === undefined) {
    throw new BadRequestError('binding a phone needs proof: phoneCode (mini program phone component) or smsCode (POST /members/sms-code)', undefined, 'phone_proof_required');
  }
  if (req.phoneCode !== undefined && req.smsCode !== undefined) throw new BadRequestError('give phoneCode or smsCode, not both', ['smsCode: unexpected with phoneCode']);
  const caller = await identifyCaller(req, deps);
  const store: Store = { db: deps.apply.db, table: deps.apply.table };
  const now = (deps.now ?? Date.now)();
  const phoneHash = hashPhone(phone, deps.cfg.PHONE_HASH_SECRET);
  let proof: PhoneProof;
  if (req.phoneCode !== undefined) {
    await provenByWechat(deps.wechat ? deps.wechat(caller.appId) : deps.api, req.phoneCode, phone);
    proof = { kind: 'wechat_phone_code' };
  } else {
    proof = { kind: 'sms', codeHash: await checkSmsCode(store, deps.cfg, caller, phoneHash, req.smsCode!, now) };
  }
  let result;
  try {
    result = await applyWith(
      REGISTER_PLANNERS,
      {
        type: 'member.register',
        source: 'members',
        // The phone's HMAC is an identity value: the dedupe key (shown in merge records) carries a digest of it.
        eventId: `members:register:${caller.appId}:${caller.openid}:${stableId('register-phone', phoneHash)}`,
        occurredAt: now,
        appId: caller.appId,
        openid: caller.openid,
        phoneHash,
        phoneMasked: maskPhone(phone),
        proof,
        ...(caller.unionid ? { unionid: caller.unionid } : {}),
        ...(req.name ? { name: req.name } : {}),
        ...(req.birthday ? { birthday: req.birthday } : {}),
        ...(req.privacyPolicyVersion ? { privacyPolicyVersion: req.privacyPolicyVersion } : {}),
        ...(req.marketingConsent !== undefined ? { marketingConsent: req.marketingConsent } : {}),
        ...(req.referralToken ? { referral: readReferralToken(deps.cfg, req.referralToken, now) } : {}),
      },
      deps.apply,
    );
  } catch (err) {
    if (!(err instanceof PhoneBoundElsewhereError)) throw err;
    await recordBoundElsewhere(store, deps.cfg, caller, phoneHash, err.otherMemberId, now);
    throw phoneUnavailable();
  }
  const member = await readMember(store, result.memberId!);
  return { status: result.status, member: member ? ownView(member) : undefined };
}

/** The refused attempt, for review: who asked, for which phone (its HMAC) and whose record holds it. */
async function recordBoundElsewhere(store: Store, cfg: HubConfig, caller: Caller, phoneHash: string, otherMemberId: string, now: number): Promise<void> {
  const refusal = { kind: 'registration', reason: 'phone_bound_elsewhere', openid: `${caller.appId}:${caller.openid}`, phoneHash, heldBy: otherMemberId, at: now };
  await refusals.put(store, localDay(now, cfg.HUB_TIMEZONE), newId(now), refusal, now, cfg.HUB_REFUSAL_RETENTION_DAYS);
}
