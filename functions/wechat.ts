/**
 * GET/POST /wechat/{appId}: the official account's server URL.
 * GET answers WeChat's URL verification; POST opens the push (encrypted for an account with an
 * EncodingAESKey, plain otherwise; both within HUB_WEBHOOK_MAX_SKEW_SECONDS), applies its
 * HubEvent (a plain push with its nonce-cache row) and answers `success` only after the commit.
 * No outbound call happens before the reply: welcome messages go through the outbox and the
 * engagement queue.
 */
import { config } from '../lib/config/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import { httpHandler, query, rawBody, text, type HttpEvent } from '../lib/http/index.ts';
import { openPush, verifyUrl } from '../lib/wechat/inbound.ts';
import { apply } from '../lib/apply/apply.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  const appId = event.pathParameters?.appId ?? '';
  if (appId !== cfg.WECHAT_APP_ID) throw new NotFoundError(`unknown official account ${appId}`);
  const maxSkewSeconds = cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS;
  if (event.requestContext.http.method === 'GET') {
    return text(200, verifyUrl(query(event), cfg.WECHAT_TOKEN, { maxSkewSeconds }));
  }
  const push = openPush({
    query: query(event),
    body: rawBody(event),
    appId,
    token: cfg.WECHAT_TOKEN,
    ...(cfg.WECHAT_MESSAGE_MODE === 'safe' ? { aesKey: cfg.WECHAT_AES_KEY } : {}),
    maxSkewSeconds,
  });
  await apply(push.event, undefined, push.replay ? { replay: push.replay } : {});
  const reply = push.reply();
  return text(200, reply.body, reply.contentType);
});
