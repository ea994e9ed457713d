import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { OrderEvent } from '../../lib/events/hub-event.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { extractJdOrderInfo, normaliseJdOrder } from '../../lib/sources/jd/normalise.ts';

const raw = (f: string) => readFileSync(new URL(`../../events/jd/${f}`, import.meta.url), 'utf8');
const cst = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h - 8, mi, s);
const TRIGGER = raw('jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json');
const DETAIL = raw('jd-pop-order-enget-response.json');

const BUYER = [
  { kind: 'jd_xid', value: 'o*AAS6FTma2YJqif6pTrgCzcqbNWI0ZggYmuZKiEc8KDR3y_ZMLAU' },
  { kind: 'jd_open_id', value: 'nVbqJ6fYmC1z3s9Rk0pLwQ8xTt2uA7eH5dGiK4oM' },
];
const LINES = [
  { lineId: '301234567890:100012345678', sku: 'SKU-0001-RED-M', title: '示例精华液 30ml', quantity: 1, paidFen: null },
  { lineId: '301234567890:100012345679', sku: 'SKU-0003', title: '示例洁面乳 100g', quantity: 1, paidFen: null },
];
const withInfo = (patch: Record<string, unknown>) => {
  const d = parseJsonLossless(DETAIL) as { jingdong_pop_order_enGet_responce: { orderDetailInfo: { orderInfo: Record<string, unknown> } } };
  Object.assign(d.jingdong_pop_order_enGet_responce.orderDetailInfo.orderInfo, patch);
  return d;
};

describe('JD fixtures', () => {
  it('relay trigger alone → order from the hint, eventId from the relay message id', () => {
    expect(normaliseJdOrder(TRIGGER)).toEqual({
      eventId: 'jd:relay-6a6e0c1d-9b1f-4d7b-8c55-0e1f2a3b4c5d',
      occurredAt: cst(2024, 11, 12, 10, 15, 9),
      source: 'jd',
      platform: 'jd',
      type: 'order',
      shopId: '10123456',
      orderId: '301234567890',
      buyer: [],
      status: 'shipped',
      platformStatus: 'WAIT_GOODS_RECEIVE_CONFIRM',
      totalFen: 0,
      paidFen: 0,
      lines: [],
      topic: 'jd_order_trigger',
    });
  });

  it('enGet response alone (reconciliation) → order, eventId orderId:orderState:modified', () => {
    expect(normaliseJdOrder(DETAIL)).toEqual({
      eventId: 'jd:301234567890:WAIT_SELLER_STOCK_OUT:2024-11-11 00:00:41',
      occurredAt: cst(2024, 11, 11, 0, 0, 41),
      source: 'jd',
      platform: 'jd',
      type: 'order',
      shopId: '10123456',
      orderId: '301234567890',
      buyer: BUYER,
      status: 'paid',
      platformStatus: 'WAIT_SELLER_STOCK_OUT',
      totalFen: 39900,
      paidFen: 37900,
      paidAt: cst(2024, 11, 11, 0, 0, 39),
      lines: LINES,
      topic: 'jingdong.pop.order.enGet',
    });
  });

  it('trigger + detail: the detail is the truth, the relay id stays the eventId', () => {
    const expected = {
      eventId: 'jd:relay-6a6e0c1d-9b1f-4d7b-8c55-0e1f2a3b4c5d',
      occurredAt: cst(2024, 11, 11, 0, 0, 41),
      source: 'jd',
      platform: 'jd',
      type: 'order',
      shopId: '10123456',
      orderId: '301234567890',
      buyer: BUYER,
      status: 'paid',
      platformStatus: 'WAIT_SELLER_STOCK_OUT',
      totalFen: 39900,
      paidFen: 37900,
      paidAt: cst(2024, 11, 11, 0, 0, 39),
      lines: LINES,
      topic: 'jd_order_trigger',
    };
    expect(normaliseJdOrder(TRIGGER, { detail: parseJsonLossless(DETAIL) })).toEqual(expected);
    const embedded = { ...(parseJsonLossless(TRIGGER) as object), detail: parseJsonLossless(DETAIL) };
    expect(normaliseJdOrder(embedded)).toEqual(expected);
    expect(OrderEvent.parse(expected)).toEqual(expected);
  });

  it('the same input always gives the same eventId; another modification another one', () => {
    expect(normaliseJdOrder(DETAIL)?.eventId).toBe(normaliseJdOrder(DETAIL)?.eventId);
    expect(normaliseJdOrder(withInfo({ modified: '2024-11-11 00:05:00' }))?.eventId).toBe('jd:301234567890:WAIT_SELLER_STOCK_OUT:2024-11-11 00:05:00');
  });
});

describe('JD states and amounts', () => {
  it('TRADE_CANCELED after payment → refunded, paid amount kept', () => {
    expect(normaliseJdOrder(withInfo({ orderState: 'TRADE_CANCELED' }))).toMatchObject({ status: 'refunded', paidFen: 37900, paidAt: cst(2024, 11, 11, 0, 0, 39) });
  });
  it.each(['', '0001-01-01 00:00:00', '1970-01-01 00:00:00'])('TRADE_CANCELED with paymentConfirmTime %j → closed, nothing paid', (t) => {
    const e = normaliseJdOrder(withInfo({ orderState: 'TRADE_CANCELED', paymentConfirmTime: t }));
    expect(e).toMatchObject({ status: 'closed', paidFen: 0, totalFen: 39900 });
    expect(e).not.toHaveProperty('paidAt');
  });
  it('FINISHED_L → completed', () => {
    expect(normaliseJdOrder(withInfo({ orderState: 'FINISHED_L', orderEndTime: '2024-11-15 10:00:00' }))).toMatchObject({ status: 'completed' });
  });
  it('an unknown orderState → null', () => {
    expect(normaliseJdOrder(withInfo({ orderState: 'SOMETHING_NEW' }))).toBeNull();
  });
  it('a trigger with buyer keys and a relay topic keeps them', () => {
    const t = { ...(parseJsonLossless(TRIGGER) as object), topic: 'jos_order_stock_out', xid_buyer: 'X1', open_id_buyer: 'O1' };
    expect(normaliseJdOrder(t)).toMatchObject({
      topic: 'jos_order_stock_out',
      buyer: [
        { kind: 'jd_xid', value: 'X1' },
        { kind: 'jd_open_id', value: 'O1' },
      ],
    });
  });
  it('a trigger without hint.modified uses relayedAt', () => {
    const t = parseJsonLossless(TRIGGER) as { hint: Record<string, unknown> };
    delete t.hint['modified'];
    expect(normaliseJdOrder(t)?.occurredAt).toBe(cst(2024, 11, 12, 10, 15, 11));
  });
});

describe('JD bad input', () => {
  it.each([
    ['not JSON', 'nope', /malformed JSON/],
    ['an array', '[]', /JSON object/],
    ['another platform', JSON.stringify({ ...(JSON.parse(TRIGGER) as object), platform: 'tmall' }), /platform/],
    ['no orderId', JSON.stringify({ relay: 'r', venderId: '1', hint: { orderState: 'FINISHED_L', modified: '2024-11-11 00:00:00' } }), /missing orderId/],
    ['no venderId', JSON.stringify({ relay: 'r', orderId: '1', hint: { orderState: 'FINISHED_L', modified: '2024-11-11 00:00:00' } }), /missing venderId/],
    ['no time at all', JSON.stringify({ relay: 'r', orderId: '1', venderId: '2', hint: { orderState: 'FINISHED_L' } }), /no modified or relayedAt/],
    ['a bad amount', JSON.stringify(withInfo({ orderPayment: '37.900' })), /2 decimals/],
  ])('%s → BadRequestError', (_n, body, reason) => {
    expect(() => normaliseJdOrder(body)).toThrow(BadRequestError);
    expect(() => normaliseJdOrder(body)).toThrow(reason);
  });

  it('a detail for another order or vendor is refused', () => {
    expect(() => normaliseJdOrder(TRIGGER, { detail: withInfo({ orderId: '999' }) })).toThrow(/does not match trigger order/);
    expect(() => normaliseJdOrder(TRIGGER, { detail: withInfo({ venderId: '999' }) })).toThrow(/does not match trigger vendor/);
  });

  it('a failed enGet answer is refused', () => {
    expect(() => extractJdOrderInfo({ jingdong_pop_order_enGet_responce: { code: '1', orderDetailInfo: {} } })).toThrow(/code 1/);
    expect(() => extractJdOrderInfo({ apiResult: { success: false, englishErrCode: 'order not found' } })).toThrow(/order not found/);
    expect(() => extractJdOrderInfo({ error_response: { code: '19', zh_desc: '无效' } })).toThrow(/error response/);
    expect(() => extractJdOrderInfo({ something: 1 })).toThrow(/no orderInfo/);
  });
});
