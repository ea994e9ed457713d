/**
 * POST /jd/{appKey}: JD order triggers relayed with the JD md5 signature.
 * Answers the platform's success reply only after every event in the request is committed;
 * a duplicate is answered the same way; a bad signature gets 401 and writes nothing.
 */
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, json, query, rawBody, type HttpEvent } from '../lib/http/index.ts';
import { jdInbound, COMMERCE_MAX_BODY } from '../lib/commerce/inbound.ts';
import { applyAll } from '../lib/apply/apply.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const events = jdInbound(
    {
      pathKey: event.pathParameters?.appKey ?? '',
      query: query(event),
      headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      rawBody: rawBody(event, COMMERCE_MAX_BODY),
      now: Date.now(),
    },
    config(),
  );
  await applyAll(events);
  return json(200, {"code":"0"});
});
