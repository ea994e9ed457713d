/**
 * GET/POST /wechat/{appId}: the official account's server URL. GET answers WeChat's URL
 * verification; POST opens the push (inbound.ts: encrypted for an account with an
 * EncodingAESKey, plain otherwise; both within HUB_WEBHOOK_MAX_SKEW_SECONDS). A plain push
 * carries its nonce-cache row as a guard committed with the event.
 */
import { NotFoundError } from '../../errors.ts';
import type { HubConfig } from '../../config/schema.ts';
import type { Source } from '../types.ts';
import { wechat } from './descriptor.ts';
import { openPush, verifyUrl, type OpenedPush } from './inbound.ts';

/** An appid that is not the configured official account: 404, checked before the body is read. */
export function assertAccount(appId: string, cfg: HubConfig): void {
  if (appId !== cfg.WECHAT_APP_ID) throw new NotFoundError(`unknown official account ${appId}`);
}

export const source: Source<OpenedPush> = {
  descriptor: wechat,
  handshake(req, cfg) {
    assertAccount(req.account, cfg);
    const body = verifyUrl(req.query, cfg.WECHAT_TOKEN, { maxSkewSeconds: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS });
    return { statusCode: 200, contentType: 'text/plain; charset=utf-8', body };
  },
  verify(req, cfg) {
    assertAccount(req.account, cfg);
    const push = openPush({
      query: req.query,
      body: req.body,
      appId: req.account,
      token: cfg.WECHAT_TOKEN,
      ...(cfg.WECHAT_MESSAGE_MODE === 'safe' ? { aesKey: cfg.WECHAT_AES_KEY } : {}),
      maxSkewSeconds: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS,
    });
    return { message: push, ...(push.replay ? { guards: { replay: push.replay } } : {}) };
  },
  normalise: ({ message }) => [message.event],
  reply({ message }) {
    const r = message.reply();
    return { statusCode: 200, contentType: r.contentType, body: r.body };
  },
};
