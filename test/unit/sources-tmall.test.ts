import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { BadRequestError } from '../../lib/errors.ts';
import { HubEvent } from '../../lib/events/hub-event.ts';
import { normaliseTmcBody, normaliseTmcMessage, parseTmcMessages, tmcTopicKind } from '../../lib/sources/tmall/normalise.ts';

const raw = (f: string) => readFileSync(new URL(`../../events/tmall/${f}`, import.meta.url), 'utf8');
/** GMT+8 wall time → epoch ms. */
const cst = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h - 8, mi, s);

const SHOP = '2207512345678';
const TID = '3872941520738429512';
const OPEN_UID = { kind: 'tmall_buyer_open_uid', value: 'AAGq5d-EAAeG3JedwSFpZMe1' };

function orderEvent(over: Record<string, unknown>) {
  return {
    source: 'tmall',
    platform: 'tmall',
    type: 'order',
    shopId: SHOP,
    orderId: TID,
    buyer: [OPEN_UID],
    lines: [],
    ...over,
  };
}

describe('TMC fixtures', () => {
  it('consume response (TradeCreate + TradeBuyerPay)', () => {
    const out = normaliseTmcBody(raw('taobao-tmc-consume-response-create-pay.json'));
    expect(out).toEqual([
      {
        messageId: '7338450211904421101',
        topic: 'taobao_trade_TradeCreate',
        event: orderEvent({
          eventId: 'tmall:7338450211904421101',
          occurredAt: cst(2024, 11, 11, 0, 1, 2),
          status: 'created',
          platformStatus: 'WAIT_BUYER_PAY',
          totalFen: 47800,
          paidFen: 0,
          topic: 'taobao_trade_TradeCreate',
        }),
      },
      {
        messageId: '7338450211904421102',
        topic: 'taobao_trade_TradeBuyerPay',
        event: orderEvent({
          eventId: 'tmall:7338450211904421102',
          occurredAt: cst(2024, 11, 11, 0, 1, 40),
          status: 'paid',
          platformStatus: 'WAIT_SELLER_SEND_GOODS',
          totalFen: 47800,
          paidFen: 47800,
          topic: 'taobao_trade_TradeBuyerPay',
        }),
      },
    ]);
  });

  it('TradeSellerShip', () => {
    expect(normaliseTmcBody(raw('taobao-tmc-trade-seller-ship.json'))).toEqual([
      {
        messageId: '7338450211904421188',
        topic: 'taobao_trade_TradeSellerShip',
        event: orderEvent({
          eventId: 'tmall:7338450211904421188',
          occurredAt: cst(2024, 11, 12, 9, 30, 11),
          status: 'shipped',
          platformStatus: 'WAIT_BUYER_CONFIRM_GOODS',
          totalFen: 47800,
          paidFen: 47800,
          topic: 'taobao_trade_TradeSellerShip',
        }),
      },
    ]);
  });

  it('TradeSuccess', () => {
    expect(normaliseTmcBody(raw('taobao-tmc-trade-success.json'))[0]!.event).toEqual(
      orderEvent({
        eventId: 'tmall:7338450211904421299',
        occurredAt: cst(2024, 11, 20, 10, 2, 33),
        status: 'completed',
        platformStatus: 'TRADE_FINISHED',
        totalFen: 47800,
        paidFen: 47800,
        topic: 'taobao_trade_TradeSuccess',
      }),
    );
  });

  it('TradeClose before payment → closed, nothing paid', () => {
    expect(normaliseTmcBody(raw('taobao-tmc-trade-close-unpaid.json'))[0]!.event).toEqual(
      orderEvent({
        eventId: 'tmall:7338450211904421350',
        occurredAt: cst(2024, 11, 11, 0, 31, 5),
        orderId: '3872941520741429512',
        buyer: [{ kind: 'tmall_buyer_open_uid', value: 'AAE6sN1kAAeG3JedwSFpWq0x' }],
        status: 'closed',
        platformStatus: 'TRADE_CLOSED_BY_TAOBAO',
        totalFen: 12900,
        paidFen: 0,
        topic: 'taobao_trade_TradeClose',
      }),
    );
  });

  it('out-of-order batch with a duplicate keeps message ids (the dedupe keys) and each status', () => {
    const out = normaliseTmcBody(raw('taobao-tmc-out-of-order-duplicate-batch.json'));
    expect(out.map((o) => [o.messageId, o.event?.eventId, o.event?.type === 'order' ? o.event.status : null])).toEqual([
      ['7338450211904421299', 'tmall:7338450211904421299', 'completed'],
      ['7338450211904421188', 'tmall:7338450211904421188', 'shipped'],
      ['7338450211904421188', 'tmall:7338450211904421188', 'shipped'],
    ]);
    expect(out[1]).toEqual(out[2]);
  });

  it('refund created and success (after-sale, same refund_id)', () => {
    const out = normaliseTmcBody(raw('taobao-tmc-refund-created-and-success.json'));
    const refund = (id: string, topic: string, status: string, occurredAt: number) => ({
      messageId: id,
      topic,
      event: {
        eventId: `tmall:${id}`,
        occurredAt,
        source: 'tmall',
        platform: 'tmall',
        type: 'refund',
        shopId: SHOP,
        orderId: TID,
        buyer: [OPEN_UID],
        refundId: '241123882211234567',
        status,
        refundFen: 27692,
        topic,
      },
    });
    expect(out).toEqual([
      refund('7338450211904421411', 'taobao_refund_RefundCreated', 'requested', cst(2024, 11, 23, 18, 20, 1)),
      refund('7338450211904421498', 'taobao_refund_RefundSuccess', 'succeeded', cst(2024, 11, 26, 9, 0, 12)),
    ]);
  });

  it('opencrm MemberJoinPrivate → platform.member_join with the ouid', () => {
    expect(normaliseTmcBody(raw('tmall-tmc-opencrm-member-join-private.json'))).toEqual([
      {
        messageId: '7338450211904421500',
        topic: 'taobao_opencrm_MemberJoinPrivate',
        event: {
          eventId: 'tmall:7338450211904421500',
          occurredAt: cst(2024, 11, 11, 0, 0, 31),
          source: 'tmall',
          type: 'platform.member_join',
          platform: 'tmall',
          shopId: SHOP,
          buyer: [{ kind: 'tmall_ouid', value: 'AAHFzK2nAAeGwJedwSFu9Ab1' }],
        },
      },
    ]);
  });

  it('websocket frame field names (time, publisher, userid, nick)', () => {
    const frame = JSON.parse(raw('taobao-tmc-websocket-frame-decoded.json')) as { content: unknown };
    expect(normaliseTmcMessage(frame.content)).toEqual(
      orderEvent({
        eventId: 'tmall:7338450211904421102',
        occurredAt: cst(2024, 11, 11, 0, 1, 40),
        status: 'paid',
        platformStatus: 'WAIT_SELLER_SEND_GOODS',
        totalFen: 47800,
        paidFen: 47800,
        topic: 'taobao_trade_TradeBuyerPay',
      }),
    );
  });

  it('every fixture event passes the HubEvent schema', () => {
    for (const f of [
      'taobao-tmc-consume-response-create-pay.json',
      'taobao-tmc-out-of-order-duplicate-batch.json',
      'taobao-tmc-refund-created-and-success.json',
      'taobao-tmc-trade-close-unpaid.json',
      'taobao-tmc-trade-seller-ship.json',
      'taobao-tmc-trade-success.json',
      'tmall-tmc-opencrm-member-join-private.json',
    ]) {
      for (const o of normaliseTmcBody(raw(f))) expect(HubEvent.parse(o.event)).toEqual(o.event);
    }
  });
});

describe('detail fetched for the tid', () => {
  const [, pay] = parseTmcMessages(raw('taobao-tmc-consume-response-create-pay.json'));

  it('fullinfo.get wins for amounts, pay time and lines', () => {
    const event = normaliseTmcMessage(pay, { detail: parseDetail('taobao-trade-fullinfo-get-response.json') });
    expect(event).toEqual(
      orderEvent({
        eventId: 'tmall:7338450211904421102',
        occurredAt: cst(2024, 11, 11, 0, 1, 40),
        status: 'paid',
        platformStatus: 'WAIT_SELLER_SEND_GOODS',
        totalFen: 51800,
        paidFen: 47800,
        paidAt: cst(2024, 11, 11, 0, 1, 39),
        lines: [
          { lineId: '3872941520739429512', sku: 'SKU-0001-RED-M', title: '示例精华液 30ml', quantity: 1, paidFen: 27692 },
          { lineId: '3872941520740429512', sku: 'SKU-0002', title: '示例面霜 50g', quantity: 1, paidFen: 20108 },
        ],
        topic: 'taobao_trade_TradeBuyerPay',
      }),
    );
  });

  it('simple.get adds the ouid and its status wins', () => {
    const [success] = parseTmcMessages(raw('taobao-tmc-trade-success.json'));
    const event = normaliseTmcMessage(success, { detail: parseDetail('taobao-trade-simple-get-response-ouid.json') });
    expect(event).toEqual(
      orderEvent({
        eventId: 'tmall:7338450211904421299',
        occurredAt: cst(2024, 11, 20, 10, 2, 33),
        buyer: [{ kind: 'tmall_ouid', value: 'AAHFzK2nAAeGwJedwSFu9Ab1' }, OPEN_UID],
        status: 'completed',
        platformStatus: 'TRADE_FINISHED',
        totalFen: 47800,
        paidFen: 47800,
        topic: 'taobao_trade_TradeSuccess',
      }),
    );
  });

  it('a detail for another tid is refused', () => {
    const [close] = parseTmcMessages(raw('taobao-tmc-trade-close-unpaid.json'));
    expect(() => normaliseTmcMessage(close, { detail: parseDetail('taobao-trade-simple-get-response-ouid.json') })).toThrow(/does not belong/);
  });
});

/** Detail answers are parsed losslessly, as the TOP client does. */
function parseDetail(f: string): unknown {
  return parseJsonLossless(raw(f));
}

describe('19-digit ids', () => {
  const A = '2107654321098765432';
  const B = '2107654321098765433';
  const message = (id: string, tid: string) =>
    `{"id":${id},"topic":"taobao_trade_TradeBuyerPay","pub_app_key":"12497914","pub_time":"2024-11-11 00:01:40","user_id":${SHOP},"user_nick":"s","content":"{\\"tid\\":${tid},\\"oid\\":${tid},\\"payment\\":\\"1.00\\",\\"status\\":\\"WAIT_SELLER_SEND_GOODS\\",\\"buyer_open_uid\\":\\"u\\"}"}`;

  it('two ids equal as JS numbers stay distinct through parse and normalise', () => {
    expect(Number(A)).toBe(Number(B));
    const out = normaliseTmcBody(`[${message(A, A)},${message(B, B)}]`);
    expect(out.map((o) => o.messageId)).toEqual([A, B]);
    expect(out.map((o) => o.event?.eventId)).toEqual([`tmall:${A}`, `tmall:${B}`]);
    expect(out.map((o) => (o.event?.type === 'order' ? o.event.orderId : null))).toEqual([A, B]);
  });

  it('a message already corrupted by JSON.parse is refused instead of confirmed under a wrong id', () => {
    const corrupted = JSON.parse(message(A, A)) as unknown;
    expect(() => normaliseTmcMessage(corrupted)).toThrow(BadRequestError);
    expect(() => normaliseTmcMessage(corrupted)).toThrow(/ids must arrive as strings/);
  });

  it('a string tid in content and a string id in the envelope are accepted', () => {
    const event = normaliseTmcMessage({
      id: A,
      topic: 'taobao_trade_TradeSuccess',
      pub_time: '2024-11-20 10:02:33',
      user_id: SHOP,
      content: { tid: B, status: 'TRADE_FINISHED' },
    });
    expect(event).toMatchObject({ eventId: `tmall:${A}`, orderId: B, status: 'completed', totalFen: 0, paidFen: 0, buyer: [] });
  });
});

describe('topics and edge cases', () => {
  const base = { id: '7338450211904429999', pub_time: '2024-11-11 00:00:00', user_id: SHOP };

  it.each([
    ['taobao_item_ItemAdd', 'unknown'],
    ['taobao_opencrm_MemberJoin', 'unknown'],
    ['tmall_mei_PointChange', 'unknown'],
    ['taobao_trade_TradeMemoModified', 'trade'],
    ['taobao_refund_RefundSuccess', 'refund'],
    ['taobao_opencrm_MemberJoinPrivate', 'member_join'],
  ])('%s is %s', (topic, kind) => {
    expect(tmcTopicKind(topic)).toBe(kind);
  });

  it('an unknown topic → null, even with content the hub cannot read', () => {
    expect(normaliseTmcMessage({ ...base, topic: 'taobao_item_ItemAdd', content: '<xml/>' })).toBeNull();
  });

  it('a trade topic with no usable status → null', () => {
    expect(normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradeMemoModified', content: '{"tid":1,"seller_memo":"x"}' })).toBeNull();
  });

  it('a trade topic with a status in content uses it', () => {
    const e = normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradeClose', content: '{"tid":1,"status":"TRADE_CLOSED","payment":"12.30"}' });
    expect(e).toMatchObject({ type: 'order', orderId: '1', status: 'refunded', platformStatus: 'TRADE_CLOSED', totalFen: 1230, paidFen: 1230 });
  });

  it('a sub-order topic is the sub-order\'s state with its refund, never the trade\'s amounts or end', () => {
    const e = normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradeCloseAndModifyDetailOrder', content: '{"tid":1,"oid":2,"status":"TRADE_CLOSED","payment":"12.30","refund_fee":"12.30","refund_id":77}' });
    expect(e).toMatchObject({
      type: 'order',
      orderId: '1',
      status: 'refunded',
      totalFen: 0,
      paidFen: 0,
      subOrder: { lineId: '2', status: 'refunded', platformStatus: 'TRADE_CLOSED', refundId: '77', refundFen: 1230 },
    });
    const partly = normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradePartlyRefund', content: '{"tid":1,"oid":2,"status":"WAIT_SELLER_SEND_GOODS","payment":"12.30"}' });
    expect(partly).toMatchObject({ subOrder: { lineId: '2', status: 'refunded', platformStatus: 'WAIT_SELLER_SEND_GOODS' } });
    expect((partly as { subOrder: object }).subOrder).not.toHaveProperty('refundFen');
    expect(() => normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradePartlyRefund', content: '{"tid":1,"status":"TRADE_CLOSED"}' })).toThrow(/missing oid/);
  });

  it('an untrusted TradeCreate status falls back to the topic, keeping the raw value', () => {
    const e = normaliseTmcMessage({ ...base, topic: 'taobao_trade_TradeCreate', content: '{"tid":1,"status":"TRADE_CREATE","payment":"5"}' });
    expect(e).toMatchObject({ status: 'created', platformStatus: 'TRADE_CREATE', totalFen: 500, paidFen: 0 });
  });

  it('content modified wins over pub_time; ouid / omid in content become identities', () => {
    const e = normaliseTmcMessage({
      ...base,
      topic: 'taobao_trade_TradeBuyerPay',
      content: '{"tid":1,"status":"WAIT_SELLER_SEND_GOODS","modified":"2024-11-10 23:59:59","ouid":"O1","omid":"M1","buyer_open_uid":"U1"}',
    });
    expect(e).toMatchObject({
      occurredAt: cst(2024, 11, 10, 23, 59, 59),
      buyer: [
        { kind: 'tmall_ouid', value: 'O1' },
        { kind: 'tmall_omid', value: 'M1' },
        { kind: 'tmall_buyer_open_uid', value: 'U1' },
      ],
      totalFen: 0,
      paidFen: 0,
    });
  });

  it.each([
    ['no tid', { topic: 'taobao_trade_TradeBuyerPay', content: '{"status":"WAIT_SELLER_SEND_GOODS"}' }, /missing tid/],
    ['bad payment', { topic: 'taobao_trade_TradeBuyerPay', content: '{"tid":1,"status":"WAIT_SELLER_SEND_GOODS","payment":"1.234"}' }, /2 decimals/],
    ['non-JSON content', { topic: 'taobao_trade_TradeBuyerPay', content: '<trade/>' }, /not a JSON object/],
    ['malformed content', { topic: 'taobao_trade_TradeBuyerPay', content: '{"tid":' }, /malformed JSON/],
    ['refund without refund_id', { topic: 'taobao_refund_RefundSuccess', content: '{"tid":1,"refund_fee":"1.00"}' }, /missing refund_id/],
    ['member join without user', { topic: 'taobao_opencrm_MemberJoinPrivate', content: '{"join_time":"2024-11-11 00:00:31"}' }, /without a user/],
    ['bad modified', { topic: 'taobao_trade_TradeBuyerPay', content: '{"tid":1,"status":"WAIT_SELLER_SEND_GOODS","modified":"yesterday"}' }, /modified/],
  ])('%s → BadRequestError', (_name, over, reason) => {
    expect(() => normaliseTmcMessage({ ...base, ...over })).toThrow(BadRequestError);
    expect(() => normaliseTmcMessage({ ...base, ...over })).toThrow(reason);
  });

  it('envelope problems → BadRequestError', () => {
    expect(() => normaliseTmcMessage({ topic: 'taobao_trade_TradeSuccess', content: '{}' })).toThrow(/missing TMC message id/);
    expect(() => normaliseTmcMessage({ id: '1', content: '{}' })).toThrow(/no topic/);
    expect(() => normaliseTmcMessage({ id: '1', topic: 'taobao_trade_TradeSuccess' })).toThrow(/no content/);
    expect(() => normaliseTmcMessage({ id: '1', topic: 'taobao_trade_TradeSuccess', pub_time: '2024-11-11 00:00:00', content: '{"tid":1,"status":"TRADE_FINISHED"}' })).toThrow(
      /user_id/,
    );
    expect(() => normaliseTmcBody('not json')).toThrow(BadRequestError);
    expect(() => normaliseTmcBody('42')).toThrow(BadRequestError);
  });

  it('an empty consume response has no messages', () => {
    expect(normaliseTmcBody('{"tmc_messages_consume_response":{"request_id":"x"}}')).toEqual([]);
    expect(normaliseTmcBody('[]')).toEqual([]);
  });
});
