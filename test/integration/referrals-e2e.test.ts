/**
 * Referrals (老带新) end to end on the local runtime: member-centre links with signed tokens
 * (GET /me/referral), registrations through them (POST /members with referralToken), the
 * chain A → B → C credited once each (duplicates replayed, C's registration merging two of
 * C's records), the monthly cap, ignored tokens (forged, expired, one's own) recorded, and the
 * `referral` numbers per channel after the fold (referredMembers, referringMembers, K-factor);
 * and the erasure of a referred member, which leaves the referrer's record exactly as it was.
 * Every expected number is computed by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { hubConfig } from '../support/env.ts';
import { useTestHub } from '../support/hub.ts';
import { foldCounters, getItem, queryAll, survivorByIdentity } from '../support/table.ts';
import { configuredAccount, postPush, signedPush } from '../support/wechat-client.ts';
import { postCommerce, signedYouzan } from '../support/commerce-client.ts';
import { memberClient } from '../support/member-client.ts';
import { keys } from '../../lib/store/keys.ts';
import { localDay } from '../../lib/time.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- items and bodies are checked field by field
type Loose = any;

// A small cap (2 paid referrals a month) so the third is recorded as capped.
const hub = useTestHub({ queuePrefix: 'ref', functions: ['wechat', 'members', 'youzan', 'admin', 'attribution-api', 'privacy'], env: { HUB_REFERRAL_MONTHLY_CAP: '2', HUB_REFERRAL_POINTS: '100' } });
const api = memberClient(() => hub.url);
const cfg = () => hubConfig();

/** The surviving record of the openid (following a merge pointer). */
const profile = (openid: string) => survivorByIdentity<Loose>(hub.aws.table, 'wechat_openid', `${cfg().WECHAT_APP_ID}:${openid}`);
const referralOf = (memberId: string) => getItem<Loose>(hub.aws.table, { pk: keys.memberPartition(memberId), sk: 'REFERRAL#BY' });
const ledgerSum = async (memberId: string) => (await queryAll<Loose>(hub.aws.table, keys.memberPartition(memberId), 'LEDGER#')).reduce((s, e) => s + Number(e.delta), 0);

let pushes = 0;
async function follow(openid: string, scene: string) {
  const t = Math.floor(Date.now() / 1000) - 60 + pushes++;
  const r = await postPush(hub.url, signedPush({ from: openid, createTime: t, msgType: 'event', event: 'subscribe', eventKey: `qrscene_${scene}` }, configuredAccount(), undefined, String(9_000_000 + pushes)));
  expect(r.status).toBe(200);
}

let phones = 0;
async function register(openid: string, referralToken?: string, phone = `1391${String(++phones).padStart(7, '0')}`) {
  const body = { appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}`, phone, phoneCode: `local-phone:${phone}`, ...(referralToken ? { referralToken } : {}) };
  return api.request('POST', '/members', {}, body);
}

async function linkOf(openid: string): Promise<Loose> {
  const r = await api.member(await api.session(openid), 'GET', '/me/referral');
  expect(r.status, r.text).toBe(200);
  return r.body;
}

/** A token in the documented format (docs/loyalty.md#referrals), for a referrer and expiry of our choosing. */
function tokenFor(referrerId: string, expSeconds: number): string {
  const payload = Buffer.from(JSON.stringify({ r: referrerId, exp: expSeconds })).toString('base64url');
  return `${payload}.${createHmac('sha256', cfg().HUB_SESSION_SECRET!).update(`referral.${payload}`).digest('base64url')}`;
}

describe('referrals', () => {
  it('A → B → C credits A for B and B for C once each, through duplicates, a merge, the cap and ignored tokens; the referral numbers per channel', async () => {
    // A and B are fans of two QR channels first, so their referrals land on those channels.
    await follow('ref_a', 'ref_ch_a');
    await follow('ref_b', 'ref_ch_b');
    expect((await register('ref_a')).status).toBe(200);
    const A = await profile('ref_a');
    const linkA = await linkOf('ref_a');
    expect(linkA.link).toBe(`${cfg().HUB_MEMBER_CENTRE_URL}?ref=${linkA.token}`);
    expect(linkA.expiresAt - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(linkA).toMatchObject({ referred: 0, pointsEarned: 0, referrals: [] });

    // B registers through A's link: A earns 100.
    const b = await register('ref_b', linkA.token);
    expect(b.status, b.text).toBe(200);
    const B = await profile('ref_b');
    expect(B.referredBy).toBe(A.memberId);
    expect(await referralOf(B.memberId)).toMatchObject({ status: 'credited', referrerId: A.memberId, points: 100 });
    // The same registration again (a double tap): no second credit.
    const again = await register('ref_b', linkA.token, `1391${String(phones).padStart(7, '0')}`);
    expect([again.status, again.body.memberId]).toEqual([200, B.memberId]);
    expect((await profile('ref_a')).points).toBe(100);

    // C: a Youzan buyer record (phone only) and a fan record (follow) before registering through
    // B's link — the registration merges C's two records and credits B once.
    const phoneC = '13919990001';
    const tid = `E2026REF${randomBytes(3).toString('hex')}`;
    const paidAt = Date.now() - 120_000;
    const cn = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const msg = { full_order_info: { order_info: { tid, status: 'WAIT_SELLER_SEND_GOODS', pay_time: cn(paidAt), update_time: cn(paidAt), order_tags: { is_payed: true } }, buyer_info: { yz_open_id: 'yz_ref_c', buyer_phone: phoneC }, pay_info: { total_fee: '88.00', payment: '88.00' } } };
    const raw = JSON.stringify({ client_id: cfg().YOUZAN_CLIENT_ID, id: tid, kdt_id: 12345678, mode: 1, msg: encodeURIComponent(JSON.stringify(msg)), msg_id: `ref-${tid}`, sendCount: 1, status: '', test: false, type: 'trade_TradePaid', version: Math.floor(paidAt / 1000) });
    expect((await postCommerce(hub.url, signedYouzan(raw, 'trade_TradePaid'), 'application/json')).status).toBe(200);
    await follow('ref_c', 'ref_ch_c');
    const linkB = await linkOf('ref_b');
    const c = await register('ref_c', linkB.token, phoneC);
    expect(c.status, c.text).toBe(200);
    const C = await profile('ref_c');
    expect(C.mergedFrom).toHaveLength(1);
    expect(C.points).toBe(88); // the order's points came with the merged buyer record
    expect(await referralOf(C.memberId)).toMatchObject({ status: 'credited', referrerId: B.memberId, points: 100 });
    // Replayed: the same registration and the same Youzan push again change nothing.
    await register('ref_c', linkB.token, phoneC);
    await postCommerce(hub.url, signedYouzan(raw, 'trade_TradePaid'), 'application/json');
    const bAfter = await profile('ref_b');
    expect(bAfter.points).toBe(100);
    expect(bAfter.h.rf).toEqual([[expect.any(Number), C.memberId, 100]]);
    expect(await ledgerSum(B.memberId)).toBe(100);

    // Ignored, recorded, no points: a forged token, an expired one, one's own link.
    const forged = `${linkA.token.slice(0, -2)}xx`;
    expect((await register('ref_e', forged)).status).toBe(200);
    expect(await referralOf((await profile('ref_e')).memberId)).toMatchObject({ status: 'ignored', reason: 'forged', points: 0 });
    expect((await register('ref_f', tokenFor(A.memberId, Math.floor(Date.now() / 1000) - 1))).status).toBe(200);
    expect(await referralOf((await profile('ref_f')).memberId)).toMatchObject({ status: 'ignored', reason: 'expired', points: 0 });
    await follow('ref_d', 'ref_ch_d'); // a fan may fetch its link before registering
    const linkD = await linkOf('ref_d');
    expect((await register('ref_d', linkD.token)).status).toBe(200);
    const D = await profile('ref_d');
    expect(await referralOf(D.memberId)).toMatchObject({ status: 'ignored', reason: 'self', points: 0 });
    expect(D.points).toBe(0);
    expect((await profile('ref_a')).points).toBe(100);

    // The cap (2 a month): A's second referral pays, the third is recorded as capped.
    expect((await register('ref_g', linkA.token)).status).toBe(200);
    expect((await register('ref_h', linkA.token)).status).toBe(200);
    expect(await referralOf((await profile('ref_g')).memberId)).toMatchObject({ status: 'credited', points: 100 });
    expect(await referralOf((await profile('ref_h')).memberId)).toMatchObject({ status: 'capped', points: 0 });
    const aFinal = await profile('ref_a');
    expect(aFinal.points).toBe(200);
    expect(await ledgerSum(A.memberId)).toBe(200);
    expect(await linkOf('ref_a')).toMatchObject({ referred: 3, pointsEarned: 200 });

    // Referral numbers per channel (first touch: the referrer's own channel), today:
    //   ref_ch_a: A referred B, G, H → referredMembers 3, referringMembers 1, K 3
    //   ref_ch_b: B referred C        → 1, 1, K 1
    //   ref_ch_c, ref_ch_d: no referrals → 0, 0, K null
    await foldCounters(hub.aws.table);
    const today = localDay(Date.now(), cfg().HUB_TIMEZONE);
    const res = await fetch(`${hub.url}/attribution/channels?from=${today}&to=${today}`, { headers: { authorization: `Bearer ${cfg().HUB_ADMIN_TOKEN}` } });
    const rows = ((await res.json()) as { channels: Loose[] }).channels;
    const pick = (ch: string) => {
      const r = rows.find((x) => x.channel === ch);
      return [r?.referredMembers, r?.referringMembers, r?.kFactor];
    };
    expect(pick('ref_ch_a')).toEqual([3, 1, 3]);
    expect(pick('ref_ch_b')).toEqual([1, 1, 1]);
    expect(pick('ref_ch_c')).toEqual([0, 0, null]);
    expect(pick('ref_ch_d')).toEqual([0, 0, null]);
  }, 120_000);

  it("erasing a referred member leaves the referrer's record, points and ledger exactly as they were", async () => {
    // B's history lists C by member id (h.rf): the erasure of C must not touch B's partition.
    const B = await profile('ref_b');
    const C = await profile('ref_c');
    const before = await queryAll<Loose>(hub.aws.table, keys.memberPartition(B.memberId));
    expect(before.find((i) => i.sk === '#PROFILE').h.rf).toEqual([[expect.any(Number), C.memberId, 100]]);
    const r = await fetch(`${hub.url}/members/${C.memberId}/erase`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg().HUB_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'ticket REF-1' }),
    });
    expect(r.status).toBe(202);
    for (let i = 0; i < 5; i++) {
      const out = (await hub.runScheduled('privacy')) as { running: number; done: number };
      if (out.running === out.done) break;
    }
    expect(await getItem(hub.aws.table, { pk: keys.memberPartition(C.memberId), sk: '#PROFILE' })).toBeUndefined();
    expect(await queryAll<Loose>(hub.aws.table, keys.memberPartition(B.memberId))).toEqual(before);
    expect(await ledgerSum(B.memberId)).toBe(100);
  }, 120_000);
});
