import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  MAX_SERIAL,
  TAG_BITS,
  codecFromSecret,
  createCodec,
  deriveKeySecret,
  formatCode,
  normalizeCode,
  type Codec,
} from '../../lib/codes/codec.ts';
import { CODES_CSV_HEADER, codesCsv } from '../../lib/codes/csv.ts';
import { csvField } from '../../lib/csv.ts';
import { seededRandom, type Rng } from '../support/random.ts';

const SECRET = 'test-code-signing-secret-0123456789';
const CANONICAL = /^[0-9A-HJKMNP-TV-Z]{20}$/;

function randomSerial(rand: Rng): number {
  // Spread over magnitudes: pick a bit length, then a value of about that size.
  const bits = Math.floor(rand() * 54);
  return Math.min(MAX_SERIAL, Math.floor(rand() * 2 ** bits));
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

describe('code codec', () => {
  const codec = codecFromSecret(SECRET);

  it('has 20 characters with a 40-bit tag', () => {
    expect(CODE_LENGTH).toBe(20);
    expect(TAG_BITS).toBe(40);
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(CODE_ALPHABET).not.toMatch(/[ILOU]/);
  });

  it('round-trips many serials including 0 and 2^53 - 1', () => {
    const rand = seededRandom(1);
    const serials = [0, 1, 31, 32, 1023, 1024, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 52, MAX_SERIAL - 1, MAX_SERIAL];
    for (let i = 0; i < 5000; i++) serials.push(randomSerial(rand));
    const seen = new Set<string>();
    for (const serial of serials) {
      const code = codec.encode(serial);
      expect(code).toMatch(CANONICAL);
      expect(code[0]).toBe('A');
      const result = codec.verify(code);
      expect(result).toEqual({ ok: true, serial, keyId: 'A', canonical: code });
      expect(codec.verify(formatCode(code))).toEqual(result);
      seen.add(`${serial}:${code}`);
    }
    expect(MAX_SERIAL).toBe(2 ** 53 - 1);
    expect(codec.encode(0)).toMatch(/^A00000000000/);
    expect(codec.encode(MAX_SERIAL)).toMatch(/^A7ZZZZZZZZZZ/);
  });

  it('is deterministic and distinct per serial', () => {
    expect(codec.encode(42)).toBe(codecFromSecret(SECRET).encode(42));
    const codes = new Set(Array.from({ length: 1000 }, (_, i) => codec.encode(i)));
    expect(codes.size).toBe(1000);
  });

  it('rejects serials outside [0, 2^53)', () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => codec.encode(bad)).toThrow(BadRequestError);
    }
  });

  it('rejects every single-character substitution (typo detection)', () => {
    const rand = seededRandom(2);
    const twoKeys = codecFromSecret(SECRET, 'B');
    let checked = 0;
    for (let n = 0; n < 25; n++) {
      const serial = n < 5 ? n : randomSerial(rand);
      for (const c of [codec, twoKeys]) {
        const code = c.encode(serial);
        for (let pos = 0; pos < code.length; pos++) {
          for (const sym of CODE_ALPHABET) {
            if (sym === code[pos]) continue;
            const typo = code.slice(0, pos) + sym + code.slice(pos + 1);
            const result = c.verify(typo);
            expect(result.ok, `${code} → ${typo}`).toBe(false);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(25 * 2 * 20 * 31);
  });

  it('rejects adjacent transpositions', () => {
    const code = codec.encode(123456789);
    for (let pos = 0; pos + 1 < code.length; pos++) {
      if (code[pos] === code[pos + 1]) continue;
      const swapped = code.slice(0, pos) + code[pos + 1] + code[pos] + code.slice(pos + 2);
      expect(codec.verify(swapped).ok).toBe(false);
    }
  });

  it('names the failure: unknown key, bad tag, malformed', () => {
    const code = codec.encode(7);
    expect(codec.verify('Z' + code.slice(1))).toEqual({ ok: false, reason: 'unknown_key' });
    const lastFlipped = code.slice(0, -1) + (code.endsWith('0') ? '1' : '0');
    expect(codec.verify(lastFlipped)).toEqual({ ok: false, reason: 'bad_tag' });
    expect(codec.verify(code.slice(1))).toEqual({ ok: false, reason: 'malformed' });
    expect(codec.verify(code + '0')).toEqual({ ok: false, reason: 'malformed' });
    expect(codec.verify(code.slice(0, 5) + 'U' + code.slice(6))).toEqual({ ok: false, reason: 'malformed' });
    // Serial symbols beyond 2^53 have no canonical form.
    expect(codec.verify('A8' + code.slice(2))).toEqual({ ok: false, reason: 'malformed' });
    expect(codec.verify('')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects 10,000 random code-shaped strings and never throws', () => {
    const rand = seededRandom(3);
    const pick = () => CODE_ALPHABET[Math.floor(rand() * 32)]!;
    const reasons = { malformed: 0, unknown_key: 0, bad_tag: 0 };
    for (let i = 0; i < 10_000; i++) {
      // Key id A (known) and a valid top serial symbol, so the tag is what decides.
      let s = 'A' + CODE_ALPHABET[Math.floor(rand() * 8)];
      while (s.length < CODE_LENGTH) s += pick();
      const shaped = i % 2 === 0 ? s : formatCode(s).toLowerCase();
      const result = codec.verify(shaped);
      expect(result.ok).toBe(false);
      if (!result.ok) reasons[result.reason]++;
    }
    expect(reasons.bad_tag).toBe(10_000);
  });

  it('survives fuzzed input of any shape', () => {
    const rand = seededRandom(4);
    const pool = [
      ...CODE_ALPHABET,
      ...'ilouILOU-_ .,\t\n\r\0',
      'ß', 'ﬃ', 'ſ', 'ı', 'Ａ', '０', '－', '　', '\u2013', '\ud800', '\udfff', '😀', '\u0301', '﷽',
    ];
    for (let i = 0; i < 10_000; i++) {
      const len = Math.floor(rand() * 40);
      let s = '';
      for (let j = 0; j < len; j++) {
        s += rand() < 0.2 ? String.fromCharCode(Math.floor(rand() * 0x10000)) : pool[Math.floor(rand() * pool.length)]!;
      }
      const result = codec.verify(s);
      expect(result.ok).toBe(false);
    }
    const odd: unknown[] = [undefined, null, 42, {}, [], Symbol('x'), 'A'.repeat(1_000_000), '-'.repeat(200)];
    for (const input of odd) {
      expect(() => codec.verify(input as string)).not.toThrow();
      expect(codec.verify(input as string).ok).toBe(false);
    }
  });

  it('reads case-insensitively, maps I/L → 1 and O → 0, ignores separators', () => {
    const code = codec.encode(1); // A00000000001…: has 0s and a 1
    expect(code).toMatch(/^A0{10}1/);
    const variants = [
      code.toLowerCase(),
      formatCode(code),
      formatCode(code).toLowerCase(),
      code.replace(/0/g, 'O'),
      code.replace(/0/g, 'o'),
      code.replace(/1/g, 'I'),
      code.replace(/1/g, 'l'),
      code.replace(/1/g, 'i').replace(/0/g, 'O').toLowerCase(),
      ` ${formatCode(code).replace(/-/g, ' ')} `,
      formatCode(code).replace(/-/g, '\u2014'),
      // Full-width characters, as typed with a Chinese IME.
      [...code].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join(''),
    ];
    for (const input of variants) {
      expect(codec.verify(input), JSON.stringify(input)).toEqual({ ok: true, serial: 1, keyId: 'A', canonical: code });
    }
    expect(codec.verify(code.replace(/0/g, 'U')).ok).toBe(false);
  });

  it('formats in groups of 4 and normalises', () => {
    const code = codec.encode(99);
    expect(formatCode(code)).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    expect(formatCode(code).replace(/-/g, '')).toBe(code);
    expect(normalizeCode(formatCode(code).toLowerCase())).toBe(code);
    expect(normalizeCode('nope')).toBeNull();
    expect(() => formatCode('not a code')).toThrow(BadRequestError);
  });

  it('verifies old-key codes after rotation and rejects unknown key ids', () => {
    const a = createCodec({ keys: { A: 'secret-a-0123456789' }, activeKeyId: 'A' });
    const ab = createCodec({ keys: { A: 'secret-a-0123456789', B: 'secret-b-0123456789' }, activeKeyId: 'B' });
    const oldCode = a.encode(500);
    const newCode = ab.encode(500);
    expect(newCode[0]).toBe('B');
    expect(newCode).not.toBe(oldCode);
    expect(ab.verify(oldCode)).toEqual({ ok: true, serial: 500, keyId: 'A', canonical: oldCode });
    expect(ab.verify(newCode)).toEqual({ ok: true, serial: 500, keyId: 'B', canonical: newCode });
    expect(a.verify(newCode)).toEqual({ ok: false, reason: 'unknown_key' });
    // Same key id, different secret: the tag fails.
    const other = createCodec({ keys: { A: 'another-secret-0123' }, activeKeyId: 'A' });
    expect(other.verify(oldCode)).toEqual({ ok: false, reason: 'bad_tag' });
    expect(ab.keyIds).toEqual(['A', 'B']);
    expect(ab.activeKeyId).toBe('B');
  });

  it('rejects bad codec configuration', () => {
    expect(() => createCodec({ keys: { A: 's' }, activeKeyId: 'B' })).toThrow(/active/);
    expect(() => createCodec({ keys: { I: 's' }, activeKeyId: 'I' })).toThrow(/key id/);
    expect(() => createCodec({ keys: { AB: 's' }, activeKeyId: 'AB' })).toThrow(/key id/);
    expect(() => createCodec({ keys: { a: 's' }, activeKeyId: 'a' })).toThrow(/key id/);
    expect(() => createCodec({ keys: { A: '' }, activeKeyId: 'A' })).toThrow(/empty/);
    expect(() => codecFromSecret('')).toThrow(/empty/);
  });

  it('derives per-key secrets from one configured secret', () => {
    const derivedA = createHmac('sha256', SECRET).update('code-key:A').digest();
    expect(deriveKeySecret(SECRET, 'A').equals(derivedA)).toBe(true);
    const explicit = createCodec({ keys: { A: derivedA }, activeKeyId: 'A' });
    expect(codec.encode(77)).toBe(explicit.encode(77));

    // Rotation by key id: B is active, A still verifies.
    const rotated = codecFromSecret(SECRET, 'B');
    expect(rotated.keyIds).toEqual(['A', 'B']);
    expect(rotated.verify(codec.encode(77)).ok).toBe(true);
    expect(rotated.encode(77)[0]).toBe('B');
    expect(codec.verify(rotated.encode(77))).toEqual({ ok: false, reason: 'unknown_key' });

    // Replacing the configured secret: old key A stays verifiable through `extra`.
    const NEW_SECRET = 'replacement-secret-9876543210';
    const withoutOld = codecFromSecret(NEW_SECRET, 'C');
    expect(withoutOld.verify(codec.encode(77))).toEqual({ ok: false, reason: 'bad_tag' });
    const withOld = codecFromSecret(NEW_SECRET, 'C', { A: SECRET, B: SECRET });
    expect(withOld.keyIds).toEqual(['A', 'C', 'B']);
    expect(withOld.verify(codec.encode(77)).ok).toBe(true);
    expect(withOld.verify(rotated.encode(77)).ok).toBe(true);
    expect(withOld.encode(77)[0]).toBe('C');
  });
});

describe('codes CSV', () => {
  const codec: Codec = codecFromSecret(SECRET);

  it('streams a header and one row per code, canonical code first', async () => {
    const stream = codesCsv(codec, { batchId: 'B-2025-01', sku: 'SKU-1', firstSerial: 1000, count: 2500 });
    expect(Array.isArray(stream)).toBe(false);
    expect(typeof stream[Symbol.asyncIterator]).toBe('function');
    const chunks = await collect(stream);
    expect(chunks).toHaveLength(3); // 1000 + 1000 + 500 rows
    const text = chunks.join('');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines[0]).toBe(CODES_CSV_HEADER);
    expect(lines[0]).toBe('code,printed,serial,batch,sku');
    expect(lines).toHaveLength(2501);
    lines.slice(1).forEach((line, i) => {
      const [code, printed, serial, batch, sku] = line.split(',');
      expect(code).toMatch(CANONICAL);
      expect(codec.verify(code!)).toEqual({ ok: true, serial: 1000 + i, keyId: 'A', canonical: code });
      expect(printed).toBe(formatCode(code!));
      expect(Number(serial)).toBe(1000 + i);
      expect(batch).toBe('B-2025-01');
      expect(sku).toBe('SKU-1');
    });
  });

  it('is lazy: a huge batch yields its first chunk without building the rest', async () => {
    let progress = 0;
    const stream = codesCsv(codec, {
      batchId: 'b',
      sku: 's',
      firstSerial: 0,
      count: 1e15,
      chunkRows: 100,
      onProgress: (n) => (progress = n),
    });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect((first.value as string).split('\r\n')).toHaveLength(102); // header + 100 rows + trailing ''
    expect(progress).toBe(100);
    await iterator.return?.();
  });

  it('quotes fields per RFC 4180', async () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    const text = (await collect(codesCsv(codec, { batchId: 'b,1', sku: '12" "pack"', firstSerial: 0, count: 1 }))).join('');
    expect(text.split('\r\n')[1]).toMatch(/^[0-9A-Z]{20},[0-9A-Z-]{24},0,"b,1","12"" ""pack"""$/);
  });

  it('handles an empty batch and rejects bad ranges eagerly', async () => {
    expect(await collect(codesCsv(codec, { batchId: 'b', sku: 's', firstSerial: 0, count: 0 }))).toEqual([
      CODES_CSV_HEADER + '\r\n',
    ]);
    expect(() => codesCsv(codec, { batchId: 'b', sku: 's', firstSerial: -1, count: 1 })).toThrow(BadRequestError);
    expect(() => codesCsv(codec, { batchId: 'b', sku: 's', firstSerial: MAX_SERIAL, count: 2 })).toThrow(BadRequestError);
    expect(() => codesCsv(codec, { batchId: 'b', sku: 's', firstSerial: 0, count: 1.5 })).toThrow(BadRequestError);
    const last = (await collect(codesCsv(codec, { batchId: 'b', sku: 's', firstSerial: MAX_SERIAL, count: 1 }))).join('');
    expect(last.split('\r\n')[1]).toContain(`,${MAX_SERIAL},`);
  });
});
