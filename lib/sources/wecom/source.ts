/**
 * GET/POST /wecom/{corpId}: the callback URL of the brand's WeCom self-built app. GET answers
 * the URL verification with the decrypted echostr; POST opens the callback (inbound.ts) and
 * answers `success` once its event committed (customer-contact events need no passive reply;
 * an unknown event is recorded and answered the same).
 */
import type { WecomEvent } from '../../events/hub-event.ts';
import { NotFoundError } from '../../errors.ts';
import type { HubConfig } from '../../config/schema.ts';
import type { Source } from '../types.ts';
import { wecom } from './descriptor.ts';
import { openWecomCallback, verifyWecomUrl, type OpenedCallback, type WecomCallbackConfig } from './inbound.ts';

/** The configured corp the URL names (else 404, before the body is read) with its callback secrets. */
export function callbackConfig(corpId: string, cfg: HubConfig, now: number): WecomCallbackConfig {
  if (cfg.WECOM_CORP_ID === undefined || corpId !== cfg.WECOM_CORP_ID) throw new NotFoundError(`unknown WeCom corp ${corpId}`);
  if (cfg.WECOM_TOKEN === undefined || cfg.WECOM_AES_KEY === undefined) throw new Error('WECOM_TOKEN and WECOM_AES_KEY are required with WECOM_CORP_ID');
  return { corpId, token: cfg.WECOM_TOKEN, aesKey: cfg.WECOM_AES_KEY, maxSkewSeconds: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS, now };
}

export const source: Source<OpenedCallback, WecomEvent> = {
  descriptor: wecom,
  handshake(req, cfg) {
    const body = verifyWecomUrl(req.query, callbackConfig(req.account, cfg, req.receivedAt));
    return { statusCode: 200, contentType: 'text/plain; charset=utf-8', body };
  },
  verify(req, cfg) {
    const c = callbackConfig(req.account, cfg, req.receivedAt);
    return { message: openWecomCallback(req.query, req.body, { ...c, maxBytes: wecom.maxBodyBytes }) };
  },
  normalise: ({ message }) => [message.event],
  reply: () => ({ statusCode: 200, contentType: 'text/plain', body: 'success' }),
};
