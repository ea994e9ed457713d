/**
 * POST /youzan/{clientId}: Youzan push verified by Event-Sign.
 * Answers the platform's success reply only after every event in the request is committed;
 * a duplicate is answered the same way; a bad signature gets 401 and writes nothing.
 */
import { json, query, rawBody } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { youzanInbound, COMMERCE_MAX_BODY } from '../lib/commerce/inbound.ts';
import { applyAll } from '../lib/apply/index.ts';

export const handler = http({ name: 'youzan', maxBodyBytes: COMMERCE_MAX_BODY }, async (event, rt) => {
  const events = youzanInbound(
    {
      pathKey: event.pathParameters?.clientId ?? '',
      query: query(event),
      headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      rawBody: rawBody(event, COMMERCE_MAX_BODY),
      now: rt.now(),
    },
    rt.cfg,
  );
  await applyAll(events, rt);
  return json(200, {"code":0,"msg":"success"});
});
