/**
 * Account takeover by phone number (issue: "no account takeover by phone"), reproduced against
 * the local runtime over HTTP: a phone is bound only with proof of possession, the answer is
 * the caller's own view, a phone of another WeChat person gets one uniform 409 (recorded for
 * review, nothing merged), snapshot-page users are refused, SMS codes are single use, limited
 * in tries and sends, and their answers do not tell members from strangers. Every refusal is
 * checked against a full Scan of the table before and after.
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';

import { hashPhone } from '../../lib/members/phone.ts';
import { identityOwner, getItem, queryAll } from '../support/table.ts';
import { signedYouzan } from '../support/commerce-client.ts';
import { otpKey } from '../../lib/store/entities/otp.ts';
import { refusalPartition } from '../../lib/store/entities/refusal.ts';
import { localDay } from '../../lib/time.ts';
import { changes, lastCode, NOTHING, postJson, snapshot } from './lib.ts';

const hub = useTestHub({ queuePrefix: 'sectk', functions: ['members', 'youzan', 'codes-scan'] });

const appId = () => hubConfig().WECHAT_APP_ID;
const oauth = (openid: string) => `local:${openid}`;
const VICTIM = '13911110001';
const OTHER_VICTIM = '13911110002';
const STRANGER = '13911110009';
/** A member who proved the phone with the mini program component: no text was sent to it. */
const MP_MEMBER = '13911110008';

const register = (body: Record<string, unknown>) => postJson(hub.url, '/members', { appId: appId(), ...body });
const askCode = (openid: string, phone: string) => postJson(hub.url, '/members/sms-code', { appId: appId(), oauthCode: oauth(openid), phone });

async function registerWithSms(openid: string, phone: string, extra: Record<string, unknown> = {}) {
  expect((await askCode(openid, phone)).status).toBe(202);
  return register({ oauthCode: oauth(openid), phone, smsCode: await lastCode(hub.standin.url, phone), ...extra });
}

describe('POST /members: a phone is bound only with proof of possession', () => {
  it('the victim registers with an SMS code and sees only its own view', async () => {
    const res = await registerWithSms('oVictim', VICTIM, { name: 'Wang Fang', birthday: '1988-02-29' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['memberId', 'phone', 'points', 'status', 'tier']);
    expect(res.body).toMatchObject({ status: 'member', phone: '139****0001', points: 0, tier: 'normal' });
    expect(await identityOwner(hub.aws.table, 'phone', hashPhone(VICTIM, hubConfig().PHONE_HASH_SECRET))).toBe(res.body.memberId);
  });

  it('attack: a fresh OAuth code and the victim phone, no proof → 400 phone_proof_required, nothing written', async () => {
    const before = await snapshot(hub.aws.table);
    const res = await register({ oauthCode: oauth('oAttacker'), phone: VICTIM, name: 'Eve' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('phone_proof_required');
    expect(JSON.stringify(res.body)).not.toContain('Wang');
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
    expect(await identityOwner(hub.aws.table, 'wechat_openid', `${appId()}:oAttacker`)).toBeUndefined();
  });

  it('attack: the phone of a Youzan buyer, no proof → 400, nothing written', async () => {
    const buyerPhone = '13911110003';
    const msg = { full_order_info: { order_info: { tid: 'E-SEC-1', status: 'WAIT_SELLER_SEND_GOODS', created: '2026-01-01 10:00:00', pay_time: '2026-01-01 10:01:00', update_time: '2026-01-01 10:01:00', order_tags: { is_payed: true } }, buyer_info: { yz_open_id: 'yzSecBuyer', buyer_phone: buyerPhone }, pay_info: { total_fee: '88.00', post_fee: '0.00', payment: '88.00' } } };
    const raw = JSON.stringify({ client_id: hubConfig().YOUZAN_CLIENT_ID, id: 'E-SEC-1', kdt_id: 1, msg: encodeURIComponent(JSON.stringify(msg)), msg_id: 'sec-yz-1', sendCount: 1, status: '', test: false, type: 'trade_TradePaid', version: 1 });
    const push = signedYouzan(raw, 'trade_TradePaid');
    const pushed = await fetch(hub.url + push.path, { method: 'POST', body: push.body, headers: { 'content-type': 'application/json', ...push.headers } });
    expect(pushed.status, await pushed.clone().text()).toBe(200);
    const before = await snapshot(hub.aws.table);
    const res = await register({ oauthCode: oauth('oAttacker2'), phone: buyerPhone });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('phone_proof_required');
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });

  it('attack: a guessed SMS code → 400 invalid_sms_code; nothing is bound (only the try is counted)', async () => {
    const reg = await register({ oauthCode: oauth('oMpMember'), phone: MP_MEMBER, phoneCode: `local-phone:${MP_MEMBER}` });
    expect(reg.status).toBe(200);
    expect((await askCode('oAttacker', MP_MEMBER)).status).toBe(202);
    const real = await lastCode(hub.standin.url, MP_MEMBER);
    const guess = real === '000000' ? '000001' : '000000';
    const before = await snapshot(hub.aws.table);
    const res = await register({ oauthCode: oauth('oAttacker'), phone: MP_MEMBER, smsCode: guess });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_sms_code');
    const d = changes(before, await snapshot(hub.aws.table));
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    // The one change: the try counter of the attacker's own code row.
    expect(d.changed).toEqual([`${otpKey({ phoneHash: hashPhone(MP_MEMBER, hubConfig().PHONE_HASH_SECRET), appId: appId(), openid: 'oAttacker' }).pk} ${appId()}:oAttacker`]);
  });

  it('attack with proof of a phone another WeChat person holds → one uniform 409, recorded, nothing merged', async () => {
    // A second victim: a fan only (no points); the first: a member. The answers must not differ.
    expect((await registerWithSms('oVictim2', OTHER_VICTIM)).status).toBe(200);
    const before = await snapshot(hub.aws.table);
    const a = await register({ oauthCode: oauth('oRecycled'), phone: VICTIM, phoneCode: `local-phone:${VICTIM}` });
    const b = await register({ oauthCode: oauth('oRecycled'), phone: OTHER_VICTIM, phoneCode: `local-phone:${OTHER_VICTIM}` });
    expect(a.status).toBe(409);
    expect(b.status).toBe(409);
    expect(a.body).toEqual(b.body);
    expect(a.body).toEqual({ error: 'phone_unavailable', message: expect.any(String) });
    const d = changes(before, await snapshot(hub.aws.table));
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([]);
    // Exactly the two review rows, naming the attempt but holding no phone in clear.
    expect(d.added, JSON.stringify(d.added)).toHaveLength(2);
    const rows = await queryAll(hub.aws.table, refusalPartition(localDay(Date.now(), hubConfig().HUB_TIMEZONE)));
    const reviews = rows.filter((r) => r.kind === 'registration');
    expect(reviews.map((r) => r.openid)).toEqual([`${appId()}:oRecycled`, `${appId()}:oRecycled`]);
    expect(JSON.stringify(reviews)).not.toContain(VICTIM);
    expect(await identityOwner(hub.aws.table, 'wechat_openid', `${appId()}:oRecycled`)).toBeUndefined();
  });

  it('attack: a snapshot-page virtual user → 403 snapshot_user for registration and code scans, nothing written', async () => {
    const before = await snapshot(hub.aws.table);
    const reg = await register({ oauthCode: 'local-snapshot:oSnap', phone: STRANGER, phoneCode: `local-phone:${STRANGER}` });
    expect(reg.status).toBe(403);
    expect(reg.body.error).toBe('snapshot_user');
    const code = await postJson(hub.url, '/members/sms-code', { appId: appId(), oauthCode: 'local-snapshot:oSnap', phone: STRANGER });
    expect(code.status).toBe(403);
    const scan = await postJson(hub.url, '/codes/scan', { appId: appId(), oauthCode: 'local-snapshot:oSnap', code: 'ABCDEFGHJK' });
    expect(scan.status).toBe(403);
    expect(scan.body.error).toBe('snapshot_user');
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });
});

describe('SMS codes', () => {
  it('the send answer is the same for a member phone and a stranger phone', async () => {
    const probed = '13911110004';
    expect((await register({ oauthCode: oauth('oProbed'), phone: probed, phoneCode: `local-phone:${probed}` })).status).toBe(200);
    const member = await askCode('oProbe1', probed);
    const stranger = await askCode('oProbe2', STRANGER);
    expect(member.status).toBe(202);
    expect(stranger.status).toBe(202);
    expect(member.body).toEqual(stranger.body);
    expect(member.body).toEqual({ sent: true, expiresInSeconds: 300, resendAfterSeconds: 60 });
  });

  it('one code a minute per phone and per WeChat user: 429 with Retry-After, no new code', async () => {
    const texts = async () => ((await (await fetch(`${hub.standin.url}/_local/sms`)).json()) as unknown[]).length;
    const n = await texts();
    const again = await askCode('oProbe1', '13911110004');
    expect(again.status).toBe(429);
    expect(again.body.error).toBe('too_many_requests');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another person asking for the same phone is limited by the phone's own counter.
    expect((await askCode('oProbe3', '13911110004')).status).toBe(429);
    expect(await texts()).toBe(n);
  });

  it('a code serves once; five wrong tries use it up', async () => {
    const phone = '13911110005';
    const first = await registerWithSms('oOnce', phone);
    expect(first.status).toBe(200);
    const used = await lastCode(hub.standin.url, phone);
    const reuse = await register({ oauthCode: oauth('oOnce'), phone, smsCode: used });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_sms_code');

    const p2 = '13911110006';
    expect((await askCode('oTries', p2)).status).toBe(202);
    const right = await lastCode(hub.standin.url, p2);
    const wrong = right === '999999' ? '999998' : '999999';
    for (let i = 0; i < 5; i++) expect((await register({ oauthCode: oauth('oTries'), phone: p2, smsCode: wrong })).body.error).toBe('invalid_sms_code');
    const late = await register({ oauthCode: oauth('oTries'), phone: p2, smsCode: right });
    expect(late.status).toBe(400);
    expect(await identityOwner(hub.aws.table, 'phone', hashPhone(p2, hubConfig().PHONE_HASH_SECRET))).toBeUndefined();
  });

  it('codes are stored only as an HMAC, with a TTL', async () => {
    const phone = '13911110007';
    expect((await askCode('oStored', phone)).status).toBe(202);
    const code = await lastCode(hub.standin.url, phone);
    const row = await getItem<Record<string, unknown>>(hub.aws.table, otpKey({ phoneHash: hashPhone(phone, hubConfig().PHONE_HASH_SECRET), appId: appId(), openid: 'oStored' }));
    expect(row).toBeDefined();
    expect(JSON.stringify(row)).not.toContain(code);
    expect(row!.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(row!.expiresAt) * 1000 - Date.now()).toBeLessThanOrEqual(300_000);
  });

  it('birthdays must be real calendar dates', async () => {
    for (const birthday of ['1990-02-30', '02-30', '13-01', '1990-13-01', '2023-02-29']) {
      const res = await register({ oauthCode: oauth('oBday'), phone: STRANGER, phoneCode: `local-phone:${STRANGER}`, birthday });
      expect({ birthday, status: res.status }).toEqual({ birthday, status: 400 });
    }
  });
});
