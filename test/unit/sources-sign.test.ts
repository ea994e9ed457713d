import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDigestEquals, parseRequestTimestamp, topSortedConcat } from '../../lib/sources/commerce/sign-common.ts';
import { signJdParams, verifyJdRequest } from '../../lib/sources/jd/sign.ts';
import { signTmcConnect, signTopParams, verifyTopRequest, type TopSignMethod } from '../../lib/sources/tmall/sign.ts';
import { verifyYouzanPush, youzanEventSign, youzanLegacySign } from '../../lib/sources/youzan/sign.ts';
import { formatChinaTime } from '../../lib/sources/commerce/time.ts';
import { jdSignedQuery, topSignedQuery } from '../support/commerce-client.ts';
import { expectSignatureError } from '../support/errors.ts';

interface Vector {
  name: string;
  secret: string;
  params?: Record<string, string>;
  stringToSign: string;
  expected: string;
}
const vectors = (
  JSON.parse(readFileSync(new URL('../fixtures/orders/signature-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors;
const vector = (name: string): Vector => {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};
const tmcBody = readFileSync(new URL('../../events/tmall/taobao-tmc-trade-success.json', import.meta.url), 'utf8');

const YZ_CLIENT = '6a0b1b2c3d4e5f6a7b';
const YZ_SECRET = '0123456789abcdef0123456789abcdef';
const SECRET = 'helloworld';
const NOW = Date.UTC(2024, 10, 20, 2, 2, 40); // 2024-11-20 10:02:40 GMT+8

/** The JD vector's parameters, cut out of its published string to sign (never retyped). */
function jdVectorParams(v: Vector): Record<string, string> {
  const inner = v.stringToSign.slice(v.secret.length, v.stringToSign.length - v.secret.length);
  const keys = ['360buy_param_json', 'access_token', 'app_key', 'method', 'timestamp', 'v'];
  const params: Record<string, string> = {};
  let rest = inner;
  keys.forEach((k, i) => {
    expect(rest.startsWith(k)).toBe(true);
    rest = rest.slice(k.length);
    const next = keys[i + 1];
    const end = next === undefined ? rest.length : rest.indexOf(next);
    params[k] = rest.slice(0, end);
    rest = rest.slice(end);
  });
  return params;
}

describe('official and computed vectors', () => {
  it('TOP md5 official vector (docId=101617)', () => {
    const v = vector('top-md5-official');
    expect(`${v.secret}${topSortedConcat(v.params!)}${v.secret}`).toBe(v.stringToSign);
    expect(signTopParams(v.params!, v.secret, 'md5')).toBe(v.expected);
    expect(v.expected).toBe('66987CB115214E59E6EC978214934FB8');
  });

  it('TOP hmac (md5) vector', () => {
    const v = vector('top-hmac-md5-computed');
    expect(topSortedConcat(v.params!)).toBe(v.stringToSign);
    expect(signTopParams(v.params!, v.secret, 'hmac')).toBe(v.expected);
  });

  it('TOP hmac-sha256 vector', () => {
    const v = vector('top-hmac-sha256-computed');
    expect(topSortedConcat(v.params!)).toBe(v.stringToSign);
    expect(signTopParams(v.params!, v.secret, 'hmac-sha256')).toBe(v.expected);
  });

  it('TMC connect sign vector', () => {
    const v = vector('tmc-connect-sign-computed');
    const p = v.params!;
    expect(signTmcConnect(p['app_key']!, p['group_name']!, p['timestamp']!, v.secret)).toBe(v.expected);
  });

  it('JD md5 official vector (open.jd.com listId=2643)', () => {
    const v = vector('jd-md5-official');
    expect(createHash('md5').update(v.stringToSign, 'utf8').digest('hex').toUpperCase()).toBe(v.expected);
    const params = jdVectorParams(v);
    expect(signJdParams(params, v.secret)).toBe(v.expected);
    expect(v.expected).toBe('D70825340F4084360B9362B60DFD7930');
  });

  it('every vector in the file is covered', () => {
    expect(vectors.map((v) => v.name).sort()).toEqual(
      ['jd-md5-official', 'tmc-connect-sign-computed', 'top-hmac-md5-computed', 'top-hmac-sha256-computed', 'top-md5-official'].sort(),
    );
  });

  it('the official TOP vector verifies as an incoming request at its own time', () => {
    const v = vector('top-md5-official');
    const query = { ...v.params!, sign: v.expected };
    const r = verifyTopRequest({ query, rawBody: '', secret: v.secret, now: Date.UTC(2016, 0, 1, 4, 0, 0) });
    expect(r).toEqual({ appKey: '12345678', signMethod: 'md5', timestamp: Date.UTC(2016, 0, 1, 4, 0, 0) });
  });

  it('the official JD vector verifies as an incoming request at its own time', () => {
    const v = vector('jd-md5-official');
    const query = { ...jdVectorParams(v), sign: v.expected };
    const at = Date.UTC(2021, 4, 7, 1, 20, 39, 683);
    expect(verifyJdRequest({ query, rawBody: '', secret: v.secret, now: at })).toEqual({ appKey: 'yourappkey', timestamp: at });
  });
});

describe('signTopParams rules', () => {
  it('skips empty and undefined values and the sign parameter', () => {
    const a = signTopParams({ a: '1', b: '', c: undefined, d: null, sign: 'X' }, SECRET);
    expect(a).toBe(signTopParams({ a: '1' }, SECRET));
  });
  it('appends the body after the sorted params, before the trailing secret (md5)', () => {
    const expected = createHash('md5').update(`${SECRET}a1b2BODY${SECRET}`).digest('hex').toUpperCase();
    expect(signTopParams({ b: '2', a: '1' }, SECRET, 'md5', 'BODY')).toBe(expected);
    expect(signTopParams({ b: '2', a: '1' }, SECRET, 'md5', Buffer.from('BODY'))).toBe(expected);
  });
  it('signs non-ASCII as UTF-8', () => {
    const expected = createHash('md5').update(`${SECRET}nick示例${SECRET}`, 'utf8').digest('hex').toUpperCase();
    expect(signTopParams({ nick: '示例' }, SECRET)).toBe(expected);
  });
  it('compares digests case-insensitively', () => {
    expect(hexDigestEquals('abcdef', 'ABCDEF')).toBe(true);
    expect(hexDigestEquals('abcde', 'ABCDEF')).toBe(false);
    expect(hexDigestEquals('ABCDEE', 'ABCDEF')).toBe(false);
  });
});

describe('parseRequestTimestamp', () => {
  it.each([
    ['2016-01-01 12:00:00', Date.UTC(2016, 0, 1, 4, 0, 0)],
    ['2021-05-07 09:20:39.683+0800', Date.UTC(2021, 4, 7, 1, 20, 39, 683)],
    ['2024-11-11T00:01:40+08:00', Date.UTC(2024, 10, 10, 16, 1, 40)],
    ['2024-11-11 00:01:40Z', Date.UTC(2024, 10, 11, 0, 1, 40)],
    ['1700000000000', 1700000000000],
  ])('%s', (text, ms) => {
    expect(parseRequestTimestamp(text)).toBe(ms);
  });
  it.each(['2016-13-01 12:00:00', '2024-02-30 00:00:00', '2016/01/01 12:00:00', '170000000', 'now', ''])('rejects %s', (text) => {
    expect(parseRequestTimestamp(text)).toBeUndefined();
  });
});

function topQuery(method: TopSignMethod, opts: { secret?: string; at?: number; body?: string; extra?: Record<string, string> } = {}) {
  return topSignedQuery({ appKey: '12345678', secret: opts.secret ?? SECRET, at: opts.at ?? NOW, body: opts.body ?? tmcBody, method, extra: opts.extra });
}

describe('verifyTopRequest', () => {
  it.each(['md5', 'hmac', 'hmac-sha256'] as const)('accepts a valid %s request', (method) => {
    const r = verifyTopRequest({ query: topQuery(method), rawBody: tmcBody, secret: SECRET, now: NOW, appKey: '12345678' });
    expect(r.signMethod).toBe(method);
    expect(r.appKey).toBe('12345678');
  });

  it('accepts a lower-case sign and an epoch-ms timestamp', () => {
    const params = { app_key: '12345678', timestamp: String(NOW - 1000), sign_method: 'md5' };
    const sign = signTopParams(params, SECRET, 'md5', tmcBody).toLowerCase();
    expect(verifyTopRequest({ query: { ...params, sign }, rawBody: tmcBody, secret: SECRET, now: NOW }).timestamp).toBe(NOW - 1000);
  });

  it('accepts the raw body as bytes', () => {
    verifyTopRequest({ query: topQuery('md5'), rawBody: Buffer.from(tmcBody, 'utf8'), secret: SECRET, now: NOW });
  });

  it.each(['md5', 'hmac', 'hmac-sha256'] as const)('rejects a tampered body (%s)', (method) => {
    const tampered = tmcBody.replace('478.00', '4.78');
    expectSignatureError(() => verifyTopRequest({ query: topQuery(method), rawBody: tampered, secret: SECRET, now: NOW }), /signature mismatch/);
  });

  it('rejects a tampered query parameter', () => {
    const q = { ...topQuery('md5', { extra: { topic: 'a' } }), topic: 'b' };
    expectSignatureError(() => verifyTopRequest({ query: q, rawBody: tmcBody, secret: SECRET, now: NOW }), /signature mismatch/);
  });

  it('rejects a signature made with the wrong secret', () => {
    expectSignatureError(
      () => verifyTopRequest({ query: topQuery('md5', { secret: 'not-the-secret' }), rawBody: tmcBody, secret: SECRET, now: NOW }),
      /signature mismatch/,
    );
  });

  it('rejects a stale timestamp and one from the future (default window 5 minutes)', () => {
    const old = topQuery('md5', { at: NOW - 301_000 });
    expectSignatureError(() => verifyTopRequest({ query: old, rawBody: tmcBody, secret: SECRET, now: NOW }), /stale timestamp/);
    const future = topQuery('md5', { at: NOW + 301_000 });
    expectSignatureError(() => verifyTopRequest({ query: future, rawBody: tmcBody, secret: SECRET, now: NOW }), /stale timestamp/);
    // The window the hub configures (HUB_WEBHOOK_MAX_SKEW_SECONDS) replaces the default.
    verifyTopRequest({ query: old, rawBody: tmcBody, secret: SECRET, now: NOW, maxSkewMs: 600_000 });
    const edge = topQuery('md5', { at: NOW - 299_000 });
    verifyTopRequest({ query: edge, rawBody: tmcBody, secret: SECRET, now: NOW });
    expectSignatureError(
      () => verifyTopRequest({ query: edge, rawBody: tmcBody, secret: SECRET, now: NOW, maxSkewMs: 60_000 }),
      /stale timestamp/,
    );
  });

  it('rejects an unparseable timestamp', () => {
    const params = { app_key: '12345678', timestamp: 'yesterday', sign_method: 'md5' };
    const query = { ...params, sign: signTopParams(params, SECRET, 'md5', tmcBody) };
    expectSignatureError(() => verifyTopRequest({ query, rawBody: tmcBody, secret: SECRET, now: NOW }), /timestamp/);
  });

  it.each(['sign', 'app_key', 'timestamp', 'sign_method'])('rejects a request missing %s', (key) => {
    const q: Record<string, string | undefined> = { ...topQuery('md5') };
    delete q[key];
    expectSignatureError(() => verifyTopRequest({ query: q, rawBody: tmcBody, secret: SECRET, now: NOW }), new RegExp(`missing query parameter "${key}"`));
  });

  it('rejects an unsupported sign_method', () => {
    const q = { ...topQuery('md5'), sign_method: 'sha1' };
    expectSignatureError(() => verifyTopRequest({ query: q, rawBody: tmcBody, secret: SECRET, now: NOW }), /unsupported sign_method/);
  });

  it('rejects a sign_method that differs from the one signed with', () => {
    const q = { ...topQuery('md5'), sign_method: 'hmac' };
    expectSignatureError(() => verifyTopRequest({ query: q, rawBody: tmcBody, secret: SECRET, now: NOW }), /signature mismatch/);
  });

  it('rejects another app key than the endpoint expects', () => {
    expectSignatureError(
      () => verifyTopRequest({ query: topQuery('md5'), rawBody: tmcBody, secret: SECRET, now: NOW, appKey: '87654321' }),
      /app_key/,
    );
  });

  it('rejects a repeated parameter', () => {
    const q = { ...topQuery('md5'), sign: ['A', 'B'] };
    expectSignatureError(() => verifyTopRequest({ query: q, rawBody: tmcBody, secret: SECRET, now: NOW }), /repeated/);
  });

  it('signs headers named in top-sign-list', () => {
    const params = { app_key: '12345678', timestamp: formatChinaTime(NOW), sign_method: 'md5' };
    const sign = signTopParams({ ...params, 'x-qm-shop': 'S1' }, SECRET, 'md5', tmcBody);
    const headers = { 'Top-Sign-List': 'x-qm-shop', 'X-Qm-Shop': 'S1' };
    verifyTopRequest({ query: { ...params, sign }, rawBody: tmcBody, secret: SECRET, now: NOW, headers });
    expectSignatureError(
      () => verifyTopRequest({ query: { ...params, sign }, rawBody: tmcBody, secret: SECRET, now: NOW, headers: { ...headers, 'X-Qm-Shop': 'S2' } }),
      /signature mismatch/,
    );
  });
});

describe('verifyJdRequest', () => {
  const body = readFileSync(new URL('../../events/jd/jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json', import.meta.url), 'utf8');
  const jdSecret = 'jd-local-app-secret';
  const jdQuery = (at = NOW, secret = jdSecret) => jdSignedQuery({ appKey: 'jd-local-app-key', secret, at, body });

  it('accepts a valid relay request', () => {
    expect(verifyJdRequest({ query: jdQuery(), rawBody: body, secret: jdSecret, now: NOW, appKey: 'jd-local-app-key' }).appKey).toBe(
      'jd-local-app-key',
    );
  });
  it('rejects a tampered body', () => {
    expectSignatureError(() => verifyJdRequest({ query: jdQuery(), rawBody: body.replace('301234567890', '301234567891'), secret: jdSecret, now: NOW }), /signature mismatch/);
  });
  it('rejects the wrong secret', () => {
    expectSignatureError(() => verifyJdRequest({ query: jdQuery(NOW, 'other'), rawBody: body, secret: jdSecret, now: NOW }), /signature mismatch/);
  });
  it('rejects a stale timestamp', () => {
    expectSignatureError(() => verifyJdRequest({ query: jdQuery(NOW - 3_600_000), rawBody: body, secret: jdSecret, now: NOW }), /stale timestamp/);
  });
  it.each(['sign', 'app_key', 'timestamp'])('rejects a request missing %s', (key) => {
    const q: Record<string, string | undefined> = { ...jdQuery() };
    delete q[key];
    expectSignatureError(() => verifyJdRequest({ query: q, rawBody: body, secret: jdSecret, now: NOW }), /missing query parameter/);
  });
  it('rejects a non-md5 sign_method', () => {
    const params = { app_key: 'jd-local-app-key', timestamp: formatChinaTime(NOW), sign_method: 'hmac' };
    const q = { ...params, sign: signJdParams(params, jdSecret, body) };
    expectSignatureError(() => verifyJdRequest({ query: q, rawBody: body, secret: jdSecret, now: NOW }), /sign_method/);
  });
});

describe('Youzan Event-Sign', () => {
  const files = [
    'youzan-push-trade-create.json',
    'youzan-push-trade-paid.json',
    'youzan-push-trade-success.json',
    'youzan-push-trade-success-redelivery.json',
    'youzan-push-refund-success.json',
  ];
  const load = (f: string) =>
    JSON.parse(readFileSync(new URL(`../../events/youzan/${f}`, import.meta.url), 'utf8')) as {
      headers: Record<string, string>;
      rawBody: string;
      body: { msg: string; sign: string };
    };

  it.each(files)('%s: Event-Sign and legacy sign match', (f) => {
    const fx = load(f);
    expect(youzanEventSign(YZ_CLIENT, fx.rawBody, YZ_SECRET)).toBe(fx.headers['Event-Sign']);
    expect(youzanLegacySign(YZ_CLIENT, fx.body.msg, YZ_SECRET)).toBe(fx.body.sign);
    verifyYouzanPush({ headers: fx.headers, rawBody: fx.rawBody, clientId: YZ_CLIENT, clientSecret: YZ_SECRET });
    verifyYouzanPush({ headers: { 'event-sign': fx.headers['Event-Sign']!.toUpperCase() }, rawBody: Buffer.from(fx.rawBody), clientId: YZ_CLIENT, clientSecret: YZ_SECRET });
  });

  it('rejects a tampered body, the wrong secret, the wrong client id and a missing header', () => {
    const fx = load('youzan-push-trade-paid.json');
    expectSignatureError(
      () => verifyYouzanPush({ headers: fx.headers, rawBody: fx.rawBody.replace('478.00', '1.00'), clientId: YZ_CLIENT, clientSecret: YZ_SECRET }),
      /Event-Sign mismatch/,
    );
    expectSignatureError(() => verifyYouzanPush({ headers: fx.headers, rawBody: fx.rawBody, clientId: YZ_CLIENT, clientSecret: 'x' }), /Event-Sign mismatch/);
    expectSignatureError(() => verifyYouzanPush({ headers: fx.headers, rawBody: fx.rawBody, clientId: 'other', clientSecret: YZ_SECRET }), /Event-Sign mismatch/);
    expectSignatureError(() => verifyYouzanPush({ headers: {}, rawBody: fx.rawBody, clientId: YZ_CLIENT, clientSecret: YZ_SECRET }), /missing Event-Sign/);
  });

  it('hashes the raw bytes, not re-serialised JSON', () => {
    const fx = load('youzan-push-trade-create.json');
    const reserialised = JSON.stringify(JSON.parse(fx.rawBody), null, 1);
    expectSignatureError(() => verifyYouzanPush({ headers: fx.headers, rawBody: reserialised, clientId: YZ_CLIENT, clientSecret: YZ_SECRET }), /mismatch/);
  });
});
