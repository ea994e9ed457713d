/**
 * TOP signatures (Taobao / Tmall API, TMC connect, SPI / 奇门 pushes into the hub):
 *   S = concat over parameters sorted by name (excluding `sign` and empty values) of key + value
 *   md5:          upper hex md5(secret + S + body + secret)
 *   hmac:         upper hex HMAC-MD5(key = secret, S + body)
 *   hmac-sha256:  upper hex HMAC-SHA256(key = secret, S + body)
 *   (`body` is the raw request body when the request has one, else nothing.)
 *
 * Every comparison is constant-time and case-insensitive on the hex digest. Verification failures
 * throw SignatureError (401) with a reason that names what failed and never the expected value.
 */
import { createHmac } from 'node:crypto';
import { SignatureError } from '../../errors.ts';
import type { HubConfig } from '../../config/schema.ts';
import {
  bodyBytes,
  checkAppKey,
  checkFreshness,
  DEFAULT_MAX_SKEW_MS,
  headerValue,
  hexDigestEquals,
  md5Wrapped,
  requireParam,
  signedQuery,
  topSortedConcat,
  type QueryParams,
  type RawBody,
  type SignParams,
} from '../commerce/sign-common.ts';

export const TOP_SIGN_METHODS = ['md5', 'hmac', 'hmac-sha256'] as const;
export type TopSignMethod = (typeof TOP_SIGN_METHODS)[number];


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
  const { params, sign, appKey, timestamp } = signedQuery(input.query);
  const method = requireParam(params, 'sign_method');
  if (!(TOP_SIGN_METHODS as readonly string[]).includes(method)) {
    throw new SignatureError(`unsupported sign_method "${method.slice(0, 32)}" (md5, hmac, hmac-sha256)`);
  }
  checkAppKey(appKey, input.appKey);
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

/**
 * A request into the hub signed with the configured Tmall app (TMC relay, 会员通 SPI): the app
 * key, TMALL_APP_SECRET and the webhook window HUB_WEBHOOK_MAX_SKEW_SECONDS.
 */
export function verifyTmallRequest(
  req: { query: QueryParams; body: RawBody; receivedAt: number; headers: Record<string, string | undefined> },
  cfg: Pick<HubConfig, 'TMALL_APP_KEY' | 'TMALL_APP_SECRET' | 'HUB_WEBHOOK_MAX_SKEW_SECONDS'>,
): VerifiedTopRequest {
  return verifyTopRequest({
    query: req.query,
    rawBody: req.body,
    secret: cfg.TMALL_APP_SECRET,
    now: req.receivedAt,
    maxSkewMs: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS * 1000,
    appKey: cfg.TMALL_APP_KEY,
    headers: req.headers,
  });
}
