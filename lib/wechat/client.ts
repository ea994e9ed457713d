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
 * - Every failure is an UpstreamApiError whose `retryable` comes from WECHAT_ERROR_TABLE
 *   (lib/wechat/errors.ts), so the engagement sender can decide between retry (SQS backoff),
 *   fallback and DLQ.
 * - Inputs are checked against the wire schemas (lib/wechat/wire.ts) before any call; 64-bit ids
 *   (template `msgid`) are read from the raw response text, never through a JS number.
 * - Secrets and tokens travel in request URLs/bodies only; no error message contains them.
 */
import * as z from 'zod';
import { BadRequestError, UpstreamApiError } from '../errors.ts';
import { isTokenError, wechatError } from './errors.ts';
import type { CachedToken } from './token-cache.ts';
import { API, TAGGING_MAX_OPENIDS, CustomInput, OAuthResponse, Openid, PhoneResponse, QR_SCENE_MAX_LENGTH, QrResponse, SessionResponse, SubscribeInput, TemplateInput } from './wire.ts';
import { parseJsonKeepingBigInts, TemplateResponse, TokenResponse, UserInfoResponse } from './wire.ts';
import type { OAuthIdentity, WechatApi, WechatApiOptions, WechatUserInfo } from './wire.ts';

/** stable_token allows force_refresh 20 times a day, at least 30 s apart. */
const FORCE_REFRESH_MIN_INTERVAL_MS = 30_000;

function invalidInput(what: string, error: z.ZodError): BadRequestError {
  return new BadRequestError(`invalid ${what}`, z.flattenError(error), 'invalid_wechat_request');
}

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

    async sendSubscribe(msg, kind = 'official_account') {
      const parsed = SubscribeInput.safeParse(msg);
      if (!parsed.success) throw invalidInput('subscription message', parsed.error);
      const m = parsed.data;
      const body = {
        touser: m.touser,
        template_id: m.templateId,
        ...(m.page !== undefined && { page: m.page }),
        ...(m.miniprogram !== undefined && { miniprogram: m.miniprogram }),
        data: m.data,
      };
      const path = kind === 'mini_program' ? '/cgi-bin/message/subscribe/send' : '/cgi-bin/message/subscribe/bizsend';
      await withToken((token) => call(API.subscribe, 'POST', path, { access_token: token }, body));
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

    async batchTagging(tagId, openids) {
      const parsed = z.object({ tagid: z.number().int().positive(), openid_list: z.array(Openid).min(1).max(TAGGING_MAX_OPENIDS) }).safeParse({ tagid: tagId, openid_list: openids });
      if (!parsed.success) throw invalidInput('batchtagging', parsed.error);
      return withToken(async (token) => {
        await call(API.tagging, 'POST', '/cgi-bin/tags/members/batchtagging', { access_token: token }, parsed.data);
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

    async codeToSession(code) {
      if (typeof code !== 'string' || code.length < 1 || code.length > 512) {
        throw new BadRequestError('loginCode must be 1-512 characters', undefined, 'invalid_login_code');
      }
      const obj = await call(API.session, 'GET', '/sns/jscode2session', { appid: appId, secret: appSecret, js_code: code, grant_type: 'authorization_code' });
      const r = read(API.session, SessionResponse, obj);
      return { openid: r.openid, ...(r.unionid !== undefined ? { unionid: r.unionid } : {}) };
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
