import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError, SignatureError } from '../../lib/errors.ts';
import { decrypt, encrypt, msgSignature } from '../../lib/sources/wechat/crypto.ts';
import { openPush, verifyUrl, type OpenPushInput } from '../../lib/sources/wechat/inbound.ts';
import { normaliseWechat } from '../../lib/sources/wechat/normalise.ts';
import { sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { expectHubError } from '../support/errors.ts';
import { manifest, manifestEntry, readWechatFixture } from '../support/wechat-fixtures.ts';

const TOKEN = 'AAAAA';
const AES_KEY = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const APP = 'wxba5fad812f8e6fb9';
/** The official plaintext-mode query (signature over token AAAAA); valid with any body. */
const PLAIN_QUERY = manifestEntry('plain-mode-debug_demo.official.json').query!;
const XML_TYPE = 'application/xml; charset=utf-8';

/**
 * The official fixtures keep their recorded bytes: the clock is the moment their query was
 * signed, and since they pair queries and bodies recorded at different times (CreateTime from
 * 2012 next to a 2024 timestamp), the window is the widest there is; the freshness rules have
 * their own tests ('freshness and modes' below).
 */
const clockOf = (query: OpenPushInput['query']) => () => Number(new URLSearchParams(String(query)).get('timestamp')) * 1000;
const FIXTURE_WINDOW = Number.MAX_SAFE_INTEGER;
/** An account has a key exactly when its pushes are encrypted (the fixtures come in both kinds). */
const keyFor = (query: OpenPushInput['query'], key: string | undefined) => (/encrypt_type=aes/.test(String(query)) ? key : undefined);

/** openPush for a manifest fixture, with its own query, keys and body. */
function openFixture(file: string, overrides: Partial<OpenPushInput> = {}) {
  const e = manifestEntry(file);
  const query = overrides.query ?? e.query!;
  return openPush({
    query,
    body: readWechatFixture(file),
    appId: e.config!.appid ?? APP,
    token: e.config!.token,
    aesKey: keyFor(query, e.config!.encodingAESKey),
    now: clockOf(query),
    maxSkewSeconds: FIXTURE_WINDOW,
    ...overrides,
  });
}

function plain(body: string | Uint8Array, overrides: Partial<OpenPushInput> = {}) {
  const query = overrides.query ?? PLAIN_QUERY;
  return openPush({ query, body, appId: APP, token: TOKEN, aesKey: keyFor(query, AES_KEY), now: clockOf(query), maxSkewSeconds: FIXTURE_WINDOW, ...overrides });
}

/** A safe-mode request carrying `inner` encrypted for APP, with a valid msg_signature. */
function safeRequest(inner: string, appId = APP) {
  const enc = encrypt(inner, { aesKey: AES_KEY, appId });
  const timestamp = '1714112600';
  const nonce = '97431820';
  const query = new URLSearchParams({
    signature: sha1Signature(TOKEN, timestamp, nonce),
    timestamp,
    nonce,
    openid: 'o_user',
    encrypt_type: 'aes',
    msg_signature: msgSignature(TOKEN, timestamp, nonce, enc),
  }).toString();
  return { query, body: `<xml>\n    <ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n    <Encrypt><![CDATA[${enc}]]></Encrypt>\n</xml>\n` };
}

const SAFE_TEXT_EVENT = {
  eventId: 'wechat:msg:gh_97417a04a28d|o9AgO5Kd5ggOC-bXrbNODIiE3bGY|24547981296148227',
  occurredAt: 1714112600000,
  source: 'wechat',
  appId: APP,
  openid: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
  type: 'wechat.interaction',
  kind: 'message',
  msgType: 'text',
  msgId: '24547981296148227',
  detail: '你好 hello',
};
const TICKET = 'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==';

describe('openPush: every POST fixture in the manifest', () => {
  const posts = manifest.filter((e) => e.method === 'POST');

  it('covers all seven POST fixtures', () => {
    expect(posts.map((e) => e.file).sort()).toEqual([
      'compat-mode-text.synthetic.xml',
      'plain-mode-debug_demo.official.json',
      'safe-mode-debug_demo.official.json',
      'safe-mode-scan.synthetic.xml',
      'safe-mode-subscribe-qrscene.synthetic.xml',
      'safe-mode-text.easywechat-test.xml',
      'safe-mode-text.synthetic.xml',
    ]);
  });

  it('official JSON bodies (plain and safe) are rejected with 400: the official account speaks XML only', () => {
    expectHubError(() => openFixture('plain-mode-debug_demo.official.json'), BadRequestError, 'bad_xml');
    expectHubError(() => openFixture('safe-mode-debug_demo.official.json'), BadRequestError, 'bad_xml');
    // the plain signature of that request is valid: a wrong token is a 401 before the body is read
    expectHubError(() => openFixture('plain-mode-debug_demo.official.json', { token: 'BBBBB' }), SignatureError);
  });

  it('easywechat safe-mode text decrypts and normalises (extra <URL> ignored)', () => {
    const opened = openFixture('safe-mode-text.easywechat-test.xml');
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual({
      eventId: 'wechat:msg:asdasdasd|asdasdasdsadasd|12345',
      occurredAt: 1234567898000,
      source: 'wechat',
      appId: 'wxb11529c136998cb6',
      openid: 'asdasdasdsadasd',
      type: 'wechat.interaction',
      kind: 'message',
      msgType: 'text',
      msgId: '12345',
      detail: 'hello',
    });
    expect(opened.message.URL).toBe('http://wechat.laravel.so/server');
  });

  it('synthetic safe-mode subscribe with a channel scene', () => {
    const opened = openFixture('safe-mode-subscribe-qrscene.synthetic.xml');
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual({
      eventId: 'wechat:evt:gh_97417a04a28d|o9AgO5Kd5ggOC-bXrbNODIiE3bGY|1714112445|subscribe|qrscene_cmp_2024spring',
      occurredAt: 1714112445000,
      source: 'wechat',
      appId: APP,
      openid: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      type: 'wechat.follow',
      scene: 'cmp_2024spring',
      ticket: TICKET,
    });
  });

  it('synthetic safe-mode SCAN', () => {
    const opened = openFixture('safe-mode-scan.synthetic.xml');
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual({
      eventId: 'wechat:evt:gh_97417a04a28d|o9AgO5Kd5ggOC-bXrbNODIiE3bGY|1714112500|SCAN|cmp_2024spring',
      occurredAt: 1714112500000,
      source: 'wechat',
      appId: APP,
      openid: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      type: 'wechat.scan',
      scene: 'cmp_2024spring',
      ticket: TICKET,
    });
  });

  it('synthetic safe-mode text', () => {
    const opened = openFixture('safe-mode-text.synthetic.xml');
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual(SAFE_TEXT_EVENT);
    expect({ ...opened.message }).toStrictEqual({
      ToUserName: 'gh_97417a04a28d',
      FromUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      CreateTime: '1714112600',
      MsgType: 'text',
      Content: '你好 hello',
      MsgId: '24547981296148227',
    });
  });

  it('compatible body with encrypt_type=aes uses the authenticated ciphertext (mode safe)', () => {
    const opened = openFixture('compat-mode-text.synthetic.xml');
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual(SAFE_TEXT_EVENT);
  });

  it('compatible body stripped of encrypt_type and msg_signature → 401 for an account with a key; a plain-mode account reads the plaintext', () => {
    const e = manifestEntry('compat-mode-text.synthetic.xml');
    const q = new URLSearchParams(e.query);
    q.delete('encrypt_type');
    q.delete('msg_signature');
    // The captured URL of an encrypting account, its `signature` still valid: refused.
    expectHubError(() => openFixture('compat-mode-text.synthetic.xml', { query: q.toString(), aesKey: e.config!.encodingAESKey }), SignatureError);
    // An account without a key (plain mode) reads the same bytes as plain text.
    const opened = openFixture('compat-mode-text.synthetic.xml', { query: q.toString(), now: () => 1714112601999 });
    expect(opened.mode).toBe('plain');
    expect(opened.event).toStrictEqual(SAFE_TEXT_EVENT);
    expect(opened.reply('ok').body).toBe(
      '<xml><ToUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></ToUserName>' +
        '<FromUserName><![CDATA[gh_97417a04a28d]]></FromUserName><CreateTime>1714112601</CreateTime>' +
        '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content></xml>',
    );
    expectHubError(() => openFixture('compat-mode-text.synthetic.xml', { query: q.toString(), token: 'BBBBB' }), SignatureError);
  });
});

describe('openPush: plaintext fixtures in plain mode', () => {
  const samples = manifest.filter((e) => e.kind === 'plaintext-mode sample' && e.file !== 'reply-text.official.xml');

  it('has 18 plaintext samples (the 17 message and event samples and MASSSENDJOBFINISH)', () => {
    expect(samples).toHaveLength(18);
  });

  for (const e of samples) {
    it(`${e.file} → mode plain, one valid event`, () => {
      const opened = plain(readWechatFixture(e.file));
      expect(opened.mode).toBe('plain');
      expect(opened.event).toStrictEqual(normaliseWechat(parseWechatXml(readWechatFixture(e.file)), APP));
      expect(opened.event.source).toBe('wechat');
      // the same bytes as a Buffer give the same event
      expect(plain(Buffer.from(readWechatFixture(e.file), 'utf8')).event).toStrictEqual(opened.event);
    });
  }

  it('msg-text-quickstart keeps its 19-digit MsgId', () => {
    const opened = plain(readWechatFixture('msg-text-quickstart.official.xml'));
    expect(opened.event.eventId).toBe('wechat:msg:公众号|粉丝号|6272960105994287618');
  });

  it('reads every query shape', () => {
    const body = readWechatFixture('event-click.official.xml');
    const params = Object.fromEntries(new URLSearchParams(PLAIN_QUERY));
    expect(plain(body, { query: new URLSearchParams(PLAIN_QUERY) }).event.type).toBe('wechat.interaction');
    expect(plain(body, { query: params }).event.type).toBe('wechat.interaction');
    expect(plain(body, { query: '?' + PLAIN_QUERY }).event.type).toBe('wechat.interaction');
  });
});

describe('replies', () => {
  const now = () => 1714112601000;

  it('no text (or empty text) → success as text/plain, in every mode', () => {
    expect(plain(readWechatFixture('event-subscribe.official.xml')).reply()).toStrictEqual({ contentType: 'text/plain', body: 'success' });
    expect(plain(readWechatFixture('event-subscribe.official.xml')).reply('')).toStrictEqual({ contentType: 'text/plain', body: 'success' });
    expect(openFixture('safe-mode-text.synthetic.xml').reply()).toStrictEqual({ contentType: 'text/plain', body: 'success' });
  });

  it('plain mode: a passive text reply with sender and receiver swapped', () => {
    const r = plain(readWechatFixture('msg-text.official.xml'), { now }).reply('收到 & <ok> ]]> done');
    expect(r).toStrictEqual({
      contentType: XML_TYPE,
      body:
        '<xml><ToUserName><![CDATA[fromUser]]></ToUserName><FromUserName><![CDATA[toUser]]></FromUserName>' +
        '<CreateTime>1714112601</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
        '<Content><![CDATA[收到 & <ok> ]]]]><![CDATA[> done]]></Content></xml>',
    });
    expect(parseWechatXml(r.body).Content).toBe('收到 & <ok> ]]> done');
  });

  it('safe mode: the reply is encrypted; with the fixture random16 it reproduces the fixture ciphertext', () => {
    const randoms = [Buffer.from('1111222233334444', 'latin1'), Buffer.from([0x12, 0x34, 0x56, 0x78])];
    const randomBytes = (size: number): Buffer => {
      const next = randoms.shift()!;
      expect(next.length).toBe(size);
      return next;
    };
    const r = openFixture('safe-mode-text.synthetic.xml', { now, randomBytes }).reply('欢迎 welcome');
    expect(r.contentType).toBe(XML_TYPE);
    const envelope = parseWechatXml(r.body);
    expect(Object.keys(envelope).sort()).toEqual(['Encrypt', 'MsgSignature', 'Nonce', 'TimeStamp']);
    const fixture = parseWechatXml(readWechatFixture('reply-encrypted-text.synthetic.xml'));
    expect(envelope.Encrypt).toBe(fixture.Encrypt);
    expect(envelope.TimeStamp).toBe('1714112601');
    expect(envelope.Nonce).toBe(String((0x12345678 % 9_000_000_000) + 1_000_000_000));
    expect(envelope.MsgSignature).toBe(msgSignature(TOKEN, '1714112601', envelope.Nonce!, envelope.Encrypt!));
    expect(decrypt(envelope.Encrypt!, { aesKey: AES_KEY, appId: APP })).toBe(
      manifestEntry('reply-encrypted-text.synthetic.xml').expected!.plaintext,
    );
    expect(randoms).toHaveLength(0);
  });

  it('safe mode: fresh randomness, timestamp and nonce for every reply', () => {
    // Each reply's timestamp is the clock's at that reply, in whole seconds.
    let clock = 1_714_112_612_999;
    const opened = openFixture('safe-mode-text.synthetic.xml', { now: () => clock });
    const a = parseWechatXml(opened.reply('hi').body);
    clock += 5_000;
    const b = parseWechatXml(opened.reply('hi').body);
    expect(a.Encrypt).not.toBe(b.Encrypt);
    expect(a.Nonce).toMatch(/^\d{10}$/);
    expect([a.TimeStamp, b.TimeStamp]).toEqual(['1714112612', '1714112617']);
    for (const env of [a, b]) {
      expect(env.MsgSignature).toBe(msgSignature(TOKEN, env.TimeStamp!, env.Nonce!, env.Encrypt!));
      const inner = parseWechatXml(decrypt(env.Encrypt!, { aesKey: AES_KEY, appId: APP }));
      expect(inner.Content).toBe('hi');
      expect(inner.ToUserName).toBe('o9AgO5Kd5ggOC-bXrbNODIiE3bGY');
      expect(inner.FromUserName).toBe('gh_97417a04a28d');
    }
  });
});

describe('rejections', () => {
  it('tampered safe-mode body → SignatureError', () => {
    const body = readWechatFixture('safe-mode-text.synthetic.xml');
    const tampered = body.replace('DskVKDMG', 'DskVKDMH');
    expect(tampered).not.toBe(body);
    expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { body: tampered }), SignatureError);
    // a tampered msg_signature too
    const q = new URLSearchParams(manifestEntry('safe-mode-text.synthetic.xml').query);
    q.set('msg_signature', 'd919eef9b1b456f551a54b6854b577c064e38027');
    expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { query: q.toString() }), SignatureError);
    // the plain `signature` must not be accepted in place of msg_signature
    q.set('msg_signature', q.get('signature')!);
    expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { query: q.toString() }), SignatureError);
  });

  it('tampered plain-mode query → SignatureError', () => {
    const q = new URLSearchParams(PLAIN_QUERY);
    q.set('timestamp', '1714037060');
    expectHubError(() => plain(readWechatFixture('msg-text.official.xml'), { query: q.toString() }), SignatureError);
  });

  it('wrong token → SignatureError in plain and safe mode', () => {
    expectHubError(() => plain(readWechatFixture('msg-text.official.xml'), { token: 'AAAAB' }), SignatureError);
    expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { token: 'AAAAB' }), SignatureError);
  });

  it('wrong appid → SignatureError (encrypted for another account)', () => {
    const err = expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { appId: 'wx0000000000000000' }), SignatureError);
    expect(err.status).toBe(401);
    const { query, body } = safeRequest(readWechatFixture('msg-text.official.xml'), 'wxsomeoneelse00001');
    expectHubError(() => plain(body, { query }), SignatureError);
  });

  it('missing parameters → SignatureError', () => {
    for (const name of ['signature', 'timestamp', 'nonce']) {
      const q = new URLSearchParams(PLAIN_QUERY);
      q.delete(name);
      expectHubError(() => plain(readWechatFixture('msg-text.official.xml'), { query: q.toString() }), SignatureError);
    }
    for (const name of ['timestamp', 'nonce', 'msg_signature']) {
      const q = new URLSearchParams(manifestEntry('safe-mode-text.synthetic.xml').query);
      q.delete(name);
      expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { query: q.toString() }), SignatureError);
    }
    expectHubError(() => plain(readWechatFixture('msg-text.official.xml'), { query: {} }), SignatureError);
  });

  it('body over maxBytes → 413, counted in bytes and checked before the signature', () => {
    const body = readWechatFixture('msg-text.official.xml');
    const size = Buffer.byteLength(body);
    expect(plain(body, { maxBytes: size }).event.type).toBe('wechat.interaction');
    const err = expectHubError(() => plain(body, { maxBytes: size - 1 }), PayloadTooLargeError);
    expect(err.status).toBe(413);
    expectHubError(() => plain(Buffer.from(body), { maxBytes: size - 1 }), PayloadTooLargeError);
    // 100 CJK characters: 100 UTF-16 units, 300 bytes
    const cjk = `<xml><Content><![CDATA[${'长'.repeat(100)}]]></Content></xml>`;
    expect(cjk.length).toBeLessThan(200);
    expectHubError(() => plain(cjk, { maxBytes: 200 }), PayloadTooLargeError);
    // unauthenticated and oversized: 413, not 401
    expectHubError(() => plain('x'.repeat(65537), { query: {} }), PayloadTooLargeError);
    expectHubError(() => plain(' '.repeat(65536) + body, { token: 'wrong' }), PayloadTooLargeError);
  });

  it('DOCTYPE / ENTITY → 400, also inside the encrypted payload', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>' +
      '<xml><ToUserName>&lol2;</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>';
    expectHubError(() => plain(laughs), BadRequestError, 'bad_xml');
    expectHubError(() => plain('<!doctype xml><xml><A>1</A></xml>'), BadRequestError, 'bad_xml');
    expectHubError(() => plain('<xml><!ENTITY x "y"><A>1</A></xml>'), BadRequestError, 'bad_xml');
    const { query, body } = safeRequest(laughs);
    expectHubError(() => plain(body, { query }), BadRequestError, 'bad_xml');
  });

  it('entities are never expanded', () => {
    const body = '<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>a &amp; &lt;b&gt;</Content><MsgId>1</MsgId></xml>';
    const e = plain(body).event;
    expect(e.type === 'wechat.interaction' && e.detail).toBe('a &amp; &lt;b&gt;');
  });

  it('malformed XML, JSON, several roots, a wrong root, empty and non-UTF-8 bodies → 400', () => {
    const cases = [
      '<xml><ToUserName>a</ToUserName>',
      '<xml><A>1</B></xml>',
      '<xml><A>1</A></xml>trailing',
      '{"ToUserName":"gh","FromUserName":"u","CreateTime":1,"MsgType":"text"}',
      '<xml><A>1</A></xml><xml><A>2</A></xml>',
      '<root><FromUserName>u</FromUserName></root>',
      '',
      '   ',
      'success',
    ];
    for (const body of cases) expectHubError(() => plain(body), BadRequestError, 'bad_xml');
    expectHubError(() => plain(Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0xfe])), BadRequestError, 'bad_encoding');
    // the same in safe mode (the envelope, then the decrypted payload)
    const q = manifestEntry('safe-mode-text.synthetic.xml').query!;
    expectHubError(() => plain('{"Encrypt":"abc"}', { query: q }), BadRequestError, 'bad_xml');
    const { query, body } = safeRequest('{"ToUserName":"gh"}');
    expectHubError(() => plain(body, { query }), BadRequestError, 'bad_xml');
  });

  it('a repeated significant element is ambiguous → 400', () => {
    const body = readWechatFixture('msg-text.official.xml').replace('</xml>', '<FromUserName><![CDATA[other]]></FromUserName></xml>');
    expectHubError(() => plain(body), BadRequestError, 'bad_xml');
  });

  it('a well-formed message missing FromUserName / CreateTime / MsgType → 400', () => {
    expectHubError(() => plain('<xml><ToUserName>gh</ToUserName></xml>'), BadRequestError, 'missing_field');
    expectHubError(() => plain('<xml></xml>'), BadRequestError, 'missing_field');
    const { query, body } = safeRequest('<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>');
    expectHubError(() => plain(body, { query }), BadRequestError, 'missing_field');
  });

  it('safe mode: an envelope without Encrypt → 400; an encrypted push to an account without a key → 401', () => {
    const q = manifestEntry('safe-mode-text.synthetic.xml').query!;
    expectHubError(() => plain('<xml><ToUserName>gh</ToUserName></xml>', { query: q }), BadRequestError, 'missing_field');
    expectHubError(() => openFixture('safe-mode-text.synthetic.xml', { aesKey: undefined }), SignatureError);
  });

  it('safe mode: a payload built by the test round-trips through openPush', () => {
    const { query, body } = safeRequest(readWechatFixture('event-subscribe-qrscene.official.xml'));
    const opened = plain(body, { query });
    expect(opened.mode).toBe('safe');
    expect(opened.event).toStrictEqual({
      eventId: 'wechat:evt:toUser|FromUser|123456789|subscribe|qrscene_123123',
      occurredAt: 123456789000,
      source: 'wechat',
      appId: APP,
      openid: 'FromUser',
      type: 'wechat.follow',
      scene: '123123',
      ticket: 'TICKET',
    });
  });
});

describe('verifyUrl (re-exported for the GET handler)', () => {
  it('returns the echostr of the official GET vector and rejects a wrong token', () => {
    const query = readWechatFixture('verify-get.official.query.txt').trim();
    const at = { now: 1714036504_000 };
    expect(verifyUrl(query, 'AAAAA', at)).toBe('4375120948345356249');
    expectHubError(() => verifyUrl(query, 'BBBBB', at), SignatureError);
    // The same vector an hour later: stale.
    expectHubError(() => verifyUrl(query, 'AAAAA', { now: at.now + 3_600_000 }), SignatureError);
  });
});

describe('freshness and modes', () => {
  /** A plain push signed at `ts` with CreateTime `createTime`. */
  function plainAt(ts: number, createTime: number, nonce = '424242') {
    const query = new URLSearchParams({ signature: sha1Signature(TOKEN, String(ts), nonce), timestamp: String(ts), nonce }).toString();
    const body = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_fresh]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`;
    return { query, body };
  }
  const T = 1_800_000_000;

  it('a timestamp within 300 s of the clock passes; 301 s before or after → 401', () => {
    const { query, body } = plainAt(T, T);
    expect(openPush({ query, body, appId: APP, token: TOKEN, now: () => (T + 300) * 1000 }).mode).toBe('plain');
    expect(openPush({ query, body, appId: APP, token: TOKEN, now: () => (T - 300) * 1000 }).mode).toBe('plain');
    expectHubError(() => openPush({ query, body, appId: APP, token: TOKEN, now: () => (T + 301) * 1000 }), SignatureError);
    expectHubError(() => openPush({ query, body, appId: APP, token: TOKEN, now: () => (T - 301) * 1000 }), SignatureError);
    // The window is configurable.
    expect(openPush({ query, body, appId: APP, token: TOKEN, now: () => (T + 3600) * 1000, maxSkewSeconds: 3600 }).mode).toBe('plain');
  });

  it('CreateTime more than the window from the timestamp → 400', () => {
    const ok = plainAt(T, T - 300);
    expect(openPush({ ...ok, appId: APP, token: TOKEN, now: () => T * 1000 }).event.occurredAt).toBe((T - 300) * 1000);
    const far = plainAt(T, T - 301);
    expectHubError(() => openPush({ ...far, appId: APP, token: TOKEN, now: () => T * 1000 }), BadRequestError, 'create_time_out_of_window');
  });

  it('plain mode hands out the nonce-cache entry: same query → same key, another body → another digest', () => {
    const a = plainAt(T, T);
    const first = openPush({ ...a, appId: APP, token: TOKEN, now: () => T * 1000 });
    const again = openPush({ ...a, appId: APP, token: TOKEN, now: () => T * 1000 });
    const forged = openPush({ query: a.query, body: a.body.replace('subscribe', 'unsubscribe'), appId: APP, token: TOKEN, now: () => T * 1000 });
    expect(first.replay).toEqual(again.replay);
    expect(forged.replay!.key).toBe(first.replay!.key);
    expect(forged.replay!.bodyHash).not.toBe(first.replay!.bodyHash);
    expect(first.replay!.expiresAt).toBe(T + 300 + 60);
    expect(openPush({ ...plainAt(T, T, '424243'), appId: APP, token: TOKEN, now: () => T * 1000 }).replay!.key).not.toBe(first.replay!.key);
  });

  it('an encrypting account refuses a plain push (401) and needs no nonce cache', () => {
    const { query, body } = plainAt(T, T);
    expectHubError(() => openPush({ query, body, appId: APP, token: TOKEN, aesKey: AES_KEY, now: () => T * 1000 }), SignatureError);
    const safe = safeRequest(body);
    const opened = openPush({ ...safe, appId: APP, token: TOKEN, aesKey: AES_KEY, now: () => 1714112600_000 + 1000 * (T - 1714112600), maxSkewSeconds: Number.MAX_SAFE_INTEGER });
    expect(opened.mode).toBe('safe');
    expect(opened.replay).toBeUndefined();
  });
});
