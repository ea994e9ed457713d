/**
 * Coupons that exist: issued to a member with a code, a value (fen off or percent off), a
 * threshold, a validity window and a source (a points-mall reward, a repurchase-ladder step, a
 * birthday), and redeemed exactly once — at a store's till (`POST /coupons/{code}/redeem`) or
 * from an order's promotion data (Youzan `order_promotion`, lib/sources/youzan/normalise.ts).
 *
 * Where a coupon is issued goes behind `CouponIssuer`. The one implemented is the hub's own
 * (`hub`): the hub's code is the coupon, honoured by the brand's tills and by a platform shop
 * that accepts it as a third-party or coupon code. Issuing on a platform's own coupon system
 * (Youzan coupon API, WeChat Pay coupons) is not implemented: such an issuer would create the
 * platform coupon and store the platform's number as the code (docs/loyalty.md#coupons).
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { coupons, type Coupon, type CouponSource } from '../store/entities/coupon.ts';
import type { Tx } from '../store/tx.ts';
import { isPathId } from '../store/keys.ts';
import { DAY_MS } from '../time.ts';
import { transact, type LoyaltyDeps } from './transact.ts';
import { issues } from '../members/caller.ts';
import type { Port } from '../port.ts';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new coupon code: 12 Crockford base32 characters (60 random bits). */
export function newCouponCode(): string {
  const bytes = randomBytes(12);
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
}

/** What a coupon grants, as its issuer (a reward, a ladder step, a birthday rule) describes it. */
export interface CouponGrant {
  source: CouponSource;
  ref: string;
  valueFen?: number;
  percentOff?: number;
  thresholdFen?: number;
  validDays: number;
}

/** Where coupons are issued. */
export interface CouponIssuer {
  readonly id: string;
  /** Adds the coupon's issue to the transaction; returns the coupon. */
  issue(tx: Tx, memberId: string, grant: CouponGrant, now: number): Coupon;
}

/** The hub's own coupon: a fresh code, stored; the default issuer. */
export const hubIssuer: CouponIssuer = {
  id: 'hub',
  issue(tx, memberId, g, now) {
    const coupon: Coupon = {
      code: newCouponCode(),
      memberId,
      ...(g.valueFen !== undefined ? { valueFen: g.valueFen } : {}),
      ...(g.percentOff !== undefined ? { percentOff: g.percentOff } : {}),
      thresholdFen: g.thresholdFen ?? 0,
      validFrom: now,
      validUntil: now + g.validDays * DAY_MS,
      source: g.source,
      ref: g.ref,
      issuer: 'hub',
      status: 'issued',
      issuedAt: now,
    };
    coupons.create(tx, coupon);
    return coupon;
  },
};

/** The coupon as its member (and a till) sees it. */
export function couponView(c: Coupon) {
  return {
    code: c.code,
    ...(c.valueFen !== undefined ? { valueFen: c.valueFen } : {}),
    ...(c.percentOff !== undefined ? { percentOff: c.percentOff } : {}),
    thresholdFen: c.thresholdFen,
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    source: c.source,
    status: c.status,
    issuedAt: c.issuedAt,
    ...(c.redeemedAt !== undefined ? { redeemedAt: c.redeemedAt } : {}),
  };
}

const TillRedemption = z.strictObject({
  /** The store (and till) redeeming it. */
  store: z.string().min(1).max(64),
  /** The receipt or order at the till: the same receipt again answers the same redemption. */
  receipt: z.string().min(1).max(64),
  /** The basket amount, checked against the threshold when given. */
  amountFen: z.number().int().nonnegative().max(100_000_000).optional(),
});

/**
 * POST /coupons/{code}/redeem (admin, stores' tills): marks the coupon used, exactly once. The
 * same store and receipt again → the same answer; any other use of a used coupon → 409
 * `coupon_used`; outside its validity → 409 `coupon_expired` / `coupon_not_yet_valid`; revoked →
 * 409 `coupon_revoked`; a basket below the threshold → 400 `below_threshold`.
 */
export async function redeemAtTill(deps: LoyaltyDeps, code: string, body: unknown) {
  if (!isPathId(code)) throw new NotFoundError('no such coupon');
  const parsed = TillRedemption.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid coupon redemption', issues(parsed.error));
  const req = parsed.data;
  const ref = `${req.store}:${req.receipt}`;
  return transact(deps, async (tx, now) => {
    const c = await coupons.get(deps.store, code);
    if (!c) throw new NotFoundError('no such coupon');
    if (c.status === 'redeemed' && c.redeemedBy?.kind === 'pos' && c.redeemedBy.ref === ref) return couponView(c);
    refuseUnusable(c, now);
    if (req.amountFen !== undefined && req.amountFen < c.thresholdFen) {
      throw new BadRequestError(`the coupon applies from ${c.thresholdFen} fen`, undefined, 'below_threshold');
    }
    coupons.redeem(tx, c.code, { kind: 'pos', ref, store: req.store }, now);
    return couponView({ ...c, status: 'redeemed', redeemedAt: now, redeemedBy: { kind: 'pos', ref, store: req.store } });
  });
}

/**
 * An order's promotion data names coupons used on it (OrderEvent `couponCodes`): each hub coupon
 * among them that is still `issued` is marked redeemed by the order in the order event's
 * transaction (a change in between fails the commit, and apply plans again); one the same
 * order already redeemed counts again; others (a platform's own coupon number, one used
 * elsewhere, a withdrawn one) are left alone. Returns the hub coupons this order redeemed.
 */
export async function redeemOnOrder(p: Pick<Port, 'tx' | 'reads'>, codes: readonly string[], orderRef: string, at: number): Promise<string[]> {
  const used: string[] = [];
  for (const code of codes) {
    if (!isPathId(code)) continue;
    const c = await p.reads.coupon(code);
    if (!c) continue;
    if (c.status === 'redeemed' && c.redeemedBy?.kind === 'order' && c.redeemedBy.ref === orderRef) used.push(code);
    if (c.status !== 'issued') continue;
    coupons.redeem(p.tx, code, { kind: 'order', ref: orderRef }, at);
    used.push(code);
  }
  return used;
}

function refuseUnusable(c: Coupon, now: number): void {
  if (c.status === 'redeemed') throw new ConflictError('the coupon was already used', undefined, 'coupon_used');
  if (c.status === 'revoked') throw new ConflictError('the coupon was withdrawn', undefined, 'coupon_revoked');
  if (now < c.validFrom) throw new ConflictError('the coupon is not valid yet', undefined, 'coupon_not_yet_valid');
  if (now > c.validUntil) throw new ConflictError('the coupon has expired', undefined, 'coupon_expired');
}
