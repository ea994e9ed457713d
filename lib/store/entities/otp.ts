/**
 * SMS one-time codes (lib/members/otp.ts).
 * - The code: `OTP#<phoneHash>` | `<appId>:<openid>`, its HMAC (`codeHash`), `tries`, `sentAt`;
 *   TTL 5 minutes; deleted by the registration that uses it.
 * - Send limits: `OTPLIMIT#<subject>` | `<local day>`, subject `phone#<phoneHash>` or
 *   `wechat#<appId>:<openid>`, with `n` sends and `lastAt`; TTL 2 days.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { ForeignKeyError, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, stripKeys, updateIf } from '../item-ops.ts';

const OTP_PREFIX = 'OTP';
const LIMIT_PREFIX = 'OTPLIMIT';

export interface OtpRow {
  codeHash: string;
  tries: number;
  sentAt: number;
  expiresAt: number;
}

export interface OtpOwner {
  phoneHash: string;
  appId: string;
  openid: string;
}

export const otpKey = (o: OtpOwner): Key => ({ pk: `${OTP_PREFIX}#${o.phoneHash}`, sk: `${o.appId}:${o.openid}` });
export function parseOtpKey(k: Key): OtpOwner {
  const phoneHash = splitKey(k.pk, OTP_PREFIX, 1, 'otp')[0]!;
  const i = k.sk.indexOf(':');
  if (i <= 0 || i === k.sk.length - 1) throw new ForeignKeyError(`${k.pk} ${k.sk}`, 'otp');
  return { phoneHash, appId: k.sk.slice(0, i), openid: k.sk.slice(i + 1) };
}

/** Who sends are limited for. */
export const otpSendSubject = {
  phone: (phoneHash: string): string => `phone#${phoneHash}`,
  wechat: (appId: string, openid: string): string => `wechat#${appId}:${openid}`,
};
export const otpSendLimitKey = (subject: string, localDay: string): Key => ({ pk: `${LIMIT_PREFIX}#${subject}`, sk: localDay });
export function parseOtpSendLimitKey(k: Key): { subject: string; day: string } {
  return { subject: splitKey(k.pk, LIMIT_PREFIX, 1, 'otp send limit')[0]!, day: k.sk };
}
/** `OTP#<phoneHash>`: the SMS codes sent to one phone (any caller). */
export const otpPartition = (phoneHash: string): string => `${OTP_PREFIX}#${phoneHash}`;
/** The send-limit partitions of a phone (HMAC) and of a WeChat address (`<appId>:<openid>`), every day. */
export function otpLimitPartitions(o: { phoneHash?: string; wechat?: string }): string[] {
  return [...(o.phoneHash ? [`${LIMIT_PREFIX}#phone#${o.phoneHash}`] : []), ...(o.wechat ? [`${LIMIT_PREFIX}#wechat#${o.wechat}`] : [])];
}

/** The transaction tag of a subject's send counter. */
export const otpLimitTag = (subject: string): string => `limit:${subject}`;

export const otps = {
  /**
   * Counts a send for `subject` in `tx` (tag otpLimitTag): fails the commit when the subject has
   * `max` sends today or sent one after `resendAfter`.
   */
  countSend(tx: Tx, subject: string, localDay: string, o: { max: number; now: number; resendAfter: number; expiresAt: number }): void {
    tx.update(
      otpLimitTag(subject),
      otpSendLimitKey(subject, localDay),
      { update: 'SET lastAt = :now, expiresAt = :exp ADD n :one', values: { ':now': o.now, ':exp': o.expiresAt, ':one': 1 } },
      { expr: 'attribute_not_exists(pk) OR (n < :max AND lastAt <= :cut)', values: { ':max': o.max, ':cut': o.resendAfter } },
    );
  },

  /** Stores the code in `tx` (tag `otp`), replacing an earlier one. */
  put(tx: Tx, owner: OtpOwner, row: OtpRow): void {
    tx.put('otp', otpKey(owner), { ...row });
  },

  async get(s: Store, owner: OtpOwner): Promise<OtpRow | undefined> {
    const item = await getItem(s, otpKey(owner), { consistent: true });
    return item ? (stripKeys(item) as unknown as OtpRow) : undefined;
  },

  async delete(s: Store, owner: OtpOwner): Promise<void> {
    await s.db.send(new DeleteCommand({ TableName: s.table, Key: otpKey(owner) }));
  },

  /** Counts a wrong try if the row still has `tries`; false when another try counted first. */
  countWrongTry(s: Store, owner: OtpOwner, tries: number): Promise<boolean> {
    return updateIf(s, { Key: otpKey(owner), UpdateExpression: 'SET tries = tries + :one', ConditionExpression: 'tries = :t', ExpressionAttributeValues: { ':one': 1, ':t': tries } });
  },

  /** Consumes the code in `tx` (tag `otp`): fails the commit unless the row still holds `codeHash`. */
  consume(tx: Tx, owner: OtpOwner, codeHash: string): void {
    tx.delete('otp', otpKey(owner), { expr: 'codeHash = :h', values: { ':h': codeHash } });
  },
};
