/**
 * Local stand-in for the WeChat APIs the hub calls, speaking WeChat's wire format
 * (docs/platforms.md#wechat-outbound-apis; docs/wechat-phone-proof.md for the phone number): stable_token, template and
 * customer-service send, qrcode/create, user/info, sns/oauth2/access_token and
 * wxa/business/getuserphonenumber; and the local SMS provider (lib/sms `standin`).
 *
 * Behaviour worth knowing:
 * - stable_token (normal mode) returns the current token with its remaining `expires_in` while
 *   at least 5 min remain, else issues a new one valid for 2 h (the old one stays valid until its
 *   own expiry). `force_refresh:true` issues a new token and invalidates all earlier ones.
 * - Calls with an unknown, revoked or expired access_token answer 40001.
 * - Template msgids start at 2000000000000000001 (beyond 2^53) and are written into the JSON
 *   text digit for digit. The same openid + client_msg_id within 10 min returns the first msgid
 *   and sends nothing new.
 * - OAuth code `local:<openid>` yields that openid (`local-snapshot:<openid>` yields a snapshot-page
 *   virtual account, `is_snapshotuser:1`); anything else answers 40029. Mini program login code
 *   `local:<openid>` (sns/jscode2session) yields that openid. Both carry the person's unionid
 *   when one was set.
 * - Several apps (`apps`: appId → AppSecret): a person set with an `appId` belongs to that app;
 *   user/info, OAuth and jscode2session with another app's credentials answer 40003 for them.
 * - Phone code `local-phone:<phone>` (getuserphonenumber, with a valid access_token) yields that
 *   phone as WeChat writes it: `{errcode:0, errmsg:"ok", phone_info:{phoneNumber,
 *   purePhoneNumber, countryCode:"86", watermark:{timestamp, appid}}}`, the appid being the
 *   token's; anything else answers 40029.
 * - Every person is a subscribed fan unless marked otherwise; sends to an unsubscribed openid
 *   answer 43004.
 *
 * Test and local-runtime hooks, in process and over HTTP:
 *   GET/DELETE /_local/messages      messages sent (template and custom) / clear them
 *   POST       /_local/sms           {phone, code, text}: the local SMS provider sends a text
 *   GET/DELETE /_local/sms           the texts sent, `[{phone, code, text, at}]` / clear them
 *   GET        /_local/calls         every API request received (secrets redacted)
 *   POST       /_local/faults        {path, fault, count?}: the next `count` calls of `path` fail
 *   DELETE     /_local/faults
 *   PUT        /_local/users/{openid} {appId?, subscribed?, unionid?, subscribeTime?, subscribeScene?, qrSceneStr?}
 *   POST       /_local/tokens/revoke {appId?}: every token issued so far stops working
 *   PUT        /_local/templates/{templateId} {keys}: a category template and its typed data keys
 *   PUT        /_local/windows {enforce}: customer-service windows enforced (45015 / 45047) or not
 *   POST       /_local/interactions {openid, kind, at?}: the person did something that opens a window
 *   POST       /_local/subscriptions {openid, templateId, count}: the person accepted a subscription message
 *
 * WeChat's send rules (local/wechat-standin-rules.ts): typed template keys are checked on every
 * template and subscription send (47003); customer-service windows are enforced when the
 * stand-in is started with `enforceWindows` or told so; a subscription send needs an accepted,
 * unused credit of that openid and template (43101 otherwise).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as z from 'zod';
import { wecomStandin, type WecomContactSeed, type WecomSent, type WecomStandinCorp } from './wecom-standin.ts';
import { checkTypedData, STANDIN_INTERACTIONS, WindowBook, type StandinInteraction } from './wechat-standin-rules.ts';

export interface SentMessage {
  /** `wecom_welcome` / `wecom_app`: WeCom's send_welcome_msg and message/send (local/wecom-standin.ts; appId is the corp id). */
  kind: 'template' | 'custom' | 'subscribe' | WecomSent['kind'];
  appId: string;
  touser: string;
  /** Template messages: the msgid as a decimal string. */
  msgid?: string;
  templateId?: string;
  clientMsgId?: string;
  /** Customer-service messages: `text`, `news` ... */
  msgtype?: string;
  /** The request body as received. */
  body: Record<string, unknown>;
  /** Stand-in clock, epoch ms. */
  at: number;
}

export interface SentText {
  phone: string;
  code: string;
  text: string;
  /** Stand-in clock, epoch ms. */
  at: number;
}

export interface RecordedCall {
  method: string;
  path: string;
  /** Query parameters; `secret` redacted. */
  query: Record<string, string>;
  /** Parsed JSON body if any; `secret` redacted. */
  body?: unknown;
  at: number;
}

const FaultSchema = z.discriminatedUnion('type', [
  /** Answer HTTP 200 `{errcode, errmsg}`. */
  z.object({ type: z.literal('errcode'), errcode: z.number().int(), errmsg: z.string().optional() }),
  /** Answer this HTTP status with `body` (default a small HTML error page). */
  z.object({ type: z.literal('http'), status: z.number().int().min(200).max(599), body: z.string().optional() }),
  /**
   * Hold the request for `ms` (default 10 s), then drop the connection without an answer, or,
   * with `thenProcess`, handle it normally (the effect happens although the caller gave up).
   */
  z.object({ type: z.literal('hang'), ms: z.number().int().nonnegative().optional(), thenProcess: z.boolean().optional() }),
]);
export type StandinFault = z.infer<typeof FaultSchema>;

export interface StandinUser {
  /** The app this openid belongs to (openids are per app); absent: any app. */
  appId?: string;
  subscribed: boolean;
  unionid?: string;
  /** Epoch ms. */
  subscribeTime?: number;
  subscribeScene?: string;
  qrSceneStr?: string;
}

export interface StandinQrCode {
  appId: string;
  actionName: string;
  scene: string;
  ticket: string;
  url: string;
  expireSeconds?: number;
}

export interface WechatStandinOptions {
  /** 0 for an ephemeral port. */
  port: number;
  host?: string;
  /** appId → appSecret. */
  apps: Record<string, string>;
  /** If given, only these template ids exist (others answer 40037); otherwise every id does. */
  templates?: string[];
  /** Category templates: templateId → its typed data keys (each must be sent, 47003 otherwise). */
  categoryTemplates?: Record<string, string[]>;
  /** Refuse customer-service messages outside the windows the stand-in was told about (45015 / 45047). */
  enforceWindows?: boolean;
  /** Stand-in clock, epoch ms (token expiry, message times). */
  now?: () => number;
  /** The WeCom corp whose API the stand-in also answers (local/wecom-standin.ts). */
  wecom?: WecomStandinCorp;
}

export interface WechatStandin {
  /** e.g. `http://127.0.0.1:3001`; use as WECHAT_API_BASE. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  messages(): SentMessage[];
  clearMessages(): void;
  /** SMS texts the local provider sent. */
  texts(): SentText[];
  calls(path?: string): RecordedCall[];
  /** Requests a `hang` fault is holding right now (the caller may have given up on them). */
  held(): number;
  /** Resolves once no request is held by a `hang` fault (at once when none is): what a hang was going to do has happened. */
  settled(): Promise<void>;
  qrCodes(): StandinQrCode[];
  /** The tag ids batchtagging put on an app's openid, ascending. */
  tagsOf(appId: string, openid: string): number[];
  /** Forget everything: messages, calls, tokens, faults, users, QR codes, msgid sequence. */
  reset(): void;
  /** The next `count` calls of `path` (e.g. `/cgi-bin/message/template/send`) fail with `fault`. */
  setFault(path: string, fault: StandinFault, count?: number): void;
  clearFaults(): void;
  setUser(openid: string, patch: Partial<StandinUser>): void;
  unsubscribe(openid: string): void;
  subscribe(openid: string): void;
  /** Invalidate every token issued so far (as if another party had force-refreshed). */
  revokeTokens(appId?: string): void;
  /** Declares a category template with its typed data keys. */
  defineTemplate(templateId: string, keys: string[]): void;
  /** Turns customer-service window enforcement on or off. */
  enforceWindows(on: boolean): void;
  /** The person did something that opens a customer-service window (default: now). */
  interact(openid: string, kind: StandinInteraction, at?: number): void;
  /** The person accepted `count` sends of a subscription message template. */
  grantSubscription(openid: string, templateId: string, count: number): void;
  /** Seeds a WeCom contact (externalcontact/get). */
  setWecomContact(externalUserId: string, seed: WecomContactSeed): void;
}

const TOKEN_TTL_MS = 7200_000;
/** stable_token guarantees at least this much validity; below it, a new token is issued. */
const TOKEN_MIN_REMAINING_MS = 300_000;
const CLIENT_MSG_ID_WINDOW_MS = 600_000;
const FIRST_MSGID = 2_000_000_000_000_000_001n;
const MAX_BODY_BYTES = 1 << 20;
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;
const CUSTOM_MSGTYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'music',
  'news',
  'mpnews',
  'mpnewsarticle',
  'msgmenu',
  'wxcard',
  'miniprogrampage',
  'link',
]);

const StableTokenBody = z.object({
  grant_type: z.string(),
  appid: z.string(),
  secret: z.string(),
  force_refresh: z.boolean().optional(),
});
const TemplateData = z.record(z.string(), z.looseObject({ value: z.string() }));
const QrBody = z.object({
  action_name: z.string(),
  expire_seconds: z.number().int().optional(),
  action_info: z.object({
    scene: z.object({ scene_str: z.string().optional(), scene_id: z.number().int().optional() }),
  }),
});
const UserPatch = z
  .object({
    appId: z.string().min(1),
    subscribed: z.boolean(),
    unionid: z.string().min(1),
    subscribeTime: z.number().int(),
    subscribeScene: z.string(),
    qrSceneStr: z.string(),
  })
  .partial();
const FaultRequest = z.object({ path: z.string().startsWith('/'), fault: FaultSchema, count: z.number().int().positive().optional() });
const RevokeRequest = z.object({ appId: z.string().optional() });
const TemplateKeysRequest = z.object({ keys: z.array(z.string().regex(/^[a-z_]+\d+$/)).max(20) });
const WindowsRequest = z.object({ enforce: z.boolean() });
const InteractionRequest = z.object({ openid: z.string().regex(OPENID), kind: z.enum(STANDIN_INTERACTIONS as [StandinInteraction, ...StandinInteraction[]]), at: z.number().int().optional() });
const SubscriptionRequest = z.object({ openid: z.string().regex(OPENID), templateId: z.string().min(1).max(128), count: z.number().int().min(1).max(1000) });
const SmsRequest = z.object({ phone: z.string().regex(/^\d{5,20}$/), code: z.string().regex(/^\d{4,8}$/), text: z.string().min(1).max(500) });

type Json = Record<string, unknown>;

class Reply {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {}
  static json(obj: unknown, status = 200): Reply {
    return new Reply(status, JSON.stringify(obj));
  }
  static err(errcode: number, errmsg: string): Reply {
    return Reply.json({ errcode, errmsg: `${errmsg} rid: standin` });
  }
}

function redact(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Json = { ...(value as Json) };
    if ('secret' in out) out.secret = '***';
    return out;
  }
  return value;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export async function startWechatStandin(options: WechatStandinOptions): Promise<WechatStandin> {
  const host = options.host ?? '127.0.0.1';
  const apps = new Map(Object.entries(options.apps));
  const templates = options.templates ? new Set(options.templates) : null;
  const now = options.now ?? Date.now;
  const wecom = wecomStandin(options.wecom, (m) => sent.push({ ...m, at: now() }));

  let tokens = new Map<string, { appId: string; expiresAt: number }>();
  let currentToken = new Map<string, string>();
  let tokenSeq = 0;
  let webTokenSeq = 0;
  let nextMsgId = FIRST_MSGID;
  let tempQrSeq = 0;
  let sent: SentMessage[] = [];
  let texts: SentText[] = [];
  let callLog: RecordedCall[] = [];
  let faults = new Map<string, { fault: StandinFault; remaining: number }[]>();
  let users = new Map<string, StandinUser>();
  let clientMsgIds = new Map<string, { msgid: string; at: number }>();
  let qrCodes: StandinQrCode[] = [];
  let categoryTemplates = new Map(Object.entries(options.categoryTemplates ?? {}));
  let windowsEnforced = options.enforceWindows === true;
  const windows = new WindowBook();
  let subscriptions = new Map<string, number>();
  const hangTimers = new Set<NodeJS.Timeout>();
  const settleWaiters: (() => void)[] = [];
  const releaseHang = (timer: NodeJS.Timeout): void => {
    hangTimers.delete(timer);
    if (hangTimers.size === 0) for (const resolve of settleWaiters.splice(0)) resolve();
  };

  const user = (openid: string): StandinUser => {
    let u = users.get(openid);
    if (!u) {
      u = { subscribed: true, subscribeTime: now(), subscribeScene: 'ADD_SCENE_OTHERS' };
      users.set(openid, u);
    }
    return u;
  };

  const takeFault = (path: string): StandinFault | null => {
    const queue = faults.get(path);
    const head = queue?.[0];
    if (!queue || !head) return null;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  };

  /** The appId the query's access_token belongs to, or the 40001/41001 reply. */
  const authorize = (url: URL): string | Reply => {
    const token = url.searchParams.get('access_token');
    if (!token) return Reply.err(41001, 'access_token missing');
    const t = tokens.get(token);
    if (!t || now() >= t.expiresAt) {
      return Reply.err(40001, 'invalid credential, access_token is invalid or not latest');
    }
    return t.appId;
  };

  const parseBody = (raw: string): Json | Reply => {
    try {
      const v: unknown = JSON.parse(raw);
      return isObject(v) ? v : Reply.err(47001, 'data format error');
    } catch {
      return raw.trim() === '' ? Reply.err(44002, 'empty post data') : Reply.err(47001, 'data format error');
    }
  };

  function stableToken(body: Json): Reply {
    const b = StableTokenBody.safeParse(body);
    if (!b.success) return Reply.err(47001, 'data format error');
    if (b.data.grant_type !== 'client_credential') return Reply.err(40002, 'invalid grant_type');
    const secret = apps.get(b.data.appid);
    if (secret === undefined) return Reply.err(40013, 'invalid appid');
    if (secret !== b.data.secret) return Reply.err(40125, 'invalid appsecret');
    const appId = b.data.appid;
    const t = now();
    const cur = currentToken.get(appId);
    const curInfo = cur === undefined ? undefined : tokens.get(cur);
    if (!b.data.force_refresh && cur !== undefined && curInfo && curInfo.expiresAt - t >= TOKEN_MIN_REMAINING_MS) {
      return Reply.json({ access_token: cur, expires_in: Math.floor((curInfo.expiresAt - t) / 1000) });
    }
    if (b.data.force_refresh) {
      for (const [tok, info] of tokens) if (info.appId === appId) tokens.delete(tok);
    }
    tokenSeq += 1;
    const token = `standin-token-${appId}-${tokenSeq}`;
    tokens.set(token, { appId, expiresAt: t + TOKEN_TTL_MS });
    currentToken.set(appId, token);
    return Reply.json({ access_token: token, expires_in: TOKEN_TTL_MS / 1000 });
  }

  /** touser, template_id and typed data of a template or subscription send, or the error WeChat answers. */
  function templated(body: Json): { touser: string; templateId: string } | Reply {
    const touser = body.touser;
    if (typeof touser !== 'string' || !OPENID.test(touser)) return Reply.err(40003, 'invalid openid');
    const templateId = body.template_id;
    if (typeof templateId !== 'string' || templateId === '') return Reply.err(40037, 'invalid template_id');
    if (templates && !templates.has(templateId)) return Reply.err(40037, 'invalid template_id');
    const data = TemplateData.safeParse(body.data);
    if (!data.success) return Reply.err(47001, 'data format error');
    const typed = checkTypedData(data.data, categoryTemplates.get(templateId));
    if (typed) return Reply.err(typed.errcode, typed.errmsg);
    return { touser, templateId };
  }

  function templateSend(appId: string, body: Json): Reply {
    if (body.url !== undefined && typeof body.url !== 'string') return Reply.err(47001, 'data format error');
    const checked = templated(body);
    if (checked instanceof Reply) return checked;
    const { touser, templateId } = checked;
    if (!user(touser).subscribed) return Reply.err(43004, 'require subscribe');
    const clientMsgId = typeof body.client_msg_id === 'string' && body.client_msg_id !== '' ? body.client_msg_id : undefined;
    const t = now();
    const dedupeKey = clientMsgId === undefined ? undefined : `${appId}|${touser}|${clientMsgId}`;
    if (dedupeKey !== undefined) {
      const prior = clientMsgIds.get(dedupeKey);
      if (prior && t - prior.at < CLIENT_MSG_ID_WINDOW_MS) return msgidReply(prior.msgid);
    }
    const msgid = nextMsgId.toString();
    nextMsgId += 1n;
    if (dedupeKey !== undefined) clientMsgIds.set(dedupeKey, { msgid, at: t });
    const m: SentMessage = { kind: 'template', appId, touser, msgid, templateId, body, at: t };
    if (clientMsgId !== undefined) m.clientMsgId = clientMsgId;
    sent.push(m);
    return msgidReply(msgid);
  }

  /** The msgid is written as a bare JSON number, digit for digit, as WeChat does. */
  const msgidReply = (msgid: string): Reply => new Reply(200, `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`);

  function customSend(appId: string, body: Json): Reply {
    const touser = body.touser;
    if (typeof touser !== 'string' || !OPENID.test(touser)) return Reply.err(40003, 'invalid openid');
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !CUSTOM_MSGTYPES.has(msgtype)) return Reply.err(40008, 'invalid message type');
    const payload = body[msgtype];
    if (!isObject(payload)) return Reply.err(47001, 'data format error');
    if (msgtype === 'text' && (typeof payload.content !== 'string' || payload.content === '')) {
      return Reply.err(44002, 'empty post data');
    }
    if (msgtype === 'news' && (!Array.isArray(payload.articles) || payload.articles.length === 0)) {
      return Reply.err(44003, 'empty news data');
    }
    if (!user(touser).subscribed) return Reply.err(43004, 'require subscribe');
    if (windowsEnforced) {
      const refused = windows.take(touser, now());
      if (refused) return Reply.err(refused.errcode, refused.errmsg);
    }
    sent.push({ kind: 'custom', appId, touser, msgtype, body, at: now() });
    return Reply.json({ errcode: 0, errmsg: 'ok' });
  }

  /** subscribe/bizsend (official account) and subscribe/send (mini program): one accepted credit per send. */
  function subscribeSend(appId: string, body: Json): Reply {
    const checked = templated(body);
    if (checked instanceof Reply) return checked;
    const { touser, templateId } = checked;
    const key = `${touser}|${templateId}`;
    const credits = subscriptions.get(key) ?? 0;
    if (credits <= 0) return Reply.err(43101, 'user refuse to accept the msg');
    subscriptions.set(key, credits - 1);
    sent.push({ kind: 'subscribe', appId, touser, templateId, body, at: now() });
    return Reply.json({ errcode: 0, errmsg: 'ok' });
  }

  function qrcodeCreate(appId: string, body: Json): Reply {
    const b = QrBody.safeParse(body);
    const action = body.action_name;
    if (!['QR_SCENE', 'QR_STR_SCENE', 'QR_LIMIT_SCENE', 'QR_LIMIT_STR_SCENE'].includes(String(action))) {
      return Reply.err(40052, 'invalid action name');
    }
    if (!b.success) return Reply.err(40053, 'invalid action info');
    const actionName = b.data.action_name;
    const isStr = actionName.endsWith('STR_SCENE');
    const permanent = actionName.startsWith('QR_LIMIT');
    const { scene_str: sceneStr, scene_id: sceneId } = b.data.action_info.scene;
    let scene: string;
    if (isStr) {
      if (sceneStr === undefined || sceneStr.length < 1 || sceneStr.length > 64) return Reply.err(40053, 'invalid action info');
      scene = sceneStr;
    } else {
      const max = permanent ? 100_000 : 0xffffffff;
      if (sceneId === undefined || sceneId < 1 || sceneId > max) return Reply.err(40053, 'invalid action info');
      scene = String(sceneId);
    }
    if (permanent) {
      const existing = qrCodes.find((q) => q.appId === appId && q.actionName === actionName && q.scene === scene);
      if (existing) return Reply.json({ ticket: existing.ticket, url: existing.url });
      const id = `${appId}:${actionName}:${scene}`;
      const qr: StandinQrCode = {
        appId,
        actionName,
        scene,
        ticket: Buffer.from(`standin-qr:${id}`).toString('base64'),
        url: `http://weixin.qq.com/q/standin_${Buffer.from(id).toString('base64url')}`,
      };
      qrCodes.push(qr);
      return Reply.json({ ticket: qr.ticket, url: qr.url });
    }
    const expireSeconds = Math.min(Math.max(b.data.expire_seconds ?? 60, 1), 2_592_000);
    tempQrSeq += 1;
    const id = `${appId}:${actionName}:${scene}:${tempQrSeq}`;
    const qr: StandinQrCode = {
      appId,
      actionName,
      scene,
      ticket: Buffer.from(`standin-qr:${id}`).toString('base64'),
      url: `http://weixin.qq.com/q/standin_${Buffer.from(id).toString('base64url')}`,
      expireSeconds,
    };
    qrCodes.push(qr);
    return Reply.json({ ticket: qr.ticket, expire_seconds: expireSeconds, url: qr.url });
  }

  /** User tags per app and openid (tags/members/batchtagging; user/info's tagid_list). */
  const tags = new Map<string, Set<number>>();
  const tagKey = (appId: string, openid: string) => `${appId}|${openid}`;

  /**
   * tags/members/batchtagging `{openid_list, tagid}`: at most 50 openids a call (40032 "invalid
   * openid list size" past that or when empty), a positive tag id (45159 "invalid tag" else),
   * openids of this app (40003 else). docs/platforms.md#wechat-user-tags.
   */
  function batchTagging(appId: string, body: Json): Reply {
    const list = body.openid_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 50) return Reply.err(40032, 'invalid openid list size');
    const tagid = body.tagid;
    if (typeof tagid !== 'number' || !Number.isSafeInteger(tagid) || tagid <= 0) return Reply.err(45159, 'invalid tag');
    if (list.some((o) => typeof o !== 'string' || !OPENID.test(o) || foreign(o, appId))) return Reply.err(40003, 'invalid openid');
    for (const openid of list as string[]) {
      const k = tagKey(appId, openid);
      tags.set(k, (tags.get(k) ?? new Set()).add(tagid));
    }
    return Reply.json({ errcode: 0, errmsg: 'ok' });
  }
  const tagList = (appId: string, openid: string): number[] => [...(tags.get(tagKey(appId, openid)) ?? [])].sort((a, b) => a - b);

  /** A person set for another app is not this app's openid. */
  const foreign = (openid: string, appId: string): boolean => {
    const a = users.get(openid)?.appId;
    return a !== undefined && a !== appId;
  };

  function userInfo(appId: string, url: URL): Reply {
    const openid = url.searchParams.get('openid') ?? '';
    if (!OPENID.test(openid) || foreign(openid, appId)) return Reply.err(40003, 'invalid openid');
    const u = user(openid);
    if (!u.subscribed) {
      return Reply.json({ subscribe: 0, openid, ...(u.unionid !== undefined && { unionid: u.unionid }), tagid_list: tagList(appId, openid) });
    }
    return Reply.json({
      subscribe: 1,
      openid,
      language: 'zh_CN',
      subscribe_time: Math.floor((u.subscribeTime ?? now()) / 1000),
      ...(u.unionid !== undefined && { unionid: u.unionid }),
      remark: '',
      groupid: 0,
      tagid_list: tagList(appId, openid),
      subscribe_scene: u.subscribeScene ?? 'ADD_SCENE_OTHERS',
      qr_scene: 0,
      qr_scene_str: u.qrSceneStr ?? '',
    });
  }

  /** The appid of a code exchange (`appid`, `secret`, `grant_type=authorization_code`), or WeChat's error. */
  function codeExchangeApp(q: URLSearchParams): string | Reply {
    const appId = q.get('appid') ?? '';
    const secret = apps.get(appId);
    if (secret === undefined) return Reply.err(40013, 'invalid appid');
    if (q.get('secret') !== secret) return Reply.err(40125, 'invalid appsecret');
    if (q.get('grant_type') !== 'authorization_code') return Reply.err(40002, 'invalid grant_type');
    return appId;
  }

  function oauth(url: URL): Reply {
    const q = url.searchParams;
    const appId = codeExchangeApp(q);
    if (appId instanceof Reply) return appId;
    const code = q.get('code');
    if (!code) return Reply.err(41008, 'missing code');
    const m = /^local(-snapshot)?:([A-Za-z0-9_-]{1,64})$/.exec(code);
    if (!m) return Reply.err(40029, 'invalid code');
    const openid = m[2]!;
    if (foreign(openid, appId)) return Reply.err(40003, 'invalid openid');
    const snapshot = m[1] !== undefined;
    const u = users.get(openid);
    webTokenSeq += 1;
    return Reply.json({
      access_token: `standin-web-token-${webTokenSeq}`,
      expires_in: 7200,
      refresh_token: `standin-refresh-token-${webTokenSeq}`,
      openid,
      scope: u?.unionid !== undefined ? 'snsapi_userinfo' : 'snsapi_base',
      ...(snapshot && { is_snapshotuser: 1 }),
      ...(u?.unionid !== undefined && !snapshot && { unionid: u.unionid }),
    });
  }

  function codeToSession(url: URL): Reply {
    const q = url.searchParams;
    const appId = codeExchangeApp(q);
    if (appId instanceof Reply) return appId;
    const m = /^local:([A-Za-z0-9_-]{1,64})$/.exec(q.get('js_code') ?? '');
    if (!m) return Reply.err(40029, 'invalid code');
    const openid = m[1]!;
    if (foreign(openid, appId)) return Reply.err(40003, 'invalid openid');
    const u = users.get(openid);
    webTokenSeq += 1;
    return Reply.json({ openid, session_key: `standin-session-key-${webTokenSeq}`, ...(u?.unionid !== undefined && { unionid: u.unionid }) });
  }

  function phoneNumber(appId: string, body: Json): Reply {
    const m = /^local-phone:(\d{11})$/.exec(typeof body.code === 'string' ? body.code : '');
    if (!m) return Reply.err(40029, 'invalid code');
    const phone = m[1]!;
    return Reply.json({
      errcode: 0,
      errmsg: 'ok',
      phone_info: { phoneNumber: phone, purePhoneNumber: phone, countryCode: '86', watermark: { timestamp: Math.floor(now() / 1000), appid: appId } },
    });
  }

  function api(method: string, url: URL, raw: string): Reply {
    const path = url.pathname;
    // WeChat's errors for the wrong method: 43002 "require POST method", 43001 "require GET method".
    const post = (fn: (appId: string, body: Json) => Reply, opts: { token: boolean } = { token: true }): Reply => {
      if (method !== 'POST') return Reply.err(43002, 'require POST method');
      const appId = opts.token ? authorize(url) : '';
      if (appId instanceof Reply) return appId;
      const body = parseBody(raw);
      return body instanceof Reply ? body : fn(appId, body);
    };
    const get = (fn: () => Reply): Reply => (method !== 'GET' ? Reply.err(43001, 'require GET method') : fn());
    switch (path) {
      case '/cgi-bin/stable_token':
        return post((_appId, body) => stableToken(body), { token: false });
      case '/cgi-bin/message/template/send':
        return post(templateSend);
      case '/cgi-bin/message/custom/send':
        return post(customSend);
      case '/cgi-bin/message/subscribe/bizsend':
      case '/cgi-bin/message/subscribe/send':
        return post(subscribeSend);
      case '/cgi-bin/qrcode/create':
        return post(qrcodeCreate);
      case '/cgi-bin/tags/members/batchtagging':
        return post(batchTagging);
      case '/cgi-bin/user/info':
        return get(() => {
          const appId = authorize(url);
          return appId instanceof Reply ? appId : userInfo(appId, url);
        });
      case '/wxa/business/getuserphonenumber':
        return post(phoneNumber);
      case '/sns/oauth2/access_token':
        return get(() => oauth(url));
      case '/sns/jscode2session':
        return get(() => codeToSession(url));
      default:
        return Reply.json({ errcode: 404, errmsg: 'not found' }, 404);
    }
  }

  function local(method: string, path: string, raw: string): Reply {
    const body = (): unknown => {
      try {
        return raw.trim() === '' ? {} : JSON.parse(raw);
      } catch {
        return undefined;
      }
    };
    const bad = (reason: string) => Reply.json({ error: reason }, 400);
    if (path === '/_local/messages') {
      if (method === 'GET') return Reply.json({ messages: sent });
      if (method === 'DELETE') {
        const cleared = sent.length;
        sent = [];
        return Reply.json({ cleared });
      }
    }
    if (path === '/_local/sms') {
      if (method === 'GET') return Reply.json(texts);
      if (method === 'DELETE') {
        const cleared = texts.length;
        texts = [];
        return Reply.json({ cleared });
      }
      if (method === 'POST') {
        const r = SmsRequest.safeParse(body());
        if (!r.success) return bad(z.prettifyError(r.error));
        texts.push({ ...r.data, at: now() });
        return Reply.json({ ok: true });
      }
    }
    if (path === '/_local/calls' && method === 'GET') return Reply.json({ calls: callLog });
    if (path === '/_local/faults') {
      if (method === 'POST') {
        const r = FaultRequest.safeParse(body());
        if (!r.success) return bad(z.prettifyError(r.error));
        instance.setFault(r.data.path, r.data.fault, r.data.count);
        return Reply.json({ ok: true });
      }
      if (method === 'DELETE') {
        instance.clearFaults();
        return Reply.json({ ok: true });
      }
    }
    if (path === '/_local/tokens/revoke' && method === 'POST') {
      const r = RevokeRequest.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.revokeTokens(r.data.appId);
      return Reply.json({ ok: true });
    }
    const templatePath = /^\/_local\/templates\/([A-Za-z0-9_-]{1,128})$/.exec(path);
    if (templatePath && method === 'PUT') {
      const r = TemplateKeysRequest.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.defineTemplate(templatePath[1]!, r.data.keys);
      return Reply.json({ ok: true });
    }
    if (path === '/_local/windows' && method === 'PUT') {
      const r = WindowsRequest.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.enforceWindows(r.data.enforce);
      return Reply.json({ ok: true });
    }
    if (path === '/_local/interactions' && method === 'POST') {
      const r = InteractionRequest.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.interact(r.data.openid, r.data.kind, r.data.at);
      return Reply.json({ ok: true });
    }
    if (path === '/_local/subscriptions' && method === 'POST') {
      const r = SubscriptionRequest.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.grantSubscription(r.data.openid, r.data.templateId, r.data.count);
      return Reply.json({ ok: true });
    }
    const wecomHook = wecom.local(method, path, body());
    if (wecomHook) return Reply.json(wecomHook.body, wecomHook.status);
    const userPath = /^\/_local\/users\/([A-Za-z0-9_-]{1,64})$/.exec(path);
    if (userPath && method === 'PUT') {
      const r = UserPatch.safeParse(body());
      if (!r.success) return bad(z.prettifyError(r.error));
      instance.setUser(userPath[1]!, r.data);
      return Reply.json({ ok: true });
    }
    return Reply.json({ error: 'not found' }, 404);
  }

  const write = (res: ServerResponse, reply: Reply): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(reply.status, {
      'content-type': reply.text.startsWith('{') ? 'application/json; encoding=utf-8' : 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(reply.text),
    });
    res.end(reply.text);
  };

  const readBody = (req: IncomingMessage): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          resolve(null);
          req.resume();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://standin.local');
    const raw = await readBody(req);
    if (raw === null) return write(res, Reply.json({ errcode: 44002, errmsg: 'post data too large' }, 413));
    if (url.pathname.startsWith('/_local/')) return write(res, local(method, url.pathname, raw));

    const query = Object.fromEntries(url.searchParams);
    if ('secret' in query) query.secret = '***';
    if ('corpsecret' in query) query.corpsecret = '***';
    const call: RecordedCall = { method, path: url.pathname, query, at: now() };
    if (raw !== '') {
      try {
        call.body = redact(JSON.parse(raw));
      } catch {
        call.body = raw;
      }
    }
    callLog.push(call);
    const wecomAnswer = wecom.api(method, url, raw);
    if (wecomAnswer) return write(res, Reply.json(wecomAnswer.body, wecomAnswer.status));

    const fault = takeFault(url.pathname);
    if (!fault) return write(res, api(method, url, raw));
    switch (fault.type) {
      case 'errcode':
        return write(res, Reply.json({ errcode: fault.errcode, errmsg: `${fault.errmsg ?? 'fault injected'} rid: standin` }));
      case 'http':
        return write(res, new Reply(fault.status, fault.body ?? `<html><body>Error ${fault.status}</body></html>`));
      case 'hang': {
        const timer = setTimeout(() => {
          try {
            if (fault.thenProcess) write(res, api(method, url, raw));
            else res.destroy();
          } finally {
            releaseHang(timer);
          }
        }, fault.ms ?? 10_000);
        hangTimers.add(timer);
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => write(res, Reply.json({ errcode: -1, errmsg: 'system error rid: standin' }, 500)));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const instance: WechatStandin = {
    url,
    port,
    async close() {
      for (const t of hangTimers) clearTimeout(t);
      hangTimers.clear();
      for (const resolve of settleWaiters.splice(0)) resolve();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    messages: () => sent.map((m) => ({ ...m })),
    clearMessages() {
      sent = [];
    },
    texts: () => texts.map((t) => ({ ...t })),
    calls: (path) => callLog.filter((c) => path === undefined || c.path === path).map((c) => ({ ...c })),
    held: () => hangTimers.size,
    settled: () => (hangTimers.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => settleWaiters.push(resolve))),
    qrCodes: () => qrCodes.map((q) => ({ ...q })),
    tagsOf: (appId, openid) => tagList(appId, openid),
    setWecomContact(externalUserId, seed) {
      wecom.setContact(externalUserId, seed);
    },
    reset() {
      wecom.reset();
      tokens = new Map();
      currentToken = new Map();
      tokenSeq = 0;
      webTokenSeq = 0;
      nextMsgId = FIRST_MSGID;
      tempQrSeq = 0;
      sent = [];
      texts = [];
      callLog = [];
      faults = new Map();
      users = new Map();
      clientMsgIds = new Map();
      qrCodes = [];
      categoryTemplates = new Map(Object.entries(options.categoryTemplates ?? {}));
      windowsEnforced = options.enforceWindows === true;
      windows.clear();
      subscriptions = new Map();
      tags.clear();
    },
    setFault(path, fault, count = 1) {
      const f = FaultSchema.parse(fault);
      const queue = faults.get(path) ?? [];
      queue.push({ fault: f, remaining: count });
      faults.set(path, queue);
    },
    clearFaults() {
      faults = new Map();
    },
    setUser(openid, patch) {
      const u = user(openid);
      const next: StandinUser = { ...u };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as unknown as Json)[k] = v;
      users.set(openid, next);
    },
    unsubscribe(openid) {
      instance.setUser(openid, { subscribed: false });
    },
    subscribe(openid) {
      instance.setUser(openid, { subscribed: true, subscribeTime: now() });
    },
    defineTemplate(templateId, keys) {
      categoryTemplates.set(templateId, [...keys]);
    },
    enforceWindows(on) {
      windowsEnforced = on;
    },
    interact(openid, kind, at) {
      windows.interact(openid, kind, at ?? now());
    },
    grantSubscription(openid, templateId, count) {
      const key = `${openid}|${templateId}`;
      subscriptions.set(key, (subscriptions.get(key) ?? 0) + count);
    },
    revokeTokens(appId) {
      for (const [tok, info] of tokens) if (appId === undefined || info.appId === appId) tokens.delete(tok);
      for (const id of [...currentToken.keys()]) if (appId === undefined || id === appId) currentToken.delete(id);
    },
  };
  return instance;
}
