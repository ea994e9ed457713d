import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { HubEvent } from '../../lib/events/hub-event.ts';
import { decodeYouzanMsg, normaliseYouzanPush } from '../../lib/sources/youzan/normalise.ts';

interface Fixture {
  headers: Record<string, string>;
  rawBody: string;
  body: Record<string, unknown>;
  decodedMsg: Record<string, unknown>;
}
const load = (f: string) => JSON.parse(readFileSync(new URL(`../../events/youzan/${f}`, import.meta.url), 'utf8')) as Fixture;
const cst = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h - 8, mi, s);
const TID = 'E20241111000102034500012';
const WX = 'wx5823bf96d3bd56c7';

/** Re-encode a msg object the way Youzan does (URL-encoded JSON). */
const encodeMsg = (msg: unknown) => encodeURIComponent(JSON.stringify(msg));
const pushWith = (f: string, patch: Record<string, unknown>) => JSON.stringify({ ...load(f).body, ...patch });

describe('Youzan fixtures', () => {
  it('trade_TradeCreate → created order, nothing paid', () => {
    expect(normaliseYouzanPush(load('youzan-push-trade-create.json').rawBody)).toEqual({
      msgId: '1d2ba0ac-e08a-4979-bcdb-72b091088d3e',
      type: 'trade_TradeCreate',
      test: false,
      event: {
        eventId: 'youzan:1d2ba0ac-e08a-4979-bcdb-72b091088d3e',
        occurredAt: cst(2024, 11, 11, 0, 1, 2),
        source: 'youzan',
        platform: 'youzan',
        type: 'order',
        shopId: '12345678',
        orderId: TID,
        buyer: [],
        status: 'created',
        platformStatus: 'WAIT_BUYER_PAY',
        totalFen: 0,
        paidFen: 0,
        lines: [],
        topic: 'trade_TradeCreate',
      },
    });
  });

  it('trade_TradePaid → paid order with amounts, lines, buyer keys; phone returned apart', () => {
    const out = normaliseYouzanPush(load('youzan-push-trade-paid.json').rawBody, { wechatAppId: WX, clientId: '6a0b1b2c3d4e5f6a7b' });
    expect(out).toEqual({
      msgId: 'a1d466ad-f9db-4a58-b805-f2a4dd65fa56',
      type: 'trade_TradePaid',
      test: false,
      phone: '13700000000',
      event: {
        eventId: 'youzan:a1d466ad-f9db-4a58-b805-f2a4dd65fa56',
        occurredAt: cst(2024, 11, 11, 0, 1, 40),
        source: 'youzan',
        platform: 'youzan',
        type: 'order',
        shopId: '12345678',
        orderId: TID,
        buyer: [
          { kind: 'youzan_open_id', value: 'LnhGm4rh576452722916618240' },
          { kind: 'wechat_openid', value: `${WX}:oHIuujmVb-Rl-jrGsrSqSNPTAP-A` },
        ],
        status: 'paid',
        platformStatus: 'WAIT_SELLER_SEND_GOODS',
        totalFen: 51800,
        paidFen: 47800,
        paidAt: cst(2024, 11, 11, 0, 1, 39),
        lines: [
          { lineId: '1539322365320644179', sku: 'SKU-0001-RED-M', title: '示例精华液 30ml', quantity: 1, paidFen: 27692 },
          { lineId: '1539322365320644180', sku: 'SKU-0002', title: '示例面霜 50g', quantity: 1, paidFen: 20108 },
        ],
        topic: 'trade_TradePaid',
      },
    });
    expect(JSON.stringify(out.event)).not.toContain('13700000000');
  });

  it('without YOUZAN_WECHAT_APP_ID the outer_user_id is a Youzan-scoped identity of the shop, never an official-account openid', () => {
    const out = normaliseYouzanPush(load('youzan-push-trade-paid.json').rawBody);
    expect(out.event?.buyer).toEqual([
      { kind: 'youzan_open_id', value: 'LnhGm4rh576452722916618240' },
      { kind: 'youzan_outer_user_id', value: '12345678:oHIuujmVb-Rl-jrGsrSqSNPTAP-A' },
    ]);
    expect(out.phone).toBe('13700000000');
  });

  it('trade_TradeSuccess → completed', () => {
    expect(normaliseYouzanPush(load('youzan-push-trade-success.json').rawBody)).toEqual({
      msgId: '9cb85c3d-8353-4e80-b24b-eb670eb52775',
      type: 'trade_TradeSuccess',
      test: false,
      event: {
        eventId: 'youzan:9cb85c3d-8353-4e80-b24b-eb670eb52775',
        occurredAt: cst(2024, 11, 20, 10, 2, 33),
        source: 'youzan',
        platform: 'youzan',
        type: 'order',
        shopId: '12345678',
        orderId: TID,
        buyer: [],
        status: 'completed',
        platformStatus: 'TRADE_SUCCESS',
        totalFen: 0,
        paidFen: 0,
        lines: [],
        topic: 'trade_TradeSuccess',
      },
    });
  });

  it('a redelivery (sendCount 2) reproduces the same event', () => {
    const first = normaliseYouzanPush(load('youzan-push-trade-success.json').rawBody);
    const again = normaliseYouzanPush(load('youzan-push-trade-success-redelivery.json').rawBody);
    expect(again).toEqual(first);
  });

  it('trade_refund_RefundSuccess → succeeded refund (decimal refunded_fee never a float)', () => {
    expect(normaliseYouzanPush(load('youzan-push-refund-success.json').rawBody)).toEqual({
      msgId: '6dc15f0b-8682-4812-b635-ab66e199f331',
      type: 'trade_refund_RefundSuccess',
      test: false,
      event: {
        eventId: 'youzan:6dc15f0b-8682-4812-b635-ab66e199f331',
        occurredAt: cst(2024, 11, 14, 9, 0, 12),
        source: 'youzan',
        platform: 'youzan',
        type: 'refund',
        shopId: '12345678',
        orderId: TID,
        buyer: [],
        refundId: '201911111111111111',
        status: 'succeeded',
        refundFen: 27692,
        topic: 'trade_refund_RefundSuccess',
      },
    });
  });

  it('decoded msg matches the fixture decodedMsg (+ is a space; numbers kept as exact text)', () => {
    /** Numbers compared by their text: the lossless decoder keeps ids and decimals as strings. */
    const canon = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(canon)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]))
          : typeof v === 'number'
            ? String(v)
            : v;
    for (const f of ['youzan-push-trade-create.json', 'youzan-push-trade-paid.json', 'youzan-push-refund-success.json']) {
      const fx = load(f);
      expect(canon(decodeYouzanMsg(fx.body['msg']))).toEqual(canon(fx.decodedMsg));
    }
  });

  it('every fixture event passes the HubEvent schema', () => {
    for (const f of ['youzan-push-trade-create.json', 'youzan-push-trade-paid.json', 'youzan-push-trade-success.json', 'youzan-push-refund-success.json']) {
      const e = normaliseYouzanPush(load(f).rawBody, { wechatAppId: WX }).event;
      expect(HubEvent.parse(e)).toEqual(e);
    }
  });
});

describe('Youzan status rules', () => {
  it('TRADE_CLOSED without payment → closed; with pay_time → refunded', () => {
    const unpaid = pushWith('youzan-push-trade-create.json', {
      type: 'trade_TradeClose',
      status: 'TRADE_CLOSED',
      msg: encodeMsg({ tid: TID, status: 'TRADE_CLOSED', update_time: '2024-11-11 00:31:00' }),
    });
    expect(normaliseYouzanPush(unpaid).event).toMatchObject({ status: 'closed', paidFen: 0 });
    const paid = pushWith('youzan-push-trade-create.json', {
      type: 'trade_TradeClose',
      status: 'TRADE_CLOSED',
      msg: encodeMsg({ tid: TID, status: 'TRADE_CLOSED', pay_time: '2024-11-11 00:01:39', update_time: '2024-11-12 00:00:00' }),
    });
    expect(normaliseYouzanPush(paid).event).toMatchObject({ status: 'refunded', paidAt: cst(2024, 11, 11, 0, 1, 39) });
  });

  it('no status anywhere → implied by type', () => {
    const body = pushWith('youzan-push-trade-create.json', { type: 'trade_TradeSellerShip', status: '', msg: encodeMsg({ tid: TID, update_time: '2024-11-12 00:00:00' }) });
    expect(normaliseYouzanPush(body).event).toMatchObject({ status: 'shipped', platformStatus: '' });
  });

  it('unknown status and type → event null; other types → event null', () => {
    expect(normaliseYouzanPush(pushWith('youzan-push-trade-create.json', { type: 'trade_TradeMemoChanged', status: 'NEW_THING', msg: encodeMsg({ tid: TID }) })).event).toBeNull();
    const other = normaliseYouzanPush(pushWith('youzan-push-trade-create.json', { type: 'OPEN_PUSH_SCRM_CUSTOMER_AUTH_MOBILE', msg: '' }));
    expect(other).toEqual({ msgId: '1d2ba0ac-e08a-4979-bcdb-72b091088d3e', type: 'OPEN_PUSH_SCRM_CUSTOMER_AUTH_MOBILE', test: false, event: null });
  });

  it.each([
    ['trade_refund_BuyerCreated', 'requested'],
    ['trade_refund_RefundClosed', 'closed'],
  ])('%s → refund %s', (type, status) => {
    const body = pushWith('youzan-push-refund-success.json', { type });
    expect(normaliseYouzanPush(body).event).toMatchObject({ type: 'refund', status, refundId: '201911111111111111' });
  });

  it('the occurredAt falls back to version (seconds or ms)', () => {
    const s = pushWith('youzan-push-trade-create.json', { msg: encodeMsg({ tid: TID, status: 'WAIT_BUYER_PAY' }), version: 1731254462 });
    expect(normaliseYouzanPush(s).event?.occurredAt).toBe(1731254462000);
    const ms = pushWith('youzan-push-trade-create.json', { msg: encodeMsg({ tid: TID, status: 'WAIT_BUYER_PAY' }), version: 1731254462123 });
    expect(normaliseYouzanPush(ms).event?.occurredAt).toBe(1731254462123);
  });

  it('the test flag is passed through; the Event-Type header stands in for a missing type', () => {
    const body = JSON.parse(load('youzan-push-trade-create.json').rawBody) as Record<string, unknown>;
    body['test'] = true;
    delete body['type'];
    const out = normaliseYouzanPush(JSON.stringify(body), { eventType: 'trade_TradeCreate' });
    expect(out).toMatchObject({ test: true, type: 'trade_TradeCreate', event: { status: 'created' } });
  });

  it('a raw (not URL-encoded) msg and an object msg are accepted', () => {
    const rawMsg = pushWith('youzan-push-trade-create.json', { msg: JSON.stringify({ tid: TID, status: 'WAIT_BUYER_PAY', update_time: '2024-11-11 00:01:02' }) });
    expect(normaliseYouzanPush(rawMsg).event).toMatchObject({ status: 'created', orderId: TID });
    const objMsg = { ...load('youzan-push-trade-create.json').body, msg: { tid: TID, status: 'WAIT_BUYER_PAY', update_time: '2024-11-11 00:01:02' } };
    expect(normaliseYouzanPush(objMsg).event).toMatchObject({ status: 'created', orderId: TID });
  });
});

describe('Youzan bad input', () => {
  it.each([
    ['not JSON', 'nope', /malformed JSON/],
    ['no msg_id', pushWith('youzan-push-trade-create.json', { msg_id: undefined }), /missing msg_id/],
    ['no kdt_id', pushWith('youzan-push-trade-create.json', { kdt_id: undefined }), /missing kdt_id/],
    ['no type', pushWith('youzan-push-trade-create.json', { type: undefined }), /no type/],
    ['a broken msg encoding', pushWith('youzan-push-trade-create.json', { msg: '%E4%B8' }), /URL-encoded/],
    ['a msg that is not JSON', pushWith('youzan-push-trade-create.json', { msg: 'abc' }), /malformed JSON/],
    ['a refund without refund_id', pushWith('youzan-push-refund-success.json', { msg: encodeMsg({ tid: TID, update_time: '2024-11-14 09:00:12' }) }), /missing refund_id/],
    ['a bad amount', pushWith('youzan-push-refund-success.json', { msg: encodeMsg({ tid: TID, refund_id: '1', refunded_fee: '-1.00', update_time: '2024-11-14 09:00:12' }) }), /amount/],
    ['no time', pushWith('youzan-push-trade-create.json', { msg: encodeMsg({ tid: TID, status: 'WAIT_BUYER_PAY' }), version: undefined }), /no update_time or version/],
  ])('%s → BadRequestError', (_n, body, reason) => {
    expect(() => normaliseYouzanPush(body)).toThrow(BadRequestError);
    expect(() => normaliseYouzanPush(body)).toThrow(reason);
  });

  it('another client_id is refused when the endpoint names its own', () => {
    expect(() => normaliseYouzanPush(load('youzan-push-trade-create.json').rawBody, { clientId: 'someone-else' })).toThrow(/client_id/);
  });
});
