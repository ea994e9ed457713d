import { describe, expect, it } from 'vitest';
import { STATUS_RANK, type OrderStatus } from '../../lib/events/hub-event.ts';
import { JD_ORDER_STATE, jdOrderStatus } from '../../lib/sources/jd/status.ts';
import { TMALL_REFUND_TOPIC_STATUS, TMALL_TOPIC_STATUS, TMALL_TRADE_STATUS, tmallRefundStatus, tmallTopicStatus, tmallTradeStatus } from '../../lib/sources/tmall/status.ts';
import { YOUZAN_REFUND_TYPE_STATUS, YOUZAN_TRADE_STATUS, YOUZAN_TYPE_STATUS, youzanOrderStatus, youzanRefundStatus, youzanTypeStatus } from '../../lib/sources/youzan/status.ts';
import { type StatusFlag } from '../../lib/sources/commerce/status.ts';

type Row = [string, OrderStatus, StatusFlag[]?];

describe('Taobao / Tmall trade status (docs/platforms.md#order-status-mapping)', () => {
  const rows: Row[] = [
    ['TRADE_NO_CREATE_PAY', 'created'],
    ['WAIT_BUYER_PAY', 'created'],
    ['PAY_PENDING', 'created'],
    ['WAIT_PRE_AUTH_CONFIRM', 'created'],
    ['FRONT_PAID_FINAL_NOPAID', 'created', ['deposit_paid']],
    ['WAIT_SELLER_SEND_GOODS', 'paid'],
    ['SELLER_CONSIGNED_PART', 'paid', ['partial']],
    ['PAID_FORBID_CONSIGN', 'paid'],
    ['WAIT_BUYER_CONFIRM_GOODS', 'shipped'],
    ['TRADE_BUYER_SIGNED', 'shipped'],
    ['TRADE_FINISHED', 'completed'],
    ['TRADE_CLOSED_BY_TAOBAO', 'closed'],
    ['TRADE_CLOSED', 'refunded'],
  ];
  it.each(rows)('%s → %s', (raw, status, flags = []) => {
    expect(tmallTradeStatus(raw)).toEqual({ status, flags });
  });
  it('the table has exactly these rows', () => {
    expect(Object.keys(TMALL_TRADE_STATUS).sort()).toEqual(rows.map((r) => r[0]).sort());
  });
  it.each(['TRADE_CREATE', 'trade_finished', '', 'constructor', 'toString', '__proto__'])('unknown %j → null', (raw) => {
    expect(tmallTradeStatus(raw)).toBeNull();
  });
  it('undefined → null', () => {
    expect(tmallTradeStatus(undefined)).toBeNull();
  });
  it('presale with only the deposit paid is created with deposit_paid', () => {
    expect(tmallTradeStatus('WAIT_BUYER_PAY', 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'created', flags: ['deposit_paid'] });
    expect(tmallTradeStatus(undefined, 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'created', flags: ['deposit_paid'] });
    expect(tmallTradeStatus('WAIT_SELLER_SEND_GOODS', 'FRONT_PAID_FINAL_PAID')).toEqual({ status: 'paid', flags: [] });
    expect(tmallTradeStatus('TRADE_CLOSED_BY_TAOBAO', 'FRONT_PAID_FINAL_NOPAID')).toEqual({ status: 'closed', flags: [] });
  });
});

describe('TMC topic fallback', () => {
  const rows: Row[] = [
    ['taobao_trade_TradeCreate', 'created'],
    ['taobao_trade_TradeAlipayCreate', 'created'],
    ['taobao_trade_TradeCreateDelay', 'created'],
    ['taobao_trade_TradeBuyerStepPay', 'created', ['deposit_paid']],
    ['taobao_trade_TradeBuyerPay', 'paid'],
    ['taobao_trade_TradePartlySellerShip', 'paid', ['partial']],
    ['taobao_trade_TradeSellerShip', 'shipped'],
    ['taobao_trade_TradeSuccess', 'completed'],
    ['taobao_trade_TradeSuccessDelay', 'completed'],
    ['taobao_trade_TradeClose', 'closed'],
  ];
  it.each(rows)('%s → %s', (topic, status, flags = []) => {
    expect(tmallTopicStatus(topic)).toEqual({ status, flags });
  });
  it('the table has exactly these rows', () => {
    expect(Object.keys(TMALL_TOPIC_STATUS).sort()).toEqual(rows.map((r) => r[0]).sort());
  });
  it.each(['taobao_trade_TradeMemoModified', 'taobao_trade_TradeModifyFee', 'taobao_trade_TradeCloseAndModifyDetailOrder'])('%s implies nothing', (t) => {
    expect(tmallTopicStatus(t)).toBeNull();
  });
});

describe('TMC refund topics', () => {
  const rows: Array<[string, string]> = [
    ['taobao_refund_RefundCreated', 'requested'],
    ['taobao_refund_RefundSellerAgreeAgreement', 'requested'],
    ['taobao_refund_RefundSellerRefuseAgreement', 'requested'],
    ['taobao_refund_RefundBuyerModifyAgreement', 'requested'],
    ['taobao_refund_RefundBuyerReturnGoods', 'requested'],
    ['taobao_refund_RefundCreateMessage', 'requested'],
    ['taobao_refund_TaobaoInterApplied', 'requested'],
    ['taobao_refund_TaobaoIntervened', 'requested'],
    ['taobao_refund_RefundSuccess', 'succeeded'],
    ['taobao_refund_RefundClosed', 'closed'],
  ];
  it.each(rows)('%s → %s', (topic, status) => {
    expect(tmallRefundStatus(topic)).toBe(status);
  });
  it('the table has exactly these rows; others → null', () => {
    expect(Object.keys(TMALL_REFUND_TOPIC_STATUS).sort()).toEqual(rows.map((r) => r[0]).sort());
    expect(tmallRefundStatus('taobao_trade_TradeSuccess')).toBeNull();
  });
});

describe('JD orderState', () => {
  const rows: Row[] = [
    ['NOT_PAY', 'created'],
    ['WAIT_SELLER_STOCK_OUT', 'paid'],
    ['WAIT_SELLER_DELIVERY', 'paid'],
    ['WAIT_SEND_CODE', 'paid'],
    ['POP_ORDER_PAUSE', 'paid', ['paused']],
    ['PAUSE', 'paid', ['paused']],
    ['LOCKED', 'paid', ['locked']],
    ['WAIT_GOODS_RECEIVE_CONFIRM', 'shipped'],
    ['SEND_TO_DISTRIBUTION_CENER', 'shipped'],
    ['DISTRIBUTION_CENTER_RECEIVED', 'shipped'],
    ['FINISHED_L', 'completed'],
    ['RECEIPTS_CONFIRM', 'completed'],
  ];
  it.each(rows)('%s → %s', (raw, status, flags = []) => {
    expect(jdOrderStatus(raw, true)).toEqual({ status, flags });
    expect(jdOrderStatus(raw, false)).toEqual({ status, flags });
  });
  it('TRADE_CANCELED: refunded after payment, closed without', () => {
    expect(jdOrderStatus('TRADE_CANCELED', true)).toEqual({ status: 'refunded', flags: [] });
    expect(jdOrderStatus('TRADE_CANCELED', false)).toEqual({ status: 'closed', flags: [] });
  });
  it('the table has exactly these rows; unknown → null', () => {
    expect(Object.keys(JD_ORDER_STATE).sort()).toEqual([...rows.map((r) => r[0]), 'TRADE_CANCELED'].sort());
    expect(jdOrderStatus('WAIT_DELIVERY', true)).toBeNull();
    expect(jdOrderStatus(undefined, true)).toBeNull();
  });
});

describe('Youzan status and type', () => {
  const rows: Row[] = [
    ['WAIT_BUYER_PAY', 'created'],
    ['TRADE_PAID', 'paid', ['transient']],
    ['WAIT_CONFIRM', 'paid'],
    ['WAIT_SELLER_SEND_GOODS', 'paid'],
    ['WAIT_BUYER_CONFIRM_GOODS', 'shipped'],
    ['TRADE_SUCCESS', 'completed'],
  ];
  it.each(rows)('status %s → %s', (raw, status, flags = []) => {
    expect(youzanOrderStatus(raw, false)).toEqual({ status, flags });
  });
  it('TRADE_CLOSED: refunded after payment, closed without', () => {
    expect(youzanOrderStatus('TRADE_CLOSED', true)).toEqual({ status: 'refunded', flags: [] });
    expect(youzanOrderStatus('TRADE_CLOSED', false)).toEqual({ status: 'closed', flags: [] });
    expect(Object.keys(YOUZAN_TRADE_STATUS).sort()).toEqual([...rows.map((r) => r[0]), 'TRADE_CLOSED'].sort());
    expect(youzanOrderStatus('', false)).toBeNull();
  });

  const typeRows: Row[] = [
    ['trade_TradeCreate', 'created'],
    ['trade_TradeBuyerPay', 'paid'],
    ['trade_TradePaid', 'paid'],
    ['trade_TradePartlySellerShip', 'paid', ['partial']],
    ['trade_TradeSellerShip', 'shipped'],
    ['trade_TradeSuccess', 'completed'],
  ];
  it.each(typeRows)('type %s → %s', (type, status, flags = []) => {
    expect(youzanTypeStatus(type, false)).toEqual({ status, flags });
  });
  it('trade_TradeClose depends on payment', () => {
    expect(youzanTypeStatus('trade_TradeClose', true)).toEqual({ status: 'refunded', flags: [] });
    expect(youzanTypeStatus('trade_TradeClose', false)).toEqual({ status: 'closed', flags: [] });
    expect(Object.keys(YOUZAN_TYPE_STATUS).sort()).toEqual([...typeRows.map((r) => r[0]), 'trade_TradeClose'].sort());
  });

  const refundRows: Array<[string, string]> = [
    ['trade_refund_BuyerCreated', 'requested'],
    ['trade_refund_RefundSellerAgree', 'requested'],
    ['trade_refund_RefundSellerRefuse', 'requested'],
    ['trade_refund_BuyerReturnGoods', 'requested'],
    ['trade_refund_RefundAgain', 'requested'],
    ['trade_refund_SysRefund', 'requested'],
    ['trade_refund_YouzanInterApplied', 'requested'],
    ['trade_refund_RefundSuccess', 'succeeded'],
    ['trade_refund_RefundClosed', 'closed'],
  ];
  it.each(refundRows)('refund type %s → %s', (type, status) => {
    expect(youzanRefundStatus(type)).toBe(status);
  });
  it('refund table is exact; others → null', () => {
    expect(Object.keys(YOUZAN_REFUND_TYPE_STATUS).sort()).toEqual(refundRows.map((r) => r[0]).sort());
    expect(youzanRefundStatus('trade_TradeSuccess')).toBeNull();
  });
});

describe('end states', () => {
  it('closed and refunded are terminal ranks; lifecycle ranks increase', () => {
    expect(STATUS_RANK.created < STATUS_RANK.paid && STATUS_RANK.paid < STATUS_RANK.shipped && STATUS_RANK.shipped < STATUS_RANK.completed).toBe(true);
    expect(STATUS_RANK.closed).toBeGreaterThan(STATUS_RANK.completed);
    expect(STATUS_RANK.refunded).toBeGreaterThan(STATUS_RANK.completed);
  });
});
