/**
 * The WeCom part of the local stand-in (served by local/wechat-standin.ts on the same port),
 * in WeCom's wire format and error codes (docs/platforms.md#wecom-contact-ways):
 * - `GET /cgi-bin/gettoken?corpid&corpsecret`: 40013 for another corp, 40001 for a wrong secret;
 *   `{errcode:0, errmsg:"ok", access_token, expires_in:7200}`.
 * - `GET /cgi-bin/externalcontact/get?access_token&external_userid`: 40014 for an unknown token,
 *   84061 for a contact never seeded; `{errcode:0, errmsg:"ok", external_contact:{external_userid,
 *   name, type:1, unionid?}, follow_user:[]}`.
 * Hook: `PUT /_local/wecom/contacts/{external_userid} {unionid?, name?}` seeds a contact.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';

export interface WecomStandinCorp {
  corpId: string;
  /** The customer-contact secret gettoken accepts. */
  secret: string;
}

export interface WecomContactSeed {
  unionid?: string;
  name?: string;
}

export const WecomContactPatch = z.object({ unionid: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(), name: z.string().max(64).optional() }).strict();

type Answer = { status: number; body: unknown };
const err = (errcode: number, errmsg: string): Answer => ({ status: 200, body: { errcode, errmsg: `${errmsg}, hint: [standin]` } });

export function wecomStandin(corp: WecomStandinCorp | undefined) {
  let tokens = new Set<string>();
  let contacts = new Map<string, WecomContactSeed>();
  return {
    /** The answer to a WeCom API path, or undefined when the path is not WeCom's. */
    api(method: string, url: URL): Answer | undefined {
      if (url.pathname === '/cgi-bin/gettoken') {
        if (method !== 'GET') return err(43001, 'require GET method');
        if (!corp || url.searchParams.get('corpid') !== corp.corpId) return err(40013, 'invalid corpid');
        if (url.searchParams.get('corpsecret') !== corp.secret) return err(40001, 'invalid credential');
        const token = randomBytes(24).toString('base64url');
        tokens.add(token);
        return { status: 200, body: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 } };
      }
      if (url.pathname === '/cgi-bin/externalcontact/get') {
        if (method !== 'GET') return err(43001, 'require GET method');
        if (!tokens.has(url.searchParams.get('access_token') ?? '')) return err(40014, 'invalid access_token');
        const id = url.searchParams.get('external_userid') ?? '';
        const c = contacts.get(id);
        if (!c) return err(84061, 'not external contact');
        return {
          status: 200,
          body: { errcode: 0, errmsg: 'ok', external_contact: { external_userid: id, name: c.name ?? '', type: 1, ...(c.unionid ? { unionid: c.unionid } : {}) }, follow_user: [] },
        };
      }
      return undefined;
    },
    /** `PUT /_local/wecom/contacts/{id}`; undefined when the path is not this hook's. */
    local(method: string, path: string, body: unknown): Answer | undefined {
      const m = /^\/_local\/wecom\/contacts\/([A-Za-z0-9_-]{1,64})$/.exec(path);
      if (!m || method !== 'PUT') return undefined;
      const r = WecomContactPatch.safeParse(body);
      if (!r.success) return { status: 400, body: { error: z.prettifyError(r.error) } };
      this.setContact(m[1]!, r.data);
      return { status: 200, body: { ok: true } };
    },
    setContact(externalUserId: string, seed: WecomContactSeed): void {
      contacts.set(externalUserId, { ...contacts.get(externalUserId), ...seed });
    },
    reset(): void {
      tokens = new Set();
      contacts = new Map();
    },
  };
}
