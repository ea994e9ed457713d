/**
 * WeChat official-account signatures.
 *
 * - Plain `signature` (URL verification and every POST): sha1 over the sorted strings
 *   token, timestamp, nonce.
 * - `msg_signature` (safe mode, see crypto.ts): the same rule over token, timestamp, nonce and
 *   the base64 ciphertext.
 *
 * Comparison is timing-safe. Any missing or repeated parameter, and a timestamp outside the
 * freshness window, is a SignatureError (401).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../../errors.ts';

/**
 * A request query in any of the shapes a caller has at hand: the raw query string (with or
 * without the leading `?`), URLSearchParams, or a map such as API Gateway's
 * `queryStringParameters`.
 */
export type QueryInput =
  | string
  | URLSearchParams
  | Readonly<Record<string, string | readonly string[] | null | undefined>>;

/** sha1 hex (lowercase) of the parts sorted lexicographically and joined without a separator. */
export function sha1Signature(...parts: string[]): string {
  const joined = [...parts].sort().join('');
  return createHash('sha1').update(joined, 'utf8').digest('hex');
}

/** Timing-safe string equality (the length of `expected` is not secret). */
export function safeEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * One query parameter as a string. Absent, empty, or given more than once → undefined
 * (a repeated parameter is ambiguous and never trusted).
 */
export function queryParam(query: QueryInput, name: string): string | undefined {
  if (typeof query === 'string') {
    return queryParam(new URLSearchParams(query.startsWith('?') ? query.slice(1) : query), name);
  }
  if (query instanceof URLSearchParams) {
    const all = query.getAll(name);
    return all.length === 1 && all[0] !== '' ? all[0] : undefined;
  }
  if (!Object.prototype.hasOwnProperty.call(query, name)) return undefined;
  const value = query[name];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string' && value[0] !== '') {
    return value[0] as string;
  }
  return undefined;
}

/** Reads the named parameters; any one missing → SignatureError. */
export function requireParams<const K extends string>(query: QueryInput, names: readonly K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const name of names) {
    const value = queryParam(query, name);
    if (value === undefined) throw new SignatureError(`missing query parameter ${name}`);
    out[name] = value;
  }
  return out;
}

/** Throws a plain Error (a server misconfiguration, not the caller's fault) when the token is empty. */
export function assertToken(token: string): void {
  if (typeof token !== 'string' || token.length === 0) {
    throw new Error('WeChat token is not configured');
  }
}

/** True when `signature` = sha1(sort(token, timestamp, nonce)). */
export function checkSignature(token: string, timestamp: string, nonce: string, signature: string): boolean {
  assertToken(token);
  return safeEqual(sha1Signature(token, timestamp, nonce), signature);
}

/**
 * The request timestamp as unix seconds, within `skew` seconds of `nowMs`; SignatureError
 * otherwise (a captured URL replayed later, or not a timestamp at all).
 */
export function checkFreshness(raw: string, nowMs: number, skew: number): number {
  if (!/^\d{1,12}$/.test(raw)) throw new SignatureError('timestamp is not unix seconds');
  const ts = Number(raw);
  const off = Math.round(nowMs / 1000 - ts);
  if (Math.abs(off) > skew) throw new SignatureError(`stale timestamp: ${off} s from server time exceeds ${skew} s`);
  return ts;
}

/**
 * GET URL verification. Returns the `echostr` to send back verbatim (200 text/plain) only when
 * the signature holds and the timestamp is within `maxSkewSeconds` of `now` (default: the
 * server clock, 300 s); otherwise throws SignatureError (also for any missing parameter).
 */
export function verifyUrl(query: QueryInput, token: string, fresh: { now?: number; maxSkewSeconds?: number } = {}): string {
  assertToken(token);
  const p = requireParams(query, ['signature', 'timestamp', 'nonce', 'echostr']);
  if (!checkSignature(token, p.timestamp, p.nonce, p.signature)) {
    throw new SignatureError('signature does not verify');
  }
  checkFreshness(p.timestamp, fresh.now ?? Date.now(), fresh.maxSkewSeconds ?? 300);
  return p.echostr;
}
