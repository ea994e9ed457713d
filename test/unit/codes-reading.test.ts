/**
 * Reading printed codes: which separators and characters a scan may carry, the input length
 * limit, serial and secret refusals. The code under test is the published example of
 * lib/codes/codec.ts (serial 1, key A, the local default secret → `A00000000001EREXP8J3`,
 * also pinned in codes-known-answers.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { codecFromSecret, normalizeCode } from '../../lib/codes/codec.ts';
import { expectHubError } from '../support/errors.ts';

const CODE = 'A00000000001EREXP8J3';
const codec = codecFromSecret('local-code-signing-secret-change-me');
const printed = (sep: string) => [CODE.slice(0, 4), CODE.slice(4, 8), CODE.slice(8, 12), CODE.slice(12, 16), CODE.slice(16)].join(sep);

describe('reading a printed code', () => {
  it('is the known code', () => {
    expect(codec.verify(CODE)).toEqual({ ok: true, serial: 1, keyId: 'A', canonical: CODE });
  });

  it.each([
    ['U+2010 hyphen', '\u2010'],
    ['U+2012 figure dash', '\u2012'],
    ['U+2013 en dash', '\u2013'],
    ['U+2015 horizontal bar', '\u2015'],
    ['U+2212 minus sign', '\u2212'],
    ['U+30FC katakana prolonged sound mark', '\u30fc'],
    ['U+00A0 no-break space', '\u00a0'],
    ['U+3000 ideographic space', '\u3000'],
  ])('skips %s between groups', (_name, sep) => {
    expect(codec.verify(printed(sep))).toMatchObject({ ok: true, serial: 1 });
  });

  it.each([
    ['U+200F right-to-left mark (below the dash range)', '\u200f'],
    ['U+2016 double vertical line (above the dash range)', '\u2016'],
    ['U+2211 n-ary summation (next to the minus sign)', '\u2211'],
    ['U+30FB katakana middle dot (next to the prolonged sound mark)', '\u30fb'],
  ])('refuses %s as a separator', (_name, sep) => {
    expect(codec.verify(printed(sep))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a non-ASCII letter in place of a symbol (it is not read as any value)', () => {
    // 'Ω' (U+03A9) stays itself under NFKC; in place of the serial's '1' it must not read as 1.
    expect(normalizeCode(CODE.replace('0001', '000Ω'))).toBeNull();
    expect(codec.verify(CODE.replace('0001', '000Ω'))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reads at most 128 characters of input, separators included', () => {
    const pad128 = '-'.repeat(128 - CODE.length) + CODE;
    expect(normalizeCode(pad128)).toBe(CODE);
    expect(normalizeCode('-' + pad128)).toBeNull();
    expect(codec.verify('-' + pad128)).toEqual({ ok: false, reason: 'malformed' });
    expect(codec.verify(42 as unknown as string)).toEqual({ ok: false, reason: 'malformed' });
    expect(normalizeCode(['A'] as unknown as string)).toBeNull();
  });
});

describe('encode and configuration refusals', () => {
  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, '1' as unknown as number])('refuses serial %s', (serial) => {
    expectHubError(() => codec.encode(serial), BadRequestError, 'bad_serial');
  });
  it('encodes the largest serial', () => {
    expect(codec.encode(Number.MAX_SAFE_INTEGER).slice(0, 12)).toBe('A7ZZZZZZZZZZ');
  });
  it('refuses an empty or non-string extra secret', () => {
    expect(() => codecFromSecret('s', 'A', { B: '' })).toThrow(/code signing secret for key B is empty/);
    expect(() => codecFromSecret('s', 'A', { B: 7 as unknown as string })).toThrow(/code signing secret for key B is empty/);
    expect(codecFromSecret('s', 'A', { B: 'old' }).keyIds).toEqual(['A', 'B']);
    expect(() => codecFromSecret('')).toThrow('code signing secret is empty');
    expect(() => codecFromSecret(7 as unknown as string)).toThrow('code signing secret is empty');
  });
});
