/**
 * The member centre:
 *   POST /members            {appId, oauthCode | loginCode, phone, phoneCode | smsCode, name?, birthday?}
 *                            → the caller's own view (memberId, status, masked phone, points, tier)
 *   POST /members/sms-code   {appId, oauthCode | loginCode, phone} → 202, the same answer for every phone
 *   POST /sessions           {appId, oauthCode | loginCode} → {token, expiresAt} (lib/members/session.ts)
 *   GET  /me/data            everything the hub holds about the caller (lib/privacy/export.ts)
 *   POST /me/consent         {marketing} → the separate marketing consent given or withdrawn
 *   DELETE /me               → 202, the caller's erasure requested (lib/privacy/erase.ts)
 *   member centre            Authorization: Bearer <token> (lib/loyalty/centre.ts, redeem.ts, referrals.ts)
 *   GET  /me, /me/points, /me/orders, /me/coupons, /me/rewards, /me/referral      POST /me/redemptions {rewardId, idempotencyKey}
 */
import { header, json, jsonBody, query } from '../lib/runtime/http.ts';
import { createSession, sessionMember, type SessionDeps } from '../lib/members/session.ts';
import type { HttpEvent } from '../lib/runtime/http.ts';
import type { Runtime } from '../lib/runtime/runtime.ts';
import type { StoredMember } from '../lib/members/record.ts';
import { meCoupons, meOrders, mePoints, meRewards, meView, type CentreDeps } from '../lib/loyalty/centre.ts';
import { redeem } from '../lib/loyalty/redeem.ts';
import { meReferral } from '../lib/loyalty/referrals.ts';
import { routes } from '../lib/runtime/lambda.ts';
import { register } from '../lib/apply/register-member.ts';
import { sendSmsCode } from '../lib/members/otp.ts';
import { smsSender } from '../lib/sms/index.ts';
import { changeConsent, eraseMe, myData } from '../lib/privacy/requests.ts';

const NO_STORE = { 'cache-control': 'no-store' };

/** What a member route needs to know its caller (lib/members/session.ts). */
const sessionDeps = (rt: Runtime): SessionDeps => ({ cfg: rt.cfg, store: rt.store, now: rt.now() });

/** A member-centre read: the session's member and what the route shows of it. */
const centre =
  (view: (m: StoredMember, deps: CentreDeps, event: HttpEvent) => Promise<unknown>) =>
  async (event: HttpEvent, rt: Runtime) => {
    const deps = sessionDeps(rt);
    return json(200, await view((await sessionMember(header(event, 'authorization'), deps)).member, deps, event), NO_STORE);
  };

export const handler = routes(
  { name: 'members' },
  {
    'POST /sessions': async (event, rt) => json(200, await createSession(jsonBody(event, 4096), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), now: rt.now() })),
    'GET /me': centre(meView),
    'GET /me/points': centre((m, deps, event) => mePoints(m, deps, query(event))),
    'GET /me/orders': centre(meOrders),
    'GET /me/coupons': centre(meCoupons),
    'GET /me/rewards': centre(meRewards),
    'GET /me/referral': centre(meReferral),
    'POST /me/redemptions': async (event, rt) => {
      const { member: m } = await sessionMember(header(event, 'authorization'), sessionDeps(rt));
      return json(201, await redeem({ cfg: rt.cfg, store: rt.store, now: () => rt.now() }, m.memberId, jsonBody(event, 4096)), NO_STORE);
    },
    'GET /me/data': async (event, rt) => json(200, await myData(header(event, 'authorization'), sessionDeps(rt)), NO_STORE),
    'POST /me/consent': async (event, rt) => json(200, await changeConsent(header(event, 'authorization'), jsonBody(event, 1024), { ...sessionDeps(rt), apply: rt })),
    'DELETE /me': async (event, rt) => json(202, await eraseMe(header(event, 'authorization'), sessionDeps(rt))),
    'POST /members/sms-code': async (event, rt) =>
      json(202, await sendSmsCode(jsonBody(event, 4096), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), sms: smsSender(rt.cfg), store: rt.store, now: rt.now })),
  },
  async (event, rt) => json(200, (await register(jsonBody(event), { cfg: rt.cfg, api: rt.wechat(), wechat: (appId) => rt.wechat(appId), apply: rt, now: rt.now })).member),
);
