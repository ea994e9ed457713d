/**
 * Members end to end through the real runtime: HTTP gateway → functions/members (OAuth code on
 * the WeChat stand-in, phone HMAC) → apply → DynamoDB Local; signed WeChat follows and Youzan
 * pushes for the other doors; GET /members/{id} on the admin API. Registration, idempotency,
 * rejections that write nothing, concurrent first events, merges in both arrival orders, a
 * 1,000-event random scenario whose counters and derived fields are checked against the
 * independent models of test/support/models.ts (never the hub's own functions), and the nightly
 * review (tier downgrades, lifecycle, RFM) found through its index, with a version conflict.
 */
import { ddb, hubConfig } from '../support/env.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { YOUZAN_ON_OFFICIAL_ACCOUNT, useTestHub } from '../support/hub.ts';
import { counterAt, foldCounters, getItem, identityOwner as readOwner, itemCount as countItems, joinHistory, profileWithHistory, queryAll, scanAll as scanTable, survivorByIdentity } from '../support/table.ts';
import { signedYouzan, postCommerce } from '../support/commerce-client.ts';
import { seededRandom } from '../support/random.ts';
import { createTable } from '../../local/emulators.ts';


import { GSI1, keys } from '../../lib/store/keys.ts';
import { historyFromStored, memberKey, type StoredHistory } from '../../lib/store/entities/member.ts';
import { configuredAccount, postPush, signedPush, type PushSpec } from '../support/wechat-client.ts';
import { hashPhone } from '../../lib/members/phone.ts';
import { ttcBucket, type Credits } from '../../lib/attribution/credits.ts';
import { nextReviewAt, REVIEW_SHARDS, reviewDay, tierOf } from '../../lib/members/lifecycle.ts';
import { modelCredits, modelLifecycle, modelRfm, modelTier } from '../support/models.ts';
import { apply, type ApplyDeps } from '../../lib/apply/apply.ts';
import { runNightly } from '../../lib/members/nightly.ts';
import type { StoredMember } from '../../lib/members/record.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';
import { bucketOf } from '../../lib/ids.ts';
import { localDay, localToEpoch, startOfLocalDay } from '../../lib/time.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- table items and response bodies are checked field by field
type Loose = any;

// The shop of this file binds Youzan to the official account: its outer_user_id are the account's openids.
const hub = useTestHub({ replaysHistory: true, queuePrefix: 'mem', functions: ['wechat', 'members', 'youzan', 'admin', 'nightly'], env: YOUZAN_ON_OFFICIAL_ACCOUNT });

const cfg = () => hubConfig();
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';
const NOW = Date.now();
const TODAY = localDay(NOW, TZ);
/** Every phone number this file sends: none may ever appear in clear in the table. */
const phonesUsed = new Set<string>();
const phone = (n: number) => {
  const p = `1390${String(n).padStart(7, '0')}`;
  phonesUsed.add(p);
  return p;
};

// ---------- HTTP helpers ----------

async function follow(openid: string, createTime: number, scene?: string) {
  const spec: PushSpec = { from: openid, createTime, msgType: 'event', event: 'subscribe', eventKey: scene ? `qrscene_${scene}` : '' };
  return postPush(hub.url, signedPush(spec, configuredAccount()), { 'content-type': 'text/xml' });
}

/** POST /members; a body with a phone and no proof gets the mini program phone code of that phone. */
async function register(body: unknown, raw?: string) {
  const b = body as Record<string, unknown> | undefined;
  const proven = b && typeof b.phone === 'string' && b.phoneCode === undefined && b.smsCode === undefined ? { ...b, phoneCode: `local-phone:${b.phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '')}` } : body;
  const res = await fetch(`${hub.url}/members`, { method: 'POST', body: raw ?? JSON.stringify(proven), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, Loose> };
}

const cnTime = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const yuan = (fen: number) => (fen / 100).toFixed(2);

interface YzOrder {
  tid: string;
  fen: number;
  paidAt: number;
  yz?: string;
  openid?: string;
  phone?: string;
}
interface YzRefund {
  tid: string;
  refundId: string;
  fen: number;
  at: number;
  yz?: string;
}

async function youzan(type: string, msg: Record<string, unknown>, id: string, at: number) {
  const clientId = cfg().YOUZAN_CLIENT_ID;
  const raw = JSON.stringify({
    client_id: clientId,
    id,
    kdt_id: 12345678,
    kdt_name: 'e2e shop',
    root_kdt_id: 12345678,
    mode: 1,
    msg: encodeURIComponent(JSON.stringify(msg)),
    msg_id: `msg-${type}-${id}-${randomBytes(4).toString('hex')}`,
    sendCount: 1,
    sign: 'informational',
    status: '',
    test: false,
    type,
    version: Math.floor(at / 1000),
  });
  const res = await postCommerce(hub.url, signedYouzan(raw, type), 'application/json');
  return { status: res.status, body: res.text };
}

function youzanOrder(o: YzOrder) {
  const buyer: Record<string, string> = {};
  if (o.yz) buyer.yz_open_id = o.yz;
  if (o.openid) buyer.outer_user_id = o.openid;
  if (o.phone) {
    phonesUsed.add(o.phone);
    buyer.buyer_phone = o.phone;
  }
  const msg = {
    full_order_info: {
      order_info: {
        tid: o.tid,
        status: 'WAIT_SELLER_SEND_GOODS',
        created: cnTime(o.paidAt - 60_000),
        pay_time: cnTime(o.paidAt),
        update_time: cnTime(o.paidAt),
        order_tags: { is_payed: true },
      },
      buyer_info: buyer,
      pay_info: { total_fee: yuan(o.fen), post_fee: '0.00', payment: yuan(o.fen) },
    },
  };
  return youzan('trade_TradePaid', msg, o.tid, o.paidAt);
}

function youzanRefund(r: YzRefund) {
  const msg = { tid: r.tid, refund_id: r.refundId, refunded_fee: yuan(r.fen), update_time: cnTime(r.at), ...(r.yz ? { yz_open_id: r.yz } : {}) };
  return youzan('trade_refund_RefundSuccess', msg, r.tid, r.at);
}

async function adminGet(id: string, token = cfg().HUB_ADMIN_TOKEN) {
  const res = await fetch(`${hub.url}/members/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, Loose> };
}

// ---------- table helpers ----------

/** A profile item as stored (short history names, lib/store/entities/member.ts). */
type Member = Omit<StoredMember, 'history'> & { h: StoredHistory } & Record<string, Loose>;
/** The readable history of a stored profile item, for the domain functions and the models. */
const historyOf = (m: Member) => historyFromStored(m.h);
const identityOwner = (kind: string, value: string) => readOwner(hub.aws.table, kind, value);
const wechatValue = (openid: string) => `${cfg().WECHAT_APP_ID}:${openid}`;
const phoneValue = (p: string) => hashPhone(p, cfg().PHONE_HASH_SECRET);
const profile = (memberId: string) => profileWithHistory<Member>(hub.aws.table, memberId);
/** The surviving record an identity leads to (following merge pointers). */
const survivorOf = (kind: string, value: string) => survivorByIdentity<Member>(hub.aws.table, kind, value);
/** Every item of the table, profiles with their whole history in `h` (month buckets joined). */
const scanAll = async (table = hub.aws.table) => joinHistory(await scanTable<Record<string, Loose>>(table));
const itemCount = () => countItems(hub.aws.table);
/** One channel-day counter, summed over every shard (read by key). */
const counter = (channel: string, model: 'first' | 'last', day: string) => counterAt(hub.aws.table, channel, model, day);

async function ledgerOf(m: Pick<StoredMember, 'memberId' | 'mergedFrom'>) {
  const rows: Record<string, Loose>[] = [];
  const lots: Record<string, Loose>[] = [];
  for (const id of [m.memberId, ...(m.mergedFrom ?? [])]) {
    rows.push(...(await queryAll(hub.aws.table, keys.memberPartition(id), 'LEDGER#')));
    lots.push(...(await queryAll(hub.aws.table, keys.memberPartition(id), 'LOT#')));
  }
  return { ledger: rows, lots };
}

/** A local time today, at least a minute in the past and never before midnight. */
const earlierToday = (secondsAgo: number) => Math.floor(Math.max(startOfLocalDay(TODAY, TZ) + 1000, NOW - secondsAgo * 1000) / 1000);

// ---------- registration ----------

describe('POST /members: a known fan registers', () => {
  const openid = 'oMem_known_1';
  const p = phone(1);
  let memberId = '';
  let followAt = 0;

  it('a signed follow creates the fan', async () => {
    followAt = earlierToday(90);
    expect(await follow(openid, followAt, 'mreg_ch')).toEqual({ status: 200, body: 'success' });
    const m = await survivorOf('wechat_openid', wechatValue(openid));
    expect(m).toMatchObject({ status: 'fan', fanChannel: 'mreg_ch', fanSince: followAt * 1000 });
    memberId = m!.memberId;
  });

  it('registers: 200 with the member, status member, phone masked; conversion counters move', async () => {
    const res = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}`, phone: `+86 ${p.slice(0, 3)}-${p.slice(3, 7)}-${p.slice(7)}`, name: 'Li Lei', birthday: '1990-05-01' });
    expect(res.status).toBe(200);
    // The caller sees only its own view; the full record is the admin's.
    expect(res.body).toEqual({ memberId, status: 'member', phone: '139****0001', points: 0, tier: 'normal' });
    expect(JSON.stringify(res.body)).not.toContain(p);
    const full = await adminGet(memberId);
    expect(full.status).toBe(200);
    const b = full.body;
    expect(b).toMatchObject({
      memberId,
      status: 'member',
      phone: '139****0001',
      name: 'Li Lei',
      birthday: '1990-05-01',
      fanSince: followAt * 1000,
      fanChannel: 'mreg_ch',
      firstTouch: { channel: 'mreg_ch', at: followAt * 1000 },
      wechat: { appId: cfg().WECHAT_APP_ID, openid, followed: true, followedAt: followAt * 1000 },
      points: { balance: 0 },
      tier: 'normal',
      lifecycle: 'prospect',
      orderCount: 0,
      gmvFen: 0,
    });
    expect(b.memberSince).toBeGreaterThanOrEqual(NOW);
    expect(b.memberSince).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(b)).not.toContain(p);
    for (const internal of ['h', 'credits', 'phoneHash', 'version', 'gsi1pk', 'pk']) {
      expect(b).not.toHaveProperty(internal);
      expect(res.body).not.toHaveProperty(internal);
    }
    // Stored: the HMAC and the masked form; the phone identity row points at the member.
    const stored = await profile(memberId);
    expect(stored).toMatchObject({ phoneHash: phoneValue(p), phoneMasked: '139****0001', status: 'member', memberSince: b.memberSince });
    expect(await identityOwner('phone', phoneValue(p))).toBe(memberId);
    const bucket = ttcBucket(b.memberSince - followAt * 1000);
    for (const model of ['first', 'last'] as const) {
      expect(await counter('mreg_ch', model, TODAY)).toEqual({ newFans: 1, convertedFans: 1, sameDayConversions: 1, newMembers: 1, [bucket]: 1 });
    }
  });

  it('registering twice is idempotent: same member, counters and record unchanged', async () => {
    const before = await profile(memberId);
    const res = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}`, phone: p, name: 'Li Lei', birthday: '1990-05-01' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberId, status: 'member', phone: '139****0001', points: 0, tier: 'normal' });
    expect((await adminGet(memberId)).body.memberSince).toBe(before!.memberSince);
    const after = await profile(memberId);
    expect(after!.version).toBe(before!.version);
    expect(after).toEqual(before);
    const bucket = ttcBucket(before!.memberSince! - followAt * 1000);
    for (const model of ['first', 'last'] as const) {
      expect(await counter('mreg_ch', model, TODAY)).toEqual({ newFans: 1, convertedFans: 1, sameDayConversions: 1, newMembers: 1, [bucket]: 1 });
    }
  });

  it('a second phone for a registered member is refused (409) and changes nothing', async () => {
    const n = await itemCount();
    const res = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid}`, phone: phone(2) });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('phone_conflict');
    expect(await itemCount()).toBe(n);
    expect(await identityOwner('phone', phoneValue(phone(2)))).toBeUndefined();
  });

  it('rejections are 4xx with a reason and write nothing', async () => {
    const appId = cfg().WECHAT_APP_ID;
    const n = await itemCount();
    const cases: [unknown, string | undefined, number, string, RegExp?][] = [
      [{ appId, oauthCode: 'not-a-code', phone: phone(3) }, undefined, 400, 'invalid_oauth_code'],
      [{ appId, oauthCode: 'local:oMem_reject_1', phone: '1234567' }, undefined, 400, 'invalid_phone'],
      [{ appId, oauthCode: 'local:oMem_reject_1', phone: '23900000003' }, undefined, 400, 'invalid_phone'],
      [{ appId, oauthCode: 'local:oMem_reject_1' }, undefined, 400, 'bad_request', /phone/],
      [{ oauthCode: 'local:oMem_reject_1', phone: phone(3) }, undefined, 400, 'bad_request', /appId/],
      [{ appId, phone: phone(3) }, undefined, 400, 'bad_request', /oauthCode/],
      [{ appId: 'wx-unknown-app', oauthCode: 'local:oMem_reject_1', phone: phone(3) }, undefined, 400, 'unknown_app'],
      [{ appId, oauthCode: 'local:oMem_reject_1', phone: phone(3), admin: true }, undefined, 400, 'bad_request', /admin/],
      [{ appId, oauthCode: 'local:oMem_reject_1', phone: phone(3), birthday: '1 May' }, undefined, 400, 'bad_request', /birthday/],
      [undefined, '{"appId":', 400, 'malformed_json'],
    ];
    for (const [body, raw, status, error, detail] of cases) {
      const res = await register(body, raw);
      expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
      expect(typeof res.body.message).toBe('string');
      if (detail) expect(JSON.stringify(res.body.details)).toMatch(detail);
    }
    expect(await itemCount()).toBe(n);
    expect(await identityOwner('wechat_openid', wechatValue('oMem_reject_1'))).toBeUndefined();
    expect(await identityOwner('phone', phoneValue(phone(3)))).toBeUndefined();
  });

  it('an openid the hub never saw becomes a member with first touch organic', async () => {
    const before = { first: await counter('organic', 'first', TODAY), last: await counter('organic', 'last', TODAY) };
    const res = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: 'local:oMem_stranger', phone: phone(4) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberId: expect.any(String), status: 'member', phone: '139****0004', points: 0, tier: 'normal' });
    const full = await adminGet(res.body.memberId);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({
      memberId: res.body.memberId,
      status: 'member',
      phone: '139****0004',
      firstTouch: { channel: 'organic' },
      lastTouch: { channel: 'organic' },
      wechat: { appId: cfg().WECHAT_APP_ID, openid: 'oMem_stranger', followed: false },
    });
    expect(full.body.fanSince).toBeUndefined();
    expect(full.body.fanChannel).toBeUndefined();
    expect(full.body.firstTouch.at).toBe(full.body.memberSince);
    expect(await identityOwner('wechat_openid', wechatValue('oMem_stranger'))).toBe(res.body.memberId);
    for (const model of ['first', 'last'] as const) {
      const after = await counter('organic', model, TODAY);
      // Exactly one more new member, and no conversion (no follow to convert).
      expect(after).toEqual({ ...before[model], newMembers: (before[model].newMembers ?? 0) + 1 });
    }
  });
});

describe('concurrent first events', () => {
  it('50 concurrent follows of one new openid make exactly one member', async () => {
    const openid = 'oMem_concurrent';
    const base = Math.floor(Date.UTC(2025, 10, 20, 2) / 1000); // 2025-11-20 10:00 Shanghai
    const pending = new Set(Array.from({ length: 50 }, (_, i) => i));
    for (let round = 0; pending.size && round < 10; round++) {
      const results = await Promise.all([...pending].map(async (i) => [i, await follow(openid, base + i, 'conc_ch')] as const));
      for (const [i, r] of results) {
        // 503 is the retry WeChat would make (contention); anything else is a failure.
        expect([200, 503]).toContain(r.status);
        if (r.status === 200) pending.delete(i);
      }
    }
    expect(pending.size).toBe(0);
    const owner = await identityOwner('wechat_openid', wechatValue(openid));
    const profiles = (await scanAll()).filter((i) => i.sk === '#PROFILE' && i.wechat?.openid === openid);
    expect(profiles.map((p) => p.memberId)).toEqual([owner]);
    const m = profiles[0]!;
    expect(m.h.f).toHaveLength(50);
    expect(m.h.f[0]).toEqual([base * 1000, 'conc_ch']);
    expect(m.fanSince).toBe(base * 1000);
    for (const model of ['first', 'last'] as const) expect(await counter('conc_ch', model, '2025-11-20')).toEqual({ newFans: 1 });
    const welcomes = (await scanAll()).filter((i) => String(i.pk).startsWith('OUTBOX#') && i.memberId === owner && i.ruleId === 'welcome_follow');
    expect(welcomes).toHaveLength(1);
  }, 60_000);
});

// ---------- merges ----------

describe('identity merges: a Youzan buyer (phone) and a WeChat fan become one member', () => {
  it('buyer first (older, survives), then the fan registers the same phone', async () => {
    const pA = phone(10);
    const t0 = NOW - 10 * DAY;
    // The Youzan buyer: phone + yz_open_id, ¥300.00 ten days ago.
    expect((await youzanOrder({ tid: 'E-MERGE-A2', fen: 30_000, paidAt: t0, yz: 'yzMergeA2', phone: pA })).status).toBe(200);
    const buyer = await survivorOf('phone', phoneValue(pA));
    expect(buyer).toMatchObject({ status: 'buyer', points: 300, orderCount: 1, gmvFen: 30_000, firstTouch: { channel: 'youzan', at: Math.floor(t0 / 1000) * 1000 } });
    expect(buyer!.phoneHash).toBeUndefined();
    // The fan: follows five days ago, buys ¥123.45 on Youzan through its openid.
    const followAt = Math.floor((NOW - 5 * DAY) / 1000);
    expect((await follow('oMem_mergeA', followAt, 'mm_ch')).status).toBe(200);
    expect((await youzanOrder({ tid: 'E-MERGE-A1', fen: 12_345, paidAt: NOW - 4 * DAY, yz: 'yzMergeA1', openid: 'oMem_mergeA' })).status).toBe(200);
    const fan = await survivorOf('wechat_openid', wechatValue('oMem_mergeA'));
    expect(fan).toMatchObject({ status: 'fan', points: 123, orderCount: 1 });
    expect(fan!.memberId).not.toBe(buyer!.memberId);

    const res = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: 'local:oMem_mergeA', phone: pA });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberId: buyer!.memberId, status: 'member', phone: '139****0010', points: 423, tier: 'normal' });
    expect((await adminGet(buyer!.memberId)).body).toMatchObject({
      memberId: buyer!.memberId,
      status: 'member',
      phone: '139****0010',
      points: { balance: 423 },
      orderCount: 2,
      gmvFen: 42_345,
      firstTouch: { channel: 'youzan', at: Math.floor(t0 / 1000) * 1000 },
      fanChannel: 'mm_ch',
      fanSince: followAt * 1000,
      mergedFrom: [fan!.memberId],
      wechat: { appId: cfg().WECHAT_APP_ID, openid: 'oMem_mergeA', followed: true },
      tier: 'normal',
      lifecycle: 'repeat',
      rfm: { r: 5, f: 2, m: 1 },
    });
    const loser = await profile(fan!.memberId);
    expect(loser!.mergedInto).toBe(buyer!.memberId);
    expect(loser!.credits).toEqual({});

    // GET /members/{id}: identities, ledger, orders, touches; the merged-away id resolves to the survivor.
    const view = await adminGet(buyer!.memberId);
    expect(view.status).toBe(200);
    const viaLoser = await adminGet(fan!.memberId);
    expect(viaLoser.status).toBe(200);
    expect(viaLoser.body).toEqual(view.body);
    const v = view.body;
    expect(v.memberId).toBe(buyer!.memberId);
    expect(v.identities.map((i: Loose) => `${i.kind}=${i.value}`).sort()).toEqual(
      ['phone=(hashed)', `wechat_openid=${wechatValue('oMem_mergeA')}`, 'youzan_open_id=yzMergeA1', 'youzan_open_id=yzMergeA2'].sort(),
    );
    expect(v.points.balance).toBe(423);
    expect(v.points.ledger.map((l: Loose) => [l.delta, l.reason]).sort()).toEqual([
      [123, 'order'],
      [300, 'order'],
    ]);
    expect(v.points.lots.reduce((s: number, l: Loose) => s + l.remaining, 0)).toBe(423);
    expect(v.orders.map((o: Loose) => [o.orderId, o.paidFen, o.pointsEarned, o.status]).sort()).toEqual([
      ['E-MERGE-A1', 12_345, 123, 'paid'],
      ['E-MERGE-A2', 30_000, 300, 'paid'],
    ]);
    expect(v.touches.follows).toEqual([{ at: followAt * 1000, channel: 'mm_ch' }]);
    expect(v.touches.first).toEqual({ channel: 'youzan', at: Math.floor(t0 / 1000) * 1000 });
    expect(v.merges).toHaveLength(1);
    expect(v.merges[0]).toMatchObject({ survivor: buyer!.memberId, loser: fan!.memberId, cause: 'member.register' });
    expect(JSON.stringify(v)).not.toContain(pA);
    expect(JSON.stringify(v)).not.toContain(phoneValue(pA));

    // A later refund through the merged-away record's order is clawed back from the survivor.
    expect((await youzanRefund({ tid: 'E-MERGE-A1', refundId: 'R-MERGE-A1', fen: 5_000, at: NOW - DAY, yz: 'yzMergeA1' })).status).toBe(200);
    const after = await adminGet(fan!.memberId);
    expect(after.body.points.balance).toBe(373);
    expect(after.body.points.ledger.reduce((s: number, l: Loose) => s + l.delta, 0)).toBe(373);
  });

  it('registration first, then orders carrying the phone and the Youzan id', async () => {
    const pB = phone(11);
    expect((await follow('oMem_mergeB', earlierToday(30), 'mm_ch')).status).toBe(200);
    const reg = await register({ appId: cfg().WECHAT_APP_ID, oauthCode: 'local:oMem_mergeB', phone: pB });
    expect(reg.status).toBe(200);
    const id = reg.body.memberId as string;
    expect((await youzanOrder({ tid: 'E-MERGE-B1', fen: 88_800, paidAt: NOW - 2 * DAY, yz: 'yzMergeB', phone: pB })).status).toBe(200);
    expect((await youzanOrder({ tid: 'E-MERGE-B2', fen: 20_000, paidAt: NOW - DAY, yz: 'yzMergeB' })).status).toBe(200);
    expect(await identityOwner('youzan_open_id', 'yzMergeB')).toBe(id);
    const v = (await adminGet(id)).body;
    expect(v).toMatchObject({ memberId: id, status: 'member', orderCount: 2, gmvFen: 108_800, tier: 'silver', lifecycle: 'repeat' });
    expect(v.points.balance).toBe(1_088);
    expect(v.identities.map((i: Loose) => i.kind).sort()).toEqual(['phone', 'wechat_openid', 'youzan_open_id']);
    expect(v.orders.map((o: Loose) => o.orderId).sort()).toEqual(['E-MERGE-B1', 'E-MERGE-B2']);
    expect(v.mergedFrom).toBeUndefined();
    const profiles = (await scanAll()).filter((i) => i.sk === '#PROFILE' && !i.mergedInto && (i.wechat?.openid === 'oMem_mergeB' || i.memberId === id));
    expect(profiles).toHaveLength(1);
  });

  it('GET /members/{id} needs the admin token and 404s an unknown id', async () => {
    expect((await adminGet('01UNKNOWNMEMBER')).status).toBe(404);
    const anyMember = await identityOwner('wechat_openid', wechatValue('oMem_mergeB'));
    expect((await adminGet(anyMember!, 'wrong-token-123')).status).toBe(401);
  });
});

describe('a Youzan outer_user_id is the openid of the app Youzan is bound to, not necessarily the account', () => {
  // Regression: outer_user_id was stored as the account's openid, so a Youzan buyer (an openid of a
  // Youzan-hosted H5 or mini program) who then registered on the account with the same phone was
  // "another WeChat person" and got 409 phone_unavailable forever.
  const buyAndRegister = async (n: number, hosted: string, account: string) => {
    const p = phone(n);
    expect((await youzanOrder({ tid: `E-OUTER-${n}`, fen: 25_600, paidAt: NOW - 3 * DAY, yz: `yzOuter${n}`, openid: hosted, phone: p })).status).toBe(200);
    const buyer = (await survivorOf('phone', phoneValue(p)))!;
    expect(buyer).toMatchObject({ points: 256, orderCount: 1 });
    return { p, buyer, res: await register({ appId: cfg().WECHAT_APP_ID, oauthCode: `local:${account}`, phone: p }) };
  };

  it('without YOUZAN_WECHAT_APP_ID: a Youzan-scoped identity; the buyer registers on the account with the phone (200, one member, the order points)', async () => {
    const saved = hub.runtime;
    hub.reconfigure({ settings: { YOUZAN_WECHAT_APP_ID: undefined } });
    try {
      const { buyer, res } = await buyAndRegister(60, 'oYzHosted_60', 'oMem_outer60');
      expect(await identityOwner('youzan_outer_user_id', '12345678:oYzHosted_60')).toBe(buyer.memberId);
      expect(await identityOwner('wechat_openid', wechatValue('oYzHosted_60'))).toBeUndefined();
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ memberId: buyer.memberId, status: 'member', phone: '139****0060', points: 256, tier: 'normal' });
      expect(await identityOwner('wechat_openid', wechatValue('oMem_outer60'))).toBe(buyer.memberId);
    } finally {
      hub.restore(saved);
    }
  });

  it('with YOUZAN_WECHAT_APP_ID naming the account, outer_user_id IS an account openid: another account openid with that phone is refused (409)', async () => {
    const { buyer, res } = await buyAndRegister(61, 'oYzOnAccount_61', 'oMem_outer61');
    expect(await identityOwner('wechat_openid', wechatValue('oYzOnAccount_61'))).toBe(buyer.memberId);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'phone_unavailable' });
  });
});

describe('points follow the order, whatever the arrival order', () => {
  it('a refund that arrives before its order: balance, ledger and lots agree', async () => {
    expect((await youzanRefund({ tid: 'E-REFFIRST', refundId: 'R-REFFIRST', fen: 4_000, at: NOW - DAY, yz: 'yzRefFirst' })).status).toBe(200);
    const early = (await survivorOf('youzan_open_id', 'yzRefFirst'))!;
    expect(early).toMatchObject({ status: 'buyer', points: 0, orderCount: 0 });
    expect((await youzanOrder({ tid: 'E-REFFIRST', fen: 10_000, paidAt: NOW - 2 * DAY, yz: 'yzRefFirst' })).status).toBe(200);
    const m = (await profile(early.memberId))!;
    expect(m).toMatchObject({ points: 60, orderCount: 1, gmvFen: 10_000 });
    const { ledger, lots } = await ledgerOf(m);
    expect(ledger.map((l) => [l.delta, l.reason, l.balanceAfter]).sort()).toEqual([
      [-40, 'refund', 60],
      [100, 'order', 100],
    ]);
    expect(lots.map((l) => [l.earned, l.remaining])).toEqual([[100, 60]]);
  });

  it('an order earned and fully refunded in one event leaves a lot with nothing remaining', async () => {
    expect((await youzanRefund({ tid: 'E-REFALL', refundId: 'R-REFALL', fen: 5_000, at: NOW - DAY, yz: 'yzRefAll' })).status).toBe(200);
    expect((await youzanOrder({ tid: 'E-REFALL', fen: 5_000, paidAt: NOW - 2 * DAY, yz: 'yzRefAll' })).status).toBe(200);
    const m = (await survivorOf('youzan_open_id', 'yzRefAll'))!;
    expect(m.points).toBe(0);
    const { ledger, lots } = await ledgerOf(m);
    expect(ledger.reduce((s, l) => s + l.delta, 0)).toBe(0);
    expect(lots.map((l) => [l.earned, l.remaining])).toEqual([[50, 0]]);
  });
});

// ---------- random scenario ----------

describe('1,000-event random scenario', () => {
  it('every member: balance = Σ ledger; counters = Σ the independent model over the survivors; one member per linked identity set', async () => {
    const rnd = seededRandom(20_251_120);
    const persons = 60;
    const channels = ['rch_a', 'rch_b', 'rch_c'];
    const openid = (i: number) => `oRnd_${i}`;
    const yz = (i: number) => `yzRnd_${i}`;
    const ph = (i: number) => phone(5000 + i);
    type Ev =
      | { kind: 'follow'; i: number; at: number; scene?: string }
      | { kind: 'register'; i: number }
      | { kind: 'order'; i: number; o: YzOrder }
      | { kind: 'refund'; i: number; r: YzRefund };
    const events: Ev[] = [];
    const orders: { i: number; o: YzOrder; nodes: string[] }[] = [];
    let clock = Math.floor((NOW - 20 * DAY) / 1000);
    for (let k = 0; k < 1000; k++) {
      const i = Math.floor(rnd() * persons);
      const r = rnd();
      clock += 1 + Math.floor(rnd() * 600);
      if (r < 0.3) events.push({ kind: 'follow', i, at: clock, ...(rnd() < 0.75 ? { scene: channels[Math.floor(rnd() * 3)]! } : {}) });
      else if (r < 0.45) events.push({ kind: 'register', i });
      else if (r < 0.85 || orders.length === 0) {
        let ids = { yz: rnd() < 0.5, phone: rnd() < 0.4, openid: rnd() < 0.5 };
        if (!ids.yz && !ids.phone && !ids.openid) ids = { ...ids, yz: true };
        const o: YzOrder = {
          tid: `E-RND-${k}`,
          fen: 100 + Math.floor(rnd() * 300_000),
          paidAt: NOW - Math.floor(rnd() * 60 * DAY),
          ...(ids.yz ? { yz: yz(i) } : {}),
          ...(ids.phone ? { phone: ph(i) } : {}),
          ...(ids.openid ? { openid: openid(i) } : {}),
        };
        orders.push({ i, o, nodes: [ids.yz ? `y${i}` : '', ids.phone ? `p${i}` : '', ids.openid ? `o${i}` : ''].filter(Boolean) });
        events.push({ kind: 'order', i, o });
      } else {
        const target = orders[Math.floor(rnd() * orders.length)]!;
        events.push({
          kind: 'refund',
          i: target.i,
          r: { tid: target.o.tid, refundId: `R-RND-${k}`, fen: 1 + Math.floor(rnd() * (target.o.fen / 2)), at: NOW - Math.floor(rnd() * DAY), ...(target.o.yz ? { yz: target.o.yz } : {}) },
        });
      }
    }
    const run = async (e: Ev) => {
      for (let attempt = 0; attempt < 8; attempt++) {
        const res =
          e.kind === 'follow'
            ? await follow(openid(e.i), e.at, e.scene)
            : e.kind === 'register'
              ? await register({ appId: cfg().WECHAT_APP_ID, oauthCode: `local:${openid(e.i)}`, phone: ph(e.i) })
              : e.kind === 'order'
                ? await youzanOrder(e.o)
                : await youzanRefund(e.r);
        if (res.status === 200) return;
        expect(res.status, JSON.stringify(res.body)).toBe(503);
      }
      throw new Error('event never applied');
    };
    for (let k = 0; k < events.length; k += 8) await Promise.all(events.slice(k, k + 8).map(run));

    // Expected: union-find over the identifiers each event carried.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      if (!parent.has(x)) parent.set(x, x);
      const p = parent.get(x)!;
      if (p === x) return x;
      const root = find(p);
      parent.set(x, root);
      return root;
    };
    const link = (nodes: string[]) => nodes.forEach((n) => parent.set(find(n), find(nodes[0]!)));
    for (const e of events) {
      if (e.kind === 'follow') link([`o${e.i}`]);
      if (e.kind === 'register') link([`o${e.i}`, `p${e.i}`]);
      if (e.kind === 'refund' && e.r.yz) link([`y${e.i}`]);
    }
    for (const o of orders) link(o.nodes);
    const nodeIdentity = (n: string): [string, string] => {
      const i = Number(n.slice(1));
      return n[0] === 'o' ? ['wechat_openid', wechatValue(openid(i))] : n[0] === 'p' ? ['phone', phoneValue(ph(i))] : ['youzan_open_id', yz(i)];
    };
    const components = new Map<string, string[]>();
    for (const n of parent.keys()) components.set(find(n), [...(components.get(find(n)) ?? []), n]);

    const refundsOf = new Map<string, number>();
    for (const e of events) if (e.kind === 'refund') refundsOf.set(e.r.tid, (refundsOf.get(e.r.tid) ?? 0) + e.r.fen);

    const survivors = new Set<string>();
    for (const nodes of components.values()) {
      const owners = new Set<string>();
      for (const n of nodes) owners.add((await survivorOf(...nodeIdentity(n)))!.memberId);
      expect(owners.size, `one member for ${nodes.join(',')}`).toBe(1);
      const id = [...owners][0]!;
      expect(survivors.has(id), 'two identity sets share a member').toBe(false);
      survivors.add(id);
      const m = (await profile(id))!;
      const mine = orders.filter((o) => o.nodes.some((n) => nodes.includes(n)));
      expect(m.h.o.map((o) => o[0]).sort()).toEqual(mine.map((o) => `youzan:12345678:${o.o.tid}`).sort());
      expect(m.gmvFen).toBe(mine.reduce((s, o) => s + o.o.fen, 0));
      const points = mine.reduce((s, o) => {
        const earned = Math.floor(o.o.fen / 100);
        return s + earned - Math.min(earned, Math.floor((refundsOf.get(o.o.tid) ?? 0) / 100));
      }, 0);
      expect(m.points).toBe(points);
      const hasO = nodes.find((n) => n[0] === 'o');
      const i = hasO ? Number(hasO.slice(1)) : -1;
      const follows = events.flatMap((e) => (e.kind === 'follow' && e.i === i ? [[e.at * 1000, e.scene ?? 'organic']] : []));
      const registered = events.some((e) => e.kind === 'register' && e.i === i);
      // The stored facts are the ones this test sent (the models below read them).
      expect(m.h.f).toEqual(follows.sort((a, b) => Number(a[0]) - Number(b[0]) || (String(a[1]) < String(b[1]) ? -1 : 1)));
      expect(m.status).toBe(registered ? 'member' : follows.length ? 'fan' : 'buyer');
      expect(m.h.r !== undefined).toBe(registered);
      expect(m.h.o.map((o) => [o[0], o[2]]).sort()).toEqual(mine.map((o) => [`youzan:12345678:${o.o.tid}`, o.o.fen]).sort());
      // Derived fields as of the member's last write, against the independent model.
      const rules = cfg().memberRules;
      expect(m.lifecycle).toBe(modelLifecycle(historyOf(m), m.updatedAt, rules));
      expect(m.rfm).toEqual(modelRfm(historyOf(m), m.updatedAt, rules));
      expect(m.tier).toBe(modelTier(historyOf(m), m.updatedAt, rules));
      const due = nextReviewAt(historyOf(m), m.updatedAt, rules);
      expect(m.gsi1pk).toBe(due === undefined ? undefined : `REVIEW#${reviewDay(due, TZ)}#${bucketOf(m.memberId, REVIEW_SHARDS)}`);
    }
    expect(survivors.size).toBe(components.size);

    // Every surviving member in the table (this scenario and the tests before it), every credit delta folded.
    await foldCounters(hub.aws.table);
    const items = await scanAll();
    const live = items.filter((i) => i.sk === '#PROFILE' && !i.mergedInto) as Member[];
    for (const id of survivors) expect(live.some((m) => m.memberId === id)).toBe(true);
    for (const m of live) {
      const { ledger, lots } = await ledgerOf(m);
      expect(ledger.reduce((s, l) => s + l.delta, 0), `ledger of ${m.memberId}`).toBe(m.points);
      expect(lots.reduce((s, l) => s + l.remaining, 0), `lots of ${m.memberId}`).toBe(m.points);
      // No credits map in the profile: what a member gave is computed from its history; the counters below hold the sum.
      expect(m).not.toHaveProperty('credits');
    }
    // Counters: the table's counter items summed over shards = Σ the model's credits of the survivors.
    const fromTable: Record<string, number> = {};
    for (const c of items.filter((i) => String(i.pk).startsWith('COUNT#'))) {
      for (const [k, v] of Object.entries(c)) if (typeof v === 'number') fromTable[`${c.channel}|${c.sk}|${k}`] = (fromTable[`${c.channel}|${c.sk}|${k}`] ?? 0) + v;
    }
    const expected: Record<string, number> = {};
    const addAll = (cr: Credits) => {
      for (const [key, metrics] of Object.entries(cr)) {
        const [channel, model, day] = JSON.parse(key) as [string, string, string];
        for (const [metric, n] of Object.entries(metrics)) expected[`${channel}|${model}#${day}|${metric}`] = (expected[`${channel}|${model}#${day}|${metric}`] ?? 0) + n;
      }
    };
    for (const m of live) addAll(modelCredits(historyOf(m), TZ));
    for (const k of Object.keys(fromTable)) if (fromTable[k] === 0) delete fromTable[k];
    expect(fromTable).toEqual(expected);
    // Per metric totals (the dashboard's view) and a non-trivial scenario.
    const perMetric = (x: Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(x)) {
        const metric = k.split('|')[2]!;
        const model = k.split('|')[1]!.split('#')[0]!;
        out[`${model}:${metric}`] = (out[`${model}:${metric}`] ?? 0) + v;
      }
      return out;
    };
    const totals = perMetric(fromTable);
    expect(totals).toEqual(perMetric(expected));
    expect(totals['first:orders']).toBe(live.reduce((s, m) => s + m.h.o.length, 0));
    expect(totals['first:newMembers']).toBe(live.filter((m) => m.h.r !== undefined).length);
    expect(totals['first:convertedFans']).toBe(live.filter((m) => m.h.r !== undefined && m.h.f.length > 0).length);
    expect(totals['first:gmvFen']).toBe(live.reduce((s, m) => s + m.gmvFen, 0));
    expect(components.size).toBeGreaterThan(persons);
    expect(live.filter((m) => m.mergedFrom?.length).length).toBeGreaterThan(2);
  }, 120_000);
});

// ---------- nightly review ----------

describe('nightly review', () => {
  let table = '';
  let deps: ApplyDeps;
  let clock = 0;
  const T = localToEpoch('2025-01-10', 12, 0, TZ);
  const at = (day: string) => localToEpoch(day, 2, 30, TZ);

  beforeAll(async () => {
    table = `${hub.aws.table}-nightly`;
    await createTable(ddb(), table);
    deps = { db: ddb(), table, cfg: cfg(), now: () => clock };
  });

  const order = (orderId: string, fen: number, paidAt: number): HubEvent => ({
    type: 'order',
    source: 'youzan',
    platform: 'youzan',
    eventId: `test:${orderId}`,
    occurredAt: paidAt,
    shopId: 'S1',
    orderId,
    buyer: [{ kind: 'youzan_open_id', value: 'yzNightly' }],
    status: 'paid',
    platformStatus: 'WAIT_SELLER_SEND_GOODS',
    totalFen: fen,
    paidFen: fen,
    paidAt,
    lines: [],
    topic: 'trade_TradePaid',
  });
  const member = async (id: string) => (await getItem<Member>(table, memberKey(id)))!;
  /** Records every command the nightly sends; optionally runs `interleave` before its first write. */
  const spy = (interleave?: () => Promise<void>) => {
    const sent: { name: string; input: Record<string, Loose> }[] = [];
    let done = false;
    const db = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, Loose> }) => {
        sent.push({ name: cmd.constructor.name, input: cmd.input });
        if (interleave && !done && cmd instanceof TransactWriteCommand) {
          done = true;
          await interleave();
        }
        return ddb().send(cmd as never);
      },
    } as unknown as DynamoDBDocumentClient;
    return { db, sent };
  };
  let id = '';

  it('upgrades on the order that crosses a threshold, at once', async () => {
    clock = T;
    id = (await apply(order('N1', 60_000, T), deps)).memberId!;
    expect(await member(id)).toMatchObject({ tier: 'normal', lifecycle: 'new', rfm: { r: 5, f: 1, m: 2 } });
    clock = T + 10 * DAY;
    await apply(order('N2', 50_000, clock), deps);
    expect(await member(id)).toMatchObject({ tier: 'silver', lifecycle: 'repeat', rfm: { r: 5, f: 2, m: 3 } });
    clock = T + 20 * DAY;
    await apply(order('N3', 400_000, clock), deps);
    const m = await member(id);
    expect(m).toMatchObject({ tier: 'gold', lifecycle: 'repeat', rfm: { r: 5, f: 3, m: 4 }, gmvFen: 510_000 });
    // Next change: R falls 30 days + 1 ms after the last order (2025-03-01 12:00) → reviewed 03-02.
    expect(m.gsi1pk).toBe(`REVIEW#2025-03-02#${bucketOf(id, REVIEW_SHARDS)}`);
    expect(m.gsi1sk).toBe(id);
  });

  it('finds due members through the review index only (no scan), and leaves members not due alone', async () => {
    const before = await member(id);
    const { db, sent } = spy();
    const r = await runNightly({ db, table, cfg: cfg(), now: () => at('2025-03-01') });
    expect(r).toMatchObject({ day: '2025-03-01', found: 0, reviewed: 0, skipped: 0 });
    expect((await member(id)).version).toBe(before.version);
    expect(sent.map((s) => s.name).filter((n) => n !== 'QueryCommand')).toEqual([]);
    expect(sent).toHaveLength(8 * REVIEW_SHARDS);
    expect(sent.every((s) => s.input.IndexName === GSI1 && /^REVIEW#2025-0[23]-\d\d#\d$/.test(s.input.ExpressionAttributeValues[':p']))).toBe(true);
  });

  it('recomputes RFM on the due day and files the member under its next change', async () => {
    const r = await runNightly({ db: ddb(), table, cfg: cfg(), now: () => at('2025-03-02') });
    expect(r).toMatchObject({ found: 1, reviewed: 1, skipped: 0, tierDowngrades: 0, lifecycleChanges: 0, rfmChanges: 1, conflicts: 0, failed: 0, stoppedEarly: false });
    const m = await member(id);
    expect(m).toMatchObject({ tier: 'gold', lifecycle: 'repeat', rfm: { r: 4, f: 3, m: 4 }, updatedAt: at('2025-03-02') });
    // Next: R → 3 at 60 days + 1 ms (2025-03-31 12:00) → 04-01.
    expect(m.gsi1pk).toBe(`REVIEW#2025-04-01#${bucketOf(id, REVIEW_SHARDS)}`);
  });

  it('a missed night is caught up later; a run stops early when out of time', async () => {
    const early = await runNightly({ db: ddb(), table, cfg: cfg(), now: () => at('2025-04-03') }, { remainingMs: () => 1_000 });
    expect(early).toMatchObject({ stoppedEarly: true, reviewed: 0 });
    const r = await runNightly({ db: ddb(), table, cfg: cfg(), now: () => at('2025-04-03') });
    expect(r).toMatchObject({ found: 1, reviewed: 1, rfmChanges: 1 });
    expect((await member(id)).rfm).toEqual({ r: 3, f: 3, m: 4 });
  });

  it('a write never downgrades; an order after a lapse makes the member won_back', async () => {
    clock = T + 370 * DAY; // 2026-01-15 12:00: N1 (T) has left the window, N2 (T+10d) leaves on 01-20
    await apply(order('N4', 100, clock), deps);
    const m = await member(id);
    // Rolling GMV is 450,100 (silver) but a write keeps gold, and files the owed downgrade for
    // the next night.
    expect(tierOf(historyOf(m), clock)).toBe('silver');
    expect(m).toMatchObject({ tier: 'gold', lifecycle: 'won_back', rfm: { r: 5, f: 3, m: 4 } });
    expect(m.gsi1pk).toBe(`REVIEW#2026-01-16#${bucketOf(id, REVIEW_SHARDS)}`);
  });

  it('the nightly downgrades (nights missed since 01-16 caught up), retrying on a version conflict with an event that lands in between', async () => {
    const paidAt = at('2026-01-21') - 3_600_000;
    const { db } = spy(async () => {
      clock = paidAt;
      await apply(order('N5', 200, paidAt), deps);
    });
    const r = await runNightly({ db, table, cfg: cfg(), now: () => at('2026-01-21') });
    expect(r).toMatchObject({ found: 1, reviewed: 1, conflicts: 1, tierDowngrades: 1, failed: 0 });
    const m = await member(id);
    // N2 left on 2026-01-20: N3 + N4 + N5 = 400,300 → silver; the event's order is kept.
    expect(m).toMatchObject({ tier: 'silver', orderCount: 5, gmvFen: 510_300, lifecycle: 'repeat', rfm: { r: 5, f: 4, m: 4 } });
    expect(m.h.o.map((o) => o[0])).toEqual(['youzan:S1:N1', 'youzan:S1:N2', 'youzan:S1:N3', 'youzan:S1:N4', 'youzan:S1:N5']);
    expect(m.updatedAt).toBe(at('2026-01-21'));
    // Next: N3 leaves on 2026-01-30 12:00 → 01-31.
    expect(m.gsi1pk).toBe(`REVIEW#2026-01-31#${bucketOf(id, REVIEW_SHARDS)}`);
  });

  it('walks the review chain to the end: normal, lapsed, R 1, no entry left', async () => {
    let day: string | undefined = (await member(id)).gsi1pk?.split('#')[1];
    const visited: string[] = [];
    while (day && visited.length < 20) {
      visited.push(day);
      const r = await runNightly({ db: ddb(), table, cfg: cfg(), now: () => at(day!) });
      expect(r.reviewed).toBe(1);
      day = (await member(id)).gsi1pk?.split('#')[1];
    }
    // N3 leaves (01-30), R cuts and stages from N5 (2026-01-21 01:30), N4 and N5 leave.
    expect(visited).toEqual(['2026-01-31', '2026-02-21', '2026-03-23', '2026-04-22', '2026-07-21', '2027-01-16', '2027-01-22']);
    const m = await member(id);
    expect(m).toMatchObject({ tier: 'normal', lifecycle: 'lapsed', rfm: { r: 1, f: 4, m: 4 } });
    expect(m.gsi1pk).toBeUndefined();
  });

  it('runs as the scheduled function on the hub: a stale member filed under yesterday is brought up to date', async () => {
    const pX = phone(99);
    expect((await youzanOrder({ tid: 'E-NIGHTLY-1', fen: 150_000, paidAt: NOW - 120 * DAY, yz: 'yzNightlyHub', phone: pX })).status).toBe(200);
    const m = (await survivorOf('youzan_open_id', 'yzNightlyHub'))!;
    expect(m).toMatchObject({ tier: 'silver', lifecycle: 'at_risk', rfm: { r: 2, f: 1, m: 3 } });
    // As if last night's run had been missed: stale stage, filed under yesterday.
    const yesterday = localDay(NOW - DAY, TZ);
    await ddb().send(
      new UpdateCommand({
        TableName: hub.aws.table,
        Key: memberKey(m.memberId),
        UpdateExpression: 'SET lifecycle = :l, rfm = :r, gsi1pk = :p',
        ExpressionAttributeValues: { ':l': 'new', ':r': { r: 5, f: 1, m: 3 }, ':p': `REVIEW#${yesterday}#${bucketOf(m.memberId, REVIEW_SHARDS)}` },
      }),
    );
    const out = (await hub.runScheduled('nightly')) as Record<string, unknown>;
    expect(out).toMatchObject({ day: TODAY, found: 1, reviewed: 1, skipped: 0, lifecycleChanges: 1, rfmChanges: 1, failed: 0, stoppedEarly: false });
    const after = (await profile(m.memberId))!;
    expect(after).toMatchObject({ tier: 'silver', lifecycle: 'at_risk', rfm: { r: 2, f: 1, m: 3 }, version: m.version + 1 });
    const due = nextReviewAt(historyOf(after), after.updatedAt, cfg().memberRules)!;
    expect(after.gsi1pk).toBe(`REVIEW#${reviewDay(due, TZ)}#${bucketOf(m.memberId, REVIEW_SHARDS)}`);
  });
});

// ---------- phones ----------

describe('phones are never stored in clear', () => {
  it('no item in the table carries any phone this file sent, nor any 11-digit mobile number', async () => {
    const items = [...(await scanAll()), ...(await scanAll(`${hub.aws.table}-nightly`))];
    expect(items.length).toBeGreaterThan(1000);
    expect(phonesUsed.size).toBeGreaterThan(60);
    const mobile = /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/;
    const found: string[] = [];
    for (const item of items) {
      const text = JSON.stringify(item);
      for (const p of phonesUsed) if (text.includes(p)) found.push(`${item.pk} ${item.sk}: ${p}`);
      if (mobile.test(text)) found.push(`${item.pk} ${item.sk}: ${mobile.exec(text)![0]}`);
    }
    expect(found).toEqual([]);
    // The masked form is what is kept.
    expect(items.some((i) => i.phoneMasked === '139****0001')).toBe(true);
  });
});
