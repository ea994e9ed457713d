/**
 * GET/POST /wechat/{appId}: the official account's server URL (lib/sources/wechat/source.ts).
 * GET answers WeChat's URL verification; POST opens the push (encrypted for an account with an
 * EncodingAESKey, plain otherwise; both within HUB_WEBHOOK_MAX_SKEW_SECONDS), applies its
 * HubEvent (a plain push with its nonce-cache row) and answers `success` only after the commit.
 * No outbound call happens before the reply: welcome messages go through the outbox and the
 * engagement queue.
 */
import { config } from '../lib/config/index.ts';
import type { HubConfig } from '../lib/config/schema.ts';
import { httpHandler, inboundRequest, text, type HttpEvent } from '../lib/http/index.ts';
import type { InboundRequest, Reply } from '../lib/sources/types.ts';
import { assertAccount, source } from '../lib/sources/wechat/source.ts';
import { apply, type ApplyResult } from '../lib/apply/apply.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  const { accountParam, maxBodyBytes } = source.descriptor;
  // An unknown account is 404 before the body is read.
  assertAccount(event.pathParameters?.[accountParam] ?? '', cfg);
  const req = inboundRequest(event, accountParam, maxBodyBytes);
  const reply = req.method === 'GET' ? handshake(req, cfg) : await push(req, cfg);
  return text(reply.statusCode, reply.body, reply.contentType);
});

function handshake(req: InboundRequest, cfg: HubConfig): Reply {
  if (!source.handshake) throw new Error('the wechat source has no handshake');
  return source.handshake(req, cfg);
}

async function push(req: InboundRequest, cfg: HubConfig): Promise<Reply> {
  const verified = source.verify(req, cfg);
  const results: ApplyResult[] = [];
  for (const e of source.normalise(verified, cfg)) results.push(await apply(e, undefined, verified.guards ?? {}));
  return source.reply(verified, results);
}
