/**
 * The edges of the commerce request verifiers: query shapes, the freshness boundary, sign
 * methods, signed headers and the refusal reasons. Expected signatures are computed here with
 * node:crypto directly from the documented rules (lib/sources/tmall/sign.ts, jd/sign.ts and youzan/sign.ts headers, docs/platforms.md),
 * never with the module's signers.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hexDigestEquals, parseRequestTimestamp, topSortedConcat } from '../../lib/sources/commerce/sign-common.ts';
import { verifyJdRequest } from '../../lib/sources/jd/sign.ts';
import { signTopParams, verifyTmallRequest, verifyTopRequest } from '../../lib/sources/tmall/sign.ts';
import { verifyYouzanPush } from '../../lib/sources/youzan/sign.ts';
import { expectSignatureError } from '../support/errors.ts';

const SECRET = 'test-secret';
const NOW = 1_700_000_000_000;
const md5Upper = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
/** TOP / JD md5 rule by hand: secret + sorted k+v (no sign, no empty) + body + secret. */
function md5Sign(params: Record<string, string>, body: string): string {
  const s = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => k + params[k])
    .join('');
  return md5Upper(SECRET + s + body + SECRET);
}
const BODY = '{"tid":"1"}';

function topQuery(over: Record<string, string> = {}): Record<string, string> {
  const q = { app_key: 'k1', timestamp: String(NOW), sign_method: 'md5', ...over };
  return { ...q, sign: md5Sign(q, BODY) };
}

describe('signing rules', () => {
  it('leaves out a parameter with an empty name and `sign`', () => {
    expect(topSortedConcat({ '': 'x', b: '2', a: '1', sign: 'S' })).toBe('a1b2');
  });
  it('an unknown sign method is refused', () => {
    expectSignatureError(() => signTopParams({ a: '1' }, SECRET, 'sha1' as 'md5'), /unsupported sign_method "sha1"/);
  });
  it('hmac and hmac-sha256 over a byte body equal the same over its text', () => {
    const bytes = new TextEncoder().encode(BODY);
    expect(signTopParams({ a: '1' }, SECRET, 'hmac', bytes)).toBe(createHmac('md5', SECRET).update('a1' + BODY).digest('hex').toUpperCase());
    expect(signTopParams({ a: '1' }, SECRET, 'hmac-sha256', bytes)).toBe(createHmac('sha256', SECRET).update('a1' + BODY).digest('hex').toUpperCase());
  });
  it('hexDigestEquals ignores case and surrounding blanks of the given digest only', () => {
    expect(hexDigestEquals('  abc123 ', 'ABC123')).toBe(true);
    expect(hexDigestEquals('abc12', 'ABC123')).toBe(false);
  });
  it('parseRequestTimestamp: exactly 13 digits are epoch ms; anything around them is not', () => {
    expect(parseRequestTimestamp(' 1700000000000 ')).toBe(NOW);
    expect(parseRequestTimestamp('1700000000000x')).toBeUndefined();
    expect(parseRequestTimestamp('x1700000000000')).toBeUndefined();
    expect(parseRequestTimestamp('17000000000000')).toBeUndefined();
  });
});

describe('verifyTopRequest', () => {
  const verify = (query: Record<string, string | string[] | undefined>, extra: Partial<Parameters<typeof verifyTopRequest>[0]> = {}) =>
    verifyTopRequest({ query, rawBody: BODY, secret: SECRET, now: NOW, ...extra });

  it('accepts one-element arrays (an HTTP layer that always gives arrays) and refuses a repeated parameter', () => {
    const q = topQuery();
    const arrays = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, [v]]));
    expect(verify(arrays)).toEqual({ appKey: 'k1', signMethod: 'md5', timestamp: NOW });
    expectSignatureError(() => verify({ ...q, nonce: ['a', 'b'] }), /query parameter "nonce" is repeated/);
  });
  it('a blank sign is missing, not a mismatch', () => {
    expectSignatureError(() => verify({ ...topQuery(), sign: '   ' }), /missing query parameter "sign"/);
  });
  it('an unsupported method is named (at most 32 characters of it)', () => {
    expectSignatureError(() => verify(topQuery({ sign_method: 'sha1' })), /unsupported sign_method "sha1" \(md5, hmac, hmac-sha256\)/);
    const long = 'x'.repeat(40);
    expectSignatureError(() => verify(topQuery({ sign_method: long })), new RegExp(`unsupported sign_method "${'x'.repeat(32)}" `));
  });
  it('freshness: exactly the window is accepted, one ms beyond it is stale, with both numbers in seconds', () => {
    const skew = 300_000;
    expect(verify(topQuery({ timestamp: String(NOW - skew) })).timestamp).toBe(NOW - skew);
    expectSignatureError(() => verify(topQuery({ timestamp: String(NOW - skew - 1000) })), /stale timestamp: 301 s from server time exceeds 300 s/);
    expectSignatureError(() => verify(topQuery({ timestamp: String(NOW + 600_000) }), { maxSkewMs: 120_000 }), /stale timestamp: -600 s from server time exceeds 120 s/);
  });
  it('an unreadable timestamp is quoted, cut to 40 characters', () => {
    const ts = '2023-11-15 06:13:20 but then much more text follows here';
    expectSignatureError(() => verify(topQuery({ timestamp: ts })), /^timestamp "2023-11-15 06:13:20 but then much more t" is not/);
  });
  it('headers named in top-sign-list (blanks around names allowed) are signed too', () => {
    const headers = { 'top-sign-list': ' x-a , x-b,', 'X-A': '1', 'x-b': '2' };
    const q = { app_key: 'k1', timestamp: String(NOW), sign_method: 'md5' };
    const sign = md5Sign({ ...q, 'x-a': '1', 'x-b': '2' }, BODY);
    expect(verify({ ...q, sign }, { headers }).appKey).toBe('k1');
    // Signed without the headers: refused, because the list names them.
    expectSignatureError(() => verify({ ...q, sign: md5Sign(q, BODY) }, { headers }), /signature mismatch \(sign_method md5\)/);
  });
});

describe('verifyJdRequest', () => {
  const jd = (over: Record<string, string> = {}) => {
    const q = { app_key: 'jd1', timestamp: String(NOW), ...over };
    return { ...q, sign: md5Sign(q, BODY) };
  };
  const verify = (query: Record<string, string>, appKey?: string) => verifyJdRequest({ query, rawBody: BODY, secret: SECRET, now: NOW, ...(appKey ? { appKey } : {}) });

  it('accepts no sign_method, an empty one and md5 in any case; refuses others, named and cut', () => {
    for (const m of [undefined, '', 'md5', 'MD5']) expect(verify(jd(m === undefined ? {} : { sign_method: m })).appKey).toBe('jd1');
    expectSignatureError(() => verify(jd({ sign_method: 'hmac' })), /unsupported sign_method "hmac" \(JD uses md5\)/);
    expectSignatureError(() => verify(jd({ sign_method: 'h'.repeat(40) })), new RegExp(`"${'h'.repeat(32)}" \\(JD`));
  });
  it('checks the app key when the endpoint names one', () => {
    expect(verify(jd(), 'jd1').appKey).toBe('jd1');
    expectSignatureError(() => verify(jd(), 'jd2'), /app_key does not match this endpoint/);
  });
});

describe('verifyYouzanPush', () => {
  const sign = createHash('md5').update('cid' + BODY + 'csecret', 'utf8').digest('hex');
  it('a blank Event-Sign is missing; a given one is compared ignoring blanks and case', () => {
    expectSignatureError(() => verifyYouzanPush({ eventSign: '  ', rawBody: BODY, clientId: 'cid', clientSecret: 'csecret' }), /missing Event-Sign header/);
    expect(() => verifyYouzanPush({ eventSign: ` ${sign.toUpperCase()} `, rawBody: BODY, clientId: 'cid', clientSecret: 'csecret' })).not.toThrow();
    expectSignatureError(() => verifyYouzanPush({ headers: { 'Event-Sign': sign }, rawBody: BODY + ' ', clientId: 'cid', clientSecret: 'csecret' }), /Event-Sign mismatch/);
  });
});

describe('verifyTmallRequest: the configured app, its secret and the webhook window in seconds', () => {
  const cfg = { TMALL_APP_KEY: 'k1', TMALL_APP_SECRET: SECRET, HUB_WEBHOOK_MAX_SKEW_SECONDS: 60 };
  // A request signed at NOW and received `lateMs` later, with the signed header of the list.
  const received = (lateMs: number, over: Record<string, string> = {}) => {
    const q = { app_key: 'k1', timestamp: String(NOW), sign_method: 'md5', ...over };
    return { query: { ...q, sign: md5Sign({ ...q, 'x-a': '1' }, BODY) }, body: BODY, receivedAt: NOW + lateMs, headers: { 'top-sign-list': 'x-a', 'x-a': '1' } };
  };
  it('accepts a request 59 s old (60 s window = 60,000 ms) with its signed header, and names the app and method', () => {
    expect(verifyTmallRequest(received(59_000), cfg)).toEqual({ appKey: 'k1', signMethod: 'md5', timestamp: NOW });
  });
  it('refuses one 61 s old, another app key, and one without its signed header', () => {
    expectSignatureError(() => verifyTmallRequest(received(61_000), cfg), /timestamp/);
    expectSignatureError(() => verifyTmallRequest(received(0, { app_key: 'k2' }), cfg), /app_key/);
    expectSignatureError(() => verifyTmallRequest({ ...received(0), headers: {} }, cfg), /signature mismatch/);
  });
});
