/**
 * Coupons issued to members (a points-mall reward, a repurchase-ladder step, a birthday).
 *
 *   COUPON#<code> | #    gsi1: MCOUPONS#<memberId> | <issuedAt, padded>#<code>
 *
 * The code is the key, so a store's till or an order's promotion data finds it with one read;
 * the member's coupons are one Query of the member index. Created once (tag `coupon:<code>`);
 * redeemed once: `status` moves from `issued` to `redeemed` (or `revoked`) under a condition on
 * `issued`, so two tills, or a till and an order, can never both use it.
 */
import { pad, parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, queryPage, stripKeys } from '../item-ops.ts';

const PREFIX = 'COUPON';
const MEMBER_INDEX = 'MCOUPONS';

export type CouponSource = 'reward' | 'repurchase' | 'birthday';
export type CouponStatus = 'issued' | 'redeemed' | 'revoked';

export interface Coupon {
  code: string;
  memberId: string;
  /** Exactly one of valueFen (fen off) or percentOff. */
  valueFen?: number;
  percentOff?: number;
  /** Smallest order amount it applies to (fen; 0: none). */
  thresholdFen: number;
  validFrom: number;
  validUntil: number;
  source: CouponSource;
  /** What issued it: the redemption id, `<orderRef>#<step>`, the birthday year. */
  ref: string;
  /** Where it was issued: `hub` (the hub's own code) or a platform issuer (lib/loyalty/coupons.ts). */
  issuer: string;
  status: CouponStatus;
  issuedAt: number;
  redeemedAt?: number;
  /** How it was used: an order (`order`, the order's ref) or a till (`pos`, the store and receipt). */
  redeemedBy?: { kind: 'order' | 'pos'; ref: string; store?: string };
  revokedAt?: number;
}

export const couponKey = (code: string): Key => ({ pk: `${PREFIX}#${code}`, sk: ROOT });
export const parseCouponKey = (k: Key): string => parseRootKey(k, PREFIX);
export const couponTag = (code: string): string => `coupon:${code}`;
export const memberCouponsPartition = (memberId: string): string => `${MEMBER_INDEX}#${memberId}`;

export const coupons = {
  create(tx: Tx, c: Coupon): void {
    tx.create(couponTag(c.code), couponKey(c.code), { ...c, gsi1pk: memberCouponsPartition(c.memberId), gsi1sk: `${pad(c.issuedAt)}#${c.code}` });
  },

  async get(store: Store, code: string): Promise<Coupon | undefined> {
    const item = await getItem<Record<string, unknown>>(store, couponKey(code), { consistent: true });
    return item ? (stripKeys(item) as unknown as Coupon) : undefined;
  },

  /** Marks it used, only while it is `issued`. */
  redeem(tx: Tx, code: string, by: NonNullable<Coupon['redeemedBy']>, at: number): void {
    tx.update(
      couponTag(code),
      couponKey(code),
      { update: 'SET #s = :redeemed, redeemedAt = :at, redeemedBy = :by', names: { '#s': 'status' }, values: { ':redeemed': 'redeemed', ':at': at, ':by': by } },
      { expr: '#s = :issued', names: { '#s': 'status' }, values: { ':issued': 'issued' } },
    );
  },

  /** Withdraws it (a reversed redemption), only while it is unused. */
  revoke(tx: Tx, code: string, at: number): void {
    tx.update(
      couponTag(code),
      couponKey(code),
      { update: 'SET #s = :revoked, revokedAt = :at', names: { '#s': 'status' }, values: { ':revoked': 'revoked', ':at': at } },
      { expr: '#s = :issued', names: { '#s': 'status' }, values: { ':issued': 'issued' } },
    );
  },

  /** The member's coupons, newest first (one page; the index is eventually consistent). */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Coupon[]> {
    const page = await queryPage<Record<string, unknown>>(store, { index: true, pk: memberCouponsPartition(memberId), newestFirst: true, limit });
    return page.items.map((i) => stripKeys(i) as unknown as Coupon);
  },
};
