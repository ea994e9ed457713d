/**
 * The WeChat push entry point the HTTP handler calls: verify → check freshness → (decrypt) →
 * parse → normalise.
 *
 * Modes (docs/security.md):
 * - an account with an EncodingAESKey (`aesKey` given: WeChat's compatible or safe mode)
 *   accepts only `encrypt_type=aes` pushes whose `msg_signature` over token, timestamp, nonce
 *   and the body's `Encrypt` holds; the ciphertext is decrypted (its appid must be this
 *   account's) and the inner XML is the message, whatever plaintext copy the envelope carries.
 *   A push without `encrypt_type=aes` / `msg_signature` (a captured URL stripped of them) → 401.
 *   Text replies are encrypted.
 * - an account without a key (plain mode): `signature` over token, timestamp, nonce must hold;
 *   an encrypted push to it → 401. The body is not signed, so the caller adds `replay` (a digest
 *   of timestamp and nonce with a digest of the body) to the commit as a nonce-cache row
 *   (lib/apply): the same signature, timestamp and nonce with another body is refused (401),
 *   WeChat's identical retry is not.
 *
 * Freshness: `timestamp` must lie within `maxSkewSeconds` (HUB_WEBHOOK_MAX_SKEW_SECONDS) of the
 * server clock → else 401; the message's `CreateTime` must lie within the same window of
 * `timestamp` → else 400 `create_time_out_of_window`. WeChat retries reuse the original query
 * (timestamp included) within seconds, so both hold for genuine retries.
 *
 * Errors, in the order they are checked:
 * - body over `maxBytes` bytes → PayloadTooLargeError (413), before anything else;
 * - a missing or repeated `signature` / `timestamp` / `nonce` (and `msg_signature` for an
 *   account with a key) → SignatureError (401); a push in the other mode than the account's → 401;
 * - a signature that does not verify, a timestamp that is not unix seconds or out of the
 *   window → SignatureError (checked before the body is parsed in plain mode);
 * - body not UTF-8, not a single `<xml>` root, malformed, with DOCTYPE/ENTITY, JSON → 400;
 * - encrypted: no `Encrypt` element → 400 `missing_field`; msg_signature wrong → 401;
 *   ciphertext malformed / bad padding / bad length → 400; appid of another account → 401;
 * - FromUserName / CreateTime / MsgType missing, or an invalid event → 400 (normalise.ts);
 *   CreateTime out of the window → 400.
 * A missing token is a server misconfiguration → plain Error (500); the configuration refuses
 * to start without one (lib/config).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { BadRequestError, PayloadTooLargeError, SignatureError } from '../../errors.ts';
import type { WechatEvent } from '../../events/hub-event.ts';
import { createHash } from 'node:crypto';
import { decrypt, encrypt, msgSignature } from './crypto.ts';
import { normaliseWechat } from './normalise.ts';
import { assertToken, checkFreshness, checkSignature, queryParam, requireParams, safeEqual, type QueryInput } from './signature.ts';
import { wechat } from './descriptor.ts';
import { buildEncryptedEnvelope, buildTextReply, parseWechatXml, type WechatXml } from './xml.ts';

export { verifyUrl } from './signature.ts';
export type { QueryInput } from './signature.ts';

export type PushMode = 'plain' | 'safe';

export interface PushReply {
  contentType: string;
  body: string;
}

export interface OpenPushInput {
  query: QueryInput;
  /** The raw request body (already base64-decoded if the gateway encoded it). */
  body: string | Uint8Array;
  /** The account's appid, as named by the request URL. */
  appId: string;
  token: string;
  /** The account's 43-character EncodingAESKey; absent: the account runs in plain mode. */
  aesKey?: string;
  /** The freshness window in seconds (HUB_WEBHOOK_MAX_SKEW_SECONDS, default 300). */
  maxSkewSeconds?: number;
  /** Largest accepted body in bytes (default 65536). */
  maxBytes?: number;
  /** Server clock (epoch ms) for the freshness window and reply timestamps; defaults to Date.now. */
  now?: () => number;
  /** Source of random bytes for reply encryption and nonces; defaults to crypto.randomBytes. */
  randomBytes?: (size: number) => Buffer;
}

export interface OpenedPush {
  event: WechatEvent;
  mode: PushMode;
  /** The parsed (decrypted) message fields. */
  message: WechatXml;
  /**
   * Plain mode only: the nonce-cache entry of this request. `key` digests timestamp and nonce
   * (the signature follows from them), `bodyHash` the raw body; `expiresAt` (epoch s) is when
   * the timestamp has left the window and the entry is no longer needed.
   */
  replay?: { key: string; bodyHash: string; expiresAt: number };
  /**
   * The HTTP answer: no text (or '') → `success` text/plain; text → a passive text reply,
   * encrypted in safe mode with a fresh timestamp, nonce and msg_signature.
   */
  reply(text?: string): PushReply;
}

export const DEFAULT_MAX_BYTES = wechat.maxBodyBytes;
export const DEFAULT_MAX_SKEW_SECONDS = 300;
export const SUCCESS_REPLY: PushReply = Object.freeze({ contentType: 'text/plain', body: 'success' });
const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function bodyText(body: string | Uint8Array, maxBytes: number): string {
  if (typeof body === 'string') {
    const size = Buffer.byteLength(body, 'utf8');
    if (size > maxBytes) throw new PayloadTooLargeError(`body is ${size} bytes, the limit is ${maxBytes}`);
    return body;
  }
  if (body instanceof Uint8Array) {
    if (body.byteLength > maxBytes) {
      throw new PayloadTooLargeError(`body is ${body.byteLength} bytes, the limit is ${maxBytes}`);
    }
    try {
      return utf8.decode(body);
    } catch {
      throw new BadRequestError('body is not valid UTF-8', undefined, 'bad_encoding');
    }
  }
  throw new BadRequestError('body is missing', undefined, 'bad_xml');
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** A numeric nonce of 10 digits from the given random source. */
function freshNonce(random: (size: number) => Buffer): string {
  return String(random(4).readUInt32BE(0) % 9_000_000_000 + 1_000_000_000).padStart(10, '0');
}

/** Verifies, decrypts if needed, parses and normalises one WeChat push. */
export function openPush(input: OpenPushInput): OpenedPush {
  const { query, appId, token } = input;
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  const now = input.now ?? Date.now;
  const random = input.randomBytes ?? nodeRandomBytes;
  const skew = input.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  assertToken(token);

  const text = bodyText(input.body, maxBytes);
  const encrypted = queryParam(query, 'encrypt_type')?.toLowerCase() === 'aes';
  const aesKey = input.aesKey !== undefined && input.aesKey !== '' ? input.aesKey : undefined;

  let mode: PushMode;
  let message: WechatXml;
  let timestamp: number;
  let replay: OpenedPush['replay'];
  if (aesKey !== undefined) {
    if (!encrypted) throw new SignatureError('this account accepts only encrypted pushes (encrypt_type=aes with msg_signature)');
    const p = requireParams(query, ['timestamp', 'nonce', 'msg_signature']);
    const envelope = parseWechatXml(text);
    const ciphertext = envelope.Encrypt;
    if (ciphertext === undefined || ciphertext === '') {
      throw new BadRequestError('encrypted push has no Encrypt element', { field: 'Encrypt' }, 'missing_field');
    }
    if (!safeEqual(msgSignature(token, p.timestamp, p.nonce, ciphertext), p.msg_signature)) {
      throw new SignatureError('msg_signature does not verify');
    }
    timestamp = checkFreshness(p.timestamp, now(), skew);
    message = parseWechatXml(decrypt(ciphertext, { aesKey, appId }));
    mode = 'safe';
  } else {
    if (encrypted) throw new SignatureError('this account has no EncodingAESKey: encrypted pushes are refused');
    const p = requireParams(query, ['signature', 'timestamp', 'nonce']);
    if (!checkSignature(token, p.timestamp, p.nonce, p.signature)) {
      throw new SignatureError('signature does not verify');
    }
    timestamp = checkFreshness(p.timestamp, now(), skew);
    message = parseWechatXml(text);
    mode = 'plain';
    replay = {
      key: sha256(`${appId}\n${p.timestamp}\n${p.nonce}`),
      bodyHash: sha256(text),
      expiresAt: timestamp + skew + 60,
    };
  }

  const event = normaliseWechat(message, appId);
  if (Math.abs(event.occurredAt / 1000 - timestamp) > skew) {
    throw new BadRequestError(`CreateTime is more than ${skew} s from the push timestamp`, { field: 'CreateTime' }, 'create_time_out_of_window');
  }

  const reply = (replyText?: string): PushReply => {
    if (replyText === undefined || replyText === '') return SUCCESS_REPLY;
    const createTime = Math.floor(now() / 1000);
    const xml = buildTextReply({
      toUser: message.FromUserName ?? '',
      fromUser: message.ToUserName ?? '',
      createTime,
      content: replyText,
    });
    if (mode !== 'safe' || aesKey === undefined) return { contentType: XML_CONTENT_TYPE, body: xml };
    const ciphertext = encrypt(xml, { aesKey, appId }, random(16));
    const timestamp = String(createTime);
    const nonce = freshNonce(random);
    return {
      contentType: XML_CONTENT_TYPE,
      body: buildEncryptedEnvelope({
        encrypt: ciphertext,
        msgSignature: msgSignature(token, timestamp, nonce, ciphertext),
        timestamp,
        nonce,
      }),
    };
  };

  return { event, mode, message, reply, ...(replay ? { replay } : {}) };
}
