/**
 * Outbound WeChat Official Account API client (docs/platforms.md#wechat-outbound-apis).
 *
 * - Token: `POST /cgi-bin/stable_token` in normal mode only (never `/cgi-bin/token`, whose every
 *   call invalidates the token other instances hold). The token is shared through a TokenCache
 *   (DynamoDB in AWS) so all Lambda instances use one token, kept in process memory for at most
 *   `memoryTtlMs`, and refreshed `refreshAheadMs` before it expires.
 * - A call answered with 40001/40014/42001 gets one fresh token (normal mode; `force_refresh`
 *   only when normal mode hands back the very token that was just rejected, at most once per
 *   30 s per client) and is retried once. Nothing loops.
 * - Every failure is an UpstreamApiError whose `retryable` comes from WECHAT_ERROR_TABLE, so the
 *   engagement sender can decide between retry (SQS backoff), fallback and DLQ.
 * - 64-bit ids (template `msgid`) are read from the raw response text, never through a JS number.
 * - Secrets and tokens travel in request URLs/bodies only; no error message contains them.
 */
import * as z from 'zod';
import { BadRequestError, UpstreamApiError } from '../errors.ts';
import type { CachedToken, TokenCache } from './token-cache.ts';

// ---------------------------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------------------------

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
  '45009': e(true, 'quota', 'API daily quota reached'),
  '45011': e(true, 'quota', 'API minute quota reached'),
  '45047': e(true, 'window', 'customer-service message count for this interaction used up'),
  '40001': e(true, 'token', 'invalid credential or access_token not latest'),
  '40014': e(true, 'token', 'invalid access_token'),
  '42001': e(true, 'token', 'access_token expired'),
  timeout: e(true, 'transport', 'no answer within the client timeout'),
  network: e(true, 'transport', 'network error'),
  http_5xx: e(true, 'transport', 'HTTP 5xx'),
  http_429: e(true, 'transport', 'HTTP 429'),
  bad_response: e(true, 'transport', 'answer is not the expected JSON'),
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

function wechatError(api: string, errcode: number | string, detail: string): UpstreamApiError {
  const c = classifyErrcode(errcode);
  return new UpstreamApiError(`${api} failed: ${errcode} ${detail}`.trim(), api, errcode, c.retryable);
}

// ---------------------------------------------------------------------------------------------
// Lossless JSON
// ---------------------------------------------------------------------------------------------

/**
 * JSON.parse, except that integer literals outside the safe-integer range come back as decimal
 * strings (WeChat msgids exceed 2^53 and JSON.parse would round them).
 */
export function parseJsonKeepingBigInts(text: string): unknown {
  let out = '';
  let copiedUpTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string literal, honouring escapes
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n && /[0-9.eE+-]/.test(text[i]!)) i++;
      const token = text.slice(start, i);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copiedUpTo, start)}"${token}"`;
        copiedUpTo = i;
      }
      continue;
    }
    i++;
  }
  out += text.slice(copiedUpTo);
  return JSON.parse(out);
}

// ---------------------------------------------------------------------------------------------
// Inputs and results
// ---------------------------------------------------------------------------------------------

/** WeChat openids are 28 characters of [A-Za-z0-9_-]; anything in that alphabet up to 64 is accepted. */
const Openid = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'openid must be 1-64 characters of [A-Za-z0-9_-]');

const TemplateInput = z.object({
  touser: Openid,
  templateId: z.string().min(1).max(128),
  url: z.url().optional(),
  miniprogram: z.object({ appid: z.string().min(1), pagepath: z.string().optional() }).optional(),
  data: z.record(z.string().min(1), z.object({ value: z.string(), color: z.string().optional() })),
  clientMsgId: z.string().min(1).optional(),
});
export type TemplateMessage = z.input<typeof TemplateInput>;

const customservice = z.object({ kf_account: z.string().min(1) }).optional();
const mediaId = z.object({ media_id: z.string().min(1) });

const CustomInput = z.discriminatedUnion('msgtype', [
  z.object({ touser: Openid, msgtype: z.literal('text'), text: z.object({ content: z.string().min(1) }), customservice }),
  z.object({ touser: Openid, msgtype: z.literal('image'), image: mediaId, customservice }),
  z.object({ touser: Openid, msgtype: z.literal('voice'), voice: mediaId, customservice }),
  z.object({
    touser: Openid,
    msgtype: z.literal('video'),
    video: z.object({
      media_id: z.string().min(1),
      thumb_media_id: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('music'),
    music: z.object({
      title: z.string().optional(),
      description: z.string().optional(),
      musicurl: z.string().min(1),
      hqmusicurl: z.string().min(1),
      thumb_media_id: z.string().min(1),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('news'),
    news: z.object({
      articles: z
        .array(
          z.object({
            title: z.string().min(1),
            description: z.string().optional(),
            url: z.string().optional(),
            picurl: z.string().optional(),
          }),
        )
        .min(1),
    }),
    customservice,
  }),
  z.object({ touser: Openid, msgtype: z.literal('mpnews'), mpnews: mediaId, customservice }),
  z.object({
    touser: Openid,
    msgtype: z.literal('mpnewsarticle'),
    mpnewsarticle: z.object({ article_id: z.string().min(1) }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('miniprogrampage'),
    miniprogrampage: z.object({
      title: z.string().min(1),
      appid: z.string().min(1),
      pagepath: z.string().min(1),
      thumb_media_id: z.string().min(1),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('link'),
    link: z.object({
      title: z.string().min(1),
      description: z.string().optional(),
      url: z.string().min(1),
      thumb_url: z.string().optional(),
    }),
    customservice,
  }),
]);
/** A customer-service message in WeChat's wire format (`msgtype` plus the matching object). */
export type CustomMessage = z.input<typeof CustomInput>;

export const QR_SCENE_MAX_LENGTH = 64;

export interface QrCode {
  ticket: string;
  /** The QR content; render it, or fetch `qrImageUrl`. */
  url: string;
  /** showqrcode URL serving the image for `ticket`. */
  qrImageUrl: string;
}

export interface WechatUserInfo {
  openid: string;
  subscribed: boolean;
  unionid?: string;
  /** Last follow time, epoch ms. */
  subscribeTime?: number;
  /** e.g. `ADD_SCENE_QR_CODE`. */
  subscribeScene?: string;
  qrScene?: string;
  qrSceneStr?: string;
  tagIds: number[];
  remark?: string;
}

export interface OAuthIdentity {
  openid: string;
  unionid?: string;
  scope?: string;
  /** A 快照页 virtual account (is_snapshotuser=1): its openid is not a real person; do not bind it. */
  snapshotUser: boolean;
}

export interface WechatApi {
  readonly appId: string;
  /** A valid access_token (shared cache → stable_token). */
  getAccessToken(): Promise<string>;
  sendTemplate(msg: TemplateMessage): Promise<{ msgid: string }>;
  sendCustom(msg: CustomMessage): Promise<void>;
  /** Permanent string-scene QR (`QR_LIMIT_STR_SCENE`); scene 1-64 characters. */
  createQrLimitStrScene(sceneStr: string): Promise<QrCode>;
  userInfo(openid: string): Promise<WechatUserInfo>;
  /** Web OAuth code → openid (`sns/oauth2/access_token`). */
  oauthExchange(code: string): Promise<OAuthIdentity>;
  /**
   * A code from the mini program's phone-number component → the phone it proves
   * (`wxa/business/getuserphonenumber`, docs/wechat-phone-proof.md). The code is single use
   * and valid 5 minutes; the watermark's appid must be this app's.
   */
  phoneNumber(code: string): Promise<PhoneInfo>;
}

export interface PhoneInfo {
  /** With the country code for numbers outside the mainland. */
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export interface WechatApiOptions {
  appId: string;
  appSecret: string;
  /** e.g. `https://api.weixin.qq.com`, or the local stand-in's URL. */
  baseUrl: string;
  tokenCache: TokenCache;
  fetch?: typeof fetch;
  /** Clock, epoch ms. */
  now?: () => number;
  /** Per HTTP call, including reading the body. */
  timeoutMs?: number;
  /** Fetch a new token this long before the current one expires. Default 5 min. */
  refreshAheadMs?: number;
  /** How long a token read from the shared cache is reused from process memory. Default 1 min. */
  memoryTtlMs?: number;
  /** Default `https://mp.weixin.qq.com/cgi-bin/showqrcode`. */
  qrImageBase?: string;
}

// ---------------------------------------------------------------------------------------------
// Response schemas
// ---------------------------------------------------------------------------------------------

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });
const TemplateResponse = z.object({
  msgid: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
});
const QrResponse = z.object({ ticket: z.string().min(1), url: z.string().min(1) });
const optionalText = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));
const UserInfoResponse = z.object({
  subscribe: z.coerce.number(),
  openid: z.string().min(1),
  unionid: optionalText,
  subscribe_time: z.number().optional(),
  subscribe_scene: optionalText,
  qr_scene: z.union([z.number(), z.string()]).optional(),
  qr_scene_str: optionalText,
  tagid_list: z.array(z.number()).optional(),
  remark: optionalText,
});
const OAuthResponse = z.object({
  openid: z.string().min(1),
  unionid: optionalText,
  scope: z.string().optional(),
  is_snapshotuser: z.coerce.number().optional(),
});

const PhoneResponse = z.object({
  phone_info: z.object({
    phoneNumber: z.string().min(1),
    purePhoneNumber: z.string().min(1),
    countryCode: z.union([z.string(), z.number()]).transform(String),
    watermark: z.object({ appid: z.string(), timestamp: z.number().optional() }),
  }),
});

const API = {
  token: 'wechat.stable_token',
  template: 'wechat.template_send',
  custom: 'wechat.custom_send',
  qrcode: 'wechat.qrcode_create',
  userInfo: 'wechat.user_info',
  oauth: 'wechat.oauth2_access_token',
  phone: 'wechat.getuserphonenumber',
} as const;

/** stable_token allows force_refresh 20 times a day, at least 30 s apart. */
const FORCE_REFRESH_MIN_INTERVAL_MS = 30_000;

function invalidInput(what: string, error: z.ZodError): BadRequestError {
  return new BadRequestError(`invalid ${what}`, z.flattenError(error), 'invalid_wechat_request');
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

export function createWechatApi(options: WechatApiOptions): WechatApi {
  const { appId, appSecret, tokenCache } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 3000;
  const refreshAheadMs = options.refreshAheadMs ?? 5 * 60_000;
  const memoryTtlMs = options.memoryTtlMs ?? 60_000;
  const qrImageBase = options.qrImageBase ?? 'https://mp.weixin.qq.com/cgi-bin/showqrcode';

  let memo: (CachedToken & { readAt: number }) | null = null;
  let loading: Promise<string> | null = null;
  let renewing: { rejected: string; promise: Promise<string> } | null = null;
  let lastForceRefreshAt = Number.NEGATIVE_INFINITY;

  async function call(
    api: string,
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string>,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const qs = new URLSearchParams(query).toString();
    const url = `${base}${path}${qs ? `?${qs}` : ''}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await doFetch(url, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      status = res.status;
      text = await res.text();
    } catch {
      if (timedOut) throw new UpstreamApiError(`${api}: no answer within ${timeoutMs} ms`, api, 'timeout', true);
      throw new UpstreamApiError(`${api}: network error`, api, 'network', true);
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status > 299) throw wechatError(api, `http_${status}`, '');
    let parsed: unknown;
    try {
      parsed = parseJsonKeepingBigInts(text);
    } catch {
      throw wechatError(api, 'bad_response', '(not JSON)');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw wechatError(api, 'bad_response', '(not a JSON object)');
    }
    const obj = parsed as Record<string, unknown>;
    const errcode = obj.errcode;
    if (errcode !== undefined && errcode !== null && Number(errcode) !== 0) {
      const code = typeof errcode === 'number' || (typeof errcode === 'string' && /^-?\d+$/.test(errcode)) ? Number(errcode) : 'bad_response';
      const errmsg = typeof obj.errmsg === 'string' ? obj.errmsg.slice(0, 200) : '';
      throw wechatError(api, code, errmsg);
    }
    return obj;
  }

  function read<S extends z.ZodType>(api: string, schema: S, obj: Record<string, unknown>): z.output<S> {
    const r = schema.safeParse(obj);
    if (!r.success) throw wechatError(api, 'bad_response', '(unexpected answer shape)');
    return r.data;
  }

  async function readCache(): Promise<CachedToken | null> {
    try {
      return await tokenCache.get(appId);
    } catch {
      // The cache only saves calls: stable_token in normal mode hands every caller the same token.
      return null;
    }
  }

  async function fetchStableToken(forceRefresh: boolean): Promise<CachedToken> {
    const obj = await call(API.token, 'POST', '/cgi-bin/stable_token', {}, {
      grant_type: 'client_credential',
      appid: appId,
      secret: appSecret,
      force_refresh: forceRefresh,
    });
    const r = read(API.token, TokenResponse, obj);
    const fresh = { token: r.access_token, expiresAt: now() + r.expires_in * 1000 };
    try {
      await tokenCache.put(appId, fresh.token, fresh.expiresAt);
    } catch {
      // Not fatal: the token is valid; another instance will fetch the same one.
    }
    memo = { ...fresh, readAt: now() };
    return fresh;
  }

  async function loadToken(): Promise<string> {
    const cached = await readCache();
    if (cached && now() < cached.expiresAt - refreshAheadMs) {
      memo = { ...cached, readAt: now() };
      return cached.token;
    }
    try {
      return (await fetchStableToken(false)).token;
    } catch (err) {
      // Refreshing ahead of expiry failed, but the cached token still works for now.
      if (cached && now() < cached.expiresAt) {
        memo = { ...cached, readAt: now() };
        return cached.token;
      }
      throw err;
    }
  }

  function getAccessToken(): Promise<string> {
    const t = now();
    if (memo && t - memo.readAt < memoryTtlMs && t < memo.expiresAt - refreshAheadMs) return Promise.resolve(memo.token);
    loading ??= loadToken().finally(() => {
      loading = null;
    });
    return loading;
  }

  /** A token other than `rejected`: from the shared cache if another instance already renewed, else from WeChat. */
  async function renew(rejected: string, original: unknown): Promise<string> {
    memo = null;
    const cached = await readCache();
    if (cached && cached.token !== rejected && now() < cached.expiresAt) {
      memo = { ...cached, readAt: now() };
      return cached.token;
    }
    let fresh = await fetchStableToken(false);
    if (fresh.token === rejected) {
      if (now() - lastForceRefreshAt < FORCE_REFRESH_MIN_INTERVAL_MS) throw original;
      lastForceRefreshAt = now();
      fresh = await fetchStableToken(true);
      if (fresh.token === rejected) throw original;
    }
    return fresh.token;
  }

  async function withToken<T>(run: (token: string) => Promise<T>): Promise<T> {
    const token = await getAccessToken();
    try {
      return await run(token);
    } catch (err) {
      if (!isTokenError(err)) throw err;
      if (!renewing || renewing.rejected !== token) {
        const promise = renew(token, err).finally(() => {
          if (renewing?.promise === promise) renewing = null;
        });
        renewing = { rejected: token, promise };
      }
      const fresh = await renewing.promise;
      return run(fresh); // a second rejection propagates: no loop
    }
  }

  return {
    appId,
    getAccessToken,

    async sendTemplate(msg) {
      const parsed = TemplateInput.safeParse(msg);
      if (!parsed.success) throw invalidInput('template message', parsed.error);
      const m = parsed.data;
      const body = {
        touser: m.touser,
        template_id: m.templateId,
        ...(m.url !== undefined && { url: m.url }),
        ...(m.miniprogram !== undefined && { miniprogram: m.miniprogram }),
        ...(m.clientMsgId !== undefined && { client_msg_id: m.clientMsgId }),
        data: m.data,
      };
      return withToken(async (token) => {
        const obj = await call(API.template, 'POST', '/cgi-bin/message/template/send', { access_token: token }, body);
        return { msgid: read(API.template, TemplateResponse, obj).msgid };
      });
    },

    async sendCustom(msg) {
      const parsed = CustomInput.safeParse(msg);
      if (!parsed.success) throw invalidInput('customer-service message', parsed.error);
      const body = parsed.data;
      await withToken((token) => call(API.custom, 'POST', '/cgi-bin/message/custom/send', { access_token: token }, body));
    },

    async createQrLimitStrScene(sceneStr) {
      if (typeof sceneStr !== 'string' || sceneStr.length < 1 || sceneStr.length > QR_SCENE_MAX_LENGTH) {
        throw new BadRequestError(
          `QR scene_str must be 1-${QR_SCENE_MAX_LENGTH} characters`,
          { length: typeof sceneStr === 'string' ? sceneStr.length : null },
          'invalid_qr_scene',
        );
      }
      const body = { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: sceneStr } } };
      return withToken(async (token) => {
        const obj = await call(API.qrcode, 'POST', '/cgi-bin/qrcode/create', { access_token: token }, body);
        const r = read(API.qrcode, QrResponse, obj);
        return { ticket: r.ticket, url: r.url, qrImageUrl: `${qrImageBase}?ticket=${encodeURIComponent(r.ticket)}` };
      });
    },

    async userInfo(openid) {
      const parsed = Openid.safeParse(openid);
      if (!parsed.success) throw invalidInput('openid', parsed.error);
      return withToken(async (token) => {
        const obj = await call(API.userInfo, 'GET', '/cgi-bin/user/info', {
          access_token: token,
          openid: parsed.data,
          lang: 'zh_CN',
        });
        const r = read(API.userInfo, UserInfoResponse, obj);
        const info: WechatUserInfo = { openid: r.openid, subscribed: r.subscribe === 1, tagIds: r.tagid_list ?? [] };
        if (r.unionid !== undefined) info.unionid = r.unionid;
        if (r.subscribe_time !== undefined) info.subscribeTime = r.subscribe_time * 1000;
        if (r.subscribe_scene !== undefined) info.subscribeScene = r.subscribe_scene;
        if (r.qr_scene !== undefined && String(r.qr_scene) !== '0' && String(r.qr_scene) !== '') info.qrScene = String(r.qr_scene);
        if (r.qr_scene_str !== undefined) info.qrSceneStr = r.qr_scene_str;
        if (r.remark !== undefined) info.remark = r.remark;
        return info;
      });
    },

    async oauthExchange(code) {
      if (typeof code !== 'string' || code.length < 1 || code.length > 512) {
        throw new BadRequestError('OAuth code must be 1-512 characters', undefined, 'invalid_oauth_code');
      }
      const obj = await call(API.oauth, 'GET', '/sns/oauth2/access_token', {
        appid: appId,
        secret: appSecret,
        code,
        grant_type: 'authorization_code',
      });
      const r = read(API.oauth, OAuthResponse, obj);
      const out: OAuthIdentity = { openid: r.openid, snapshotUser: r.is_snapshotuser === 1 };
      if (r.unionid !== undefined) out.unionid = r.unionid;
      if (r.scope !== undefined) out.scope = r.scope;
      return out;
    },

    async phoneNumber(code) {
      if (typeof code !== 'string' || code.length < 1 || code.length > 512) {
        throw new BadRequestError('phoneCode must be 1-512 characters', undefined, 'invalid_phone_code');
      }
      return withToken(async (token) => {
        const obj = await call(API.phone, 'POST', '/wxa/business/getuserphonenumber', { access_token: token }, { code });
        const r = read(API.phone, PhoneResponse, obj).phone_info;
        // The code must have been issued to this app (a code of another app proves nothing here).
        if (r.watermark.appid !== appId) throw wechatError(API.phone, 40029, 'watermark appid of another app');
        return { phoneNumber: r.phoneNumber, purePhoneNumber: r.purePhoneNumber, countryCode: r.countryCode };
      });
    },
  };
}
