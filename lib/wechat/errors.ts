/**
 * Classification of WeChat API failures (docs/platforms.md#wechat-outbound-apis).
 *
 * Every failure of the WeChat client is an UpstreamApiError whose `errcode` is WeChat's errcode,
 * or a transport condition (`timeout`, `network`, `http_<status>`, `bad_response`), and whose
 * `retryable` comes from WECHAT_ERROR_TABLE, so the engagement sender can decide between retry
 * (SQS backoff), fallback and DLQ.
 */
import { UpstreamApiError } from '../errors.ts';

export type WechatErrorKind =
  | 'busy' // WeChat system busy: retry later
  | 'quota' // API call quota used up: retry later
  | 'token' // access_token rejected: refresh and retry
  | 'window' // customer-service window closed or its message count used up: use a template message
  | 'recipient' // this person cannot receive the message (unfollowed, refused, bad openid)
  | 'template' // template id invalid or not on the account
  | 'oauth' // OAuth code invalid, used or missing
  | 'request' // the request itself is malformed: a bug, retrying cannot help
  | 'config' // account / credential / IP-whitelist / permission problem: needs an operator
  | 'transport' // network error, timeout, HTTP 5xx, unreadable answer
  | 'unknown'; // an errcode not in the table

export interface WechatErrorInfo {
  readonly retryable: boolean;
  readonly kind: WechatErrorKind;
  readonly meaning: string;
}

const e = (retryable: boolean, kind: WechatErrorKind, meaning: string): WechatErrorInfo => ({ retryable, kind, meaning });

/**
 * errcode (or transport condition) → retryable / kind. Keys are the `errcode` of the
 * UpstreamApiError as a string; HTTP statuses are folded into `http_5xx` / `http_429` / `http_4xx`.
 * An errcode not listed is permanent (kind `unknown`).
 */
export const WECHAT_ERROR_TABLE: Readonly<Record<string, WechatErrorInfo>> = Object.freeze({
  // retryable
  '-1': e(true, 'busy', 'system busy'),
  '45011': e(true, 'quota', 'API minute quota reached'),
  '40001': e(true, 'token', 'invalid credential or access_token not latest'),
  '40014': e(true, 'token', 'invalid access_token'),
  '42001': e(true, 'token', 'access_token expired'),
  timeout: e(true, 'transport', 'no answer within the client timeout'),
  network: e(true, 'transport', 'network error'),
  http_5xx: e(true, 'transport', 'HTTP 5xx'),
  http_429: e(true, 'transport', 'HTTP 429'),
  bad_response: e(true, 'transport', 'answer is not the expected JSON'),
  // not retryable within minutes: the sender defers to the next local day / the next window
  '45009': e(false, 'quota', 'API daily quota reached (reset at the next day or by clear_quota)'),
  '45047': e(false, 'window', 'customer-service message count for this interaction used up'),
  // permanent: the recipient
  '40003': e(false, 'recipient', 'invalid openid'),
  '43004': e(false, 'recipient', 'require subscribe (user does not follow the account)'),
  '43019': e(false, 'recipient', 'user is in the account blacklist'),
  '43101': e(false, 'recipient', 'user refused to accept the message'),
  '45015': e(false, 'window', 'response out of time limit or subscription is canceled'),
  // permanent: template
  '40036': e(false, 'template', 'invalid template_id size'),
  '40037': e(false, 'template', 'invalid template_id'),
  // permanent: OAuth
  '40029': e(false, 'oauth', 'invalid oauth code'),
  '40163': e(false, 'oauth', 'oauth code been used'),
  '41008': e(false, 'oauth', 'missing oauth code'),
  '1400001': e(false, 'config', 'phone-number quota used up (a paid service)'),
  // permanent: malformed request
  '40002': e(false, 'request', 'invalid grant_type'),
  '40008': e(false, 'request', 'invalid message type'),
  '40035': e(false, 'request', 'invalid parameter'),
  '40052': e(false, 'request', 'invalid QR action name'),
  '40053': e(false, 'request', 'invalid QR action info (scene)'),
  '41001': e(false, 'request', 'access_token missing'),
  '41030': e(false, 'request', 'invalid mini-program page path'),
  '43001': e(false, 'request', 'require GET method'),
  '43002': e(false, 'request', 'require POST method'),
  '44002': e(false, 'request', 'empty post data'),
  '44003': e(false, 'request', 'empty news data'),
  '45002': e(false, 'request', 'content size out of limit'),
  '47001': e(false, 'request', 'data format error'),
  '47003': e(false, 'request', 'argument invalid: a template data value does not fit its key type (errmsg names the key)'),
  http_4xx: e(false, 'request', 'HTTP 4xx'),
  // permanent: account / credentials / whitelist / permission
  '40013': e(false, 'config', 'invalid appid'),
  '40125': e(false, 'config', 'invalid appsecret'),
  '40164': e(false, 'config', 'caller IP not in the API IP whitelist'),
  '61004': e(false, 'config', 'caller IP not in the API IP whitelist'),
  '89503': e(false, 'config', 'caller IP awaits administrator confirmation'),
  '40243': e(false, 'config', 'AppSecret frozen'),
  '41002': e(false, 'config', 'appid missing'),
  '41004': e(false, 'config', 'appsecret missing'),
  '48001': e(false, 'config', 'api unauthorized (account lacks this permission)'),
  '50001': e(false, 'config', 'user unauthorized for this api'),
  '50002': e(false, 'config', 'account limited'),
});

const UNKNOWN: WechatErrorInfo = e(false, 'unknown', 'errcode not in the classification table');

const TOKEN_ERRCODES: ReadonlySet<string> = new Set(['40001', '40014', '42001']);

/** Classification of an errcode as carried by UpstreamApiError (`-1`, `45015`, `timeout`, `http_503` ...). */
export function classifyErrcode(errcode: number | string): WechatErrorInfo {
  const key = String(errcode);
  const direct = WECHAT_ERROR_TABLE[key];
  if (direct) return direct;
  const http = /^http_(\d{3})$/.exec(key);
  if (http) {
    const status = Number(http[1]);
    if (status >= 500) return WECHAT_ERROR_TABLE.http_5xx!;
    if (status === 429) return WECHAT_ERROR_TABLE.http_429!;
    return WECHAT_ERROR_TABLE.http_4xx!;
  }
  return UNKNOWN;
}

function upstream(err: unknown): UpstreamApiError | null {
  return err instanceof UpstreamApiError && err.api.startsWith('wechat.') ? err : null;
}

/** The classification of a WeChat UpstreamApiError, or null for any other error. */
export function classifyWechatError(err: unknown): WechatErrorInfo | null {
  const u = upstream(err);
  return u ? classifyErrcode(u.errcode) : null;
}

/** 45015 / 45047: the customer-service window is closed or used up: send a template message instead. */
export function isOutsideWindow(err: unknown): boolean {
  return classifyWechatError(err)?.kind === 'window';
}

/** 40003 / 43004 / 43019 / 43101: this person cannot be messaged (no point in a template fallback either). */
export function isRecipientUnreachable(err: unknown): boolean {
  return classifyWechatError(err)?.kind === 'recipient';
}

/** 40001 / 40014 / 42001. */
export function isTokenError(err: unknown): boolean {
  const u = upstream(err);
  return u !== null && TOKEN_ERRCODES.has(String(u.errcode));
}

export function isRetryableWechatError(err: unknown): boolean {
  return upstream(err)?.retryable ?? false;
}

/** The UpstreamApiError for a failed call of `api`, retryable as WECHAT_ERROR_TABLE says. */
export function wechatError(api: string, errcode: number | string, detail: string): UpstreamApiError {
  const c = classifyErrcode(errcode);
  return new UpstreamApiError(`${api} failed: ${errcode} ${detail}`.trim(), api, errcode, c.retryable);
}
