/**
 * GET/POST /wechat/{appId}: the official account's server URL.
 * GET answers WeChat's URL verification; POST opens the push (encrypted for an account with an
 * EncodingAESKey, plain otherwise; both within HUB_WEBHOOK_MAX_SKEW_SECONDS), applies its
 * HubEvent (a plain push with its nonce-cache row) and answers `success` only after the commit.
 * No outbound call happens before the reply: welcome messages go through the outbox and the
 * engagement queue.
 */
import { NotFoundError } from '../lib/errors.ts';
import { query, rawBody, text } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { openPush, verifyUrl } from '../lib/wechat/inbound.ts';
import { apply } from '../lib/apply/index.ts';

export const handler = http({ name: 'wechat' }, async (event, rt) => {
  const cfg = rt.cfg;
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
  await apply(push.event, rt, push.replay ? { replay: push.replay } : {});
  const reply = push.reply();
  return text(200, reply.body, reply.contentType);
});
