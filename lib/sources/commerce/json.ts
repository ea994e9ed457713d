/**
 * Lossless JSON for platform payloads.
 *
 * Taobao / Tmall ids (TMC message `id`, `tid`, `oid`, `refund_id`) are 19-digit integers that
 * arrive as JSON numbers; `JSON.parse` rounds them to the nearest double, so two distinct ids can
 * collapse into one (and a corrupted TMC id can never be confirmed). Money arrives as decimals.
 *
 * `parseJsonLossless` returns plain JS values with these rules:
 * - an integer that is a safe integer becomes a `number`;
 * - an integer outside the safe range stays its exact digit `string`;
 * - a number with a fraction or exponent stays its original `string` (so `276.92` is `"276.92"`
 *   and money never passes through a float);
 * - any number under an id-like key (`id`, `tid`, `oid`, `num_iid`, `*_id`, `*Id`, `*_ids`,
 *   `*Ids`, `*_no`, `dataid`, `userid`) is a `string`, whatever its size, so ids have one type;
 *   elements of an array inherit the array's key.
 * Malformed JSON (including duplicate keys with different values) throws BadRequestError.
 */
import { isLosslessNumber, parse, type LosslessNumber } from 'lossless-json';
import { BadRequestError } from '../../errors.ts';

const ID_KEY = /^(?:id|tid|oid|num_iid|dataid|userid|msg_id|sid)$|_id$|_ids$|Id$|Ids$|_no$|_str$/;

/** True when a number under this key must stay a string (see module doc). */
export function isIdLikeKey(key: string | undefined): boolean {
  return key !== undefined && ID_KEY.test(key);
}

const SAFE_INTEGER = /^-?\d+$/;

function convertNumber(raw: string, idLike: boolean): number | string {
  if (idLike) return raw;
  if (SAFE_INTEGER.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  }
  return raw;
}

function convert(value: unknown, key: string | undefined): unknown {
  if (isLosslessNumber(value)) return convertNumber((value as LosslessNumber).value, isIdLikeKey(key));
  if (Array.isArray(value)) return value.map((v) => convert(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // defineProperty keeps a literal "__proto__" key as data instead of changing the prototype.
      Object.defineProperty(out, k, { value: convert(v, k), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** Parse JSON text without losing large integers or decimals (rules in the module doc). */
export function parseJsonLossless(text: string): unknown {
  if (typeof text !== 'string') throw new BadRequestError('JSON body must be text');
  let parsed: unknown;
  if (nestingDepth(text) > MAX_DEPTH) throw new BadRequestError(`JSON nested deeper than ${MAX_DEPTH} levels`, undefined, 'malformed_json');
  try {
    parsed = parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new BadRequestError(`malformed JSON: ${reason.slice(0, 200)}`, undefined, 'malformed_json');
  }
  return convert(parsed, undefined);
}

/** No platform message nests deeper than a few levels; a deeper body is refused before parsing. */
export const MAX_DEPTH = 64;

/** Maximum nesting of `[`/`{` outside strings, in one pass without recursion. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** Narrowing helper: a plain (non-array) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Read an id-like value as a string: strings are trimmed, safe integers are printed. Anything else
 * (a float, a boolean, an object) is not an id and yields undefined; so does an empty string.
 */
export function idString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const s = value.trim();
    return s === '' ? undefined : s;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

/** A non-empty string field (numbers are printed), else undefined. */
export function textField(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
