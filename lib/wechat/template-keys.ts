/**
 * Typed data keys of WeChat category templates (类目模板) and subscription messages: the key's
 * name prefix declares its type (`thing3`, `amount5` …) and WeChat rejects a value that does
 * not fit with 47003 instead of shortening it (docs/platforms.md#wechat-template-messages).
 * The hub fits every value before it sends:
 *
 *   - text-like types are shortened by rule, never beyond the limit: `thing` (≤ 20 characters,
 *     an ellipsis marks the cut), `name` (≤ 10 when it holds Chinese, else ≤ 20), `phrase`
 *     (≤ 5 Chinese characters), `character_string` (≤ 32, characters outside printable ASCII
 *     dropped), `letter` (≤ 32 letters), `symbol` (≤ 5);
 *   - value types are checked and refused when they do not fit, because a cut number, amount,
 *     time or phone would say something else: `number`, `amount`, `time`, `date`,
 *     `phone_number`, `car_number`, `const` (≤ 20; only values approved with the template);
 *   - line breaks become spaces (category templates show none);
 *   - keys without a typed prefix (old-style `keyword1`, `first`, `remark`) pass unchanged.
 * Lengths count Unicode code points, so a character outside the BMP is one character.
 */

export const KEY_TYPES = [
  'thing',
  'character_string',
  'number',
  'letter',
  'symbol',
  'amount',
  'time',
  'date',
  'phone_number',
  'car_number',
  'name',
  'phrase',
  'const',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** Longest prefixes first, so `character_string` is not read as something shorter. */
const BY_LENGTH = [...KEY_TYPES].sort((a, b) => b.length - a.length);

/** The type a data key declares (`thing12` → `thing`), or undefined for an untyped key. */
export function keyTypeOf(key: string): KeyType | undefined {
  for (const t of BY_LENGTH) {
    if (key.startsWith(t) && /^\d+$/.test(key.slice(t.length))) return t;
  }
  return undefined;
}

export type Fitted = { ok: true; value: string; truncated: boolean } | { ok: false; reason: string };

const chars = (s: string): string[] => Array.from(s);
const CHINESE = /\p{Script=Han}/u;
const ELLIPSIS = '…';

/** The first `max` characters; when cut, the last one is an ellipsis (the result has `max` characters). */
function cut(value: string, max: number): { value: string; truncated: boolean } {
  const c = chars(value);
  if (c.length <= max) return { value, truncated: false };
  return { value: c.slice(0, max - 1).join('') + ELLIPSIS, truncated: true };
}

/** The first `max` characters, no ellipsis (for types whose alphabet has none). */
function head(value: string, max: number): { value: string; truncated: boolean } {
  const c = chars(value);
  return c.length <= max ? { value, truncated: false } : { value: c.slice(0, max).join(''), truncated: true };
}

const ok = (r: { value: string; truncated: boolean }): Fitted => ({ ok: true, ...r });
const refuse = (reason: string): Fitted => ({ ok: false, reason });

const NUMBER = /^-?\d+(\.\d+)?$/;
/** Optional currency symbol, ≤ 10 digits (the stricter of the two official tables), decimals, optional 元. */
const AMOUNT = /^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$/;
const TIME = /^(\d{4}年\d{1,2}月\d{1,2}日\s?|\d{4}-\d{1,2}-\d{1,2}\s)?\d{1,2}:\d{2}(:\d{2})?$/;
const DATE = /^\d{4}年\d{1,2}月\d{1,2}日(\s?\d{1,2}:\d{2}(:\d{2})?)?$|^\d{4}-\d{1,2}-\d{1,2}(\s\d{1,2}:\d{2}(:\d{2})?)?$/;
const PHONE = /^[\d+\-() ]{1,17}$/;
const CAR = /^[\p{Script=Han}A-Za-z0-9]{1,8}$/u;

/** Checks both ends of a `~` range with `one`. */
function range(value: string, one: RegExp): boolean {
  const parts = value.split('~').map((p) => p.trim());
  return parts.length <= 2 && parts.every((p) => one.test(p));
}

/** The value fitted to the key's type (see the module comment). */
export function fitValue(key: string, raw: string): Fitted {
  const type = keyTypeOf(key);
  const value = raw.replace(/[\r\n\t]+/g, ' ').trim();
  if (type === undefined) return { ok: true, value: raw, truncated: false };
  if (value === '') return refuse(`${key}: empty`);
  switch (type) {
    case 'thing':
      return ok(cut(value, 20));
    case 'name':
      return ok(cut(value, CHINESE.test(value) ? 10 : 20));
    case 'phrase': {
      if (!/^\p{Script=Han}+$/u.test(value)) return refuse(`${key}: a phrase is Chinese characters only`);
      return ok(head(value, 5));
    }
    case 'character_string': {
      const ascii = value.replace(/[^\x21-\x7e]/g, '');
      if (ascii === '') return refuse(`${key}: no digits, letters or symbols`);
      return ok({ value: head(ascii, 32).value, truncated: ascii !== value || chars(ascii).length > 32 });
    }
    case 'letter':
      if (!/^[A-Za-z]+$/.test(value)) return refuse(`${key}: letters only`);
      return ok(head(value, 32));
    case 'symbol':
      if (/[\p{L}\p{N}]/u.test(value)) return refuse(`${key}: symbols only`);
      return ok(head(value, 5));
    case 'number':
      return NUMBER.test(value) && value.length <= 32 ? ok({ value, truncated: false }) : refuse(`${key}: not a number of at most 32 digits`);
    case 'amount':
      return AMOUNT.test(value) ? ok({ value, truncated: false }) : refuse(`${key}: not an amount (currency symbol, at most 10 digits, optional 元)`);
    case 'time':
      return range(value, TIME) ? ok({ value, truncated: false }) : refuse(`${key}: not a 24-hour time (15:01, 2019年10月1日 15:01)`);
    case 'date':
      return range(value, DATE) ? ok({ value, truncated: false }) : refuse(`${key}: not a date (2019年10月1日)`);
    case 'phone_number':
      return PHONE.test(value) ? ok({ value, truncated: false }) : refuse(`${key}: not a phone number of at most 17 digits and symbols`);
    case 'car_number':
      return CAR.test(value) ? ok({ value, truncated: false }) : refuse(`${key}: not a car number of at most 8 characters`);
    case 'const':
      return chars(value).length <= 20 ? ok({ value, truncated: false }) : refuse(`${key}: a const value is at most 20 characters`);
  }
}

/** `{{name}}` placeholders of a mapping value filled from `vars`; a missing variable is an error. */
export function fillPlaceholders(template: string, vars: Readonly<Record<string, unknown>>): { ok: true; value: string } | { ok: false; missing: string } {
  let missing: string | undefined;
  const value = template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    missing ??= name;
    return '';
  });
  return missing === undefined ? { ok: true, value } : { ok: false, missing };
}
