/**
 * The WeCom part of the local stand-in (served by local/wechat-standin.ts on the same port),
 * in WeCom's wire format and error codes (docs/platforms.md#wecom-contact-ways):
 * - `GET /cgi-bin/gettoken?corpid&corpsecret`: 40013 for another corp, 40001 for a secret that is
 *   neither the customer-contact secret nor the staff app's; `{errcode:0, errmsg:"ok", access_token, expires_in:7200}`.
 *   A token acts as the app whose secret it came from.
 * - `GET /cgi-bin/externalcontact/get?access_token&external_userid`: 40014 for an unknown token,
 *   48002 for the staff app's token, 84061 for a contact never seeded; `{errcode:0, errmsg:"ok",
 *   external_contact:{external_userid, name, type:1, unionid?}, follow_user:[]}`.
 * - `POST /cgi-bin/externalcontact/add_contact_way` `{type, scene, state?, user[], …}`: 41037 without
 *   a valid type, 41040 without a valid scene, 40058 for a state over 30 characters, no user, a
 *   type 1 way with more than one user or more than 100 users; `{errcode:0, errmsg:"ok", config_id, qr_code}`
 *   (qr_code for scene 2 only).
 * - `POST /cgi-bin/externalcontact/send_welcome_msg` `{welcome_code, text:{content}}`: 40058 without
 *   a code or a text, 41051 for a code already used; listed in GET /_local/messages as `wecom_welcome`.
 * - `POST /cgi-bin/message/send` `{touser, msgtype:"text", agentid, text:{content}}`: 48002 for the
 *   customer-contact token, 40056 for another agentid, 40058 for a malformed body, 81013 when every
 *   recipient is one the stand-in was told is invalid; listed as `wecom_app`, one entry per call.
 * Hooks: `PUT /_local/wecom/contacts/{external_userid} {unionid?, name?}` seeds a contact;
 * `PUT /_local/wecom/invalid-users/{userid}` makes a staff member unknown to message/send.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';

export interface WecomStandinCorp {
  corpId: string;
  /** The customer-contact secret gettoken accepts. */
  secret: string;
  /** The staff app (message/send): its agentid and secret. */
  agentId?: string;
  agentSecret?: string;
}

export interface WecomContactSeed {
  unionid?: string;
  name?: string;
}

/** A WeCom message the stand-in accepted, as local/wechat-standin.ts lists it. */
export interface WecomSent {
  kind: 'wecom_welcome' | 'wecom_app';
  /** The corp id. */
  appId: string;
  /** `wecom_welcome`: the welcome code; `wecom_app`: the recipients as sent (`userid1|userid2`). */
  touser: string;
  msgtype: string;
  msgid?: string;
  body: Record<string, unknown>;
}

export const WecomContactPatch = z.object({ unionid: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(), name: z.string().max(64).optional() }).strict();

const ContactWayBody = z.object({
  type: z.number().int(),
  scene: z.number().int(),
  state: z.string().optional(),
  user: z.array(z.string().min(1).max(64)).optional(),
  party: z.array(z.number().int()).optional(),
});
const WelcomeBody = z.object({ welcome_code: z.string().min(1), text: z.object({ content: z.string().min(1) }).optional(), attachments: z.array(z.unknown()).max(9).optional() });
const AppMessageBody = z.object({ touser: z.string().min(1), msgtype: z.literal('text'), agentid: z.number().int(), text: z.object({ content: z.string().min(1) }) });

type Answer = { status: number; body: unknown };
const err = (errcode: number, errmsg: string): Answer => ({ status: 200, body: { errcode, errmsg: `${errmsg}, hint: [standin]` } });
const ok = (fields: Record<string, unknown> = {}): Answer => ({ status: 200, body: { errcode: 0, errmsg: 'ok', ...fields } });

function jsonOf(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function wecomStandin(corp: WecomStandinCorp | undefined, record: (m: WecomSent) => void = () => undefined) {
  let tokens = new Map<string, 'contact' | 'agent'>();
  let contacts = new Map<string, WecomContactSeed>();
  let usedCodes = new Set<string>();
  let invalidUsers = new Set<string>();
  let seq = 0;

  /** The app a request's token acts as; an Answer when the token is unknown. */
  const appOf = (url: URL): 'contact' | 'agent' | Answer => tokens.get(url.searchParams.get('access_token') ?? '') ?? err(40014, 'invalid access_token');

  function token(url: URL): Answer {
    if (!corp || url.searchParams.get('corpid') !== corp.corpId) return err(40013, 'invalid corpid');
    const secret = url.searchParams.get('corpsecret');
    const app = secret === corp.secret ? 'contact' : corp.agentSecret !== undefined && secret === corp.agentSecret ? 'agent' : undefined;
    if (!app) return err(40001, 'invalid credential');
    const value = randomBytes(24).toString('base64url');
    tokens.set(value, app);
    return ok({ access_token: value, expires_in: 7200 });
  }

  function addContactWay(raw: string): Answer {
    const r = ContactWayBody.safeParse(jsonOf(raw));
    if (!r.success) return err(40058, 'invalid parameter');
    const b = r.data;
    if (b.type !== 1 && b.type !== 2) return err(41037, 'missing contact way type');
    if (b.scene !== 1 && b.scene !== 2) return err(41040, 'invalid scene');
    const users = b.user ?? [];
    if (b.state !== undefined && [...b.state].length > 30) return err(40058, 'state exceed max length 30');
    if (!users.length && !(b.type === 2 && b.party?.length)) return err(40058, 'user and party are empty');
    if ((b.type === 1 && users.length !== 1) || users.length > 100) return err(40058, 'invalid user count');
    const configId = randomBytes(16).toString('hex');
    return ok({ config_id: configId, ...(b.scene === 2 ? { qr_code: `https://wework.qpic.cn/wwpic/standin/${configId}/0` } : {}) });
  }

  function sendWelcome(raw: string): Answer {
    const r = WelcomeBody.safeParse(jsonOf(raw));
    if (!r.success || (!r.data.text && !r.data.attachments?.length)) return err(40058, 'invalid parameter');
    if (usedCodes.has(r.data.welcome_code)) return err(41051, 'externaluser has started chatting');
    usedCodes.add(r.data.welcome_code);
    record({ kind: 'wecom_welcome', appId: corp!.corpId, touser: r.data.welcome_code, msgtype: 'text', body: r.data as Record<string, unknown> });
    return ok();
  }

  function sendAppMessage(raw: string): Answer {
    const r = AppMessageBody.safeParse(jsonOf(raw));
    if (!r.success) return err(40058, 'invalid parameter');
    if (corp?.agentId === undefined || String(r.data.agentid) !== corp.agentId) return err(40056, 'invalid agentid');
    const users = r.data.touser.split('|');
    if (users.length > 1000) return err(40058, 'touser exceed max 1000');
    const invalid = users.filter((u) => invalidUsers.has(u));
    if (invalid.length === users.length) return err(81013, 'user & party & tag all invalid');
    const msgid = `standin_${++seq}`;
    record({ kind: 'wecom_app', appId: corp.corpId, touser: r.data.touser, msgtype: 'text', msgid, body: r.data as Record<string, unknown> });
    return ok({ invaliduser: invalid.join('|'), invalidparty: '', invalidtag: '', unlicenseduser: '', msgid });
  }

  const handlers: Record<string, { method: 'GET' | 'POST'; app: 'contact' | 'agent'; answer: (url: URL, raw: string) => Answer }> = {
    '/cgi-bin/externalcontact/get': {
      method: 'GET',
      app: 'contact',
      answer: (url) => {
        const id = url.searchParams.get('external_userid') ?? '';
        const c = contacts.get(id);
        if (!c) return err(84061, 'not external contact');
        return ok({ external_contact: { external_userid: id, name: c.name ?? '', type: 1, ...(c.unionid ? { unionid: c.unionid } : {}) }, follow_user: [] });
      },
    },
    '/cgi-bin/externalcontact/add_contact_way': { method: 'POST', app: 'contact', answer: (_url, raw) => addContactWay(raw) },
    '/cgi-bin/externalcontact/send_welcome_msg': { method: 'POST', app: 'contact', answer: (_url, raw) => sendWelcome(raw) },
    '/cgi-bin/message/send': { method: 'POST', app: 'agent', answer: (_url, raw) => sendAppMessage(raw) },
  };

  return {
    /** The answer to a WeCom API path, or undefined when the path is not WeCom's. */
    api(method: string, url: URL, raw = ''): Answer | undefined {
      if (url.pathname === '/cgi-bin/gettoken') return method === 'GET' ? token(url) : err(43001, 'require GET method');
      const h = handlers[url.pathname];
      if (!h) return undefined;
      if (method !== h.method) return err(h.method === 'GET' ? 43001 : 43002, `require ${h.method} method`);
      const app = appOf(url);
      if (typeof app !== 'string') return app;
      if (app !== h.app) return err(48002, 'api forbidden');
      return h.answer(url, raw);
    },
    /** The `/_local/wecom/…` hooks; undefined when the path is not one of them. */
    local(method: string, path: string, body: unknown): Answer | undefined {
      const invalid = /^\/_local\/wecom\/invalid-users\/([A-Za-z0-9_.@-]{1,64})$/.exec(path);
      if (invalid && method === 'PUT') {
        invalidUsers.add(invalid[1]!);
        return { status: 200, body: { ok: true } };
      }
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
      tokens = new Map();
      contacts = new Map();
      usedCodes = new Set();
      invalidUsers = new Set();
      seq = 0;
    },
  };
}
