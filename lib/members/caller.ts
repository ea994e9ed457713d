/**
 * Who is calling a member-facing route: `identifyCaller` turns the WeChat credential a page or
 * mini program sends into the person's openid, or refuses.
 *
 * - `oauthCode` (official-account web OAuth) → `sns/oauth2/access_token`.
 * - `loginCode` (mini program `wx.login`) needs a mini program app; none is configured in this
 *   version, so it is refused with 400 `unknown_app` (a later version adds mini program apps
 *   and `jscode2session` here, and only here).
 * - an appId other than the configured account → 400 `unknown_app`; a code WeChat rejects →
 *   400 `invalid_oauth_code`; a WeChat outage → 503.
 * - `is_snapshotuser: 1` (the virtual user WeChat puts behind a page shown as a snapshot, with
 *   a fake openid) → 403 `snapshot_user`: it may not register, bind a phone or redeem codes.
 */
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
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

export async function identifyCaller(req: CallerRequest, deps: { cfg: HubConfig; api: WechatApi }): Promise<Caller> {
  const given = [req.oauthCode, req.loginCode].filter((c) => c !== undefined).length;
  if (given !== 1) throw new BadRequestError('give exactly one of oauthCode (official account) or loginCode (mini program)', ['oauthCode: required']);
  if (req.appId !== deps.cfg.WECHAT_APP_ID) throw new BadRequestError(`unknown appId ${req.appId}`, undefined, 'unknown_app');
  if (req.loginCode !== undefined) throw new BadRequestError(`no mini program is configured for appId ${req.appId}: loginCode cannot be used`, undefined, 'unknown_app');
  let who;
  try {
    who = await deps.api.oauthExchange(req.oauthCode!);
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) throw new BadRequestError('the oauthCode was rejected by WeChat (expired, used or invalid)', undefined, 'invalid_oauth_code');
    throw err;
  }
  if (who.snapshotUser) throw new ForbiddenError('a WeChat snapshot-page visitor cannot do this: open the page in WeChat first', undefined, 'snapshot_user');
  return { appId: req.appId, openid: who.openid, ...(who.unionid ? { unionid: who.unionid } : {}) };
}

/** Zod issues as the `details` of a 400. */
export function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
}
