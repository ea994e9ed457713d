/**
 * Phone numbers never reach the archive in clear (the table's rule, lib/members/phone.ts): a
 * mainland mobile that follows a key naming a phone (`buyer_phone`, `receiver_mobile`, `tel`,
 * in JSON, in URL-encoded JSON such as Youzan's `msg`, or in XML) is replaced by its masked form
 * (`138****8000`, as the table shows it). That is no phone any more, so the current normaliser
 * drops it when a request is rebuilt, and lib/analytics/rebuild.ts adds the phone identity back
 * from the archived event (which carries the HMAC, as the table does). No key is needed here, so
 * a webhook function without the `keys` secret group archives as safely as one with it.
 */
import { maskPhone } from '../members/phone.ts';

// key …(phone|mobile|tel)… then up to 16 separator characters (quotes, colons, =, >, spaces, their
// %-encodings, backslashes), then the number (+86 / 86 prefix allowed), not followed by a digit.
const PHONE_AFTER_KEY = /((?:phone|mobile|tel)[A-Za-z_]*(?:"|%22|\\"|'|:|%3A|=|%3D|>|\s|\\|\+|%2B){1,16})((?:86)?(1[3-9]\d{9}))(?!\d)/gi;

/** The text with every keyed phone number masked. */
export function redactPhones(text: string): string {
  return text.replace(PHONE_AFTER_KEY, (_m, key: string, _phone: string, mobile: string) => `${key}${maskPhone(mobile)}`);
}

/** True when the text still holds something shaped like a mainland mobile after a phone key. */
export const holdsPhone = (text: string): boolean => new RegExp(PHONE_AFTER_KEY.source, 'i').test(text);
