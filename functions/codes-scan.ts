/** POST /codes/scan: an H5 page posts {appId, oauthCode, code} → {result, points, product, ...}. */
import { json, jsonBody } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { scan } from '../lib/apply/scan-code.ts';

const MAX_BODY = 4096;

export const handler = http({ name: 'codes-scan', maxBodyBytes: MAX_BODY }, async (event, rt) => {
  const ctx = event.requestContext;
  return json(200, await scan(jsonBody(event, MAX_BODY), { cfg: rt.cfg, api: rt.wechat(), requestId: ctx.requestId, sourceIp: ctx.http.sourceIp, apply: rt }));
});
