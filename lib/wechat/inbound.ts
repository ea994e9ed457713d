/**
 * The WeChat push entry point the HTTP handler calls: verify → (decrypt) → parse → normalise.
 *
 * Modes:
 * - `safe`: the query has `encrypt_type=aes`. `msg_signature` over token, timestamp, nonce and
 *   the body's `Encrypt` must hold; the ciphertext is decrypted (its appid must be this
 *   account's) and the inner XML is the message. A compatible-mode body that arrives with
 *   `encrypt_type=aes` is handled the same way (the authenticated ciphertext wins over the
 *   plaintext copy). Text replies are encrypted.
 * - `compatible`: no `encrypt_type=aes`, the body has plaintext fields and an `Encrypt` element;
 *   `signature` must hold and the plaintext is used. Replies are plain.
 * - `plain`: `signature` over token, timestamp, nonce must hold.
 *
 * Errors, in the order they are checked:
 * - body over `maxBytes` bytes → PayloadTooLargeError (413), before anything else;
 * - a missing or repeated `signature` / `timestamp` / `nonce` (and `msg_signature` in safe mode)
 *   → SignatureError (401);
 * - plain/compatible: a signature that does not verify → SignatureError (checked before the body
 *   is parsed);
 * - body not UTF-8, not a single `<xml>` root, malformed, with DOCTYPE/ENTITY, JSON → 400;
 * - safe: no `Encrypt` element → 400 `missing_field`; msg_signature wrong → 401; ciphertext
 *   malformed / bad padding / bad length → 400; appid of another account → 401;
 * - FromUserName / CreateTime / MsgType missing, or an invalid event → 400 (normalise.ts).
 * A missing token or a bad EncodingAESKey is a server misconfiguration → plain Error (500).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { BadRequestError, PayloadTooLargeError, SignatureError } from '../errors.ts';
import type { HubEvent } from '../events/hub-event.ts';
import { decrypt, encrypt, msgSignature } from './crypto.ts';
import { normaliseWechat } from './normalise.ts';
import { assertToken, checkSignature, queryParam, requireParams, safeEqual, type QueryInput } from './signature.ts';
import { buildEncryptedEnvelope, buildTextReply, parseWechatXml, type WechatXml } from './xml.ts';

export { verifyUrl } from './signature.ts';
export type { QueryInput } from './signature.ts';

export type PushMode = 'plain' | 'compatible' | 'safe';

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
  /** The 43-character EncodingAESKey; needed for safe mode and encrypted replies only. */
  aesKey?: string;
  /** Largest accepted body in bytes (default 65536). */
  maxBytes?: number;
  /** Clock for reply timestamps (epoch ms); defaults to Date.now. */
  now?: () => number;
  /** Source of random bytes for reply encryption and nonces; defaults to crypto.randomBytes. */
  randomBytes?: (size: number) => Buffer;
}

export interface OpenedPush {
  event: HubEvent;
  mode: PushMode;
  /** The parsed (decrypted) message fields. */
  message: WechatXml;
  /**
   * The HTTP answer: no text (or '') → `success` text/plain; text → a passive text reply,
   * encrypted in safe mode with a fresh timestamp, nonce and msg_signature.
   */
  reply(text?: string): PushReply;
}

export const DEFAULT_MAX_BYTES = 65536;
export const SUCCESS_REPLY: PushReply = Object.freeze({ contentType: 'text/plain', body: 'success' });
const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function bodyText(body: string | Uint8Array, maxBytes: number): string {
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

function requireAesKey(aesKey: string | undefined): string {
  if (typeof aesKey !== 'string' || aesKey.length === 0) {
    throw new Error('WeChat EncodingAESKey is not configured but the push is encrypted');
  }
  return aesKey;
}

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
  assertToken(token);

  const text = bodyText(input.body, maxBytes);
  const safe = queryParam(query, 'encrypt_type')?.toLowerCase() === 'aes';

  let mode: PushMode;
  let message: WechatXml;
  let aesKey: string | undefined;
  if (safe) {
    const p = requireParams(query, ['timestamp', 'nonce', 'msg_signature']);
    aesKey = requireAesKey(input.aesKey);
    const envelope = parseWechatXml(text);
    const encrypted = envelope.Encrypt;
    if (encrypted === undefined || encrypted === '') {
      throw new BadRequestError('encrypted push has no Encrypt element', { field: 'Encrypt' }, 'missing_field');
    }
    if (!safeEqual(msgSignature(token, p.timestamp, p.nonce, encrypted), p.msg_signature)) {
      throw new SignatureError('msg_signature does not verify');
    }
    message = parseWechatXml(decrypt(encrypted, { aesKey, appId }));
    mode = 'safe';
  } else {
    const p = requireParams(query, ['signature', 'timestamp', 'nonce']);
    if (!checkSignature(token, p.timestamp, p.nonce, p.signature)) {
      throw new SignatureError('signature does not verify');
    }
    message = parseWechatXml(text);
    mode = message.Encrypt !== undefined ? 'compatible' : 'plain';
  }

  const event = normaliseWechat(message, appId);

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

  return { event, mode, message, reply };
}
