/**
 * The edges of WeChat's safe-mode frame and the plain signature's inputs: every ciphertext here
 * is built with node:crypto directly (AES-256-CBC, PKCS#7 to 32-byte blocks written out by
 * hand), never with the module's own `encrypt`, so a wrong frame rule cannot agree with itself.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { aesKeyBytes, decrypt, openFrame, pkcs7Unpad } from '../../lib/sources/wechat/crypto.ts';
import { assertToken, checkFreshness, checkSignature, queryParam, requireParams, safeEqual, sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { expectHubError, expectSignatureError } from '../support/errors.ts';

// The EncodingAESKey of WeChat's sample; its 32 key bytes are base64(key + '=').
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const KEY = Buffer.from(AES_KEY + '=', 'base64');

/** base64(AES-256-CBC(key, iv = key[0..16], frame ‖ PKCS#7 to 32)), built independently. */
function seal(frame: Buffer): string {
  const n = 32 - (frame.length % 32);
  const padded = Buffer.concat([frame, Buffer.alloc(n, n)]);
  const c = createCipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]).toString('base64');
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const RANDOM = Buffer.from('0123456789abcdef', 'ascii');

describe('EncodingAESKey', () => {
  it('decodes 43 characters of [A-Za-z0-9] to the 32 bytes of base64(key + "=")', () => {
    expect(aesKeyBytes(AES_KEY).equals(KEY)).toBe(true);
    expect(KEY.length).toBe(32);
  });
  it.each([
    ['42 characters', AES_KEY.slice(1)],
    ['44 characters', AES_KEY + 'H'],
    ['a leading character outside the alphabet', '+' + AES_KEY.slice(1)],
    ['a trailing character outside the alphabet', AES_KEY.slice(0, 42) + '/'],
    ['an extra leading character', '!' + AES_KEY],
    ['an extra trailing character', AES_KEY + '!'],
  ])('refuses %s as a configuration error', (_what, key) => {
    expect(() => aesKeyBytes(key)).toThrow(/EncodingAESKey must be 43 characters/);
  });
});

describe('PKCS#7 unpadding (block 32)', () => {
  it('accepts a block that is all padding', () => {
    const { data, pad } = pkcs7Unpad(Buffer.alloc(4, 4));
    expect([data.length, pad]).toEqual([0, 4]);
  });
  it('refuses a pad byte longer than the data, or above the block size', () => {
    expectHubError(() => pkcs7Unpad(Buffer.from([5, 5, 5])), BadRequestError, 'bad_padding');
    expectHubError(() => pkcs7Unpad(Buffer.alloc(64, 33)), BadRequestError, 'bad_padding');
    expectHubError(() => pkcs7Unpad(Buffer.alloc(16, 17), 16), BadRequestError, 'bad_padding');
    expect(pkcs7Unpad(Buffer.alloc(32, 32)).pad).toBe(32);
  });
});

describe('openFrame: ciphertext and frame limits', () => {
  it.each([
    ['empty', ''],
    ['not base64', '!!!!'],
    ['base64 with a bad tail', 'AAAAA'],
  ])('refuses %s Encrypt as bad_ciphertext: not base64', (_what, value) => {
    expect(expectHubError(() => openFrame(value, AES_KEY), BadRequestError, 'bad_ciphertext').message).toBe('Encrypt is not base64');
  });
  it('refuses base64 that is not whole AES blocks', () => {
    // 'AAAA' is 3 bytes; 24 base64 characters are 18 bytes.
    for (const value of ['AAAA', 'A'.repeat(24)]) {
      expect(expectHubError(() => openFrame(value, AES_KEY), BadRequestError, 'bad_ciphertext').message).toBe('Encrypt is not a whole number of AES blocks');
    }
  });
  it('opens the shortest frame: 16 random bytes, length 0, no message, no appid', () => {
    const frame = openFrame(seal(Buffer.concat([RANDOM, u32(0)])), AES_KEY);
    expect(frame).toEqual({ random: RANDOM, message: '', appId: '', pad: 12 });
  });
  it('refuses a frame of 19 bytes as bad_length', () => {
    expectHubError(() => openFrame(seal(Buffer.concat([RANDOM, Buffer.from([0, 0, 0])])), AES_KEY), BadRequestError, 'bad_length');
  });
  it('accepts a length field that reaches exactly to the end (empty appid), refuses one past it', () => {
    const body = Buffer.from('hello', 'utf8');
    expect(openFrame(seal(Buffer.concat([RANDOM, u32(5), body])), AES_KEY)).toMatchObject({ message: 'hello', appId: '' });
    expectHubError(() => openFrame(seal(Buffer.concat([RANDOM, u32(6), body])), AES_KEY), BadRequestError, 'bad_length');
  });
  it('refuses a message that is not UTF-8 as bad_encoding', () => {
    const bad = Buffer.from([0xc3, 0x28]); // an invalid two-byte sequence
    expectHubError(() => openFrame(seal(Buffer.concat([RANDOM, u32(2), bad, Buffer.from('wx1')])), AES_KEY), BadRequestError, 'bad_encoding');
  });
  it('refuses an appid that is not UTF-8 as bad_encoding', () => {
    expectHubError(() => openFrame(seal(Buffer.concat([RANDOM, u32(1), Buffer.from('x'), Buffer.from([0xff])])), AES_KEY), BadRequestError, 'bad_encoding');
  });
  it('decrypt returns the message only for the appid the frame names', () => {
    const sealed = seal(Buffer.concat([RANDOM, u32(2), Buffer.from('hi'), Buffer.from('wx1')]));
    expect(decrypt(sealed, { aesKey: AES_KEY, appId: 'wx1' })).toBe('hi');
    expectSignatureError(() => decrypt(sealed, { aesKey: AES_KEY, appId: 'wx2' }), /another appid/);
  });
});

describe('plain signature inputs', () => {
  const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex');

  it('sha1Signature sorts the parts as strings before hashing', () => {
    expect(sha1Signature('b', 'a', 'c')).toBe(sha1('abc'));
    expect(checkSignature('tok', '1700000000', 'n1', sha1(['1700000000', 'n1', 'tok'].join('')))).toBe(true);
    expect(checkSignature('tok', '1700000000', 'n1', sha1('tok1700000000n1'))).toBe(false);
  });

  it('safeEqual: a prefix is not equal, nor is a longer string', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'ab')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });

  it('assertToken refuses an empty token as a server misconfiguration (not a 401)', () => {
    expect(() => assertToken('')).toThrow('WeChat token is not configured');
    expect(() => checkSignature('', '1', 'n', 'x')).toThrow('WeChat token is not configured');
    expect(() => assertToken(undefined as unknown as string)).toThrow('WeChat token is not configured');
  });

  it('queryParam reads a raw query with or without "?", and refuses empty or repeated values', () => {
    expect(queryParam('?nonce=n1&timestamp=1', 'nonce')).toBe('n1');
    expect(queryParam('nonce=n1', 'nonce')).toBe('n1');
    expect(queryParam('?nonce=n1', '?nonce')).toBeUndefined();
    expect(queryParam(new URLSearchParams('nonce='), 'nonce')).toBeUndefined();
    expect(queryParam(new URLSearchParams('nonce=a&nonce=b'), 'nonce')).toBeUndefined();
  });

  it('queryParam on a map: own keys only, no empty string, one-element arrays of a non-empty string', () => {
    expect(queryParam({ nonce: '' }, 'nonce')).toBeUndefined();
    expect(queryParam({ nonce: ['n1'] }, 'nonce')).toBe('n1');
    expect(queryParam({ nonce: [''] }, 'nonce')).toBeUndefined();
    expect(queryParam({ nonce: [7] as unknown as string[] }, 'nonce')).toBeUndefined();
    expect(queryParam({ nonce: ['a', 'b'] }, 'nonce')).toBeUndefined();
    expect(queryParam(Object.create({ nonce: 'inherited' }) as Record<string, string>, 'nonce')).toBeUndefined();
    expectSignatureError(() => requireParams({ nonce: 'n' }, ['nonce', 'timestamp']), /missing query parameter timestamp/);
  });

  it('checkFreshness accepts 1 to 12 digits only, within the skew either way', () => {
    const now = 1_700_000_000_000;
    expect(checkFreshness('1700000000', now, 300)).toBe(1_700_000_000);
    for (const raw of ['', '17000000a0', 'a1700000000', '1700000000a', '1234567890123', '-1700000000', ' 1700000000']) {
      expectSignatureError(() => checkFreshness(raw, now, 300), /timestamp is not unix seconds/);
    }
    expect(checkFreshness('1700000300', now, 300)).toBe(1_700_000_300);
    expectSignatureError(() => checkFreshness('1700000301', now, 300), /stale timestamp: -301 s from server time exceeds 300 s/);
    expectSignatureError(() => checkFreshness('1699999699', now, 300), /stale timestamp: 301 s/);
  });
});
