/**
 * One-code-per-item (一物一码) codes: unguessable, verifiable offline, printable.
 *
 * Layout (canonical form, 20 characters of Crockford base32, no separators):
 *
 *   K SSSSSSSSSSS TTTTTTTT
 *   │ │           └ tag: the first 40 bits of HMAC-SHA256(keySecret[K], "code:v1:" ‖ K ‖ serial as
 *   │ │             8-byte big-endian), as 8 base32 characters
 *   │ └ serial: a batch-independent integer 0 ≤ serial < 2^53, as 11 base32 characters, most
 *   │   significant first, zero-padded (11 × 5 = 55 bits; the top 2 bits must be zero)
 *   └ key id: one base32 character naming the signing key, so keys can rotate
 *
 * Printed form (`formatCode`): groups of 4 joined by hyphens, e.g. `A000-0000-0001-EREX-P8J3`
 * (serial 1 under key A with the local default secret; canonical `A00000000001EREXP8J3`).
 * The canonical form is what is stored and compared; the printed form is for labels only.
 *
 * Forgery: a code that was never issued passes `verify` only if its 40-bit tag matches, so a
 * guessed code passes with probability 2^-40 ≈ 9.1 × 10^-13 per attempt (HMAC-SHA256 as a PRF;
 * knowing any number of genuine codes does not help, as each serial's tag is independent).
 * A harvester guessing a million codes a day would expect one hit in about 3,000 years.
 * The serial is visible and sequential by design (it is not a secret); the tag is the secret part.
 *
 * No separate checksum: the HMAC tag is the check. Any change to the key id, serial or tag
 * (a typo, a misread character, a transposition) yields a code whose tag no longer matches, so
 * typos are rejected with the same 1 - 2^-40 certainty as forgeries; a mod-37 check character
 * would add length and nothing the tag does not already give.
 *
 * Reading: decoding is case-insensitive, maps I and L to 1 and O to 0, ignores hyphens and
 * whitespace (also full-width forms, via NFKC), and rejects U and anything else outside the
 * alphabet. `verify` is pure (no I/O), never throws, and compares tags in constant time, so a
 * scan can be rejected before any database read.
 *
 * Key secrets: `codecFromSecret` derives each key id's secret from one configured secret
 * (CODE_SIGNING_SECRET) as HMAC-SHA256(secret, "code-key:" ‖ keyId), so configuration stays one
 * value while rotation is just a new active key id.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../errors.ts';

/** Crockford base32 symbols, value order. No I, L, O, U. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters of each part and in total (canonical form). */
export const KEY_ID_CHARS = 1;
export const SERIAL_CHARS = 11;
export const TAG_CHARS = 8;
export const CODE_LENGTH = KEY_ID_CHARS + SERIAL_CHARS + TAG_CHARS; // 20
/** Bits of HMAC kept in the tag; a forged code passes with probability 2^-TAG_BITS. */
export const TAG_BITS = TAG_CHARS * 5; // 40
/** Largest encodable serial: 2^53 - 1. */
export const MAX_SERIAL = Number.MAX_SAFE_INTEGER;
/** Inputs longer than this are rejected as malformed before any work. */
const MAX_INPUT_CHARS = 128;
const TAG_DOMAIN = Buffer.from('code:v1:', 'ascii');

export type VerifyFailure = 'malformed' | 'unknown_key' | 'bad_tag';
export type VerifyResult =
  | { ok: true; serial: number; keyId: string; canonical: string }
  | { ok: false; reason: VerifyFailure };

export interface CodecOptions {
  /** Key id (one canonical alphabet character, e.g. `A`) → secret. */
  keys: Record<string, string | Uint8Array>;
  /** The key id new codes are signed with; must be in `keys`. */
  activeKeyId: string;
}

export interface Codec {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  /** The canonical code for `serial` under the active key. Throws BadRequestError on a bad serial. */
  encode(serial: number): string;
  /** Checks any input string; never throws. */
  verify(input: string): VerifyResult;
}

// Decode table for ASCII: symbol value, or -1 (invalid), or -2 (separator, skipped).
const SEP = -2;
const DECODE = new Int8Array(128).fill(-1);
for (let v = 0; v < CODE_ALPHABET.length; v++) {
  const ch = CODE_ALPHABET.charCodeAt(v);
  DECODE[ch] = v;
  if (ch >= 0x41 && ch <= 0x5a) DECODE[ch + 0x20] = v; // lower case
}
for (const [alias, value] of [
  ['I', 1],
  ['L', 1],
  ['O', 0],
] as const) {
  DECODE[alias.charCodeAt(0)] = value;
  DECODE[alias.toLowerCase().charCodeAt(0)] = value;
}
for (const ch of ['-', ' ', '\t', '\r', '\n']) DECODE[ch.charCodeAt(0)] = SEP;

/** Non-ASCII separators that survive NFKC: dashes, minus sign, no-break and ideographic spaces. */
function isUnicodeSeparator(c: number): boolean {
  return (c >= 0x2010 && c <= 0x2015) || c === 0x2212 || c === 0xa0 || c === 0x3000 || c === 0x30fc;
}

/**
 * Reads `input` into CODE_LENGTH symbol values, or null when it has the wrong length or a
 * character outside the alphabet (after case folding, aliases and separators).
 */
function readSymbols(input: unknown): Uint8Array | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT_CHARS) return null;
  let text = input;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      text = text.normalize('NFKC');
      break;
    }
  }
  const out = new Uint8Array(CODE_LENGTH);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (DECODE[c] ?? -1) : isUnicodeSeparator(c) ? SEP : -1;
    if (v === SEP) continue;
    if (v < 0 || n >= CODE_LENGTH) return null;
    out[n++] = v;
  }
  return n === CODE_LENGTH ? out : null;
}

function symbolsToString(values: Uint8Array): string {
  let s = '';
  for (const v of values) s += CODE_ALPHABET[v];
  return s;
}

/**
 * The canonical form of a code-shaped input (upper case, aliases resolved, no separators), or
 * null when it is not code-shaped. Does NOT check the tag; use `Codec.verify` for that.
 */
export function normalizeCode(input: string): string | null {
  const values = readSymbols(input);
  return values ? symbolsToString(values) : null;
}

function group4(canonical: string): string {
  let out = canonical.slice(0, 4);
  for (let i = 4; i < canonical.length; i += 4) out += '-' + canonical.slice(i, i + 4);
  return out;
}

/**
 * The printed form: canonical characters in groups of 4 joined by hyphens
 * (`A000-0000-0001-EREX-P8J3`). Accepts any code-shaped input; throws BadRequestError otherwise.
 */
export function formatCode(code: string): string {
  const canonical = normalizeCode(code);
  if (canonical === null) throw new BadRequestError('not a code', undefined, 'malformed_code');
  return group4(canonical);
}

/** Per-key secret derived from one configured secret: HMAC-SHA256(secret, "code-key:" ‖ keyId). */
export function deriveKeySecret(secret: string | Uint8Array, keyId: string): Buffer {
  return createHmac('sha256', secret).update(`code-key:${keyId}`, 'utf8').digest();
}

function isKeyId(keyId: string): boolean {
  return keyId.length === 1 && CODE_ALPHABET.includes(keyId);
}

export function createCodec(options: CodecOptions): Codec {
  const keys = new Map<string, KeyObject>();
  for (const [keyId, secret] of Object.entries(options.keys)) {
    if (!isKeyId(keyId)) {
      throw new TypeError(`code key id must be one character of ${CODE_ALPHABET}, got ${JSON.stringify(keyId)}`);
    }
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (bytes.length === 0) throw new TypeError(`code key ${keyId} has an empty secret`);
    keys.set(keyId, createSecretKey(bytes));
  }
  const activeKeyId = options.activeKeyId;
  const activeKey = keys.get(activeKeyId);
  if (!activeKey) throw new TypeError(`active code key id ${JSON.stringify(activeKeyId)} is not among the keys`);

  // Reused message buffer: domain ‖ keyId byte ‖ serial (8 bytes, big-endian). Single-threaded use only.
  const message = Buffer.alloc(TAG_DOMAIN.length + 1 + 8);
  TAG_DOMAIN.copy(message, 0);
  const keyIdAt = TAG_DOMAIN.length;
  const serialAt = keyIdAt + 1;

  /** The 8 tag characters for (keyId, serial). */
  function tagOf(key: KeyObject, keyId: string, serial: number): string {
    message[keyIdAt] = keyId.charCodeAt(0);
    message.writeUInt32BE(Math.floor(serial / 0x1_0000_0000), serialAt);
    message.writeUInt32BE(serial % 0x1_0000_0000, serialAt + 4);
    const mac = createHmac('sha256', key).update(message).digest();
    // First 40 bits as an integer (< 2^40, exact in a double), then 8 × 5 bits.
    let bits = (mac[0] ?? 0) * 0x1_0000_0000 + mac.readUInt32BE(1);
    let tag = '';
    for (let i = 0; i < TAG_CHARS; i++) {
      tag = CODE_ALPHABET[bits % 32] + tag;
      bits = Math.floor(bits / 32);
    }
    return tag;
  }

  function serialChars(serial: number): string {
    let s = '';
    let rest = serial;
    for (let i = 0; i < SERIAL_CHARS; i++) {
      s = CODE_ALPHABET[rest % 32] + s;
      rest = Math.floor(rest / 32);
    }
    return s;
  }

  function encode(serial: number): string {
    if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0) {
      throw new BadRequestError(`code serial must be an integer in [0, 2^53), got ${String(serial)}`, undefined, 'bad_serial');
    }
    return activeKeyId + serialChars(serial) + tagOf(activeKey!, activeKeyId, serial);
  }

  const MALFORMED: VerifyResult = Object.freeze({ ok: false, reason: 'malformed' });
  const UNKNOWN_KEY: VerifyResult = Object.freeze({ ok: false, reason: 'unknown_key' });
  const BAD_TAG: VerifyResult = Object.freeze({ ok: false, reason: 'bad_tag' });

  function verify(input: string): VerifyResult {
    try {
      const values = readSymbols(input);
      if (!values) return MALFORMED;
      // Serial: 11 symbols = 55 bits; values ≥ 2^53 (top symbol ≥ 8) are never issued.
      if ((values[KEY_ID_CHARS] ?? 0) >= 8) return MALFORMED;
      let serial = 0;
      for (let i = KEY_ID_CHARS; i < KEY_ID_CHARS + SERIAL_CHARS; i++) serial = serial * 32 + (values[i] ?? 0);
      const canonical = symbolsToString(values);
      const keyId = canonical.slice(0, KEY_ID_CHARS);
      const key = keys.get(keyId);
      if (!key) return UNKNOWN_KEY;
      const expected = Buffer.from(tagOf(key, keyId, serial), 'latin1');
      const actual = Buffer.from(canonical.slice(KEY_ID_CHARS + SERIAL_CHARS), 'latin1');
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return BAD_TAG;
      return { ok: true, serial, keyId, canonical };
    } catch {
      return MALFORMED;
    }
  }

  return Object.freeze({ activeKeyId, keyIds: Object.freeze([...keys.keys()]), encode, verify });
}

/**
 * A codec whose key secrets derive from one configured secret (CODE_SIGNING_SECRET).
 *
 * Keys: `A` and `activeKeyId`, each as HMAC-SHA256(secret, "code-key:" ‖ keyId). Rotating the
 * signing key is setting a new `activeKeyId`: codes printed under earlier ids keep verifying as
 * long as those ids stay listed. `extra` maps further key ids to the configured secret they were
 * derived from (derived the same way); use it to keep verifying old codes after the configured
 * secret itself has been replaced (`{ A: oldSecret }`), or to list retired ids. An `extra` entry
 * overrides the key derived from `secret` for that id.
 */
export function codecFromSecret(secret: string, activeKeyId = 'A', extra?: Record<string, string>): Codec {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('code signing secret is empty');
  const keys: Record<string, Buffer> = {
    A: deriveKeySecret(secret, 'A'),
    [activeKeyId]: deriveKeySecret(secret, activeKeyId),
  };
  for (const [keyId, extraSecret] of Object.entries(extra ?? {})) {
    if (typeof extraSecret !== 'string' || extraSecret.length === 0) {
      throw new TypeError(`code signing secret for key ${keyId} is empty`);
    }
    keys[keyId] = deriveKeySecret(extraSecret, keyId);
  }
  return createCodec({ keys, activeKeyId });
}

let configured: { secret: string; codec: Codec } | undefined;

/** The hub's codec for the configured CODE_SIGNING_SECRET (built once per secret). */
export function codecFor(cfg: { readonly CODE_SIGNING_SECRET: string }): Codec {
  if (configured?.secret !== cfg.CODE_SIGNING_SECRET) configured = { secret: cfg.CODE_SIGNING_SECRET, codec: codecFromSecret(cfg.CODE_SIGNING_SECRET) };
  return configured.codec;
}
