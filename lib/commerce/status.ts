/**
 * Platform order / refund status → the hub's normalised status (docs/platforms.md#order-status-mapping).
 *
 * Normalised order statuses: created < paid < shipped < completed; `closed` (ended without ever
 * being paid) and `refunded` (closed after payment) are end states.
 * After-sale refunds on a completed order do not change the order status; they are refund events.
 *
 * Where a platform uses one value for both end states (JD `TRADE_CANCELED`, Youzan
 * `TRADE_CLOSED`), payment evidence decides; with no evidence the result is `closed`, and the
 * apply step must treat `closed` on an order it has already seen paid as `refunded`
 * (docs/design.md#order-of-arrival: "closed only if no payment was ever observed").
 *
 * Every lookup returns null for a value it does not know; callers treat that as "no status
 * information", never as an error.
 */
import type { OrderStatus } from '../events/hub-event.ts';

export type StatusFlag = 'partial' | 'paused' | 'locked' | 'deposit_paid' | 'transient';
export interface StatusResult {
  status: OrderStatus;
  flags: StatusFlag[];
}
export type RefundStatus = 'requested' | 'succeeded' | 'closed';

interface Entry {
  status: OrderStatus;
  flag?: StatusFlag;
}
/** A value whose end state depends on whether the order was paid. */
const CLOSED_OR_REFUNDED = 'closed_or_refunded' as const;
type PaymentDependent = typeof CLOSED_OR_REFUNDED;

function result(entry: Entry | undefined): StatusResult | null {
  if (!entry) return null;
  return { status: entry.status, flags: entry.flag ? [entry.flag] : [] };
}

function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined | null): T | undefined {
  if (typeof key !== 'string' || !Object.hasOwn(table, key)) return undefined;
  return table[key];
}

// ---------------------------------------------------------------- Taobao / Tmall

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

// ---------------------------------------------------------------- JD

/** JD POP `orderState` (plus `NOT_PAY` of the shop.order API and legacy LBP/SOPL states). */
export const JD_ORDER_STATE: Readonly<Record<string, Entry | PaymentDependent>> = Object.freeze<Record<string, Entry | PaymentDependent>>({
  NOT_PAY: { status: 'created' },
  WAIT_SELLER_STOCK_OUT: { status: 'paid' },
  WAIT_SELLER_DELIVERY: { status: 'paid' },
  WAIT_SEND_CODE: { status: 'paid' },
  POP_ORDER_PAUSE: { status: 'paid', flag: 'paused' },
  PAUSE: { status: 'paid', flag: 'paused' },
  LOCKED: { status: 'paid', flag: 'locked' },
  WAIT_GOODS_RECEIVE_CONFIRM: { status: 'shipped' },
  SEND_TO_DISTRIBUTION_CENER: { status: 'shipped' },
  DISTRIBUTION_CENTER_RECEIVED: { status: 'shipped' },
  FINISHED_L: { status: 'completed' },
  RECEIPTS_CONFIRM: { status: 'completed' },
  TRADE_CANCELED: CLOSED_OR_REFUNDED,
});

function endState(paid: boolean): StatusResult {
  return { status: paid ? 'refunded' : 'closed', flags: [] };
}

/**
 * JD order state. `paid` is whether payment is known to have happened (for JD: a real
 * `paymentConfirmTime`, not empty / `0001-…` / `1970-…`); it only matters for `TRADE_CANCELED`.
 */
export function jdOrderStatus(orderState: string | undefined | null, paid: boolean): StatusResult | null {
  const entry = lookup(JD_ORDER_STATE, orderState);
  if (entry === CLOSED_OR_REFUNDED) return endState(paid);
  return result(entry);
}

// ---------------------------------------------------------------- Youzan

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
