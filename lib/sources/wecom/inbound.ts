/**
 * The WeCom callback (docs/platforms.md#wecom-callback): the same WXBizMsgCrypt scheme as a
 * WeChat official account in safe mode (lib/sources/wechat/crypto.ts), with the corp id as the
 * receive id at the end of every plaintext frame.
 *
 * - GET (URL verification): `msg_signature` = sha1(sort(token, timestamp, nonce, echostr)); the
 *   `echostr` is ENCRYPTED and the answer is its decrypted plaintext (not the echostr itself).
 * - POST: the body `<xml><ToUserName/><AgentID/><Encrypt/></xml>`; `msg_signature` over the
 *   `Encrypt` value; the decrypted XML is the message (normalise.ts).
 *
 * Freshness: `timestamp` within `maxSkewSeconds` of the server clock (else 401), the message's
 * CreateTime within the same window of `timestamp` (else 400 `create_time_out_of_window`).
 *
 * Errors, in order: body over the limit → 413; a missing or repeated msg_signature / timestamp /
 * nonce (/ echostr) → 401; body not a single `<xml>` → 400; no `Encrypt` → 400 `missing_field`;
 * signature wrong or timestamp stale → 401; ciphertext malformed → 400; a frame for another
 * corp id → 401; bad message fields → 400 (normalise.ts).
 */
import { BadRequestError } from '../../errors.ts';
import type { WecomEvent } from '../../events/hub-event.ts';
import { decrypt, msgSignature } from '../wechat/crypto.ts';
import { bodyText, DEFAULT_MAX_SKEW_SECONDS } from '../wechat/inbound.ts';
import { assertToken, checkFreshness, requireParams, safeEqual, type QueryInput } from '../wechat/signature.ts';
import { SignatureError } from '../../errors.ts';
import { parseWechatXml, type WechatXml } from '../wechat/xml.ts';
import { normaliseWecom } from './normalise.ts';

export interface WecomCallbackConfig {
  corpId: string;
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /** HUB_WEBHOOK_MAX_SKEW_SECONDS (default 300). */
  maxSkewSeconds?: number;
  /** Server clock, epoch ms. */
  now: number;
}

/** Checks the signature and the window of a signed ciphertext; returns the request timestamp (s). */
function checkSigned(query: QueryInput, ciphertextParam: 'echostr' | null, body: string | undefined, c: WecomCallbackConfig): { timestamp: number; ciphertext: string } {
  assertToken(c.token);
  const p = requireParams(query, ['msg_signature', 'timestamp', 'nonce']);
  let ciphertext: string;
  if (ciphertextParam !== null) {
    ciphertext = requireParams(query, [ciphertextParam])[ciphertextParam];
  } else {
    const envelope = parseWechatXml(body ?? '');
    const value = envelope.Encrypt;
    if (value === undefined || value === '') throw new BadRequestError('callback has no Encrypt element', { field: 'Encrypt' }, 'missing_field');
    ciphertext = value;
  }
  if (!safeEqual(msgSignature(c.token, p.timestamp, p.nonce, ciphertext), p.msg_signature)) {
    throw new SignatureError('msg_signature does not verify');
  }
  const timestamp = checkFreshness(p.timestamp, c.now, c.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS);
  return { timestamp, ciphertext };
}

/** GET URL verification: the decrypted echostr, to be answered as text/plain verbatim. */
export function verifyWecomUrl(query: QueryInput, c: WecomCallbackConfig): string {
  const { ciphertext } = checkSigned(query, 'echostr', undefined, c);
  return decrypt(ciphertext, { aesKey: c.aesKey, appId: c.corpId });
}

export interface OpenedCallback {
  event: WecomEvent;
  /** The decrypted message fields. */
  message: WechatXml;
}

/** POST: verifies, decrypts, parses and normalises one callback. */
export function openWecomCallback(query: QueryInput, body: string | Uint8Array, c: WecomCallbackConfig & { maxBytes: number }): OpenedCallback {
  const text = bodyText(body, c.maxBytes);
  const { timestamp, ciphertext } = checkSigned(query, null, text, c);
  const message = parseWechatXml(decrypt(ciphertext, { aesKey: c.aesKey, appId: c.corpId }));
  const event = normaliseWecom(message, c.corpId);
  const skew = c.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (Math.abs(event.occurredAt / 1000 - timestamp) > skew) {
    throw new BadRequestError(`CreateTime is more than ${skew} s from the callback timestamp`, { field: 'CreateTime' }, 'create_time_out_of_window');
  }
  return { event, message };
}
