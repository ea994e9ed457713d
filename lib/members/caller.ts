/**
 * Who is calling a member-facing route: `identifyCaller` turns the WeChat credential a page or
 * mini program sends into the person's openid, or refuses.
 *
 * - `oauthCode` (official-account web OAuth) → `sns/oauth2/access_token`.
 * - `loginCode` (mini program `wx.login`) → `sns/jscode2session` with that mini program's
 *   AppSecret; an `oauthCode` needs an official account, a `loginCode` a mini program (else 400
 *   `wrong_app_kind`).
 * - Both may carry the person's unionid (an app bound to an open platform): it is returned and
 *   joins the person's records (docs/design.md#wechat-accounts).
 * - an appId that is not configured → 400 `unknown_app`; a code WeChat rejects → 400
 *   `invalid_oauth_code` / `invalid_login_code`; a WeChat outage → 503.
 * - `is_snapshotuser: 1` (the virtual user WeChat puts behind a page shown as a snapshot, with
 *   a fake openid) → 403 `snapshot_user`: it may not register, bind a phone or redeem codes.
 */
import * as z from 'zod';
import { wechatApp, type HubConfig } from '../config/index.ts';
import { BadRequestError, ForbiddenError, UpstreamApiError } from '../errors.ts';
import type { WechatApi } from '../wechat/wire.ts';

export interface Caller {
  appId: string;
  openid: string;
  unionid?: string;
}

/** The request fields naming the caller, for the route schemas to spread in. */
export const CallerFields = {
  appId: z.string().min(1).max(64),
  oauthCode: z.string().min(1).max(512).optional(),
  loginCode: z.string().min(1).max(512).optional(),
};
export type CallerRequest = { appId: string; oauthCode?: string | undefined; loginCode?: string | undefined };

export interface CallerDeps {
  cfg: HubConfig;
  /** The default account's client. */
  api: WechatApi;
  /** The client of any configured app (default: `api` for the default account only). */
  wechat?: (appId: string) => WechatApi;
}

export async function identifyCaller(req: CallerRequest, deps: CallerDeps): Promise<Caller> {
  const given = [req.oauthCode, req.loginCode].filter((c) => c !== undefined).length;
  if (given !== 1) throw new BadRequestError('give exactly one of oauthCode (official account) or loginCode (mini program)', ['oauthCode: required']);
  const app = wechatApp(deps.cfg, req.appId);
  if (!app) throw new BadRequestError(`unknown appId ${req.appId}`, undefined, 'unknown_app');
  const mini = req.loginCode !== undefined;
  if (mini !== (app.kind === 'miniprogram')) {
    throw new BadRequestError(mini ? `appId ${req.appId} is an official account: use oauthCode` : `appId ${req.appId} is a mini program: use loginCode`, undefined, 'wrong_app_kind');
  }
  const api = deps.wechat ? deps.wechat(req.appId) : deps.api;
  if (mini) {
    const session = await exchanged(() => api.codeToSession(req.loginCode!), 'the loginCode was rejected by WeChat (expired, used or invalid)', 'invalid_login_code');
    return { appId: req.appId, openid: session.openid, ...(session.unionid ? { unionid: session.unionid } : {}) };
  }
  const who = await exchanged(() => api.oauthExchange(req.oauthCode!), 'the oauthCode was rejected by WeChat (expired, used or invalid)', 'invalid_oauth_code');
  if (who.snapshotUser) throw new ForbiddenError('a WeChat snapshot-page visitor cannot do this: open the page in WeChat first', undefined, 'snapshot_user');
  return { appId: req.appId, openid: who.openid, ...(who.unionid ? { unionid: who.unionid } : {}) };
}

/** A code exchange with WeChat: a code WeChat refuses is the caller's 400 (`code`); an outage stays a 503. */
async function exchanged<T>(call: () => Promise<T>, message: string, code: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) throw new BadRequestError(message, undefined, code);
    throw err;
  }
}

/** Zod issues as the `details` of a 400. */
export function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
}
