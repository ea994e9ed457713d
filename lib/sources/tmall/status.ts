/** Taobao / Tmall order and refund status → the hub's status (docs/platforms.md#order-status-mapping; rules in sources/commerce/status.ts). */
import { lookup, result, type Entry, type RefundStatus, type StatusResult } from '../commerce/status.ts';

/** Taobao / Tmall trade `status`. */
export const TMALL_TRADE_STATUS: Readonly<Record<string, Entry>> = Object.freeze<Record<string, Entry>>({
  TRADE_NO_CREATE_PAY: { status: 'created' },
  WAIT_BUYER_PAY: { status: 'created' },
  PAY_PENDING: { status: 'created' },
  WAIT_PRE_AUTH_CONFIRM: { status: 'created' },
  FRONT_PAID_FINAL_NOPAID: { status: 'created', flag: 'deposit_paid' },
  WAIT_SELLER_SEND_GOODS: { status: 'paid' },
  SELLER_CONSIGNED_PART: { status: 'paid', flag: 'partial' },
  PAID_FORBID_CONSIGN: { status: 'paid' },
  WAIT_BUYER_CONFIRM_GOODS: { status: 'shipped' },
  TRADE_BUYER_SIGNED: { status: 'shipped' },
  TRADE_FINISHED: { status: 'completed' },
  TRADE_CLOSED_BY_TAOBAO: { status: 'closed' },
  TRADE_CLOSED: { status: 'refunded' },
});

/**
 * The status a trade topic implies, used only when the message content has no (known) status.
 * `taobao_trade_TradeClose` without a status is `closed` (see the module note on end states).
 */
export const TMALL_TOPIC_STATUS: Readonly<Record<string, Entry>> = Object.freeze<Record<string, Entry>>({
  taobao_trade_TradeCreate: { status: 'created' },
  taobao_trade_TradeAlipayCreate: { status: 'created' },
  taobao_trade_TradeCreateDelay: { status: 'created' },
  taobao_trade_TradeBuyerStepPay: { status: 'created', flag: 'deposit_paid' },
  taobao_trade_TradeBuyerPay: { status: 'paid' },
  taobao_trade_TradePartlySellerShip: { status: 'paid', flag: 'partial' },
  taobao_trade_TradeSellerShip: { status: 'shipped' },
  taobao_trade_TradeSuccess: { status: 'completed' },
  taobao_trade_TradeSuccessDelay: { status: 'completed' },
  taobao_trade_TradeClose: { status: 'closed' },
});

/**
 * Topics about one sub-order (`oid`) with its own status (docs/platforms.md#tmall-sub-orders):
 * TradeCloseAndModifyDetailOrder (docId 103: a sub-order closed or modified; `refund_fee`,
 * `refund_id`) and TradePartlyRefund (docId 108: a sub-order's refund succeeded; no amount).
 * The value is the sub-order status the topic implies when the content's status is unknown.
 */
export const TMALL_SUB_ORDER_TOPICS: Readonly<Record<string, Entry>> = Object.freeze<Record<string, Entry>>({
  taobao_trade_TradeCloseAndModifyDetailOrder: { status: 'paid' },
  taobao_trade_TradePartlyRefund: { status: 'refunded' },
});

/** Taobao refund topics → refund status. RefundSuccess is the only one that moves money. */
export const TMALL_REFUND_TOPIC_STATUS: Readonly<Record<string, RefundStatus>> = Object.freeze<Record<string, RefundStatus>>({
  taobao_refund_RefundCreated: 'requested',
  taobao_refund_RefundSellerAgreeAgreement: 'requested',
  taobao_refund_RefundSellerRefuseAgreement: 'requested',
  taobao_refund_RefundBuyerModifyAgreement: 'requested',
  taobao_refund_RefundBuyerReturnGoods: 'requested',
  taobao_refund_RefundCreateMessage: 'requested',
  taobao_refund_TaobaoInterApplied: 'requested',
  taobao_refund_TaobaoIntervened: 'requested',
  taobao_refund_RefundSuccess: 'succeeded',
  taobao_refund_RefundClosed: 'closed',
});

/**
 * Taobao / Tmall trade status. A presale order whose deposit is paid but balance is not
 * (`step_trade_status = FRONT_PAID_FINAL_NOPAID`) is `created` with flag `deposit_paid`
 * unless the trade already ended.
 */
export function tmallTradeStatus(status: string | undefined | null, stepTradeStatus?: string | null): StatusResult | null {
  const r = result(lookup(TMALL_TRADE_STATUS, status));
  if (stepTradeStatus === 'FRONT_PAID_FINAL_NOPAID' && (r === null || (r.status !== 'closed' && r.status !== 'refunded'))) {
    return { status: 'created', flags: ['deposit_paid'] };
  }
  return r;
}

/** The status a TMC trade topic implies (fallback only). */
export function tmallTopicStatus(topic: string): StatusResult | null {
  return result(lookup(TMALL_TOPIC_STATUS, topic));
}

/** Taobao refund topic → refund status, null for a non-refund topic. */
export function tmallRefundStatus(topic: string): RefundStatus | null {
  return lookup(TMALL_REFUND_TOPIC_STATUS, topic) ?? null;
}


/** The sub-order status of a sub-order topic's message, null for any other topic. */
export function tmallSubOrderStatus(topic: string, status: string | undefined): StatusResult | null {
  const implied = lookup(TMALL_SUB_ORDER_TOPICS, topic);
  if (!implied) return null;
  // A partial refund's message carries the trade's status, not the sub-order's: its sub-order is refunded.
  if (topic === 'taobao_trade_TradePartlyRefund') return result(implied);
  return result(lookup(TMALL_TRADE_STATUS, status)) ?? result(implied);
}
