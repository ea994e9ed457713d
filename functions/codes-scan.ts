/** POST /codes/scan: an H5 page posts {appId, oauthCode, code} → {result, points, product, ...}. */
import { config } from '../lib/config/index.ts';
import { loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, json, jsonBody, type HttpEvent } from '../lib/http/index.ts';
import { scan } from '../lib/codes/scan.ts';
import { wechatApi } from '../lib/wechat/client.ts';

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  return json(200, await scan(jsonBody(event, 4096), { cfg: config(), api: wechatApi(), requestId: event.requestContext.requestId }));
});
