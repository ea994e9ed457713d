/**
 * The member centre:
 *   POST /members            {appId, oauthCode | loginCode, phone, phoneCode | smsCode, name?, birthday?}
 *                            → the caller's own view (memberId, status, masked phone, points, tier)
 *   POST /members/sms-code   {appId, oauthCode | loginCode, phone} → 202, the same answer for every phone
 */
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { httpHandler, json, jsonBody, type HttpEvent } from '../lib/http/index.ts';
import { register } from '../lib/apply/register-member.ts';
import { sendSmsCode } from '../lib/members/otp.ts';
import { smsSender } from '../lib/sms/index.ts';
import { ddb, tableName } from '../lib/store/client.ts';
import { wechatApi } from '../lib/wechat/process-client.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  if (event.routeKey === 'POST /members/sms-code') {
    const out = await sendSmsCode(jsonBody(event, 4096), { cfg, api: wechatApi(), sms: smsSender(cfg), store: { db: ddb(), table: tableName() } });
    return json(202, out);
  }
  const out = await register(jsonBody(event), { cfg, api: wechatApi() });
  return json(200, out.member);
});
