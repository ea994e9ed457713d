import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadRequestError, HubError, SignatureError } from '../../lib/errors.ts';
import {
  aesKeyBytes,
  decrypt,
  encrypt,
  msgSignature,
  openFrame,
  pkcs7Pad,
  pkcs7Unpad,
} from '../../lib/sources/wechat/crypto.ts';
import { queryParam, sha1Signature, verifyUrl } from '../../lib/sources/wechat/signature.ts';
import { buildEncryptedEnvelope, buildTextReply, parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { expectHubError } from '../support/errors.ts';
import { manifest, manifestEntry, readWechatFixture } from '../support/wechat-fixtures.ts';

/** The Encrypt value of an XML or JSON fixture body. */
function encryptOf(file: string): string | undefined {
  const body = readWechatFixture(file);
  if (file.endsWith('.json')) return (JSON.parse(body) as { Encrypt?: string }).Encrypt;
  return parseWechatXml(body).Encrypt;
}

const OFFICIAL = {
  token: 'AAAAA',
  aesKey: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  appId: 'wxba5fad812f8e6fb9',
};

/** Encrypts an arbitrary (already padded) frame, for malformed-frame tests. */
function rawEncrypt(frame: Buffer, aesKey = OFFICIAL.aesKey): string {
  const key = aesKeyBytes(aesKey);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(frame), c.final()]).toString('base64');
}

function frame(message: string, appId: string, lengthField?: number): Buffer {
  const body = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(lengthField ?? body.length, 0);
  return Buffer.concat([Buffer.from('0123456789abcdef'), len, body, Buffer.from(appId)]);
}

/** The official GET vector was signed at timestamp 1714036504: the clock of the checks below. */
const AT = { now: 1714036504_000 };

describe('sha1Signature / verifyUrl', () => {
  it('reproduces the official plain-mode POST signature vector', () => {
    const e = manifestEntry('plain-mode-debug_demo.official.json');
    const q = new URLSearchParams(e.query);
    expect(['AAAAA', q.get('timestamp')!, q.get('nonce')!].sort().join('')).toBe('1714037059486452656AAAAA');
    expect(e.expected?.sortedJoined).toBe('1714037059486452656AAAAA');
    expect(sha1Signature('AAAAA', '1714037059', '486452656')).toBe('899cf89e464efb63f54ddac96b0a0a235f53aa78');
    expect(sha1Signature(e.config!.token, q.get('timestamp')!, q.get('nonce')!)).toBe(q.get('signature'));
    expect(q.get('signature')).toBe(e.expected?.signature);
  });

  it('is independent of argument order and matches the wechat-crypto 4-argument vector', () => {
    expect(sha1Signature('RMNlACHlV5ThzfRlVS4D4', 'timestamp', 'nonce', 'encrypt')).toBe(
      '8edac0945683c119ee71c9f6256d76c48aa08a96',
    );
    expect(sha1Signature('encrypt', 'nonce', 'timestamp', 'RMNlACHlV5ThzfRlVS4D4')).toBe(
      '8edac0945683c119ee71c9f6256d76c48aa08a96',
    );
    expect(msgSignature('RMNlACHlV5ThzfRlVS4D4', 'timestamp', 'nonce', 'encrypt')).toBe(
      '8edac0945683c119ee71c9f6256d76c48aa08a96',
    );
  });

  it('answers the official GET verification with exactly the echostr', () => {
    const e = manifestEntry('verify-get.official.query.txt');
    const query = readWechatFixture('verify-get.official.query.txt').trim();
    expect(verifyUrl(query, e.config!.token, AT)).toBe(e.expected?.responseBody);
    expect(verifyUrl(query, 'AAAAA', AT)).toBe('4375120948345356249');
    expect(verifyUrl(new URLSearchParams(query), 'AAAAA', AT)).toBe('4375120948345356249');
    expect(verifyUrl(Object.fromEntries(new URLSearchParams(query)), 'AAAAA', AT)).toBe('4375120948345356249');
    expect(verifyUrl('?' + query, 'AAAAA', AT)).toBe('4375120948345356249');
  });

  it('rejects a wrong token, a tampered signature, a changed nonce and missing parameters', () => {
    const query = readWechatFixture('verify-get.official.query.txt').trim();
    const params = Object.fromEntries(new URLSearchParams(query));
    expectHubError(() => verifyUrl(query, 'AAAAB'), SignatureError);
    expectHubError(() => verifyUrl({ ...params, signature: 'f464b24fc39322e44b38aa78f5edd27bd1441697' }, 'AAAAA'), SignatureError);
    expectHubError(() => verifyUrl({ ...params, signature: params.signature!.toUpperCase() }, 'AAAAA'), SignatureError);
    expectHubError(() => verifyUrl({ ...params, nonce: '1514711493' }, 'AAAAA'), SignatureError);
    expectHubError(() => verifyUrl({ ...params, signature: 'short' }, 'AAAAA'), SignatureError);
    for (const name of ['signature', 'timestamp', 'nonce', 'echostr']) {
      const partial: Record<string, string> = { ...params };
      delete partial[name];
      expectHubError(() => verifyUrl(partial, 'AAAAA'), SignatureError);
      expectHubError(() => verifyUrl({ ...params, [name]: '' }, 'AAAAA'), SignatureError);
    }
    expectHubError(() => verifyUrl(query + '&nonce=1514711492', 'AAAAA'), SignatureError);
    expect(() => verifyUrl(query, '')).toThrow('WeChat token is not configured');
  });

  it('reads query parameters from every supported shape', () => {
    expect(queryParam('a=1&b=2', 'b')).toBe('2');
    expect(queryParam('a=1&a=2', 'a')).toBeUndefined();
    expect(queryParam({ a: ['x'] }, 'a')).toBe('x');
    expect(queryParam({ a: ['x', 'y'] }, 'a')).toBeUndefined();
    expect(queryParam({ a: undefined }, 'a')).toBeUndefined();
    expect(queryParam({}, 'toString')).toBeUndefined();
  });
});

describe('WXBizMsgCrypt known-answer vectors from the fixtures', () => {
  const encrypted = manifest.filter((e) => e.config?.encodingAESKey && e.method === 'POST');

  it('covers every encrypted POST fixture', () => {
    expect(encrypted.map((e) => e.file).sort()).toEqual([
      'compat-mode-text.synthetic.xml',
      'safe-mode-debug_demo.official.json',
      'safe-mode-scan.synthetic.xml',
      'safe-mode-subscribe-qrscene.synthetic.xml',
      'safe-mode-text.easywechat-test.xml',
      'safe-mode-text.synthetic.xml',
    ]);
  });

  for (const e of encrypted) {
    it(`${e.file}: msg_signature holds and decrypts to the exact expected plaintext`, () => {
      const cfg = { aesKey: e.config!.encodingAESKey!, appId: e.config!.appid! };
      const q = new URLSearchParams(e.query);
      const enc = encryptOf(e.file);
      expect(enc).toBeTypeOf('string');
      expect(Buffer.byteLength(readWechatFixture(e.file))).toBe(e.bytes);
      expect(msgSignature(e.config!.token, q.get('timestamp')!, q.get('nonce')!, enc!)).toBe(q.get('msg_signature'));
      if (q.has('signature')) {
        expect(sha1Signature(e.config!.token, q.get('timestamp')!, q.get('nonce')!)).toBe(q.get('signature'));
      }
      expect(decrypt(enc!, cfg)).toBe(e.expected!.plaintext);
      const f = openFrame(enc!, cfg.aesKey);
      expect(f.appId).toBe(e.expected!.appid);
      expect(f.message).toBe(e.expected!.plaintext);
      if (typeof e.expected!.random16 === 'string') {
        expect(f.random.toString('latin1')).toBe(e.expected!.random16);
        // with the same random prefix, encryption reproduces the fixture's ciphertext exactly
        expect(encrypt(e.expected!.plaintext as string, cfg, Buffer.from(e.expected!.random16, 'latin1'))).toBe(enc);
      }
    });
  }

  it('official safe-mode vector: frame layout, pad byte 19, random prefix', () => {
    const e = manifestEntry('safe-mode-debug_demo.official.json');
    const enc = encryptOf(e.file)!;
    const f = openFrame(enc, OFFICIAL.aesKey);
    expect(f.pad).toBe(19);
    expect(e.expected!.padByte).toBe(19);
    expect(Buffer.from(enc, 'base64').length).toBe(e.expected!.tmpMsgLen);
    expect(16 + 4 + Buffer.byteLength(f.message) + f.appId.length).toBe(e.expected!.fullStrLen);
    expect(f.random.toString('latin1')).toBe('a8eedb185eb2fecf');
  });

  it('easywechat vector: pad 21 and the extra <URL> element survives decryption', () => {
    const e = manifestEntry('safe-mode-text.easywechat-test.xml');
    const f = openFrame(encryptOf(e.file)!, e.config!.encodingAESKey!);
    expect(f.pad).toBe(21);
    expect(f.appId).toBe('wxb11529c136998cb6');
  });

  it('official encrypted reply: given random16 reproduces Encrypt and MsgSignature exactly', () => {
    const e = manifestEntry('reply-encrypted-debug_demo.official.json');
    const fixture = JSON.parse(readWechatFixture(e.file)) as { Encrypt: string; MsgSignature: string; TimeStamp: number; Nonce: string };
    const cfg = { aesKey: e.config!.encodingAESKey!, appId: e.config!.appid! };
    const enc = encrypt(e.expected!.plaintext as string, cfg, Buffer.from(e.expected!.random16 as string, 'latin1'));
    expect(enc).toBe(fixture.Encrypt);
    expect(enc).toBe('ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==');
    const sig = msgSignature(e.config!.token, String(fixture.TimeStamp), fixture.Nonce, enc);
    expect(sig).toBe(fixture.MsgSignature);
    expect(sig).toBe(e.expected!.msgSignature);
    expect(Buffer.from(enc, 'base64').length).toBe(64);
    expect(16 + 4 + 25 + cfg.appId.length).toBe(e.expected!.fullStrLen);
    expect(decrypt(enc, cfg)).toBe('{"demo_resp":"good luck"}');
  });

  it('synthetic encrypted text reply: plaintext, ciphertext, signature and envelope are byte-exact', () => {
    const e = manifestEntry('reply-encrypted-text.synthetic.xml');
    const file = readWechatFixture(e.file);
    const cfg = { aesKey: e.config!.encodingAESKey!, appId: e.config!.appid! };
    const plaintext = buildTextReply({
      toUser: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      fromUser: 'gh_97417a04a28d',
      createTime: 1714112601,
      content: '欢迎 welcome',
    });
    expect(plaintext).toBe(e.expected!.plaintext);
    const enc = encrypt(plaintext, cfg, Buffer.from(e.expected!.random16 as string, 'latin1'));
    const parsed = parseWechatXml(file);
    expect(enc).toBe(parsed.Encrypt);
    const sig = msgSignature(e.config!.token, '1714112601', '97431820', enc);
    expect(sig).toBe('f598b78abbe1ab1c13add364e02b121f109b62dd');
    expect(sig).toBe(parsed.MsgSignature);
    const envelope = buildEncryptedEnvelope({ encrypt: enc, msgSignature: sig, timestamp: '1714112601', nonce: '97431820' });
    expect(envelope).toBe(file);
    expect(Buffer.byteLength(envelope)).toBe(e.bytes);
    expect(decrypt(parsed.Encrypt!, cfg)).toBe(e.expected!.plaintext);
  });

  it('WxJava / Tencent sample vector (Chinese plaintext) encrypts deterministically', () => {
    const cfg = { aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wxb11529c136998cb6' };
    const enc = encrypt('我是中文abcd123', cfg, Buffer.from('aaaabbbbccccdddd', 'latin1'));
    expect(enc).toBe('jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==');
    expect(decrypt(enc, cfg)).toBe('我是中文abcd123');
  });
});

describe('WXBizMsgCrypt round trips and rejections', () => {
  it('round-trips messages of every padding size, unicode and empty', () => {
    const cfg = { aesKey: OFFICIAL.aesKey, appId: OFFICIAL.appId };
    const pads = new Set<number>();
    for (let n = 0; n <= 40; n++) {
      const message = 'x'.repeat(n);
      const enc = encrypt(message, cfg);
      expect(decrypt(enc, cfg)).toBe(message);
      const f = openFrame(enc, cfg.aesKey);
      pads.add(f.pad);
      expect((16 + 4 + n + cfg.appId.length + f.pad) % 32).toBe(0);
    }
    expect([...pads].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    const unicode = '<xml><Content><![CDATA[你好 👋 ]]>]]></Content></xml>';
    expect(decrypt(encrypt(unicode, cfg), cfg)).toBe(unicode);
  });

  it('uses fresh random bytes unless random16 is given', () => {
    const cfg = { aesKey: OFFICIAL.aesKey, appId: OFFICIAL.appId };
    expect(encrypt('same', cfg)).not.toBe(encrypt('same', cfg));
    const r = Buffer.from('0000000000000000');
    expect(encrypt('same', cfg, r)).toBe(encrypt('same', cfg, r));
    expect(() => encrypt('same', cfg, Buffer.alloc(15))).toThrow(TypeError);
  });

  it('a wrong appid is a SignatureError (not for this account)', () => {
    const enc = encryptOf('safe-mode-text.synthetic.xml')!;
    expectHubError(() => decrypt(enc, { aesKey: OFFICIAL.aesKey, appId: 'wx0000000000000000' }), SignatureError);
    expectHubError(() => decrypt(enc, { aesKey: OFFICIAL.aesKey, appId: '' }), SignatureError);
  });

  it('malformed ciphertext, bad padding and bad length are BadRequestErrors with a code', () => {
    const cfg = { aesKey: OFFICIAL.aesKey, appId: OFFICIAL.appId };
    expectHubError(() => decrypt('not base64!', cfg), BadRequestError, 'bad_ciphertext');
    expectHubError(() => decrypt('', cfg), BadRequestError, 'bad_ciphertext');
    expectHubError(() => decrypt(Buffer.alloc(20).toString('base64'), cfg), BadRequestError, 'bad_ciphertext');

    const good = frame('<xml/>', OFFICIAL.appId);
    const n = 32 - (good.length % 32);
    expect(n).toBe(20);
    // pad byte 0, pad byte 33, and inconsistent pad bytes
    expectHubError(() => decrypt(rawEncrypt(Buffer.concat([good, Buffer.alloc(n, 0)])), cfg), BadRequestError, 'bad_padding');
    expectHubError(() => decrypt(rawEncrypt(Buffer.concat([good, Buffer.alloc(n, 33)])), cfg), BadRequestError, 'bad_padding');
    const mixed = Buffer.concat([good, Buffer.alloc(n, n)]);
    mixed[mixed.length - 2] = n + 1;
    expectHubError(() => decrypt(rawEncrypt(mixed), cfg), BadRequestError, 'bad_padding');
    // the same frame correctly padded decrypts
    expect(decrypt(rawEncrypt(Buffer.concat([good, Buffer.alloc(n, n)])), cfg)).toBe('<xml/>');

    // a length field pointing past the end of the frame
    const lying = frame('<xml/>', OFFICIAL.appId, 1611744036);
    expectHubError(() => decrypt(rawEncrypt(pkcs7Pad(lying)), cfg), BadRequestError, 'bad_length');
    const lyingByOne = frame('<xml/>', '', 7);
    expectHubError(() => decrypt(rawEncrypt(pkcs7Pad(lyingByOne)), { ...cfg, appId: '' }), BadRequestError, 'bad_length');
    // a frame shorter than random + length
    expectHubError(() => decrypt(rawEncrypt(pkcs7Pad(Buffer.alloc(10, 1))), cfg), BadRequestError, 'bad_length');
  });

  it('tampering: a broken last block fails the padding; CBC alone is malleable (msg_signature is the integrity check)', () => {
    const cfg = { aesKey: OFFICIAL.aesKey, appId: OFFICIAL.appId };
    const enc = encryptOf('safe-mode-text.synthetic.xml')!;
    const last = Buffer.from(enc, 'base64');
    last[last.length - 1] = last[last.length - 1]! ^ 0x01;
    expectHubError(() => decrypt(last.toString('base64'), cfg), BadRequestError, 'bad_padding');
    // flipping a bit of ciphertext block 1 flips the same bit of plaintext block 2: '<xml>' → '<yml>'
    const first = Buffer.from(enc, 'base64');
    first[5] = first[5]! ^ 0x01;
    expect(decrypt(first.toString('base64'), cfg).startsWith('<yml><ToUserName>')).toBe(true);
  });

  it('validates the EncodingAESKey as configuration (plain Error, not a HubError)', () => {
    for (const bad of ['', 'A'.repeat(42), 'A'.repeat(44), 'A'.repeat(42) + '+', 'A'.repeat(42) + '=']) {
      let caught: unknown;
      try {
        aesKeyBytes(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      expect(caught).not.toBeInstanceOf(HubError);
    }
    expect(aesKeyBytes(OFFICIAL.aesKey).equals(Buffer.alloc(32))).toBe(true);
    expect(aesKeyBytes('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG').length).toBe(32);
  });

  it('pkcs7 pads to 32-byte blocks with 1..32 bytes and unpads strictly', () => {
    expect(pkcs7Pad(Buffer.alloc(0)).equals(Buffer.alloc(32, 32))).toBe(true);
    expect(pkcs7Pad(Buffer.alloc(31, 7)).equals(Buffer.concat([Buffer.alloc(31, 7), Buffer.from([1])]))).toBe(true);
    expect(pkcs7Pad(Buffer.alloc(32, 7)).length).toBe(64);
    expect(pkcs7Unpad(pkcs7Pad(Buffer.from('abc'))).data.toString()).toBe('abc');
    expect(pkcs7Unpad(pkcs7Pad(Buffer.from('abc'))).pad).toBe(29);
    expectHubError(() => pkcs7Unpad(Buffer.alloc(0)), BadRequestError, 'bad_padding');
    expectHubError(() => pkcs7Unpad(Buffer.from([5, 5, 5])), BadRequestError, 'bad_padding');
  });
});
