/**
 * Signature vectors that do not come from the project's own signer (lib/sources/{tmall,jd,youzan}/sign.ts).
 *
 * Sources:
 *   - TOP md5: the official example of open.taobao.com docId=101617 (secret `helloworld`,
 *     taobao.item.seller.get) → 66987CB115214E59E6EC978214934FB8.
 *     https://open.taobao.com/doc.htm?docId=101617&docType=1
 *   - TOP hmac (HMAC-MD5) and hmac-sha256, the same requests with a body, the TMC connect sign and
 *     Youzan `Event-Sign`: the algorithms are published (TOP: docId=101617 and the official SDK's
 *     TaobaoUtils.signTopRequest — md5 wraps S in the secret, hmac / hmac-sha256 key the MAC with
 *     the secret over S, a body is appended to S; TMC connect: the TOP md5 sign over app_key,
 *     group_name and timestamp in ms, as the official SDK's TmcClient sends it; Youzan:
 *     md5(client_id + raw body + client_secret), lower-case hex, as public consumers compute it)
 *     but no expected values are, so each value here was computed once with OpenSSL 3.0
 *     (`openssl dgst`), from the literal string to sign shown next to it, and pasted in. The
 *     bodies are the repository's fixtures, byte for byte (events/tmall/taobao-tmc-trade-success.json,
 *     events/youzan/*.json `rawBody` as UTF-8).
 * The Youzan fixtures also carry an `Event-Sign` header computed when they were recorded; OpenSSL
 * gives the same five values.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signTmcConnect, signTopParams, verifyTopRequest, type TopSignMethod } from '../../lib/sources/tmall/sign.ts';
import { verifyYouzanPush, youzanEventSign } from '../../lib/sources/youzan/sign.ts';

const SECRET = 'helloworld';
/** docId=101617's request, without sign_method (each case adds its own). */
const DOC_PARAMS = {
  method: 'taobao.item.seller.get',
  app_key: '12345678',
  session: 'test',
  timestamp: '2016-01-01 12:00:00',
  format: 'json',
  v: '2.0',
  fields: 'num_iid,title,nick,price,num',
  num_iid: '11223344',
};

describe('TOP request signatures, without a body (docId=101617 request)', () => {
  // S = the parameters sorted by name, each as name + value:
  //   app_key12345678fieldsnum_iid,title,nick,price,numformatjsonmethodtaobao.item.seller.get
  //   num_iid11223344sessiontestsign_method<METHOD>timestamp2016-01-01 12:00:00v2.0
  const cases: [TopSignMethod, string, string][] = [
    // official docId=101617 (also: printf '%s' 'helloworld' S 'helloworld' | openssl dgst -md5)
    ['md5', '66987CB115214E59E6EC978214934FB8', "printf '%s' 'helloworld<S>helloworld' | openssl dgst -md5"],
    ['hmac', 'D56D7858309C31B6251083A874D48273', "printf '%s' '<S>' | openssl dgst -md5 -hmac helloworld"],
    ['hmac-sha256', '04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8', "printf '%s' '<S>' | openssl dgst -sha256 -hmac helloworld"],
  ];

  it.each(cases)('sign_method=%s → %s (%s)', (method, expected) => {
    expect(signTopParams({ ...DOC_PARAMS, sign_method: method }, SECRET, method)).toBe(expected);
  });

  it.each(cases)('sign_method=%s: a request carrying %s verifies at its own time', (method, expected) => {
    const now = Date.UTC(2016, 0, 1, 4, 0, 0); // 2016-01-01 12:00:00 GMT+8
    expect(verifyTopRequest({ query: { ...DOC_PARAMS, sign_method: method, sign: expected }, rawBody: '', secret: SECRET, now })).toEqual({
      appKey: '12345678',
      signMethod: method,
      timestamp: now,
    });
  });
});

describe('TOP signatures of a relay POST with a body', () => {
  // Query app_key=12345678, sign_method=<METHOD>, timestamp=2024-11-20 10:02:40; body = the 611
  // bytes of events/tmall/taobao-tmc-trade-success.json. S = app_key12345678sign_method<METHOD>timestamp2024-11-20 10:02:40
  const body = readFileSync(new URL('../../events/tmall/taobao-tmc-trade-success.json', import.meta.url));
  const query = (method: TopSignMethod) => ({ app_key: '12345678', sign_method: method, timestamp: '2024-11-20 10:02:40' });
  const cases: [TopSignMethod, string, string][] = [
    ['md5', 'E6C8287AABD9B87F0B720CFED246A159', "{ printf '%s' 'helloworld<S>'; cat body; printf helloworld; } | openssl dgst -md5"],
    ['hmac', '1266B9382903B06EF63CDE4FC3CFC7FE', "{ printf '%s' '<S>'; cat body; } | openssl dgst -md5 -hmac helloworld"],
    ['hmac-sha256', '1F353FA12BFD54BBFC630A4C5BAEE8117C8FD6BB306354A619CFF734261CE416', "{ printf '%s' '<S>'; cat body; } | openssl dgst -sha256 -hmac helloworld"],
  ];

  it('the body is the fixture, byte for byte', () => {
    expect(body.length).toBe(611);
  });

  it.each(cases)('sign_method=%s → %s (%s)', (method, expected) => {
    expect(signTopParams(query(method), SECRET, method, body)).toBe(expected);
    const now = Date.UTC(2024, 10, 20, 2, 2, 40);
    expect(verifyTopRequest({ query: { ...query(method), sign: expected }, rawBody: body, secret: SECRET, now }).signMethod).toBe(method);
  });
});

describe('TMC connect signature', () => {
  it.each([
    // printf '%s' 'helloworldapp_key12345678group_namedefaulttimestamp1700000000000helloworld' | openssl dgst -md5
    ['default', '1700000000000', 'C86848D198760FA334AA309207C72ECD'],
    // printf '%s' 'helloworldapp_key12345678group_namehub_orderstimestamp1732068160000helloworld' | openssl dgst -md5
    ['hub_orders', '1732068160000', '831437838D2D48AC8089C3853C1941E1'],
  ])('app_key 12345678, group %s, timestamp %s → %s', (group, timestamp, expected) => {
    expect(signTmcConnect('12345678', group, timestamp, SECRET)).toBe(expected);
  });
});

describe('Youzan Event-Sign', () => {
  // Test credentials of the fixtures: client_id 6a0b1b2c3d4e5f6a7b, client_secret
  // 0123456789abcdef0123456789abcdef. Each value:
  //   { printf '%s' 6a0b1b2c3d4e5f6a7b; cat raw-body; printf '%s' 0123456789abcdef0123456789abcdef; } | openssl dgst -md5
  const CLIENT = '6a0b1b2c3d4e5f6a7b';
  const CLIENT_SECRET = '0123456789abcdef0123456789abcdef';
  const cases: [string, number, string][] = [
    ['youzan-push-trade-create.json', 489, '57e1966af379b8116760659a6ed6fe3f'],
    ['youzan-push-trade-paid.json', 2047, '278eb87b45f08766a7b39efcb94e53b1'],
    ['youzan-push-trade-success.json', 488, 'ca057473879f11353ee8bfce2076577a'],
    ['youzan-push-trade-success-redelivery.json', 488, '5abfca557cf50d3545900be23d1714db'],
    ['youzan-push-refund-success.json', 707, '22e2f82d2930fb6d3db3e89ad6e39f3a'],
  ];

  it.each(cases)('%s (%i bytes) → %s', (file, bytes, expected) => {
    const fx = JSON.parse(readFileSync(new URL(`../../events/youzan/${file}`, import.meta.url), 'utf8')) as { rawBody: string; headers: Record<string, string> };
    const raw = Buffer.from(fx.rawBody, 'utf8');
    expect(raw.length).toBe(bytes);
    expect(fx.headers['Event-Sign']).toBe(expected);
    expect(youzanEventSign(CLIENT, raw, CLIENT_SECRET)).toBe(expected);
    expect(() => verifyYouzanPush({ headers: { 'Event-Sign': expected }, rawBody: raw, clientId: CLIENT, clientSecret: CLIENT_SECRET })).not.toThrow();
  });

  it('a short body, by hand: md5("cid" + "{}" + "sec")', () => {
    // printf '%s' 'cid{}sec' | openssl dgst -md5
    expect(youzanEventSign('cid', '{}', 'sec')).toBe('5ebfcc12335520695276c1cab5a18bb6');
  });
});
