/**
 * Request signatures of the commerce platforms.
 *
 * TOP (Taobao / Tmall API, TMC connect, SPI / 奇门 pushes into the hub):
 *   S = concat over parameters sorted by name (excluding `sign` and empty values) of key + value
 *   md5:          upper hex md5(secret + S + body + secret)
 *   hmac:         upper hex HMAC-MD5(key = secret, S + body)
 *   hmac-sha256:  upper hex HMAC-SHA256(key = secret, S + body)
 *   (`body` is the raw request body when the request has one, else nothing.)
 * JD (JOS API; our 云鼎 relay uses the same rule for its POST into the hub):
 *   upper hex md5(secret + S + body + secret)
 * Youzan push header `Event-Sign`: lower hex md5(client_id + raw body + client_secret).
 *
 * Every comparison is constant-time and case-insensitive on the hex digest. Verification failures
 * throw SignatureError (401) with a reason that names what failed and never the expected value.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.ts';
import { tryParseChinaTime } from './time.ts';

export const TOP_SIGN_METHODS = ['md5', 'hmac', 'hmac-sha256'] as const;
export type TopSignMethod = (typeof TOP_SIGN_METHODS)[number];

export type SignParams = Record<string, string | number | boolean | null | undefined>;
/** A query as handed over by an HTTP layer: repeated keys may arrive as arrays. */
export type QueryParams = Record<string, string | string[] | undefined>;
export type RawBody = string | Uint8Array;

/** The hub passes HUB_WEBHOOK_MAX_SKEW_SECONDS; this default is the same 5 minutes. */
const DEFAULT_MAX_SKEW_MS = 300_000;

function bodyBytes(body: RawBody | undefined): Buffer {
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

function md5Wrapped(secret: string, concat: string, body: RawBody | undefined): string {
  return createHash('md5')
    .update(Buffer.from(secret + concat, 'utf8'))
    .update(bodyBytes(body))
    .update(Buffer.from(secret, 'utf8'))
    .digest('hex')
    .toUpperCase();
}

/** Compute a TOP signature (upper-case hex) over params (minus `sign`) and an optional raw body. */
export function signTopParams(params: SignParams, secret: string, method: TopSignMethod = 'md5', body?: RawBody): string {
  const concat = topSortedConcat(params);
  switch (method) {
    case 'md5':
      return md5Wrapped(secret, concat, body);
    case 'hmac':
      return createHmac('md5', secret).update(Buffer.from(concat, 'utf8')).update(bodyBytes(body)).digest('hex').toUpperCase();
    case 'hmac-sha256':
      return createHmac('sha256', secret).update(Buffer.from(concat, 'utf8')).update(bodyBytes(body)).digest('hex').toUpperCase();
    default:
      throw new SignatureError(`unsupported sign_method "${String(method)}"`);
  }
}

/** TMC websocket CONNECT sign: md5 TOP sign over app_key, group_name, timestamp (epoch ms). */
export function signTmcConnect(appKey: string, groupName: string, timestampMs: number | string, secret: string): string {
  return signTopParams({ app_key: appKey, group_name: groupName, timestamp: String(timestampMs) }, secret, 'md5');
}

/** JD JOS sign: upper hex md5(secret + S + body + secret); `body` is only for the relay POST. */
export function signJdParams(params: SignParams, secret: string, body?: RawBody): string {
  return md5Wrapped(secret, topSortedConcat(params), body);
}

/** Youzan `Event-Sign`: lower hex md5(client_id + raw body + client_secret). */
export function youzanEventSign(clientId: string, rawBody: RawBody, clientSecret: string): string {
  return createHash('md5')
    .update(Buffer.from(clientId, 'utf8'))
    .update(bodyBytes(rawBody))
    .update(Buffer.from(clientSecret, 'utf8'))
    .digest('hex');
}

/** Youzan legacy body `sign`: md5(client_id + msg as transmitted + client_secret). Informational only. */
export function youzanLegacySign(clientId: string, msg: string, clientSecret: string): string {
  return createHash('md5').update(clientId + msg + clientSecret, 'utf8').digest('hex');
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

function single(query: QueryParams, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) {
    if (v.length > 1) throw new SignatureError(`query parameter "${key}" is repeated`);
    return v[0];
  }
  return v;
}

function flattenQuery(query: QueryParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(query)) {
    const v = single(query, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function requireParam(params: Record<string, string>, key: string): string {
  const v = params[key];
  if (v === undefined || v.trim() === '') throw new SignatureError(`missing query parameter "${key}"`);
  return v;
}

function checkFreshness(timestamp: string, now: number, maxSkewMs: number): number {
  const ts = parseRequestTimestamp(timestamp);
  if (ts === undefined) throw new SignatureError(`timestamp "${timestamp.slice(0, 40)}" is not yyyy-MM-dd HH:mm:ss (GMT+8) or epoch ms`);
  if (Math.abs(now - ts) > maxSkewMs) {
    throw new SignatureError(`stale timestamp: ${Math.round((now - ts) / 1000)} s from server time exceeds ${Math.round(maxSkewMs / 1000)} s`);
  }
  return ts;
}

function headerValue(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}

export interface VerifyTopRequestInput {
  query: QueryParams;
  rawBody: RawBody;
  secret: string;
  /** Server time, epoch ms. */
  now: number;
  maxSkewMs?: number;
  /** When set, the query's `app_key` must equal it. */
  appKey?: string;
  /**
   * Request headers. Headers named in a `top-sign-list` header (comma separated) are signed too,
   * as TOP's SPI verifier does.
   */
  headers?: Record<string, string | string[] | undefined>;
}

export interface VerifiedTopRequest {
  appKey: string;
  signMethod: TopSignMethod;
  timestamp: number;
}

/**
 * Verify a TOP-signed request into the hub (TMC relay / poller POST, SPI push): requires
 * `app_key`, `timestamp`, `sign_method`, `sign` in the query; checks the method, the app key,
 * the signature over every query parameter but `sign` plus the raw body, and that the timestamp
 * lies within maxSkewMs (default 5 min) of `now`.
 */
export function verifyTopRequest(input: VerifyTopRequestInput): VerifiedTopRequest {
  const { rawBody, secret, now, maxSkewMs = DEFAULT_MAX_SKEW_MS } = input;
  const params = flattenQuery(input.query);
  const sign = requireParam(params, 'sign');
  const appKey = requireParam(params, 'app_key');
  const timestamp = requireParam(params, 'timestamp');
  const method = requireParam(params, 'sign_method');
  if (!(TOP_SIGN_METHODS as readonly string[]).includes(method)) {
    throw new SignatureError(`unsupported sign_method "${method.slice(0, 32)}" (md5, hmac, hmac-sha256)`);
  }
  if (input.appKey !== undefined && appKey !== input.appKey) throw new SignatureError('app_key does not match this endpoint');
  const signList = headerValue(input.headers, 'top-sign-list');
  const signed: Record<string, string> = { ...params };
  if (signList) {
    for (const name of signList.split(',').map((s) => s.trim()).filter(Boolean)) {
      const v = headerValue(input.headers, name);
      if (v !== undefined) signed[name] = v;
    }
  }
  const expected = signTopParams(signed, secret, method as TopSignMethod, rawBody);
  if (!hexDigestEquals(sign, expected)) throw new SignatureError(`signature mismatch (sign_method ${method})`);
  const ts = checkFreshness(timestamp, now, maxSkewMs);
  return { appKey, signMethod: method as TopSignMethod, timestamp: ts };
}

export interface VerifyJdRequestInput {
  query: QueryParams;
  rawBody: RawBody;
  secret: string;
  now: number;
  maxSkewMs?: number;
  appKey?: string;
}

export interface VerifiedJdRequest {
  appKey: string;
  timestamp: number;
}

/**
 * Verify the JD relay's POST into the hub: requires `app_key`, `timestamp`, `sign`; the sign is
 * JD's md5 rule over every query parameter but `sign` plus the raw body. A `sign_method` other
 * than md5 is refused.
 */
export function verifyJdRequest(input: VerifyJdRequestInput): VerifiedJdRequest {
  const { rawBody, secret, now, maxSkewMs = DEFAULT_MAX_SKEW_MS } = input;
  const params = flattenQuery(input.query);
  const sign = requireParam(params, 'sign');
  const appKey = requireParam(params, 'app_key');
  const timestamp = requireParam(params, 'timestamp');
  const method = params['sign_method'];
  if (method !== undefined && method !== '' && method.toLowerCase() !== 'md5') {
    throw new SignatureError(`unsupported sign_method "${method.slice(0, 32)}" (JD uses md5)`);
  }
  if (input.appKey !== undefined && appKey !== input.appKey) throw new SignatureError('app_key does not match this endpoint');
  const expected = signJdParams(params, secret, rawBody);
  if (!hexDigestEquals(sign, expected)) throw new SignatureError('signature mismatch (JD md5)');
  const ts = checkFreshness(timestamp, now, maxSkewMs);
  return { appKey, timestamp: ts };
}

export interface VerifyYouzanPushInput {
  /** The request headers (any case); `Event-Sign` is read from them unless eventSign is given. */
  headers?: Record<string, string | string[] | undefined>;
  eventSign?: string;
  rawBody: RawBody;
  clientId: string;
  clientSecret: string;
}

/**
 * Verify a Youzan push by its `Event-Sign` header. Youzan pushes carry no delivery timestamp:
 * the body's own times are event times, and Youzan re-sends the same signed bytes for up to
 * about 2.5 hours, so no freshness window can hold them (docs/security.md). Replays are answered
 * by the `msg_id` dedupe, forward-only order states, the refund ledger and the refund cap.
 */
export function verifyYouzanPush(input: VerifyYouzanPushInput): void {
  const given = input.eventSign ?? headerValue(input.headers, 'event-sign');
  if (given === undefined || given.trim() === '') throw new SignatureError('missing Event-Sign header');
  const expected = youzanEventSign(input.clientId, input.rawBody, input.clientSecret);
  if (!hexDigestEquals(given, expected)) throw new SignatureError('Event-Sign mismatch');
}
