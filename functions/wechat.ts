/**
 * GET/POST /wechat/{appId}: the official account's server URL.
 * GET answers WeChat's URL verification; POST opens the push (plain, compatible or safe mode),
 * applies its HubEvent and answers `success` only after the commit. No outbound call happens
 * before the reply: welcome messages go through the outbox and the engagement queue.
 */
import { config } from '../lib/config/index.ts';
import { NotFoundError } from '../lib/errors.ts';
import { httpHandler, query, rawBody, text, type HttpEvent } from '../lib/http/index.ts';
import { openPush, verifyUrl } from '../lib/wechat/inbound.ts';
import { apply } from '../lib/apply/index.ts';
import { loadSecrets } from '../lib/config/secrets.ts';

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  const appId = event.pathParameters?.appId ?? '';
  if (appId !== cfg.WECHAT_APP_ID) throw new NotFoundError(`unknown official account ${appId}`);
  if (event.requestContext.http.method === 'GET') {
    return text(200, verifyUrl(query(event), cfg.WECHAT_TOKEN));
  }
  const push = openPush({ query: query(event), body: rawBody(event), appId, token: cfg.WECHAT_TOKEN, aesKey: cfg.WECHAT_AES_KEY });
  await apply(push.event);
  const reply = push.reply();
  return text(200, reply.body, reply.contentType);
});
