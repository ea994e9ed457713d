/**
 * The member centre:
 *   POST /members            {appId, oauthCode | loginCode, phone, phoneCode | smsCode, name?, birthday?}
 *                            → the caller's own view (memberId, status, masked phone, points, tier)
 *   POST /members/sms-code   {appId, oauthCode | loginCode, phone} → 202, the same answer for every phone
 *   POST /sessions           {appId, oauthCode | loginCode} → {token, expiresAt} (lib/members/session.ts)
 *   GET  /me                 Authorization: Bearer <token> → {memberId, status, tier, points, phone?}
 *   GET  /me/data            everything the hub holds about the caller (lib/privacy/export.ts)
 *   POST /me/consent         {marketing} → the separate marketing consent given or withdrawn
 *   DELETE /me               → 202, the caller's erasure requested (lib/privacy/erase.ts)
 */
import { header, json, jsonBody } from '../lib/runtime/http.ts';
import { createSession, me } from '../lib/members/session.ts';
import { routes } from '../lib/runtime/lambda.ts';
import { register } from '../lib/apply/register-member.ts';
import { sendSmsCode } from '../lib/members/otp.ts';
import { smsSender } from '../lib/sms/index.ts';
import { changeConsent, eraseMe, myData } from '../lib/privacy/requests.ts';

export const handler = routes(
  { name: 'members' },
  {
    'POST /sessions': async (event, rt) => json(200, await createSession(jsonBody(event, 4096), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), now: rt.now() })),
    'GET /me': async (event, rt) => json(200, await me(header(event, 'authorization'), { cfg: rt.cfg, store: rt.store, now: rt.now() }), { 'cache-control': 'no-store' }),
    'GET /me/data': async (event, rt) => json(200, await myData(header(event, 'authorization'), { cfg: rt.cfg, store: rt.store, now: rt.now() }), { 'cache-control': 'no-store' }),
    'POST /me/consent': async (event, rt) => json(200, await changeConsent(header(event, 'authorization'), jsonBody(event, 1024), { cfg: rt.cfg, store: rt.store, now: rt.now(), apply: rt })),
    'DELETE /me': async (event, rt) => json(202, await eraseMe(header(event, 'authorization'), { cfg: rt.cfg, store: rt.store, now: rt.now() })),
    'POST /members/sms-code': async (event, rt) =>
      json(202, await sendSmsCode(jsonBody(event, 4096), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), sms: smsSender(rt.cfg), store: rt.store })),
  },
  async (event, rt) => json(200, (await register(jsonBody(event), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), apply: rt })).member),
);
