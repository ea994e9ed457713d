/** POST /members: the member centre registers a fan (OAuth code + phone) → the member. */
import { config } from '../lib/config/index.ts';
import { loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, json, jsonBody, type HttpEvent } from '../lib/http/index.ts';
import { register } from '../lib/members/register.ts';
import { wechatApi } from '../lib/wechat/client.ts';

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const out = await register(jsonBody(event), { cfg: config(), api: wechatApi() });
  return json(200, out.member);
});
