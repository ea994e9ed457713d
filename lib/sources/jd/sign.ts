/**
 * JD signatures (JOS API; the 云鼎 relay uses the same rule for its POST into the hub):
 *   upper hex md5(secret + S + body + secret), S as for TOP (sources/commerce/sign-common.ts).
 *
 * Every comparison is constant-time and case-insensitive on the hex digest. Verification failures
 * throw SignatureError (401) with a reason that names what failed and never the expected value.
 */
import { SignatureError } from '../../errors.ts';
import {
  checkAppKey,
  checkFreshness,
  DEFAULT_MAX_SKEW_MS,
  hexDigestEquals,
  md5Wrapped,
  signedQuery,
  topSortedConcat,
  type QueryParams,
  type RawBody,
  type SignParams,
} from '../commerce/sign-common.ts';

/** JD JOS sign: upper hex md5(secret + S + body + secret); `body` is only for the relay POST. */
export function signJdParams(params: SignParams, secret: string, body?: RawBody): string {
  return md5Wrapped(secret, topSortedConcat(params), body);
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
  const { params, sign, appKey, timestamp } = signedQuery(input.query);
  const method = params['sign_method'];
  if (method !== undefined && method !== '' && method.toLowerCase() !== 'md5') {
    throw new SignatureError(`unsupported sign_method "${method.slice(0, 32)}" (JD uses md5)`);
  }
  checkAppKey(appKey, input.appKey);
  const expected = signJdParams(params, secret, rawBody);
  if (!hexDigestEquals(sign, expected)) throw new SignatureError('signature mismatch (JD md5)');
  const ts = checkFreshness(timestamp, now, maxSkewMs);
  return { appKey, timestamp: ts };
}
