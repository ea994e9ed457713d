/**
 * The brand's WeChat estate (docs/design.md#wechat-accounts): every official account and mini
 * program the hub serves, from `HUB_WECHAT_APPS` (a JSON array, a secret: it holds each app's
 * token, EncodingAESKey and AppSecret) with the single-account names (`WECHAT_APP_ID`,
 * `WECHAT_TOKEN`, `WECHAT_AES_KEY`, `WECHAT_APP_SECRET`, `WECHAT_MESSAGE_MODE`) merged in as one
 * official account. The default account — the one existing single-account data belongs to, and
 * the one a caller means when it names none — is `WECHAT_APP_ID`.
 *
 * Every problem is reported naming the entry (`HUB_WECHAT_APPS[1] (wx…)`): a missing required
 * field, an unknown field, a duplicate appId, a malformed token or key.
 */
import * as z from 'zod';

export const WECHAT_APP_KINDS = ['official', 'miniprogram'] as const;
export type WechatAppKind = (typeof WECHAT_APP_KINDS)[number];

/** One app of the estate. `token` (and `aesKey` in safe mode) only for an official account. */
export interface WechatApp {
  appId: string;
  kind: WechatAppKind;
  name: string;
  /** Official account: the server token (16-32 letters or digits; the local example token is shorter). */
  token?: string;
  /** Official account in safe mode: the 43-character EncodingAESKey; absent: plain mode. */
  aesKey?: string;
  appSecret: string;
}

/** A WeChat appid: `wx` and 16 hex digits in production; letters, digits, `_` and `-` accepted (stand-ins, tests). */
export const WECHAT_APP_ID_PATTERN = /^[A-Za-z0-9_-]{2,32}$/;
const AES_KEY = /^[A-Za-z0-9]{43}$/;
const TOKEN = /^[A-Za-z0-9]{16,32}$/;

const Entry = z.strictObject({
  appId: z.string().regex(WECHAT_APP_ID_PATTERN, 'appId must be 2-32 letters, digits, _ or -'),
  kind: z.enum(WECHAT_APP_KINDS),
  name: z.string().trim().min(1).max(64),
  token: z.string().regex(TOKEN, 'token must be 16-32 letters or digits').optional(),
  aesKey: z.string().regex(AES_KEY, 'aesKey must be 43 characters of [A-Za-z0-9]').optional(),
  appSecret: z.string().min(1).max(128),
});

/** The appids a HUB_WECHAT_APPS value names (loosely read: for deciding which secrets are required). */
export function appIdsIn(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.flatMap((e) => (e && typeof e === 'object' && typeof (e as { appId?: unknown }).appId === 'string' ? [(e as { appId: string }).appId] : [])) : [];
  } catch {
    return [];
  }
}

/** The apps of a HUB_WECHAT_APPS value; throws one Error listing every problem, each naming its entry. */
export function parseWechatApps(raw: string): WechatApp[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('HUB_WECHAT_APPS is not JSON (expected an array of {appId, kind, name, token?, aesKey?, appSecret})');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('HUB_WECHAT_APPS must be a non-empty JSON array of {appId, kind, name, token?, aesKey?, appSecret}');
  const problems: string[] = [];
  const apps: WechatApp[] = [];
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, i) => {
    const id = entry && typeof entry === 'object' && typeof (entry as { appId?: unknown }).appId === 'string' ? ` (${(entry as { appId: string }).appId})` : '';
    const label = `HUB_WECHAT_APPS[${i}]${id}`;
    const r = Entry.safeParse(entry);
    if (!r.success) {
      problems.push(`${label}: ${r.error.issues.map((x) => (x.path.length ? `${x.path.join('.')}: ${x.message}` : x.message)).join(', ')}`);
      return;
    }
    const app = r.data;
    if (seen.has(app.appId)) problems.push(`${label}: duplicate appId ${app.appId}`);
    seen.add(app.appId);
    if (app.kind === 'official' && app.token === undefined) problems.push(`${label}: an official account needs token`);
    if (app.kind === 'miniprogram' && (app.token !== undefined || app.aesKey !== undefined)) problems.push(`${label}: a mini program has no server token or aesKey`);
    apps.push(stripUndefined(app));
  });
  if (problems.length) throw new Error(problems.join('; '));
  return apps;
}

const stripUndefined = (app: z.output<typeof Entry>): WechatApp => Object.fromEntries(Object.entries(app).filter(([, v]) => v !== undefined)) as unknown as WechatApp;

/** The shorthand account of the single-account names, when WECHAT_APP_ID and its secrets are given. */
export function shorthandApp(s: { WECHAT_APP_ID?: string | undefined; WECHAT_TOKEN?: string | undefined; WECHAT_AES_KEY?: string | undefined; WECHAT_APP_SECRET?: string | undefined; WECHAT_MESSAGE_MODE?: string | undefined }): WechatApp | undefined {
  if (!s.WECHAT_APP_ID || s.WECHAT_TOKEN === undefined || s.WECHAT_APP_SECRET === undefined) return undefined;
  return {
    appId: s.WECHAT_APP_ID,
    kind: 'official',
    name: s.WECHAT_APP_ID,
    token: s.WECHAT_TOKEN,
    ...(s.WECHAT_MESSAGE_MODE !== 'plain' && s.WECHAT_AES_KEY ? { aesKey: s.WECHAT_AES_KEY } : {}),
    appSecret: s.WECHAT_APP_SECRET,
  };
}

/** The configured app, or undefined. */
export function wechatApp(cfg: { readonly wechatApps: readonly WechatApp[] }, appId: string): WechatApp | undefined {
  return cfg.wechatApps.find((a) => a.appId === appId);
}
