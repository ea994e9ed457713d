/**
 * GET/POST /wechat/{appId}: the official account's server URL. GET answers WeChat's URL
 * verification; POST opens the push (inbound.ts: encrypted for an account with an
 * EncodingAESKey, plain otherwise; both within HUB_WEBHOOK_MAX_SKEW_SECONDS). A plain push
 * carries its nonce-cache row as a guard committed with the event. The answer is `success`, or
 * the passive reply the commit planned (passiveReplyOf), encrypted in safe mode.
 */
import type { WechatEvent } from '../../events/hub-event.ts';
import { NotFoundError } from '../../errors.ts';
import type { HubConfig } from '../../config/schema.ts';
import { wechatApp, type WechatApp } from '../../config/wechat-apps.ts';
import type { Source } from '../types.ts';
import type { ApplyResult } from '../../port.ts';
import { wechat } from './descriptor.ts';
import { openPush, verifyUrl, type OpenedPush } from './inbound.ts';

/**
 * The official account the URL names; an appid that is not configured, or a mini program's
 * (which has no server URL here): 404, checked before the body is read.
 */
export function assertAccount(appId: string, cfg: HubConfig): WechatApp & { token: string } {
  const app = wechatApp(cfg, appId);
  if (!app || app.kind !== 'official' || app.token === undefined) throw new NotFoundError(`unknown official account ${appId}`);
  return app as WechatApp & { token: string };
}

/**
 * The passive reply text of a push's commit: the welcome on a first follow when the rule asks for
 * it, or a matched keyword's reply. A duplicate (WeChat's retry) gets the keyword's reply again
 * (kept in the dedupe marker with `replyOnRetry`: the user may never have seen the first answer)
 * but no welcome: `success`, so nobody is welcomed twice.
 */
export function passiveReplyOf(results: readonly ApplyResult[]): string | undefined {
  const r = results.length === 1 ? results[0] : undefined;
  const text = r?.status === 'applied' || r?.result?.replyOnRetry === true ? r?.result?.passiveReply : undefined;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

export const source: Source<OpenedPush, WechatEvent> = {
  descriptor: wechat,
  handshake(req, cfg) {
    const app = assertAccount(req.account, cfg);
    const body = verifyUrl(req.query, app.token, { now: req.receivedAt, maxSkewSeconds: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS });
    return { statusCode: 200, contentType: 'text/plain; charset=utf-8', body };
  },
  verify(req, cfg) {
    const app = assertAccount(req.account, cfg);
    const push = openPush({
      query: req.query,
      body: req.body,
      appId: req.account,
      token: app.token,
      // An account with a key accepts only encrypted pushes (the default account: WECHAT_MESSAGE_MODE).
      ...(app.aesKey !== undefined ? { aesKey: app.aesKey } : {}),
      maxSkewSeconds: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS,
      now: () => req.receivedAt,
    });
    return { message: push, ...(push.replay ? { guards: { replay: push.replay } } : {}) };
  },
  normalise: ({ message }) => [message.event],
  reply({ message }, results) {
    const r = message.reply(passiveReplyOf(results));
    return { statusCode: 200, contentType: r.contentType, body: r.body };
  },
};
