/**
 * WXBizMsgCrypt, the message encryption of WeChat compatible / safe mode.
 *
 * - key: base64(EncodingAESKey + '=') → 32 bytes; IV = the first 16 key bytes.
 * - AES-256-CBC with the cipher's own padding OFF; PKCS#7 padding to 32-byte blocks by hand
 *   (pad bytes 1..32, so a pad byte above 16 is normal and Node's default unpadding would fail).
 * - plaintext frame: 16 random bytes + 4-byte big-endian byte length of the message + message
 *   (UTF-8) + appid.
 * - msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)).
 *
 * Errors from `decrypt`:
 * - malformed ciphertext (not base64, empty, not whole AES blocks) → BadRequestError `bad_ciphertext`
 * - bad PKCS#7 padding → BadRequestError `bad_padding`
 * - frame too short or a length field past the end → BadRequestError `bad_length`
 * - message not valid UTF-8 → BadRequestError `bad_encoding`
 * - appid tail differs from the account's appid → SignatureError (401): the message was not
 *   encrypted for this account.
 * A bad EncodingAESKey is a server misconfiguration and throws a plain Error.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadRequestError, SignatureError } from '../../errors.ts';
import { sha1Signature } from './signature.ts';

export interface WechatCryptoConfig {
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /** The official account's appid, carried at the end of every plaintext frame. */
  appId: string;
}

/** The decrypted frame before the appid check. */
export interface WechatFrame {
  random: Buffer;
  message: string;
  appId: string;
  /** The PKCS#7 pad byte that was removed (1..32). */
  pad: number;
}

export const BLOCK_K = 32;

const keyCache = new Map<string, Buffer>();

/** Decodes and validates an EncodingAESKey (43 chars of [A-Za-z0-9] → 32 bytes). */
export function aesKeyBytes(encodingAesKey: string): Buffer {
  const cached = keyCache.get(encodingAesKey);
  if (cached) return cached;
  if (typeof encodingAesKey !== 'string' || !/^[A-Za-z0-9]{43}$/.test(encodingAesKey)) {
    throw new Error('WeChat EncodingAESKey must be 43 characters of [A-Za-z0-9]');
  }
  const key = Buffer.from(encodingAesKey + '=', 'base64');
  if (key.length !== 32) throw new Error('WeChat EncodingAESKey does not decode to 32 bytes');
  keyCache.set(encodingAesKey, key);
  return key;
}

/** PKCS#7 with block size k (WeChat: 32). Always adds 1..k bytes. */
export function pkcs7Pad(data: Buffer, k: number = BLOCK_K): Buffer {
  const n = k - (data.length % k);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** Removes PKCS#7 padding of block size k; throws BadRequestError `bad_padding`. */
export function pkcs7Unpad(data: Buffer, k: number = BLOCK_K): { data: Buffer; pad: number } {
  const pad = data.length > 0 ? data[data.length - 1]! : 0;
  if (pad < 1 || pad > k || pad > data.length) {
    throw new BadRequestError('encrypted message has bad padding', undefined, 'bad_padding');
  }
  for (let i = data.length - pad; i < data.length; i++) {
    if (data[i] !== pad) throw new BadRequestError('encrypted message has bad padding', undefined, 'bad_padding');
  }
  return { data: data.subarray(0, data.length - pad), pad };
}

/** msg_signature = sha1 hex of the sorted token, timestamp, nonce and base64 ciphertext. */
export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return sha1Signature(token, timestamp, nonce, encrypt);
}

/**
 * Encrypts one message for WeChat. `random16` (16 bytes) makes the output deterministic for
 * known-answer tests; by default it is fresh random bytes. Returns the base64 `Encrypt` value.
 */
export function encrypt(message: string, config: WechatCryptoConfig, random16?: Buffer): string {
  const key = aesKeyBytes(config.aesKey);
  const random = random16 ?? randomBytes(16);
  if (random.length !== 16) throw new TypeError('random16 must be exactly 16 bytes');
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  const frame = pkcs7Pad(Buffer.concat([random, length, body, Buffer.from(config.appId, 'utf8')]));
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(frame), cipher.final()]).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decrypts and unframes without checking the appid (see `decrypt`). */
export function openFrame(encryptB64: string, aesKey: string): WechatFrame {
  const key = aesKeyBytes(aesKey);
  if (typeof encryptB64 !== 'string' || encryptB64.length === 0 || !BASE64.test(encryptB64)) {
    throw new BadRequestError('Encrypt is not base64', undefined, 'bad_ciphertext');
  }
  const cipherBytes = Buffer.from(encryptB64, 'base64');
  if (cipherBytes.length === 0 || cipherBytes.length % 16 !== 0) {
    throw new BadRequestError('Encrypt is not a whole number of AES blocks', undefined, 'bad_ciphertext');
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
  const { data, pad } = pkcs7Unpad(padded);
  if (data.length < 20) {
    throw new BadRequestError('encrypted frame is too short', undefined, 'bad_length');
  }
  const msgLen = data.readUInt32BE(16);
  if (msgLen > data.length - 20) {
    throw new BadRequestError('encrypted frame length exceeds its content', undefined, 'bad_length');
  }
  let message: string;
  let appId: string;
  try {
    message = utf8.decode(data.subarray(20, 20 + msgLen));
    appId = utf8.decode(data.subarray(20 + msgLen));
  } catch {
    throw new BadRequestError('encrypted message is not valid UTF-8', undefined, 'bad_encoding');
  }
  return { random: Buffer.from(data.subarray(0, 16)), message, appId, pad };
}

/**
 * Decrypts a base64 `Encrypt` value and returns the message. The appid carried in the frame
 * must equal `config.appId`, otherwise SignatureError (the message is not for this account).
 */
export function decrypt(encryptB64: string, config: WechatCryptoConfig): string {
  const frame = openFrame(encryptB64, config.aesKey);
  if (frame.appId !== config.appId) {
    throw new SignatureError('encrypted message is for another appid');
  }
  return frame.message;
}
