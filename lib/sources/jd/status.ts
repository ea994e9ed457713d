/** JD order state → the hub's status (docs/platforms.md#order-status-mapping; rules in sources/commerce/status.ts). */
import { CLOSED_OR_REFUNDED, endState, lookup, result, type Entry, type PaymentDependent, type StatusResult } from '../commerce/status.ts';

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

/**
 * JD order state. `paid` is whether payment is known to have happened (for JD: a real
 * `paymentConfirmTime`, not empty / `0001-…` / `1970-…`); it only matters for `TRADE_CANCELED`.
 */
export function jdOrderStatus(orderState: string | undefined | null, paid: boolean): StatusResult | null {
  const entry = lookup(JD_ORDER_STATE, orderState);
  if (entry === CLOSED_OR_REFUNDED) return endState(paid);
  return result(entry);
}
