/**
 * Youzan signatures: the push header `Event-Sign` is lower hex md5(client_id + raw body +
 * client_secret); the legacy body `sign` is md5(client_id + msg + client_secret).
 *
 * The comparison is constant-time and case-insensitive on the hex digest. Verification failures
 * throw SignatureError (401) with a reason that names what failed and never the expected value.
 */
import { createHash } from 'node:crypto';
import { SignatureError } from '../../errors.ts';
import { bodyBytes, headerValue, hexDigestEquals, type RawBody } from '../commerce/sign-common.ts';

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
