/**
 * The person's identifiers as an erasure looks for them (lib/privacy/erase.ts): member ids,
 * openids, unionid, phone HMAC, platform buyer ids. An item or an archive line holds one when the
 * value appears in it as a whole field — bounded by anything that cannot continue an id (`#`, `:`,
 * quotes, `<`, `>` …) — so `MEMBER#<id>`, `SCANLIMIT#<appId>:<openid>`, a JSON value and an XML
 * `<FromUserName>` all match, and a longer id that merely contains it does not.
 */
import type { Identity } from '../events/hub-event.ts';

/** Shorter values are not searched for (they could be part of anything); their rows are found by key. */
export const MIN_TOKEN_LENGTH = 6;

/** The value an identity contributes: scoped values (`<appId>:<openid>`, `<corpId>:<external_userid>`) give the person's part only. */
export function identityToken(i: { kind: Identity['kind'] | string; value: string }): string {
  const scoped = i.kind === 'wechat_openid' || i.kind === 'wecom_external_userid' || i.kind === 'youzan_outer_user_id';
  return scoped ? i.value.slice(i.value.indexOf(':') + 1) : i.value;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One matcher for a set of tokens. A token of digits only (some platforms' buyer ids) must stand
 * after a key or string delimiter, so it never matches a JSON number (an amount, a timestamp).
 */
export function tokenMatcher(tokens: readonly string[]): (text: string) => boolean {
  const usable = [...new Set(tokens)].filter((t) => t.length >= MIN_TOKEN_LENGTH);
  if (!usable.length) return () => false;
  const words = usable.filter((t) => !/^\d+$/.test(t)).map(escape);
  const digits = usable.filter((t) => /^\d+$/.test(t));
  const parts: string[] = [];
  if (words.length) parts.push(`(?<![A-Za-z0-9_-])(?:${words.join('|')})(?![A-Za-z0-9_-])`);
  if (digits.length) parts.push(`(?<=[#"'|>=/])(?:${digits.join('|')})(?![0-9])`);
  const re = new RegExp(parts.join('|'));
  return (text) => re.test(text);
}
