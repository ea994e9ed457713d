/**
 * Known answers for the printed-code format (lib/codes/codec.ts): fixed secret, key id and
 * serial → the exact code string. Codes are printed on packaging and must verify for years, so
 * these vectors pin the format forever: a change to the key derivation, the tag's domain string,
 * its byte layout, the truncation or the alphabet breaks them. Never regenerate them to make a
 * change pass; a new format needs a new key id or version, and these codes must keep verifying.
 *
 * Provenance: computed once, outside this code base, from the documented format
 *   key   = HMAC-SHA256(CODE_SIGNING_SECRET, "code-key:" ‖ keyId)
 *   tag   = first 40 bits of HMAC-SHA256(key, "code:v1:" ‖ keyId ‖ serial as 8 bytes big-endian)
 *   code  = keyId ‖ serial in 11 Crockford base32 digits ‖ tag in 8 Crockford base32 digits
 * with Python 3's hmac and hashlib (secret and kid as bytes):
 *   A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
 *   def b32(n, w): return ''.join(A[(n >> 5 * (w - 1 - i)) & 31] for i in range(w))
 *   key = hmac.new(secret, b'code-key:' + kid, hashlib.sha256).digest()
 *   mac = hmac.new(key, b'code:v1:' + kid + serial.to_bytes(8, 'big'), hashlib.sha256).digest()
 *   code = kid + b32(serial, 11) + b32(int.from_bytes(mac[:5], 'big'), 8)
 * and again with the independent Node implementation `referenceCode` below (BigInt arithmetic,
 * written from the same description, not from the codec). Both agree with every literal here;
 * `A00000000001EREXP8J3` is also the example the codec's own documentation gives. The codec is
 * never called to produce an expected value.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codecFor, codecFromSecret, createCodec, deriveKeySecret, formatCode } from '../../lib/codes/codec.ts';

const LOCAL_SECRET = 'local-code-signing-secret-change-me'; // the local default CODE_SIGNING_SECRET
const TEST_SECRET = 'test-code-signing-secret-0123456789';

/** [configured secret, key id, serial, code]. */
const VECTORS: [string, 'A' | 'B', number, string][] = [
  [LOCAL_SECRET, 'A', 0, 'A00000000000A1XH7QZQ'],
  [LOCAL_SECRET, 'A', 1, 'A00000000001EREXP8J3'],
  [LOCAL_SECRET, 'A', 31, 'A0000000000Z1S03XT1A'],
  [LOCAL_SECRET, 'A', 32, 'A0000000001055YJ9W4Y'],
  [LOCAL_SECRET, 'A', 123_456_789, 'A000003NQK8NP99P4V34'],
  [LOCAL_SECRET, 'A', 2 ** 32, 'A0000400000065376N4M'],
  [LOCAL_SECRET, 'A', 2 ** 53 - 1, 'A7ZZZZZZZZZZTA32E1FC'],
  [LOCAL_SECRET, 'B', 0, 'B0000000000077AR0FT4'],
  [LOCAL_SECRET, 'B', 1, 'B00000000001YZ5M0AB6'],
  [LOCAL_SECRET, 'B', 123_456_789, 'B000003NQK8N3H7E91EQ'],
  [LOCAL_SECRET, 'B', 2 ** 53 - 1, 'B7ZZZZZZZZZZSMWZ6HHG'],
  [TEST_SECRET, 'A', 0, 'A0000000000011963HC5'],
  [TEST_SECRET, 'A', 1, 'A00000000001KKWGSPBN'],
  [TEST_SECRET, 'A', 31, 'A0000000000Z6W0KARYG'],
  [TEST_SECRET, 'A', 32, 'A00000000010ZTHGTH79'],
  [TEST_SECRET, 'A', 123_456_789, 'A000003NQK8NTQ0QP1TE'],
  [TEST_SECRET, 'A', 2 ** 32, 'A0000400000001KKM5KT'],
  [TEST_SECRET, 'A', 2 ** 53 - 1, 'A7ZZZZZZZZZZD0BYT35G'],
  [TEST_SECRET, 'B', 0, 'B00000000000TNZYD3AB'],
  [TEST_SECRET, 'B', 32, 'B00000000010VQ69BWTB'],
  [TEST_SECRET, 'B', 2 ** 32, 'B000040000006S6P22PG'],
];

/** Codes under a key given directly (createCodec, no derivation): key bytes = the UTF-8 string. [serial, code]. */
const RAW_KEY = 'secret-a-0123456789';
const RAW_VECTORS: [number, string][] = [
  [0, 'A00000000000Y4KH983Q'],
  [500, 'A000000000FM0VH9SA3G'],
  [2 ** 40, 'A00100000000W7QVNTBM'],
];

// ---------------------------------------------------------------------------------------------
// The independent implementation the vectors were cross-checked with (not used by the codec).

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(n: bigint, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) {
    out = CROCKFORD[Number(n % 32n)] + out;
    n /= 32n;
  }
  if (n !== 0n) throw new Error('does not fit');
  return out;
}

function referenceCode(key: Buffer, keyId: string, serial: number): string {
  const serialBytes = Buffer.alloc(8);
  serialBytes.writeBigUInt64BE(BigInt(serial));
  const mac = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`code:v1:${keyId}`, 'ascii'), serialBytes])).digest();
  return keyId + base32(BigInt(serial), 11) + base32(BigInt(`0x${mac.subarray(0, 5).toString('hex')}`), 8);
}

const referenceKey = (secret: string, keyId: string) => createHmac('sha256', secret).update(`code-key:${keyId}`).digest();

describe('printed codes: known answers', () => {
  it.each(VECTORS)('%s, key %s, serial %i → %s', (secret, keyId, serial, code) => {
    const codec = codecFromSecret(secret, keyId);
    expect(codec.encode(serial)).toBe(code);
    expect(codec.verify(code)).toEqual({ ok: true, serial, keyId, canonical: code });
  });

  it.each(RAW_VECTORS)('a key given directly: serial %i → %s', (serial, code) => {
    const codec = createCodec({ keys: { A: RAW_KEY }, activeKeyId: 'A' });
    expect(codec.encode(serial)).toBe(code);
    expect(codec.verify(code)).toEqual({ ok: true, serial, keyId: 'A', canonical: code });
  });

  it('derives the per-key secret as HMAC-SHA256(secret, "code-key:" ‖ keyId)', () => {
    // Python: hmac.new(b'test-code-signing-secret-0123456789', b'code-key:A', hashlib.sha256).hexdigest()
    expect(deriveKeySecret(TEST_SECRET, 'A').toString('hex')).toBe('4a49b96e360fd4ac99ae3047416fd8e79dfe076675ba9badcde686b5335cd070');
  });

  it('reads the printed and hand-typed forms of the vectors back to their serials', () => {
    const local = codecFromSecret(LOCAL_SECRET, 'B');
    const read: [string, number, string][] = [
      ['A000-0000-0001-EREX-P8J3', 1, 'A00000000001EREXP8J3'],
      ['a000-0000-0001-erex-p8j3', 1, 'A00000000001EREXP8J3'],
      // O read as 0, I and L as 1
      ['AOOO OOOO OOOI EREX P8J3', 1, 'A00000000001EREXP8J3'],
      ['a000-003n-qk8n-p99p-4v34', 123_456_789, 'A000003NQK8NP99P4V34'],
      ['B7ZZ-ZZZZ-ZZZZ-SMWZ-6HHG', 2 ** 53 - 1, 'B7ZZZZZZZZZZSMWZ6HHG'],
      ['b000-0000-000l-yz5m-0ab6', 1, 'B00000000001YZ5M0AB6'],
    ];
    for (const [typed, serial, canonical] of read) {
      expect(local.verify(typed), typed).toEqual({ ok: true, serial, keyId: canonical[0], canonical });
    }
    expect(formatCode('A00000000001EREXP8J3')).toBe('A000-0000-0001-EREX-P8J3');
    expect(formatCode('A7ZZZZZZZZZZTA32E1FC')).toBe('A7ZZ-ZZZZ-ZZZZ-TA32-E1FC');
  });

  it('a vector under another secret or key id does not verify', () => {
    expect(codecFromSecret(TEST_SECRET).verify('A00000000001EREXP8J3')).toEqual({ ok: false, reason: 'bad_tag' });
    expect(codecFromSecret(LOCAL_SECRET).verify('B00000000001YZ5M0AB6')).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('the independent implementation reproduces every vector (their provenance)', () => {
    for (const [secret, keyId, serial, code] of VECTORS) expect(referenceCode(referenceKey(secret, keyId), keyId, serial)).toBe(code);
    for (const [serial, code] of RAW_VECTORS) expect(referenceCode(Buffer.from(RAW_KEY, 'utf8'), 'A', serial)).toBe(code);
  });
});

describe('codecFor: the codec of the configured secret', () => {
  it('prints the known codes of whichever secret the configuration holds, and keeps one codec per secret', () => {
    const local = codecFor({ CODE_SIGNING_SECRET: LOCAL_SECRET });
    expect(local.encode(0)).toBe('A00000000000A1XH7QZQ');
    expect(codecFor({ CODE_SIGNING_SECRET: LOCAL_SECRET })).toBe(local);
    const other = codecFor({ CODE_SIGNING_SECRET: TEST_SECRET });
    expect(other).not.toBe(local);
    expect(other.encode(0)).not.toBe('A00000000000A1XH7QZQ');
    expect(other.verify('A00000000000A1XH7QZQ').ok).toBe(false);
    expect(codecFor({ CODE_SIGNING_SECRET: LOCAL_SECRET }).encode(1)).toBe('A00000000001EREXP8J3');
  });
});
