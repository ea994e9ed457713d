/**
 * POST /tmall/{appKey}: TMC messages (one or an array) relayed with the TOP signature.
 * Answers the platform's success reply only after every event in the request is committed;
 * a duplicate is answered the same way; a bad signature gets 401 and writes nothing.
 */
import { json, query, rawBody } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { tmallInbound, COMMERCE_MAX_BODY } from '../lib/commerce/inbound.ts';
import { applyAll } from '../lib/apply/index.ts';

export const handler = http({ name: 'tmall', maxBodyBytes: COMMERCE_MAX_BODY }, async (event, rt) => {
  const events = tmallInbound(
    {
      pathKey: event.pathParameters?.appKey ?? '',
      query: query(event),
      headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      rawBody: rawBody(event, COMMERCE_MAX_BODY),
      now: rt.now(),
    },
    rt.cfg,
  );
  await applyAll(events, rt);
  return json(200, {"flag":"success"});
});
