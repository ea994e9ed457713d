/** POST /codes/scan: an H5 page posts {appId, oauthCode, code} → {result, points, product, ...}. */
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, json, jsonBody, type HttpEvent } from '../lib/http/index.ts';
import { scan } from '../lib/apply/scan-code.ts';
import { wechatApi } from '../lib/wechat/process-client.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const ctx = event.requestContext;
  return json(200, await scan(jsonBody(event, 4096), { cfg: config(), api: wechatApi(), requestId: ctx.requestId, sourceIp: ctx.http.sourceIp }));
});
