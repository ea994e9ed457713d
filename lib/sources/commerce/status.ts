/**
 * Platform order / refund status → the hub's normalised status (docs/platforms.md#order-status-mapping):
 * the shared types and helpers; the tables are in sources/{tmall,jd,youzan}/status.ts.
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
import type { OrderStatus } from '../../events/hub-event.ts';

export type StatusFlag = 'partial' | 'paused' | 'locked' | 'deposit_paid' | 'transient';
export interface StatusResult {
  status: OrderStatus;
  flags: StatusFlag[];
}
export type RefundStatus = 'requested' | 'succeeded' | 'closed';

export interface Entry {
  status: OrderStatus;
  flag?: StatusFlag;
}
/** A value whose end state depends on whether the order was paid. */
export const CLOSED_OR_REFUNDED = 'closed_or_refunded' as const;
export type PaymentDependent = typeof CLOSED_OR_REFUNDED;

export function result(entry: Entry | undefined): StatusResult | null {
  if (!entry) return null;
  return { status: entry.status, flags: entry.flag ? [entry.flag] : [] };
}

export function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined | null): T | undefined {
  if (typeof key !== 'string' || !Object.hasOwn(table, key)) return undefined;
  return table[key];
}

/** The end state of a value that means closed-or-refunded: payment evidence decides. */
export function endState(paid: boolean): StatusResult {
  return { status: paid ? 'refunded' : 'closed', flags: [] };
}
