/**
 * SMS one-time codes that prove a phone (POST /members/sms-code, then POST /members with
 * `smsCode`):
 * - 6 digits from the CSPRNG, valid 5 minutes, single use (the registration's commit deletes
 *   the row under a condition on its hash, so two uses cannot both succeed), at most 5 wrong
 *   tries; bound to the person who asked (appId + openid) and the phone;
 * - stored only as an HMAC (HUB_OTP_SECRET) over the code, the caller and the phone's HMAC, in
 *   a row DynamoDB's TTL removes;
 * - sends are limited per phone and per WeChat user: one a minute, and HUB_OTP_SENDS_PER_PHONE_DAY
 *   / HUB_OTP_SENDS_PER_OPENID_DAY per local day (conditional counters in the same commit as
 *   the code) → 429 with Retry-After;
 * - the answer is the same whether or not the phone belongs to a member: nothing about members
 *   is read on this path.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { BadRequestError, TooManyRequestsError } from '../errors.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { otpLimitTag, otps, otpSendSubject, type OtpOwner, type OtpRow } from '../store/entities/otp.ts';
import { localDay, startOfLocalDay } from '../time.ts';
import type { SmsSender } from '../sms/index.ts';
import type { WechatApi } from '../wechat/wire.ts';
import type { Store } from '../store/client.ts';
import { CallerFields, identifyCaller, issues, type Caller } from './caller.ts';
import { hashPhone, normalisePhone } from './phone.ts';

export const OTP_TTL_SECONDS = 300;
export const OTP_MAX_TRIES = 5;
export const OTP_RESEND_SECONDS = 60;

export const SmsCodeRequest = z.strictObject({ ...CallerFields, phone: z.string().min(1).max(32) });

export function otpHash(secret: string, caller: Caller, phoneHash: string, code: string): string {
  return createHmac('sha256', secret).update(`otp|${caller.appId}|${caller.openid}|${phoneHash}|${code}`).digest('hex');
}

export interface SmsCodeDeps {
  cfg: HubConfig;
  api: WechatApi;
  /** The client of any configured app (a mini program's loginCode). */
  wechat?: (appId: string) => WechatApi;
  sms: SmsSender | undefined;
  store: Store;
  now?: () => number;
}

/** POST /members/sms-code: the same answer for every phone; 429 past the limits. */
export async function sendSmsCode(body: unknown, deps: SmsCodeDeps) {
  const parsed = SmsCodeRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid sms-code request', issues(parsed.error));
  if (!deps.sms) throw new BadRequestError('SMS codes are not enabled: prove the phone with the mini program phone-number component (phoneCode)', undefined, 'sms_unavailable');
  const phone = normalisePhone(parsed.data.phone);
  const caller = await identifyCaller(parsed.data, deps);
  const { cfg, store } = deps;
  const now = (deps.now ?? Date.now)();
  const phoneHash = hashPhone(phone, cfg.PHONE_HASH_SECRET);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const day = localDay(now, cfg.HUB_TIMEZONE);
  const limits: [string, number][] = [
    [otpSendSubject.phone(phoneHash), cfg.HUB_OTP_SENDS_PER_PHONE_DAY],
    [otpSendSubject.wechat(caller.appId, caller.openid), cfg.HUB_OTP_SENDS_PER_OPENID_DAY],
  ];
  const tx = new Tx(store.table);
  for (const [subject, max] of limits) {
    otps.countSend(tx, subject, day, { max, now, resendAfter: now - OTP_RESEND_SECONDS * 1000, expiresAt: Math.floor(now / 1000) + 2 * 86_400 });
  }
  const owner: OtpOwner = { phoneHash, appId: caller.appId, openid: caller.openid };
  const row: OtpRow = { codeHash: otpHash(cfg.HUB_OTP_SECRET, caller, phoneHash, code), tries: 0, sentAt: now, expiresAt: Math.floor(now / 1000) + OTP_TTL_SECONDS };
  otps.put(tx, owner, row);
  try {
    await tx.commit(store.db);
  } catch (err) {
    if (!(err instanceof TxConditionFailed)) throw err;
    const full = err.oldItems.some((old, i) => Number(old?.n ?? 0) >= (limits.find(([s]) => otpLimitTag(s) === err.tags[i])?.[1] ?? Infinity));
    const retryAfter = full ? Math.max(1, Math.ceil((startOfLocalDay(day, cfg.HUB_TIMEZONE) + 86_400_000 - now) / 1000)) : OTP_RESEND_SECONDS;
    throw new TooManyRequestsError(full ? 'too many codes today; try again tomorrow' : `wait ${OTP_RESEND_SECONDS} s before asking for another code`, retryAfter);
  }
  try {
    await deps.sms.sendCode(phone, code, OTP_TTL_SECONDS / 60);
  } catch (err) {
    // The text did not go out: its code must not stay usable (the sends still count).
    await otps.delete(store, owner).catch(() => undefined);
    throw err;
  }
  return { sent: true, expiresInSeconds: OTP_TTL_SECONDS, resendAfterSeconds: OTP_RESEND_SECONDS };
}

const invalidCode = () => new BadRequestError('the SMS code is wrong, expired or used up: ask for a new one', undefined, 'invalid_sms_code');

/**
 * Checks `code` for (caller, phone) without consuming it; returns its HMAC for the registration
 * commit, which deletes the row. A wrong code counts a try (5 at most).
 */
export async function checkSmsCode(store: Store, cfg: HubConfig, caller: Caller, phoneHash: string, code: string, now: number): Promise<string> {
  if (!/^\d{6}$/.test(code)) throw invalidCode();
  const owner: OtpOwner = { phoneHash, appId: caller.appId, openid: caller.openid };
  const row = await otps.get(store, owner);
  if (!row || row.expiresAt * 1000 <= now || row.tries >= OTP_MAX_TRIES) throw invalidCode();
  const hash = otpHash(cfg.HUB_OTP_SECRET, caller, phoneHash, code);
  if (!timingSafeEqual(Buffer.from(hash), Buffer.from(String(row.codeHash)))) {
    // false: a concurrent wrong try counted already; a failed write leaves the try uncounted.
    await otps.countWrongTry(store, owner, row.tries).catch(() => false);
    throw invalidCode();
  }
  return hash;
}
