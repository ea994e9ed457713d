/**
 * Tencent Cloud API signature v3, TC3-HMAC-SHA256 (docs/tencent-sms.md; official document
 * 签名方法 v3, https://cloud.tencent.com/document/api/213/30654, and the official Node SDK's
 * `tencentcloud-sdk-nodejs-common` sign.js):
 *
 *   CanonicalRequest = POST \n / \n (empty query) \n content-type:<ct>\nhost:<host>\n \n
 *                      content-type;host \n hex(sha256(body))
 *   StringToSign     = TC3-HMAC-SHA256 \n <timestamp> \n <UTC date>/<service>/tc3_request \n
 *                      hex(sha256(CanonicalRequest))
 *   key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
 *   Signature        = hex(HMAC(key, StringToSign))
 *
 * The service is the first label of the host (`sms` for sms.tencentcloudapi.com). Tencent
 * refuses a timestamp more than 5 minutes from its clock (AuthFailure.SignatureExpire).
 */
import { createHash, createHmac } from 'node:crypto';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

export interface Tc3Input {
  secretId: string;
  secretKey: string;
  /** e.g. `sms.tencentcloudapi.com` */
  host: string;
  /** e.g. `application/json; charset=utf-8` */
  contentType: string;
  /** The exact request body bytes. */
  payload: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface Tc3Signature {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  /** The Authorization header value. */
  authorization: string;
}

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

export function tc3Sign(input: Tc3Input): Tc3Signature {
  const service = input.host.split('.')[0]!;
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  const canonicalRequest = ['POST', '/', '', `content-type:${input.contentType}\nhost:${input.host}\n`, 'content-type;host', sha256Hex(input.payload)].join('\n');
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = [TC3_ALGORITHM, String(input.timestamp), scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(`TC3${input.secretKey}`, date), service), 'tc3_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    canonicalRequest,
    stringToSign,
    signature,
    authorization: `${TC3_ALGORITHM} Credential=${input.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
  };
}
