/**
 * Outbound WeCom server API client (docs/platforms.md#wecom-contact-ways): `gettoken`, and with
 * the customer-contact secret (WECOM_CONTACT_SECRET) `externalcontact/get`,
 * `externalcontact/add_contact_way`, `externalcontact/send_welcome_msg`; with the staff app's
 * secret (WECOM_AGENT_SECRET) `message/send`. One client per secret: each secret has its own
 * access_token.
 *
 * - The access_token is kept in process memory until 5 minutes before its `expires_in`; a call
 *   answered 40014 / 42001 (invalid / expired token) gets one fresh token and is retried once.
 * - Every failure is an UpstreamApiError: retryable for -1 (busy), 45009 / 45033 (rate and
 *   concurrency limits), 84061 (the relation is not yet visible right after the event), 41096
 *   (a welcome being distributed), network errors and timeouts; permanent for configuration
 *   errors (40001, 40013, 48002, 60011, 60020, 84074), 41051 (the welcome code is used up) and
 *   the rest.
 * - Secrets and tokens travel in request URLs only; no error message contains them.
 */
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { UpstreamApiError } from '../errors.ts';
import { Unionid } from '../events/hub-event.ts';

const RETRYABLE = new Set([-1, 41096, 45009, 45033, 84061]);
const TOKEN_ERRORS = new Set([40014, 42001]);

const TokenResponse = z.object({ errcode: z.number().optional(), access_token: z.string().min(1), expires_in: z.number().int().positive() });
const ContactResponse = z.object({ external_contact: z.object({ external_userid: z.string().min(1), unionid: Unionid.optional(), name: z.string().optional() }) });
const ContactWayResponse = z.object({ config_id: z.string().min(1), qr_code: z.string().min(1).optional() });
const AppMessageResponse = z.object({ invaliduser: z.string().optional(), msgid: z.string().optional() });

/** `state` of a contact way: at most 30 characters (docs/platforms.md#wecom-contact-ways). */
export const CONTACT_WAY_STATE_MAX = 30;
/** Members of one contact way (docs/platforms.md#wecom-contact-ways). */
export const CONTACT_WAY_MAX_USERS = 100;
/** `text.content` of an app message, in bytes: WeCom cuts what is longer (docs/platforms.md#wecom-app-messages). */
export const APP_TEXT_MAX_BYTES = 2048;

export interface WecomContactInfo {
  externalUserId: string;
  unionid?: string;
  name?: string;
}

export interface ContactWay {
  configId: string;
  /** The QR image URL (scene 2). */
  qrCode: string;
}

export interface WecomApi {
  /** `externalcontact/get`: the customer's profile (unionid only when the corp bound a WeChat developer id). */
  externalContact(externalUserId: string): Promise<WecomContactInfo>;
  /** `externalcontact/add_contact_way`: a 「联系我」 QR (scene 2) of these staff members whose adds carry `state`. */
  addContactWay(w: { state: string; users: readonly string[]; remark?: string }): Promise<ContactWay>;
  /** `externalcontact/send_welcome_msg`: the welcome of one add, with its one-time code. */
  sendWelcome(welcomeCode: string, text: string): Promise<void>;
  /** `message/send`: a text app message from agent `agentId` to staff members; returns who WeCom found invalid. */
  sendAppText(agentId: string, users: readonly string[], text: string): Promise<{ invalidUsers: string[]; msgid?: string }>;
}

export interface WecomApiOptions {
  corpId: string;
  /** The secret of the app the calls act as (WECOM_CONTACT_SECRET or WECOM_AGENT_SECRET). */
  secret: string;
  /** WECOM_API_BASE. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  timeoutMs?: number;
}

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function clipUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export function createWecomApi(o: WecomApiOptions): WecomApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const doFetch = o.fetch ?? globalThis.fetch;
  const now = o.now ?? Date.now;
  let token: { value: string; until: number } | undefined;

  async function call(api: string, path: string, query: Record<string, string>, body?: unknown): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      const init: RequestInit = { signal: AbortSignal.timeout(o.timeoutMs ?? 3000) };
      if (body !== undefined) Object.assign(init, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      res = await doFetch(`${base}${path}?${new URLSearchParams(query).toString()}`, init);
    } catch (err) {
      throw new UpstreamApiError(`WeCom ${api} unreachable: ${(err as Error).name}`, api, 'network', true);
    }
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch {
      throw new UpstreamApiError(`WeCom ${api} answered HTTP ${res.status} without JSON`, api, `http_${res.status}`, res.status >= 500);
    }
    const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const errcode = typeof json.errcode === 'number' ? json.errcode : 0;
    if (errcode !== 0) throw new UpstreamApiError(`WeCom ${api} failed with errcode ${errcode}`, api, errcode, RETRYABLE.has(errcode));
    return json;
  }

  async function accessToken(fresh: boolean): Promise<string> {
    if (!fresh && token && now() < token.until) return token.value;
    const parsed = TokenResponse.safeParse(await call('gettoken', '/cgi-bin/gettoken', { corpid: o.corpId, corpsecret: o.secret }));
    if (!parsed.success) throw new UpstreamApiError('WeCom gettoken answered without a token', 'gettoken', 'bad_response', true);
    token = { value: parsed.data.access_token, until: now() + Math.max(0, parsed.data.expires_in - 300) * 1000 };
    return token.value;
  }

  async function withToken(api: string, query: Record<string, string>, body?: unknown): Promise<Record<string, unknown>> {
    const path = `/cgi-bin/${api}`;
    try {
      return await call(api, path, { access_token: await accessToken(false), ...query }, body);
    } catch (err) {
      if (!(err instanceof UpstreamApiError) || !TOKEN_ERRORS.has(Number(err.errcode))) throw err;
      return call(api, path, { access_token: await accessToken(true), ...query }, body);
    }
  }

  function parse<T>(api: string, schema: z.ZodType<T>, json: Record<string, unknown>): T {
    const r = schema.safeParse(json);
    if (!r.success) throw new UpstreamApiError(`WeCom ${api} answered an unexpected body`, api, 'bad_response', false);
    return r.data;
  }

  return {
    async externalContact(externalUserId) {
      const api = 'externalcontact/get';
      const c = parse(api, ContactResponse, await withToken(api, { external_userid: externalUserId })).external_contact;
      return { externalUserId: c.external_userid, ...(c.unionid ? { unionid: c.unionid } : {}), ...(c.name ? { name: c.name } : {}) };
    },
    async addContactWay(w) {
      const api = 'externalcontact/add_contact_way';
      // type 1 (one member) takes exactly one user; type 2 (several) any number up to the limit.
      const body = { type: w.users.length === 1 ? 1 : 2, scene: 2, state: w.state, user: [...w.users], skip_verify: true, ...(w.remark ? { remark: w.remark } : {}) };
      const r = parse(api, ContactWayResponse, await withToken(api, {}, body));
      if (!r.qr_code) throw new UpstreamApiError(`WeCom ${api} answered without qr_code`, api, 'bad_response', false);
      return { configId: r.config_id, qrCode: r.qr_code };
    },
    async sendWelcome(welcomeCode, text) {
      await withToken('externalcontact/send_welcome_msg', {}, { welcome_code: welcomeCode, text: { content: text } });
    },
    async sendAppText(agentId, users, text) {
      const api = 'message/send';
      const body = { touser: users.join('|'), msgtype: 'text', agentid: Number(agentId), text: { content: clipUtf8(text, APP_TEXT_MAX_BYTES) }, safe: 0 };
      const r = parse(api, AppMessageResponse, await withToken(api, {}, body));
      return { invalidUsers: r.invaliduser ? r.invaliduser.split('|').filter(Boolean) : [], ...(r.msgid ? { msgid: r.msgid } : {}) };
    },
  };
}

const clients = new Map<string, WecomApi>();

/** One client per corp, base and secret (it caches its token), for the life of the container. */
function clientFor(corpId: string, secret: string, baseUrl: string): WecomApi {
  const key = `${corpId}\n${baseUrl}\n${secret}`;
  let api = clients.get(key);
  if (!api) clients.set(key, (api = createWecomApi({ corpId, secret, baseUrl })));
  return api;
}

/** The customer-contact client (WECOM_CONTACT_SECRET); a permanent `not_configured` error without it. */
export function wecomContactApi(cfg: Pick<HubConfig, 'WECOM_CORP_ID' | 'WECOM_CONTACT_SECRET' | 'WECOM_API_BASE'>, api = 'externalcontact'): WecomApi {
  if (cfg.WECOM_CORP_ID === undefined || cfg.WECOM_CONTACT_SECRET === undefined) throw new UpstreamApiError('WeCom is not configured (WECOM_CORP_ID, WECOM_CONTACT_SECRET)', api, 'not_configured', false);
  return clientFor(cfg.WECOM_CORP_ID, cfg.WECOM_CONTACT_SECRET, cfg.WECOM_API_BASE);
}

/** The staff app's client (WECOM_AGENT_SECRET) and its agent id; a permanent `not_configured` error without them. */
export function wecomAgentApi(cfg: Pick<HubConfig, 'WECOM_CORP_ID' | 'WECOM_AGENT_ID' | 'WECOM_AGENT_SECRET' | 'WECOM_API_BASE'>): { api: WecomApi; agentId: string } {
  if (cfg.WECOM_CORP_ID === undefined || cfg.WECOM_AGENT_ID === undefined || cfg.WECOM_AGENT_SECRET === undefined) {
    throw new UpstreamApiError('WeCom app messages are not configured (WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_AGENT_SECRET)', 'message/send', 'not_configured', false);
  }
  return { api: clientFor(cfg.WECOM_CORP_ID, cfg.WECOM_AGENT_SECRET, cfg.WECOM_API_BASE), agentId: cfg.WECOM_AGENT_ID };
}
