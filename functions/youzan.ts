/**
 * POST /youzan/{clientId}: Youzan push verified by Event-Sign (lib/sources/youzan/source.ts).
 * Answers the platform's success reply only after every event in the request is committed;
 * a duplicate is answered the same way; a bad signature gets 401 and writes nothing.
 */
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, inboundRequest, text, type HttpEvent } from '../lib/http/index.ts';
import { source } from '../lib/sources/youzan/source.ts';
import { applyAll } from '../lib/apply/apply.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  const { accountParam, maxBodyBytes } = source.descriptor;
  const verified = source.verify(inboundRequest(event, accountParam, maxBodyBytes), cfg);
  const results = await applyAll(source.normalise(verified, cfg));
  const reply = source.reply(verified, results);
  return text(reply.statusCode, reply.body, reply.contentType);
});
