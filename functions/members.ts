/**
 * The member centre:
 *   POST /members            {appId, oauthCode | loginCode, phone, phoneCode | smsCode, name?, birthday?}
 *                            → the caller's own view (memberId, status, masked phone, points, tier)
 *   POST /members/sms-code   {appId, oauthCode | loginCode, phone} → 202, the same answer for every phone
 */
import { json, jsonBody } from '../lib/runtime/http.ts';
import { routes } from '../lib/runtime/lambda.ts';
import { register } from '../lib/apply/register-member.ts';
import { sendSmsCode } from '../lib/members/otp.ts';
import { smsSender } from '../lib/sms/index.ts';

export const handler = routes(
  { name: 'members' },
  {
    'POST /members/sms-code': async (event, rt) =>
      json(202, await sendSmsCode(jsonBody(event, 4096), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), sms: smsSender(rt.cfg), store: rt.store })),
  },
  async (event, rt) => json(200, (await register(jsonBody(event), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), apply: rt })).member),
);
