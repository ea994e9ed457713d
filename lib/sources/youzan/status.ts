/** Youzan trade and refund status → the hub's status (docs/platforms.md#order-status-mapping; rules in sources/commerce/status.ts). */
import { CLOSED_OR_REFUNDED, endState, lookup, result, type Entry, type PaymentDependent, type RefundStatus, type StatusResult } from '../commerce/status.ts';

/** Youzan trade `status`. */
export const YOUZAN_TRADE_STATUS: Readonly<Record<string, Entry | PaymentDependent>> = Object.freeze<Record<string, Entry | PaymentDependent>>({
  WAIT_BUYER_PAY: { status: 'created' },
  TRADE_PAID: { status: 'paid', flag: 'transient' },
  WAIT_CONFIRM: { status: 'paid' },
  WAIT_SELLER_SEND_GOODS: { status: 'paid' },
  WAIT_BUYER_CONFIRM_GOODS: { status: 'shipped' },
  TRADE_SUCCESS: { status: 'completed' },
  TRADE_CLOSED: CLOSED_OR_REFUNDED,
});

/** The status a Youzan trade message `type` implies (fallback when no status is given). */
export const YOUZAN_TYPE_STATUS: Readonly<Record<string, Entry | PaymentDependent>> = Object.freeze<Record<string, Entry | PaymentDependent>>({
  trade_TradeCreate: { status: 'created' },
  trade_TradeBuyerPay: { status: 'paid' },
  trade_TradePaid: { status: 'paid' },
  trade_TradePartlySellerShip: { status: 'paid', flag: 'partial' },
  trade_TradeSellerShip: { status: 'shipped' },
  trade_TradeSuccess: { status: 'completed' },
  trade_TradeClose: CLOSED_OR_REFUNDED,
});

/**
 * Youzan refund message types → refund status. Only RefundSuccess moves money; SysRefund and
 * RefundAgain are recorded as requests (reconciliation settles amounts).
 */
export const YOUZAN_REFUND_TYPE_STATUS: Readonly<Record<string, RefundStatus>> = Object.freeze<Record<string, RefundStatus>>({
  trade_refund_BuyerCreated: 'requested',
  trade_refund_RefundSellerAgree: 'requested',
  trade_refund_RefundSellerRefuse: 'requested',
  trade_refund_BuyerReturnGoods: 'requested',
  trade_refund_RefundAgain: 'requested',
  trade_refund_SysRefund: 'requested',
  trade_refund_YouzanInterApplied: 'requested',
  trade_refund_RefundSuccess: 'succeeded',
  trade_refund_RefundClosed: 'closed',
});

/** Youzan trade status; `paid` (a `pay_time`, `is_payed`, or a refund) only matters for TRADE_CLOSED. */
export function youzanOrderStatus(status: string | undefined | null, paid: boolean): StatusResult | null {
  const entry = lookup(YOUZAN_TRADE_STATUS, status);
  if (entry === CLOSED_OR_REFUNDED) return endState(paid);
  return result(entry);
}

/** The status a Youzan trade `type` implies (fallback only). */
export function youzanTypeStatus(type: string, paid: boolean): StatusResult | null {
  const entry = lookup(YOUZAN_TYPE_STATUS, type);
  if (entry === CLOSED_OR_REFUNDED) return endState(paid);
  return result(entry);
}

/** Youzan refund type → refund status, null for other types. */
export function youzanRefundStatus(type: string): RefundStatus | null {
  return lookup(YOUZAN_REFUND_TYPE_STATUS, type) ?? null;
}
