/**
 * Outbound WeCom server API client (docs/platforms.md#wecom-contact-ways): `gettoken` with the
 * customer-contact secret, `externalcontact/get`.
 *
 * - The access_token is kept in process memory until 5 minutes before its `expires_in`; a call
 *   answered 40014 / 42001 (invalid / expired token) gets one fresh token and is retried once.
 * - Every failure is an UpstreamApiError: retryable for -1 (busy), 45009 / 45033 (rate and
 *   concurrency limits), 84061 (the relation is not yet visible right after the event), network
 *   errors and timeouts; permanent for configuration errors (40001, 40013, 48002, 60011, 60020,
 *   84074) and the rest.
 * - Secrets and tokens travel in request URLs only; no error message contains them.
 */
import * as z from 'zod';
import { UpstreamApiError } from '../errors.ts';
import { Unionid } from '../events/hub-event.ts';

const RETRYABLE = new Set([-1, 45009, 45033, 84061]);
const TOKEN_ERRORS = new Set([40014, 42001]);

const TokenResponse = z.object({ errcode: z.number().optional(), access_token: z.string().min(1), expires_in: z.number().int().positive() });
const ContactResponse = z.object({ external_contact: z.object({ external_userid: z.string().min(1), unionid: Unionid.optional(), name: z.string().optional() }) });

export interface WecomContactInfo {
  externalUserId: string;
  unionid?: string;
  name?: string;
}

export interface WecomApi {
  /** `externalcontact/get`: the customer's profile (unionid only when the corp bound a WeChat developer id). */
  externalContact(externalUserId: string): Promise<WecomContactInfo>;
}

export interface WecomApiOptions {
  corpId: string;
  /** WECOM_CONTACT_SECRET. */
  secret: string;
  /** WECOM_API_BASE. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  timeoutMs?: number;
}

export function createWecomApi(o: WecomApiOptions): WecomApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const doFetch = o.fetch ?? globalThis.fetch;
  const now = o.now ?? Date.now;
  let token: { value: string; until: number } | undefined;

  async function getJson(api: string, path: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}?${new URLSearchParams(query).toString()}`, { signal: AbortSignal.timeout(o.timeoutMs ?? 3000) });
    } catch (err) {
      throw new UpstreamApiError(`WeCom ${api} unreachable: ${(err as Error).name}`, api, 'network', true);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new UpstreamApiError(`WeCom ${api} answered HTTP ${res.status} without JSON`, api, `http_${res.status}`, res.status >= 500);
    }
    const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const errcode = typeof json.errcode === 'number' ? json.errcode : 0;
    if (errcode !== 0) throw new UpstreamApiError(`WeCom ${api} failed with errcode ${errcode}`, api, errcode, RETRYABLE.has(errcode));
    return json;
  }

  async function accessToken(fresh: boolean): Promise<string> {
    if (!fresh && token && now() < token.until) return token.value;
    const parsed = TokenResponse.safeParse(await getJson('gettoken', '/cgi-bin/gettoken', { corpid: o.corpId, corpsecret: o.secret }));
    if (!parsed.success) throw new UpstreamApiError('WeCom gettoken answered without a token', 'gettoken', 'bad_response', true);
    token = { value: parsed.data.access_token, until: now() + Math.max(0, parsed.data.expires_in - 300) * 1000 };
    return token.value;
  }

  async function withToken(api: string, path: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    try {
      return await getJson(api, path, { access_token: await accessToken(false), ...query });
    } catch (err) {
      if (!(err instanceof UpstreamApiError) || !TOKEN_ERRORS.has(Number(err.errcode))) throw err;
      return getJson(api, path, { access_token: await accessToken(true), ...query });
    }
  }

  return {
    async externalContact(externalUserId) {
      const json = await withToken('externalcontact/get', '/cgi-bin/externalcontact/get', { external_userid: externalUserId });
      const parsed = ContactResponse.safeParse(json);
      if (!parsed.success) throw new UpstreamApiError('WeCom externalcontact/get answered without external_contact', 'externalcontact/get', 'bad_response', false);
      const c = parsed.data.external_contact;
      return { externalUserId: c.external_userid, ...(c.unionid ? { unionid: c.unionid } : {}), ...(c.name ? { name: c.name } : {}) };
    },
  };
}
