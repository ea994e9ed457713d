/**
 * What the commerce request signatures share (the platform rules are in sources/tmall/sign.ts,
 * sources/jd/sign.ts and sources/youzan/sign.ts):
 *   S = concat over parameters sorted by name (excluding `sign` and empty values) of key + value
 *   (TOP and JD), the md5 wrapping md5(secret + S + body + secret), query flattening, required
 *   parameters, request timestamps and their freshness window, header lookup.
 *
 * Every comparison is constant-time and case-insensitive on the hex digest. Verification failures
 * throw SignatureError (401) with a reason that names what failed and never the expected value.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../../errors.ts';
import { tryParseChinaTime } from './time.ts';

export type SignParams = Record<string, string | number | boolean | null | undefined>;
/** A query as handed over by an HTTP layer: repeated keys may arrive as arrays. */
export type QueryParams = Record<string, string | string[] | undefined>;
export type RawBody = string | Uint8Array;

/** The hub passes HUB_WEBHOOK_MAX_SKEW_SECONDS; this default is the same 5 minutes. */
export const DEFAULT_MAX_SKEW_MS = 300_000;

export function bodyBytes(body: RawBody | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

/** The sorted `k+v` concatenation (S above). Keys compare by UTF-16 code unit, like Java's TreeMap. */
export function topSortedConcat(params: SignParams): string {
  const keys = Object.keys(params)
    .filter((k) => k !== 'sign' && k !== '')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const k of keys) {
    const v = params[k];
    if (v === undefined || v === null) continue;
    const s = String(v);
    if (s === '') continue;
    out += k + s;
  }
  return out;
}

/** upper hex md5(secret + S + body + secret): TOP `md5` and JD. */
export function md5Wrapped(secret: string, concat: string, body: RawBody | undefined): string {
  return createHash('md5')
    .update(Buffer.from(secret + concat, 'utf8'))
    .update(bodyBytes(body))
    .update(Buffer.from(secret, 'utf8'))
    .digest('hex')
    .toUpperCase();
}
/** Constant-time comparison of two hex digests, case-insensitive. */
export function hexDigestEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given.trim().toUpperCase(), 'utf8');
  const b = Buffer.from(expected.toUpperCase(), 'utf8');
  if (a.length !== b.length) {
    // Still spend a comparison so a length mismatch is not measurably faster.
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/**
 * Parse a request timestamp: `yyyy-MM-dd HH:mm:ss` in GMT+8 (TOP, JD; optional `.SSS` and offset
 * as in JD's example), or epoch milliseconds as 13 digits (the TMC connect form, which relays reuse).
 */
export function parseRequestTimestamp(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{13}$/.test(t)) return Number(t);
  return tryParseChinaTime(t);
}

export function single(query: QueryParams, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) {
    if (v.length > 1) throw new SignatureError(`query parameter "${key}" is repeated`);
    return v[0];
  }
  return v;
}

export function flattenQuery(query: QueryParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(query)) {
    const v = single(query, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function requireParam(params: Record<string, string>, key: string): string {
  const v = params[key];
  if (v === undefined || v.trim() === '') throw new SignatureError(`missing query parameter "${key}"`);
  return v;
}

/** What every signed TOP or JD request carries in its query, checked in this order (401 when missing). */
export interface SignedQuery {
  params: Record<string, string>;
  sign: string;
  appKey: string;
  timestamp: string;
}

export function signedQuery(query: QueryParams): SignedQuery {
  const params = flattenQuery(query);
  const sign = requireParam(params, 'sign');
  const appKey = requireParam(params, 'app_key');
  const timestamp = requireParam(params, 'timestamp');
  return { params, sign, appKey, timestamp };
}

/** When the endpoint names its app key, the query's must be the same. */
export function checkAppKey(appKey: string, endpointAppKey: string | undefined): void {
  if (endpointAppKey !== undefined && appKey !== endpointAppKey) throw new SignatureError('app_key does not match this endpoint');
}

export function checkFreshness(timestamp: string, now: number, maxSkewMs: number): number {
  const ts = parseRequestTimestamp(timestamp);
  if (ts === undefined) throw new SignatureError(`timestamp "${timestamp.slice(0, 40)}" is not yyyy-MM-dd HH:mm:ss (GMT+8) or epoch ms`);
  if (Math.abs(now - ts) > maxSkewMs) {
    throw new SignatureError(`stale timestamp: ${Math.round((now - ts) / 1000)} s from server time exceeds ${Math.round(maxSkewMs / 1000)} s`);
  }
  return ts;
}

export function headerValue(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}
