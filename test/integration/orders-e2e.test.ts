/**
 * Orders end to end through the real runtime: correctly signed Tmall (TOP), JD and Youzan
 * pushes → HTTP gateway → functions/{tmall,jd,youzan} → apply → DynamoDB Local. Bad signatures
 * and malformed bodies write nothing; arrival order and duplicates never change the outcome.
 */
import { hubConfig } from '../support/env.ts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useDefaultWebhookWindow, useTestHub, YOUZAN_ON_OFFICIAL_ACCOUNT } from '../support/hub.ts';
import { counterTotals as channelTotals, getItem, itemCount as countItems, queryAll as queryTable, survivorByIdentity, type Item } from '../support/table.ts';
import { postCommerce, signedJd, signedTmall, signedYouzan, type Reply, type SignOptions } from '../support/commerce-client.ts';
import { configuredAccount, postPush, signedPush } from '../support/wechat-client.ts';
import { mapStrings, omitKeys, stripped } from '../support/compare.ts';
import { pick, seededRandom, shuffle } from '../support/random.ts';

import { keys, type Key } from '../../lib/store/keys.ts';
import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { orderKey as orderRowKey } from '../../lib/store/entities/order.ts';
import { refundKey } from '../../lib/store/entities/refund.ts';
import { formatChinaTime, parseChinaTime } from '../../lib/sources/commerce/time.ts';
import { hashPhone, normalisePhone } from '../../lib/members/phone.ts';
import type { IdentityKind } from '../../lib/events/hub-event.ts';

// The shop of this file binds Youzan to the official account: its outer_user_id are the account's openids.
const hub = useTestHub({ replaysHistory: true, queuePrefix: 'ord', functions: ['tmall', 'jd', 'youzan', 'wechat'], env: YOUZAN_ON_OFFICIAL_ACCOUNT });

const cfg = () => hubConfig();
const fixture = (path: string) => readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8');
const cst = (text: string) => parseChinaTime(text, 'test');
const SHOP = '2207512345678';

// ------------------------------------------------------------------ signed requests

const send = (path: string, body: string, headers: Record<string, string> = {}): Promise<Reply> => postCommerce(hub.url, { path, body, headers });
const postTmall = (body: string, o: SignOptions = {}): Promise<Reply> => postCommerce(hub.url, signedTmall(body, o));
const postJd = (body: string, o: SignOptions = {}): Promise<Reply> => postCommerce(hub.url, signedJd(body, o));
const postYouzan = (body: string, type: string, o: SignOptions = {}): Promise<Reply> => postCommerce(hub.url, signedYouzan(body, type, o));

const TMALL_OK = { status: 200, text: '{"flag":"success"}' };
const JD_OK = { status: 200, text: '{"code":"0"}' };
const YOUZAN_OK = { status: 200, text: '{"code":0,"msg":"success"}' };

/** A Youzan fixture's raw body, addressed to this hub's client id. */
function youzanFixture(name: string): { body: string; type: string } {
  const f = JSON.parse(fixture(`youzan/${name}`)) as { rawBody: string; headers: Record<string, string> };
  return { body: f.rawBody.replace('"client_id":"6a0b1b2c3d4e5f6a7b"', `"client_id":"${cfg().YOUZAN_CLIENT_ID}"`), type: f.headers['Event-Type']! };
}

// ------------------------------------------------------------------ table reads

const get = (key: Key): Promise<Item | undefined> => getItem(hub.aws.table, key);
/** The surviving member an identity leads to (following merge pointers). */
const memberBy = (kind: IdentityKind, value: string): Promise<Item | undefined> => survivorByIdentity(hub.aws.table, kind, value);
const queryAll = (pk: string, prefix: string): Promise<Item[]> => queryTable(hub.aws.table, pk, prefix);
const ledgerOf = (memberId: string) => queryAll(keys.memberPartition(memberId), 'LEDGER#');
/** Everything a redelivery could touch: the order item and every item of its member's partition (profile with its version, ledger, lots, ...). */
async function orderAndMember(orderKey: Key, memberId: string): Promise<{ order: Item | undefined; partition: Item[] }> {
  return { order: await get(orderKey), partition: await queryAll(keys.memberPartition(memberId), '') };
}
const itemCount = () => countItems(hub.aws.table);

/** Counter totals of channels, summed over shards: `<channel>|<model>#<day>:<metric>` → n (zeros dropped). */
async function counterTotals(channels: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ch of channels) for (const [k, n] of Object.entries(await channelTotals(hub.aws.table, ch))) out[`${ch}|${k}`] = n;
  return out;
}

function diffTotals(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

// ------------------------------------------------------------------ one platform at a time

describe('Tmall TMC relay', () => {
  const TID = '3872941520738429512';
  const BUYER = 'AAGq5d-EAAeG3JedwSFpZMe1';
  const REF = `tmall:${SHOP}:${TID}`;
  const PAID_AT = cst('2024-11-11 00:01:40');

  it('a signed create+pay batch → {"flag":"success"}, the paid order, and a buyer with 1 point per yuan; a redelivery changes nothing', async () => {
    const body = fixture('tmall/taobao-tmc-consume-response-create-pay.json');
    expect(await postTmall(body)).toEqual(TMALL_OK);
    const order = await get(orderRowKey('tmall', SHOP, TID));
    expect(order).toMatchObject({
      platform: 'tmall',
      shopId: SHOP,
      orderId: TID,
      status: 'paid',
      platformStatus: 'WAIT_SELLER_SEND_GOODS',
      totalFen: 47_800,
      paidFen: 47_800,
      paidAt: PAID_AT,
      refundedFen: 0,
      pointsEarned: 478,
      pointsClawed: 0,
    });
    const m = await memberBy('tmall_buyer_open_uid', BUYER);
    expect(m).toMatchObject({ status: 'buyer', points: 478, orderCount: 1, gmvFen: 47_800, firstOrderAt: PAID_AT });
    expect((m!.h as { o: unknown }).o).toEqual([[REF, PAID_AT, 47_800, 'tmall']]);
    expect(order!.memberId).toBe(m!.memberId);
    for (const id of ['7338450211904421101', '7338450211904421102']) expect(await get(dedupeKey(`tmall:${id}`))).toMatchObject({ type: 'order' });
    expect((await ledgerOf(String(m!.memberId))).map((l) => [l.delta, l.reason, l.balanceAfter])).toEqual([[478, 'order', 478]]);

    // The redelivery has no effect: the order item and every item of the member's partition
    // (the profile with its version included) are exactly as before.
    const before = await orderAndMember(orderRowKey('tmall', SHOP, TID), String(m!.memberId));
    expect(before.partition.length).toBeGreaterThanOrEqual(3); // profile, ledger row, points lot
    expect(await postTmall(body)).toEqual(TMALL_OK);
    expect(await orderAndMember(orderRowKey('tmall', SHOP, TID), String(m!.memberId))).toEqual(before);
    expect(await memberBy('tmall_buyer_open_uid', BUYER)).toEqual(m);
  });

  it('ship, success, then an after-sale RefundSuccess of 276.92 reverses 276 points; a late TradeSellerShip never moves the order back', async () => {
    expect(await postTmall(fixture('tmall/taobao-tmc-trade-seller-ship.json'))).toEqual(TMALL_OK);
    expect(await get(orderRowKey('tmall', SHOP, TID))).toMatchObject({ status: 'shipped', platformStatus: 'WAIT_BUYER_CONFIRM_GOODS' });
    expect(await postTmall(fixture('tmall/taobao-tmc-trade-success.json'))).toEqual(TMALL_OK);
    expect(await get(orderRowKey('tmall', SHOP, TID))).toMatchObject({ status: 'completed', platformStatus: 'TRADE_FINISHED' });

    expect(await postTmall(fixture('tmall/taobao-tmc-refund-created-and-success.json'))).toEqual(TMALL_OK);
    const order = await get(orderRowKey('tmall', SHOP, TID));
    expect(order).toMatchObject({ status: 'completed', paidFen: 47_800, refundedFen: 27_692, pointsEarned: 478, pointsClawed: 276, paidAt: PAID_AT });
    expect(await get(refundKey('tmall', '241123882211234567'))).toMatchObject({ status: 'succeeded', refundFen: 27_692, orderId: TID });
    const m = await memberBy('tmall_buyer_open_uid', BUYER);
    expect(m).toMatchObject({ points: 202, orderCount: 1, gmvFen: 47_800 });
    const ledger = await ledgerOf(String(m!.memberId));
    expect(ledger.map((l) => l.delta).sort((a, b) => Number(a) - Number(b))).toEqual([-276, 478]);
    expect(ledger.reduce((s, l) => s + Number(l.delta), 0)).toBe(202);

    // A lower status delivered late under a new message id: recorded as an event, the order stays completed.
    const late = fixture('tmall/taobao-tmc-trade-seller-ship.json').replace('7338450211904421188', '7338450211904421777');
    expect(await postTmall(late)).toEqual(TMALL_OK);
    expect(await get(dedupeKey('tmall:7338450211904421777'))).toBeDefined();
    expect(await get(orderRowKey('tmall', SHOP, TID))).toMatchObject({ status: 'completed', platformStatus: 'TRADE_FINISHED', refundedFen: 27_692, pointsClawed: 276 });
    expect(await memberBy('tmall_buyer_open_uid', BUYER)).toMatchObject({ points: 202 });
  });

  it('two 19-digit tids that are one number in JavaScript stay two orders', async () => {
    const [a, b] = ['3872941520738439512', '3872941520738439513'];
    expect(Number(a)).toBe(Number(b));
    const msg = (id: string, tid: string, pay: string) =>
      `{"id":${id},"topic":"taobao_trade_TradeBuyerPay","pub_app_key":"12497914","pub_time":"2024-11-11 08:00:00","user_id":${SHOP},"user_nick":"shop",` +
      `"content":"{\\"buyer_open_uid\\":\\"AAG-twins\\",\\"oid\\":${tid},\\"payment\\":\\"${pay}\\",\\"status\\":\\"WAIT_SELLER_SEND_GOODS\\",\\"tid\\":${tid}}"}`;
    const body = `[${msg('7338450211904439001', a, '100.00')},${msg('7338450211904439002', b, '200.00')}]`;
    expect(await postTmall(body)).toEqual(TMALL_OK);
    expect(await get(orderRowKey('tmall', SHOP, a))).toMatchObject({ orderId: a, paidFen: 10_000, pointsEarned: 100 });
    expect(await get(orderRowKey('tmall', SHOP, b))).toMatchObject({ orderId: b, paidFen: 20_000, pointsEarned: 200 });
    expect(await get(dedupeKey('tmall:7338450211904439001'))).toBeDefined();
    expect(await get(dedupeKey('tmall:7338450211904439002'))).toBeDefined();
    const m = await memberBy('tmall_buyer_open_uid', 'AAG-twins');
    expect(m).toMatchObject({ points: 300, orderCount: 2, gmvFen: 30_000 });
    expect(((m!.h as { o: [string][] }).o.map((x) => x[0])).sort()).toEqual([`tmall:${SHOP}:${a}`, `tmall:${SHOP}:${b}`]);
  });

  it('the out-of-order batch (TradeSuccess before TradeSellerShip, ship redelivered) ends exactly like the ordered sequence', async () => {
    // Two disjoint copies of the same order: one fed in order, one through the fixture batch.
    const copy = (text: string, tag: '3' | '4') =>
      text.replaceAll('3872941520738429512', `387294152073843000${tag}`).replaceAll('AAGq5d-EAAeG3JedwSFpZMe1', `AAG-copy-${tag}`).replaceAll('733845021190442', `73384502119044${tag}`);
    const ordered = ['tmall/taobao-tmc-consume-response-create-pay.json', 'tmall/taobao-tmc-trade-seller-ship.json', 'tmall/taobao-tmc-trade-success.json'];
    for (const f of ordered) expect(await postTmall(copy(fixture(f), '3'))).toEqual(TMALL_OK);
    expect(await postTmall(copy(fixture('tmall/taobao-tmc-consume-response-create-pay.json'), '4'))).toEqual(TMALL_OK);
    expect(await postTmall(copy(fixture('tmall/taobao-tmc-out-of-order-duplicate-batch.json'), '4'))).toEqual(TMALL_OK);

    const strip = (x: Item | undefined) =>
      stripped(x, ['firstSeenAt', 'updatedAt', 'version', 'gsi1pk', 'gsi1sk', 'memberId', 'pk', 'createdAt'], (text) =>
        text.replace(/387294152073843000[34]/g, 'TID').replace(/AAG-copy-[34]/g, 'BUYER'),
      );
    const o3 = await get(orderRowKey('tmall', SHOP, '3872941520738430003'));
    const o4 = await get(orderRowKey('tmall', SHOP, '3872941520738430004'));
    expect(o4).toMatchObject({ status: 'completed', platformStatus: 'TRADE_FINISHED', rank: 40, paidAt: PAID_AT, paidFen: 47_800, pointsEarned: 478 });
    expect(strip(o4)).toEqual(strip(o3));
    const m3 = await memberBy('tmall_buyer_open_uid', 'AAG-copy-3');
    const m4 = await memberBy('tmall_buyer_open_uid', 'AAG-copy-4');
    expect(m4).toMatchObject({ points: 478, orderCount: 1, gmvFen: 47_800 });
    expect(strip(m4)).toEqual(strip(m3));
    expect(await get(dedupeKey('tmall:7338450211904441188'))).toMatchObject({ type: 'order' });
  });
});

describe('JD relay', () => {
  const trigger = () => {
    const { _about, ...t } = JSON.parse(fixture('jd/jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json')) as Item;
    return t;
  };
  const detail = () => {
    const { _about, ...d } = JSON.parse(fixture('jd/jd-pop-order-enget-response.json')) as Item;
    return d;
  };
  const XID = 'o*AAS6FTma2YJqif6pTrgCzcqbNWI0ZggYmuZKiEc8KDR3y_ZMLAU';

  it('a signed trigger with its enGet detail → {"code":"0"}, the paid order and the buyer; a later thin trigger moves it to shipped', async () => {
    expect(await postJd(JSON.stringify({ ...trigger(), detail: detail() }))).toEqual(JD_OK);
    const order = await get(orderRowKey('jd', '10123456', '301234567890'));
    expect(order).toMatchObject({
      status: 'paid',
      platformStatus: 'WAIT_SELLER_STOCK_OUT',
      totalFen: 39_900,
      paidFen: 37_900,
      paidAt: cst('2024-11-11 00:00:39'),
      pointsEarned: 379,
      lines: [
        { lineId: '301234567890:100012345678', sku: 'SKU-0001-RED-M', quantity: 1, paidFen: null, title: '示例精华液 30ml' },
        { lineId: '301234567890:100012345679', sku: 'SKU-0003', quantity: 1, paidFen: null, title: '示例洁面乳 100g' },
      ],
    });
    const m = await memberBy('jd_xid', XID);
    expect(m).toMatchObject({ status: 'buyer', points: 379, orderCount: 1, gmvFen: 37_900 });
    expect(await memberBy('jd_open_id', 'nVbqJ6fYmC1z3s9Rk0pLwQ8xTt2uA7eH5dGiK4oM')).toEqual(m);
    expect(order!.memberId).toBe(m!.memberId);
    expect(await get(dedupeKey('jd:relay-6a6e0c1d-9b1f-4d7b-8c55-0e1f2a3b4c5d'))).toMatchObject({ type: 'order', memberId: m!.memberId });

    // The thin trigger (hint only) for the same order, relayed under its own message id.
    const thin = { ...trigger(), sourceMessageId: 'relay-ship-0002' };
    expect(await postJd(JSON.stringify(thin))).toEqual(JD_OK);
    expect(await get(orderRowKey('jd', '10123456', '301234567890'))).toMatchObject({
      status: 'shipped',
      platformStatus: 'WAIT_GOODS_RECEIVE_CONFIRM',
      totalFen: 39_900,
      paidFen: 37_900,
      paidAt: cst('2024-11-11 00:00:39'),
      pointsEarned: 379,
    });
    expect(await memberBy('jd_xid', XID)).toMatchObject({ points: 379, orderCount: 1 });
  });
});

describe('Youzan push', () => {
  const TID = 'E20241111000102034500012';
  const YZ = 'LnhGm4rh576452722916618240';
  const OPENID = 'oHIuujmVb-Rl-jrGsrSqSNPTAP-A';

  it('create, paid (full order, WeChat openid, phone), success and its redelivery, then RefundSuccess', async () => {
    for (const name of ['youzan-push-trade-create.json', 'youzan-push-trade-paid.json']) {
      const f = youzanFixture(name);
      expect(await postYouzan(f.body, f.type)).toEqual(YOUZAN_OK);
    }
    const order = await get(orderRowKey('youzan', '12345678', TID));
    expect(order).toMatchObject({ status: 'paid', totalFen: 51_800, paidFen: 47_800, paidAt: cst('2024-11-11 00:01:39'), pointsEarned: 478 });
    expect(order!.lines).toEqual([
      { lineId: '1539322365320644179', sku: 'SKU-0001-RED-M', title: '示例精华液 30ml', quantity: 1, paidFen: 27_692 },
      { lineId: '1539322365320644180', sku: 'SKU-0002', title: '示例面霜 50g', quantity: 1, paidFen: 20_108 },
    ]);
    const m = await memberBy('youzan_open_id', YZ);
    expect(m).toMatchObject({ points: 478, orderCount: 1, gmvFen: 47_800 });
    expect(order!.memberId).toBe(m!.memberId);
    // The openid and the phone (as its HMAC, never in clear) link to the same person.
    expect(await memberBy('wechat_openid', `${cfg().WECHAT_APP_ID}:${OPENID}`)).toEqual(m);
    expect(await memberBy('phone', hashPhone(normalisePhone('13700000000'), cfg().PHONE_HASH_SECRET))).toEqual(m);
    expect(JSON.stringify(m)).not.toContain('13700000000');

    const success = youzanFixture('youzan-push-trade-success.json');
    expect(await postYouzan(success.body, success.type)).toEqual(YOUZAN_OK);
    expect(await get(orderRowKey('youzan', '12345678', TID))).toMatchObject({ status: 'completed', platformStatus: 'TRADE_SUCCESS', paidAt: cst('2024-11-11 00:01:39') });
    // Youzan's redelivery of the same push (same msg_id, sendCount 2) has no effect at all.
    const before = await orderAndMember(orderRowKey('youzan', '12345678', TID), String(m!.memberId));
    const redelivery = youzanFixture('youzan-push-trade-success-redelivery.json');
    expect(await postYouzan(redelivery.body, redelivery.type)).toEqual(YOUZAN_OK);
    expect(await orderAndMember(orderRowKey('youzan', '12345678', TID), String(m!.memberId))).toEqual(before);

    const refund = youzanFixture('youzan-push-refund-success.json');
    expect(await postYouzan(refund.body, refund.type)).toEqual(YOUZAN_OK);
    expect(await get(orderRowKey('youzan', '12345678', TID))).toMatchObject({ status: 'completed', refundedFen: 27_692, pointsClawed: 276 });
    const after = await memberBy('youzan_open_id', YZ);
    expect(after).toMatchObject({ points: 202, orderCount: 1, gmvFen: 47_800 });
    expect((await ledgerOf(String(after!.memberId))).reduce((s, l) => s + Number(l.delta), 0)).toBe(202);
  });
});

// ------------------------------------------------------------------ refusals

describe('refused requests write nothing', () => {
  // Freshness is checked against the default window (300 s), not this file's history window.
  useDefaultWebhookWindow(hub);
  const STALE = 6 * 60_000; // beyond the 300 s window (the old ±10 min would have let it in)

  async function expectNothingWritten(before: number, keysToCheck: Key[]): Promise<void> {
    for (const k of keysToCheck) expect(await get(k), `${k.pk} must not exist`).toBeUndefined();
    expect(await itemCount()).toBe(before);
  }

  /** The body posted with each of `refusals` (tampered, stale, wrong secret) is refused: 401 bad_signature. */
  async function expectBadSignatures(post: (o: SignOptions) => Promise<Reply>, refusals: SignOptions[]): Promise<void> {
    for (const o of refusals) {
      const r = await post(o);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toMatchObject({ error: 'bad_signature' });
    }
  }

  function expectMalformed(r: Reply): void {
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: 'malformed_json' });
  }

  it('Tmall: tampered body, stale or future timestamp, wrong secret → 401; malformed JSON → 400', async () => {
    const body =
      `{"id":7338450211999000001,"topic":"taobao_trade_TradeBuyerPay","pub_time":"2024-11-11 09:00:00","user_id":${SHOP},` +
      `"content":"{\\"buyer_open_uid\\":\\"AAG-refused\\",\\"payment\\":\\"10.00\\",\\"status\\":\\"WAIT_SELLER_SEND_GOODS\\",\\"tid\\":3872941520999000001}"}`;
    const written = [orderRowKey('tmall', SHOP, '3872941520999000001'), identityKey('tmall_buyer_open_uid', 'AAG-refused'), dedupeKey('tmall:7338450211999000001')];
    const before = await itemCount();
    await expectBadSignatures((o) => postTmall(body, o), [
      { tamper: (b: string) => b.replace('10.00', '99.00') },
      { at: Date.now() - STALE },
      { at: Date.now() + STALE },
      { secret: 'not-the-app-secret' },
    ]);
    expectMalformed(await postTmall(body.slice(0, 60)));
    await expectNothingWritten(before, written);
    // The same body, correctly signed, is accepted: the refusals were the signatures'.
    expect(await postTmall(body)).toEqual(TMALL_OK);
    expect(await get(written[0]!)).toMatchObject({ paidFen: 1_000 });
  });

  it('JD: tampered body, stale timestamp, wrong secret → 401; malformed JSON → 400', async () => {
    const body = JSON.stringify({
      relay: 'jd-yunding-relay',
      platform: 'jd',
      venderId: '10123456',
      orderId: '309999000001',
      sourceMessageId: 'relay-refused-1',
      relayedAt: '2024-11-12T10:15:11+08:00',
      detail: { orderInfo: { orderId: '309999000001', venderId: '10123456', orderState: 'WAIT_SELLER_STOCK_OUT', orderPayment: '50.00', orderTotalPrice: '50.00', paymentConfirmTime: '2024-11-12 10:00:00', modified: '2024-11-12 10:00:01', xid_buyer: 'o*refused-xid' } },
    });
    const written = [orderRowKey('jd', '10123456', '309999000001'), identityKey('jd_xid', 'o*refused-xid'), dedupeKey('jd:relay-refused-1')];
    const before = await itemCount();
    await expectBadSignatures((o) => postJd(body, o), [{ tamper: (b: string) => b.replace('50.00', '5.00') }, { at: Date.now() - STALE }, { secret: 'not-the-jd-secret' }]);
    expectMalformed(await postJd('{"relay":"jd-yunding-relay","orderId":'));
    await expectNothingWritten(before, written);
    expect(await postJd(body)).toEqual(JD_OK);
    expect(await get(written[0]!)).toMatchObject({ paidFen: 5_000 });
  });

  it('Youzan: tampered body, wrong secret, missing Event-Sign → 401; malformed JSON → 400', async () => {
    const msg = encodeURIComponent(
      JSON.stringify({
        full_order_info: {
          order_info: { tid: 'E20249999000000000001', status: 'WAIT_SELLER_SEND_GOODS', pay_time: '2024-11-11 09:00:00', update_time: '2024-11-11 09:00:01' },
          buyer_info: { yz_open_id: 'yz-refused' },
          pay_info: { total_fee: '30.00', payment: '30.00' },
        },
      }),
    );
    const body = JSON.stringify({ client_id: cfg().YOUZAN_CLIENT_ID, id: 'E20249999000000000001', kdt_id: 12345678, msg, msg_id: 'refused-msg-1', sendCount: 1, status: 'WAIT_SELLER_SEND_GOODS', test: false, type: 'trade_TradePaid', version: 1731286801 });
    const written = [orderRowKey('youzan', '12345678', 'E20249999000000000001'), identityKey('youzan_open_id', 'yz-refused'), dedupeKey('youzan:refused-msg-1')];
    const before = await itemCount();
    await expectBadSignatures((o) => postYouzan(body, 'trade_TradePaid', o), [{ tamper: (b: string) => b.replace('"sendCount":1', '"sendCount":2') }, { secret: 'not-the-youzan-secret' }]);
    const unsigned = await send(`/youzan/${cfg().YOUZAN_CLIENT_ID}`, body, { 'event-type': 'trade_TradePaid' });
    expect(unsigned.status).toBe(401);
    expectMalformed(await postYouzan('{"client_id":"x","msg_id":', 'trade_TradePaid'));
    await expectNothingWritten(before, written);
    expect(await postYouzan(body, 'trade_TradePaid')).toEqual(YOUZAN_OK);
    expect(await get(written[0]!)).toMatchObject({ paidFen: 3_000 });
  });
});

// ------------------------------------------------------------------ shuffled replay

type Platform = 'tmall' | 'jd' | 'youzan';
type Run = { R: '1' | '2' | '3'; p: 'clean_' | 'shuf_' | 'mono_' };
const CLEAN: Run = { R: '1', p: 'clean_' };
const SHUF: Run = { R: '2', p: 'shuf_' };

interface OrderSpec {
  platform: Platform;
  n: number;
  buyer: number;
  payFen: number;
  totalFen: number;
  /** The model's final state. */
  exp: { status: string; platformStatus: string; totalFen: number; paidFen: number; refundedFen: number; paidAt?: number; member: boolean };
}

interface Msg {
  order: OrderSpec;
  seq: number;
  at: number;
  /** tmall: topic; youzan: type; jd: orderState */
  kind: string;
  status?: string;
  refund?: { n: number; feeFen: number; outcome: 'succeeded' | 'closed' };
  paidAt?: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const yuan = (fen: number) => `${Math.floor(fen / 100)}.${pad(fen % 100, 2)}`;
const ids = {
  tid: (r: Run, n: number) => `3872941521${r.R}${pad(n, 8)}`,
  tmc: (r: Run, k: number) => `7338450212${r.R}${pad(k, 8)}`,
  refund: (r: Run, n: number) => `2411238822${r.R}${pad(n, 8)}`,
  yzTid: (r: Run, n: number) => `E20261123${r.R}${pad(n, 10)}`,
  jdOrder: (r: Run, n: number) => `80123${r.R}${pad(n, 6)}`,
  ouid: (r: Run, b: number) => `${r.p}ouid_${b}`,
  openUid: (r: Run, b: number) => `AAG_${r.p}${b}`,
  xid: (r: Run, b: number) => `o*${r.p}xid_${b}`,
  yz: (r: Run, b: number) => `${r.p}yz_${b}`,
  fan: (r: Run, b: number) => `${r.p}oFan${b}`,
  phone: (r: Run, b: number) => `13${r.R}${pad(b, 8)}`,
  fanChannel: (r: Run) => `${r.p}ch_yz`,
};
const JD_SHOP = '10123456';
const YZ_SHOP = '12345678';
const orderId = (o: OrderSpec, r: Run) => (o.platform === 'tmall' ? ids.tid(r, o.n) : o.platform === 'jd' ? ids.jdOrder(r, o.n) : ids.yzTid(r, o.n));
const shopOf = (p: Platform) => (p === 'tmall' ? SHOP : p === 'jd' ? JD_SHOP : YZ_SHOP);
const LINKED = (b: number) => b >= 200 && b < 210;
const WITH_PHONE = (b: number) => b >= 210 && b < 216;

const S = 1000;
const H = 3600 * S;
const D = 24 * H;
// 10:00 in Shanghai, 30 days ago: recent enough that no points lot has expired.
const T0 = Math.floor(Date.now() / D) * D - 30 * D + 2 * H;
const RANK: Record<string, number> = { created: 10, paid: 20, shipped: 30, completed: 40, closed: 90, refunded: 90 };

/** Realistic order lifecycles for ~80 buyers until `target` messages exist; returns messages in event-time order. */
function scenario(target: number, seed: number): { orders: OrderSpec[]; msgs: Msg[] } {
  const rnd = seededRandom(seed);
  const orders: OrderSpec[] = [];
  const msgs: Msg[] = [];
  let refunds = 0;
  const counters: Record<Platform, number> = { tmall: 0, jd: 0, youzan: 0 };
  // Every buyer orders at least once (in a shuffled order of buyers), then at random.
  const everyone: [Platform, number][] = [
    ...Array.from({ length: 35 }, (_, i): [Platform, number] => ['tmall', i]),
    ...Array.from({ length: 20 }, (_, i): [Platform, number] => ['jd', 100 + i]),
    ...Array.from({ length: 25 }, (_, i): [Platform, number] => ['youzan', 200 + i]),
  ];
  shuffle(everyone, seed + 1);
  while (msgs.length < target) {
    let platform: Platform;
    let buyer: number;
    const first = everyone[orders.length];
    if (first) [platform, buyer] = first;
    else {
      const r = rnd();
      platform = r < 0.5 ? 'tmall' : r < 0.8 ? 'youzan' : 'jd';
      buyer = platform === 'tmall' ? Math.floor(rnd() * 35) : platform === 'jd' ? 100 + Math.floor(rnd() * 20) : 200 + Math.floor(rnd() * 25);
    }
    const payFen = 990 + Math.floor(rnd() * 60_000);
    const totalFen = platform === 'tmall' ? payFen : payFen + Math.floor(rnd() * 3_000);
    const o: OrderSpec = {
      platform,
      n: ++counters[platform],
      buyer,
      payFen,
      totalFen,
      exp: { status: 'created', platformStatus: '', totalFen: platform === 'youzan' ? 0 : totalFen, paidFen: 0, refundedFen: 0, member: platform !== 'youzan', rank: 0 } as OrderSpec['exp'] & { rank: number },
    };
    orders.push(o);
    const t = T0 + Math.floor(rnd() * 20 * 86_400) * S;
    const exp = o.exp as OrderSpec['exp'] & { rank: number; statusAt?: number };
    const add = (m: Omit<Msg, 'order' | 'seq'>, status?: string, platformStatus?: string) => {
      msgs.push({ ...m, order: o, seq: msgs.length });
      if (status && (RANK[status]! > exp.rank || (RANK[status] === exp.rank && m.at > (exp.statusAt ?? 0)))) {
        exp.status = status;
        exp.rank = RANK[status]!;
        exp.platformStatus = platformStatus!;
        exp.statusAt = m.at;
      }
    };
    const pay = (at: number, paidAt: number) => {
      exp.paidFen = payFen;
      exp.totalFen = totalFen;
      if (exp.paidAt === undefined || paidAt < exp.paidAt) exp.paidAt = paidAt;
      exp.member = true;
      void at;
    };
    const refund = (at: number, feeFen: number, outcome: 'succeeded' | 'closed') => {
      const n = ++refunds;
      const [created, done] = platform === 'tmall' ? ['taobao_refund_RefundCreated', outcome === 'succeeded' ? 'taobao_refund_RefundSuccess' : 'taobao_refund_RefundClosed'] : ['trade_refund_BuyerCreated', outcome === 'succeeded' ? 'trade_refund_RefundSuccess' : 'trade_refund_RefundClosed'];
      add({ at, kind: created, refund: { n, feeFen, outcome } });
      add({ at: at + D, kind: done, refund: { n, feeFen, outcome } });
      if (outcome === 'succeeded') exp.refundedFen += feeFen;
    };

    if (platform !== 'jd') {
      // TMC and Youzan: the same lifecycle under each platform's message names and statuses.
      const tm = platform === 'tmall';
      const kind = (name: string) => (tm ? `taobao_trade_${name}` : `trade_${name}`);
      add({ at: t, kind: kind('TradeCreate'), status: 'WAIT_BUYER_PAY' }, 'created', 'WAIT_BUYER_PAY');
      if (rnd() < 0.12) {
        const closed = tm ? 'TRADE_CLOSED_BY_TAOBAO' : 'TRADE_CLOSED';
        add({ at: t + 30 * 60 * S, kind: kind('TradeClose'), status: closed }, 'closed', closed);
        continue;
      }
      const paidAt = t + (60 + Math.floor(rnd() * 1200)) * S;
      // Youzan's paid push follows a second later and names the payment time.
      if (tm) add({ at: paidAt, kind: kind('TradeBuyerPay'), status: 'WAIT_SELLER_SEND_GOODS' }, 'paid', 'WAIT_SELLER_SEND_GOODS');
      else add({ at: paidAt + S, kind: kind('TradePaid'), status: 'WAIT_SELLER_SEND_GOODS', paidAt }, 'paid', 'WAIT_SELLER_SEND_GOODS');
      pay(tm ? paidAt : paidAt + S, paidAt);
      if (rnd() < 0.12) {
        refund(paidAt + H, payFen, 'succeeded');
        // A thin Youzan TradeClose carries no payment evidence: the hub knows the order was paid.
        add({ at: paidAt + H + D + S, kind: kind('TradeClose'), status: 'TRADE_CLOSED' }, 'refunded', 'TRADE_CLOSED');
        continue;
      }
      if (rnd() < 0.85) {
        const done = tm ? 'TRADE_FINISHED' : 'TRADE_SUCCESS';
        add({ at: paidAt + D, kind: kind('TradeSellerShip'), status: 'WAIT_BUYER_CONFIRM_GOODS' }, 'shipped', 'WAIT_BUYER_CONFIRM_GOODS');
        if (rnd() < 0.8) add({ at: paidAt + 6 * D, kind: kind('TradeSuccess'), status: done }, 'completed', done);
      }
      const r2 = rnd();
      if (r2 < 0.22) refund(paidAt + 2 * D, 100 + Math.floor(rnd() * (payFen - 100)), 'succeeded');
      else if (r2 < 0.3) refund(paidAt + 2 * D, payFen, 'closed');
    } else {
      add({ at: t, kind: 'NOT_PAY' }, 'created', 'NOT_PAY');
      if (rnd() < 0.12) {
        add({ at: t + 30 * 60 * S, kind: 'TRADE_CANCELED' }, 'closed', 'TRADE_CANCELED');
        continue;
      }
      const paidAt = t + (60 + Math.floor(rnd() * 1200)) * S;
      add({ at: paidAt + S, kind: 'WAIT_SELLER_STOCK_OUT', paidAt }, 'paid', 'WAIT_SELLER_STOCK_OUT');
      pay(paidAt + S, paidAt);
      if (rnd() < 0.1) {
        // Cancelled after payment: JD sends no refund message, the whole amount goes back.
        add({ at: paidAt + H, kind: 'TRADE_CANCELED', paidAt }, 'refunded', 'TRADE_CANCELED');
        continue;
      }
      if (rnd() < 0.85) {
        add({ at: paidAt + D, kind: 'WAIT_GOODS_RECEIVE_CONFIRM', paidAt }, 'shipped', 'WAIT_GOODS_RECEIVE_CONFIRM');
        if (rnd() < 0.8) add({ at: paidAt + 5 * D, kind: 'FINISHED_L', paidAt }, 'completed', 'FINISHED_L');
      }
    }
  }
  for (const o of orders) {
    const e = o.exp as OrderSpec['exp'] & { rank?: number; statusAt?: number };
    delete e.rank;
    delete e.statusAt;
  }
  return { orders, msgs: msgs.sort((a, b) => a.at - b.at || a.seq - b.seq) };
}

/** The request a platform sends for one message in one run (`sendCount` > 1 for a Youzan re-push). */
function deliver(m: Msg, run: Run, sendCount = 1): Promise<Reply> {
  const o = m.order;
  const oid = orderId(o, run);
  const time = formatChinaTime(m.at);
  if (o.platform === 'tmall') {
    const buyer = `\\"buyer_nick\\":\\"t**${o.buyer}\\",\\"buyer_open_uid\\":\\"${ids.openUid(run, o.buyer)}\\",\\"ouid\\":\\"${ids.ouid(run, o.buyer)}\\"`;
    const content = m.refund
      ? `{${buyer},\\"modified\\":\\"${time}\\",\\"oid\\":${oid},\\"refund_fee\\":\\"${yuan(m.refund.feeFen)}\\",\\"refund_id\\":${ids.refund(run, m.refund.n)},\\"refund_phase\\":\\"onsale\\",\\"tid\\":${oid}}`
      : `{${buyer},\\"oid\\":${oid},\\"payment\\":\\"${yuan(o.payFen)}\\",\\"status\\":\\"${m.status}\\",\\"tid\\":${oid},\\"type\\":\\"fixed\\"}`;
    return postTmall(
      `{"id":${ids.tmc(run, m.seq)},"topic":"${m.kind}","pub_app_key":"12497914","pub_time":"${time}","user_id":${SHOP},"user_nick":"示例品牌官方旗舰店","content":"${content}"}`,
    );
  }
  if (o.platform === 'jd') {
    const paid = m.paidAt !== undefined;
    const body = {
      relay: 'jd-yunding-relay',
      platform: 'jd',
      venderId: JD_SHOP,
      orderId: oid,
      hint: { orderState: m.kind, modified: time },
      sourceMessageId: `${run.p}relay_${m.seq}`,
      relayedAt: formatChinaTime(m.at + 2 * S),
      detail: {
        orderInfo: {
          orderId: oid,
          venderId: JD_SHOP,
          orderState: m.kind,
          orderTotalPrice: yuan(o.totalFen),
          orderPayment: yuan(o.payFen),
          paymentConfirmTime: paid ? formatChinaTime(m.paidAt!) : '0001-01-01 00:00:00',
          modified: time,
          xid_buyer: ids.xid(run, o.buyer),
          itemInfoList: [{ skuId: `1000${o.n % 7}`, outerSkuId: `SKU-${o.n % 7}`, skuName: '示例精华液 30ml', itemTotal: '1' }],
        },
      },
    };
    return postJd(JSON.stringify(body));
  }
  let msg: Record<string, unknown>;
  if (m.refund) {
    msg = { tid: oid, refund_id: `${run.p}yzrefund_${m.refund.n}`, refunded_fee: yuan(m.refund.feeFen), refund_type: 'REFUND_ONLY', update_time: time };
  } else if (m.kind === 'trade_TradePaid') {
    msg = {
      full_order_info: {
        order_info: { tid: oid, status: m.status, created: formatChinaTime(m.paidAt! - 60 * S), pay_time: formatChinaTime(m.paidAt!), update_time: time, order_tags: { is_payed: true } },
        buyer_info: {
          yz_open_id: ids.yz(run, o.buyer),
          ...(LINKED(o.buyer) ? { outer_user_id: ids.fan(run, o.buyer) } : {}),
          ...(WITH_PHONE(o.buyer) ? { buyer_phone: ids.phone(run, o.buyer) } : {}),
        },
        pay_info: { total_fee: yuan(o.totalFen), post_fee: '0.00', payment: yuan(o.payFen) },
        orders: [{ oid: `${oid}01`, outer_sku_id: `SKU-${o.n % 5}`, title: '示例面霜 50g', num: 1, payment: yuan(o.payFen) }],
      },
    };
  } else {
    msg = { tid: oid, status: m.status, update_time: time };
  }
  const body = JSON.stringify({
    client_id: cfg().YOUZAN_CLIENT_ID,
    id: oid,
    kdt_id: Number(YZ_SHOP),
    kdt_name: '示例品牌有赞店',
    msg: encodeURIComponent(JSON.stringify(msg)).replace(/%20/g, '+'),
    msg_id: `${run.p}msg_${m.seq}`,
    sendCount,
    status: m.status ?? '',
    test: false,
    type: m.kind,
    version: Math.floor(m.at / 1000),
  });
  return postYouzan(body, m.kind);
}

/** Strings with a run's ids → the canonical form shared by both runs. */
const RUN_DIGIT = /(?<=^|[:#])(3872941521|2411238822|E20261123|80123)[12](?=\d)/g;
const canonText = (text: string) => text.replace(/(clean|shuf)_/g, '').replace(RUN_DIGIT, '$1X');
const canon = <T>(v: T): T => mapStrings(v, canonText);

describe('an order status only moves forward, even when the lower status carries the newer timestamp', () => {
  // A completed order, then a late lower-rank message whose platform time (TMC pub_time, Youzan
  // update_time, JD modified) is LATER than the completion's: the higher status wins, the later
  // timestamp does not. (In the shuffled scenario below timestamps rise with status, so only
  // this test tells "higher status wins" from "later message wins".)
  const MONO: Run = { R: '3', p: 'mono_' };
  const PAY_AT = T0 + 3 * H;
  const spec = (platform: Platform, buyer: number): OrderSpec => ({
    platform,
    n: buyer,
    buyer,
    payFen: 12_300,
    totalFen: 12_300,
    exp: { status: '', platformStatus: '', totalFen: 0, paidFen: 0, refundedFen: 0, member: true },
  });
  const steps: Record<Platform, { paid: Omit<Msg, 'order' | 'seq'>; completed: Omit<Msg, 'order' | 'seq'>; lateShip: Omit<Msg, 'order' | 'seq'>; done: string }> = {
    tmall: {
      paid: { at: PAY_AT, kind: 'taobao_trade_TradeBuyerPay', status: 'WAIT_SELLER_SEND_GOODS' },
      completed: { at: PAY_AT + 6 * D, kind: 'taobao_trade_TradeSuccess', status: 'TRADE_FINISHED' },
      lateShip: { at: PAY_AT + 7 * D, kind: 'taobao_trade_TradeSellerShip', status: 'WAIT_BUYER_CONFIRM_GOODS' },
      done: 'TRADE_FINISHED',
    },
    youzan: {
      paid: { at: PAY_AT + S, kind: 'trade_TradePaid', status: 'WAIT_SELLER_SEND_GOODS', paidAt: PAY_AT },
      completed: { at: PAY_AT + 6 * D, kind: 'trade_TradeSuccess', status: 'TRADE_SUCCESS' },
      lateShip: { at: PAY_AT + 7 * D, kind: 'trade_TradeSellerShip', status: 'WAIT_BUYER_CONFIRM_GOODS' },
      done: 'TRADE_SUCCESS',
    },
    jd: {
      paid: { at: PAY_AT + S, kind: 'WAIT_SELLER_STOCK_OUT', paidAt: PAY_AT },
      completed: { at: PAY_AT + 5 * D, kind: 'FINISHED_L', paidAt: PAY_AT },
      lateShip: { at: PAY_AT + 7 * D, kind: 'WAIT_GOODS_RECEIVE_CONFIRM', paidAt: PAY_AT },
      done: 'FINISHED_L',
    },
  };
  const markerKey = (o: OrderSpec, seq: number) =>
    o.platform === 'tmall' ? dedupeKey(`tmall:${ids.tmc(MONO, seq)}`) : o.platform === 'jd' ? dedupeKey(`jd:${MONO.p}relay_${seq}`) : dedupeKey(`youzan:${MONO.p}msg_${seq}`);
  const ok = (p: Platform) => (p === 'tmall' ? TMALL_OK : p === 'jd' ? JD_OK : YOUZAN_OK);

  it.each([
    ['tmall', 901, 0],
    ['youzan', 902, 10],
    ['jd', 903, 20],
  ] as const)('%s: a shipping message stamped after the completion leaves the order completed', async (platform, buyer, seq0) => {
    const o = spec(platform, buyer);
    const step = steps[platform];
    const orderKey = orderRowKey(platform, shopOf(platform), orderId(o, MONO));
    expect(await deliver({ ...step.paid, order: o, seq: seq0 }, MONO)).toEqual(ok(platform));
    expect(await get(orderKey)).toMatchObject({ status: 'paid', paidFen: 12_300, paidAt: PAY_AT });
    expect(await deliver({ ...step.completed, order: o, seq: seq0 + 1 }, MONO)).toEqual(ok(platform));
    const completed = await get(orderKey);
    expect(completed).toMatchObject({ status: 'completed', platformStatus: step.done, statusAt: step.completed.at, pointsEarned: 123 });

    expect(step.lateShip.at).toBeGreaterThan(step.completed.at);
    expect(await deliver({ ...step.lateShip, order: o, seq: seq0 + 2 }, MONO)).toEqual(ok(platform));
    // Applied (its own dedupe marker), yet the order is what the completion made it.
    expect(await get(markerKey(o, seq0 + 2))).toMatchObject({ type: 'order', result: { orderStatus: 'completed' } });
    const after = await get(orderKey);
    expect(after).toMatchObject({ status: 'completed', platformStatus: step.done, statusAt: step.completed.at, rank: 40 });
    expect(omitKeys(after!, ['version', 'updatedAt'])).toEqual(omitKeys(completed!, ['version', 'updatedAt']));
  });
});

describe('shuffled replay with duplicates', () => {
  it('~500 TMC / Youzan / JD messages for 80 buyers, 30 % duplicates, shuffled: same orders, members, points ledgers and counters as a clean ordered run', async () => {
    const { orders, msgs } = scenario(350, 2026);
    const dupes = pick(msgs, 150, 11);
    const shuffled = [...msgs.map((m) => ({ m, sendCount: 1 })), ...dupes.map((m) => ({ m, sendCount: 2 }))];
    shuffle(shuffled, 5);
    expect(shuffled.length).toBeGreaterThanOrEqual(500);
    expect(new Set(msgs.map((m) => m.order.buyer)).size).toBe(80);

    const fanBuyers = [...new Set(orders.filter((o) => LINKED(o.buyer)).map((o) => o.buyer))];
    expect(fanBuyers.length).toBeGreaterThanOrEqual(5);
    const follow = async (run: Run) => {
      for (const b of fanBuyers) {
        const req = signedPush(
          { from: ids.fan(run, b), createTime: Math.floor((T0 - D) / 1000) + b, msgType: 'event', event: 'subscribe', eventKey: `qrscene_${ids.fanChannel(run)}` },
          configuredAccount(),
        );
        expect((await postPush(hub.url, req, { 'content-type': 'text/xml' })).status).toBe(200);
      }
    };
    const refunds = [...new Map(msgs.filter((m) => m.refund).map((m) => [m.refund!.n, m])).values()];
    const refundIdOf = (m: Msg, run: Run) => (m.order.platform === 'tmall' ? ids.refund(run, m.refund!.n) : `${run.p}yzrefund_${m.refund!.n}`);
    const ok = (p: Platform) => (p === 'tmall' ? TMALL_OK : p === 'jd' ? JD_OK : YOUZAN_OK);
    const platformChannels = ['tmall', 'jd', 'youzan'];

    const s0 = await counterTotals(platformChannels);
    // Clean run: event-time order per buyer (8 buyers' lanes in parallel).
    await follow(CLEAN);
    const lanes = Array.from({ length: 8 }, (_, i) => msgs.filter((m) => m.order.buyer % 8 === i));
    await Promise.all(
      lanes.map(async (lane) => {
        for (const m of lane) expect(await deliver(m, CLEAN)).toEqual(ok(m.order.platform));
      }),
    );
    const s1 = await counterTotals(platformChannels);
    // Shuffled run with re-deliveries, 8 requests in flight.
    await follow(SHUF);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < shuffled.length; i = next++) {
          const { m, sendCount } = shuffled[i]!;
          expect(await deliver(m, SHUF, sendCount)).toEqual(ok(m.order.platform));
        }
      }),
    );
    const s2 = await counterTotals(platformChannels);

    // --- the model: points per yuan paid, refunds reverse the refunded amount, status never back
    const perYuan = cfg().HUB_POINTS_PER_YUAN;
    const points = (fen: number) => Math.floor(fen / 100) * perYuan;
    const expOrder = (o: OrderSpec) => {
      const earned = o.exp.paidAt !== undefined ? points(o.exp.paidFen) : 0;
      const basis = o.exp.status === 'refunded' ? Math.max(o.exp.refundedFen, o.exp.paidFen) : o.exp.refundedFen;
      return { ...o.exp, earned, clawed: Math.min(earned, points(basis)) };
    };
    const buyers = [...new Set(orders.map((o) => `${o.platform}:${o.buyer}`))].map((k) => {
      const [platform, b] = k.split(':') as [Platform, string];
      return { platform, b: Number(b) };
    });
    const memberOf = (platform: Platform, b: number, run: Run) =>
      platform === 'tmall' ? memberBy('tmall_ouid', ids.ouid(run, b)) : platform === 'jd' ? memberBy('jd_xid', ids.xid(run, b)) : memberBy('youzan_open_id', ids.yz(run, b));

    const snapshot = async (run: Run) => {
      const members = new Map<string, Item | undefined>();
      for (const { platform, b } of buyers) {
        let m = await memberOf(platform, b, run);
        if (LINKED(b)) {
          const fan = await memberBy('wechat_openid', `${cfg().WECHAT_APP_ID}:${ids.fan(run, b)}`);
          if (m) expect(m.memberId, `buyer ${b} is the WeChat fan`).toBe(fan!.memberId);
          m ??= fan;
        }
        members.set(`${platform}:${b}`, m);
      }
      const orderItems = await Promise.all(orders.map((o) => get(orderRowKey(o.platform, shopOf(o.platform), orderId(o, run)))));
      const ledgers = new Map<string, Item[]>();
      for (const [k, m] of members) if (m) ledgers.set(k, await ledgerOf(String(m.memberId)));
      const refundRows = await Promise.all(refunds.map((m) => get(refundKey(m.order.platform, refundIdOf(m, run)))));
      return { members, orderItems, ledgers, refundRows };
    };
    const clean = await snapshot(CLEAN);
    expect(refunds.filter((m) => m.refund!.outcome === 'closed').length).toBeGreaterThan(0);
    const shuf = await snapshot(SHUF);

    for (const [run, snap] of [
      [CLEAN, clean],
      [SHUF, shuf],
    ] as const) {
      // Orders against the model: the same fields, read from the table and from the model.
      const view = (o: OrderSpec, v: Record<string, unknown>) => ({
        order: `${o.platform}:${o.n}`,
        status: v.status,
        platformStatus: v.platformStatus,
        totalFen: v.totalFen,
        paidFen: v.paidFen,
        refundedFen: v.refundedFen,
        paidAt: v.paidAt,
        earned: v.earned,
        clawed: v.clawed,
        member: v.member,
      });
      const got = orders.map((o, i) => {
        const it = snap.orderItems[i];
        const owner = snap.members.get(`${o.platform}:${o.buyer}`);
        return view(o, { ...it, earned: it?.pointsEarned, clawed: it?.pointsClawed, member: it?.memberId !== undefined && it.memberId === owner?.memberId });
      });
      const want = orders.map((o) => view(o, expOrder(o)));
      expect(got, `orders of the ${run.p} run`).toEqual(want);

      // Refund rows: a settled refund never goes back to `requested`, and keeps its amount.
      expect(
        snap.refundRows.map((r) => ({ status: r?.status, refundFen: r?.refundFen, orderId: r?.orderId })),
        `refunds of the ${run.p} run`,
      ).toEqual(refunds.map((m) => ({ status: m.refund!.outcome, refundFen: m.refund!.feeFen, orderId: orderId(m.order, run) })));

      // Members against the model; the ledger always sums to the balance.
      for (const { platform, b } of buyers) {
        const mine = orders.filter((o) => o.platform === platform && o.buyer === b);
        const paid = mine.filter((o) => o.exp.paidAt !== undefined);
        const m = snap.members.get(`${platform}:${b}`);
        if (!m) {
          expect(paid.length, `${run.p} buyer ${platform}:${b} has a member`).toBe(0);
          expect(platform).toBe('youzan');
          continue;
        }
        expect({
          points: m.points,
          orderCount: m.orderCount,
          gmvFen: m.gmvFen,
          o: (m.h as { o: unknown }).o,
          status: m.status,
        }).toEqual({
          points: mine.reduce((s, o) => s + expOrder(o).earned - expOrder(o).clawed, 0),
          orderCount: paid.length,
          gmvFen: paid.reduce((s, o) => s + o.exp.paidFen, 0),
          o: paid
            .map((o) => [`${o.platform}:${shopOf(o.platform)}:${orderId(o, run)}`, o.exp.paidAt, o.exp.paidFen, o.platform])
            .sort((x, y) => Number(x[1]) - Number(y[1]) || (String(x[0]) < String(y[0]) ? -1 : 1)),
          status: LINKED(b) ? 'fan' : 'buyer',
        });
        const ledger = snap.ledgers.get(`${platform}:${b}`) ?? [];
        expect(ledger.reduce((s, l) => s + Number(l.delta), 0), `${run.p} ledger of ${platform}:${b}`).toBe(m.points);
        const lots = await queryAll(keys.memberPartition(String(m.memberId)), 'LOT#');
        expect(lots.reduce((s, l) => s + Number(l.remaining), 0), `${run.p} lots of ${platform}:${b}`).toBe(m.points);
      }
    }

    // The two runs agree on every order, refund-bearing order and member, beyond the model's fields.
    const stripOrder = (it: Item | undefined, snap: typeof clean) => {
      if (!it) return it;
      const { memberId, ...rest } = omitKeys(it, ['firstSeenAt', 'updatedAt', 'version', 'gsi1pk', 'gsi1sk', 'pk', 'sk']);
      const owner = [...snap.members].find(([, m]) => m?.memberId === memberId)?.[0];
      return canon({ ...rest, owner });
    };
    expect(shuf.orderItems.map((it) => stripOrder(it, shuf))).toEqual(clean.orderItems.map((it) => stripOrder(it, clean)));
    const stripMember = (m: Item | undefined) => stripped(m, ['memberId', 'createdAt', 'updatedAt', 'version', 'pk', 'sk', 'gsi1pk', 'gsi1sk'], canonText);
    for (const k of clean.members.keys()) expect(stripMember(shuf.members.get(k)), `member ${k}`).toEqual(stripMember(clean.members.get(k)));

    // Ledgers: the same points per order and reason (the steps may differ with arrival order).
    const ledgerSums = (snap: typeof clean) => {
      const out: Record<string, number> = {};
      for (const [k, rows] of snap.ledgers) {
        for (const l of rows) {
          const key = `${k}|${String(l.reason)}|${canon(String(l.ref).replace(/#\d+$/, ''))}`;
          out[key] = (out[key] ?? 0) + Number(l.delta);
        }
      }
      return out;
    };
    const cleanSums = ledgerSums(clean);
    expect(ledgerSums(shuf)).toEqual(cleanSums);
    expect(Object.values(cleanSums).some((v) => v < 0)).toBe(true); // refunds were exercised

    // Counters: the shuffled run added exactly what the clean run added.
    const cleanAdded = diffTotals(s1, s0);
    expect(diffTotals(s2, s1)).toEqual(cleanAdded);
    for (const p of platformChannels) expect(Object.keys(cleanAdded).some((k) => k.startsWith(`${p}|first#`) && k.endsWith(':orders'))).toBe(true);
    const fanTotals = await counterTotals([ids.fanChannel(CLEAN)]);
    expect(canon(await counterTotals([ids.fanChannel(SHUF)]))).toEqual(canon(fanTotals));
    expect(Object.keys(fanTotals).some((k) => k.endsWith(':gmvFen'))).toBe(true);
  }, 120_000);
});
