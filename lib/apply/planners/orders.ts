/**
 * Orders and refunds. The order item only moves forward (created < paid < shipped < completed;
 * closed and refunded are end states) and backfills facts a thin trigger lacked; refunds are a
 * ledger keyed by refund id. Points and the member's purchase facts are settled from the order's
 * totals (`settle`), so any arrival order of the same messages ends in the same state:
 * - between two messages of the same rank, the later one (by `occurredAt`, then by platform
 *   status) sets the status, whichever arrives last;
 * - `closed` (ended unpaid) becomes `refunded` as soon as a payment is known, also when the
 *   payment arrives after the closure;
 * - a refund row's status only moves forward (requested < closed < succeeded) and a succeeded
 *   refund keeps its amount;
 * - points reversed = points for the refunded amount: the refund ledger's total, or the whole
 *   paid amount once the order ended `refunded` (a JD order cancelled after payment comes with
 *   no refund message at all).
 * - money sanity: a message whose amount paid differs from the sum of its lines' paid shares
 *   (both given) is recorded on the order (`amountMismatch`); the platform's amount paid counts;
 * - limits: an order or refund amount above HUB_ORDER_MAX_FEN → 400 `amount_out_of_range`; once
 *   the order's paid amount (or, before it, its total) is known, refunds whose total would
 *   exceed it → 400 `refund_exceeds_paid`, recorded for review (`refundCap`); a refund seen
 *   before any amount of its order cannot be checked and is accepted, whatever the arrival
 *   order; the points it reverses are still capped by what the order earned.
 */
import type { CommerceEvent, HubEventOf, Platform, SubOrderState } from '../../events/hub-event.ts';
import { STATUS_RANK } from '../../events/hub-event.ts';
import type { PlanOutput, Planners, Port } from '../../port.ts';
import { orders } from '../../store/entities/order.ts';
import { refunds } from '../../store/entities/refund.ts';
import type { PaidOrder } from '../../attribution/credits.ts';
import { earn, consume, pointsFor } from '../../members/points.ts';
import { resolveMember, saveMember, useMember, type Resolved } from '../../members/identity.ts';
import { planEngagement } from '../../engagement/rules/plan.ts';
import { redeemOnOrder } from '../../loyalty/coupons.ts';
import { TMALL_DETAIL_RULE } from '../../events/messages.ts';
import { BadRequestError, ConflictError, RefusedForReviewError } from '../../errors.ts';

export interface OrderItem {
  platform: Platform;
  shopId: string;
  orderId: string;
  status: string;
  rank: number;
  platformStatus?: string;
  /** occurredAt of the message that set the status (ties between messages of one rank). */
  statusAt?: number;
  memberId?: string;
  totalFen: number;
  paidFen: number;
  paidAt?: number;
  refundedFen: number;
  pointsEarned: number;
  pointsClawed: number;
  lines?: unknown[];
  /** The last message whose amount paid differed from the sum of its lines' paid shares (the amount paid counts). */
  amountMismatch?: { paidFen: number; linesFen: number; eventId: string; at: number };
  /** Hub coupons the platform reported used on this order, each redeemed by it (lib/loyalty/coupons.ts). */
  coupons?: string[];
  /** Sub-order states by line id (Tmall `oid` topics): each only moves forward. */
  subOrders?: Record<string, SubOrderItem>;
  firstSeenAt: number;
  updatedAt: number;
  version: number;
}

export interface SubOrderItem {
  status: string;
  rank: number;
  platformStatus: string;
  at: number;
}

const PAID_RANK = STATUS_RANK.paid;
const TERMINAL = 90;

export const orderRef = (o: Pick<OrderItem, 'platform' | 'shopId' | 'orderId'>) => `${o.platform}:${o.shopId}:${o.orderId}`;

async function loadOrder(p: Port, platform: Platform, shopId: string, orderId: string): Promise<{ o: OrderItem; isNew: boolean }> {
  const existing = await p.reads.order<OrderItem>(platform, shopId, orderId);
  if (existing) return { o: existing, isNew: false };
  return {
    isNew: true,
    o: {
      platform,
      shopId,
      orderId,
      status: 'unknown',
      rank: 0,
      totalFen: 0,
      paidFen: 0,
      refundedFen: 0,
      pointsEarned: 0,
      pointsClawed: 0,
      firstSeenAt: p.now,
      updatedAt: p.now,
      version: 0,
    },
  };
}

async function memberFor(p: Port, e: HubEventOf<'order' | 'refund'>, o: OrderItem): Promise<Resolved | undefined> {
  if (e.buyer.length) return resolveMember(p, e, e.buyer, { createAs: 'buyer', seenChannel: e.platform });
  if (o.memberId) return useMember(p, o.memberId);
  return undefined;
}

function checkAmount(p: Port, fen: number, what: string): void {
  const max = p.cfg.HUB_ORDER_MAX_FEN;
  if (fen > max) throw new BadRequestError(`${what} ${fen} fen is above the ceiling of ${max} fen (HUB_ORDER_MAX_FEN)`, undefined, 'amount_out_of_range');
}

/** The planner of every commerce event type (the order webhooks' and tmall-mei's only planners). */
export const COMMERCE_PLANNERS: Planners<CommerceEvent> = { order: planOrder, refund: planRefund, 'platform.member_join': planPlatformJoin };

export async function planOrder(e: HubEventOf<'order'>, p: Port): Promise<PlanOutput> {
  checkAmount(p, e.totalFen, 'order total');
  checkAmount(p, e.paidFen, 'amount paid');
  if (e.subOrder) return planSubOrder(e, e.subOrder, p);
  const { o, isNew } = await loadOrder(p, e.platform, e.shopId, e.orderId);
  const before = { status: o.status, paidFen: o.paidFen };
  const rank = STATUS_RANK[e.status];
  const paidSeen = (rank >= PAID_RANK && rank < TERMINAL) || e.status === 'refunded';
  if (rank > o.rank || (rank === o.rank && laterStatus(e, o))) {
    o.status = e.status;
    o.rank = rank;
    o.platformStatus = e.platformStatus;
    o.statusAt = e.occurredAt;
  }
  o.totalFen = Math.max(o.totalFen, e.totalFen);
  o.paidFen = Math.max(o.paidFen, e.paidFen);
  if (paidSeen) {
    const paidAt = e.paidAt ?? e.occurredAt;
    if (o.paidAt === undefined || paidAt < o.paidAt) o.paidAt = paidAt;
  }
  // `closed` means closed before payment; once a payment is known (in any arrival order) it is a
  // refund-closure.
  if (o.status === 'closed' && o.paidAt !== undefined) o.status = 'refunded';
  if (!o.lines?.length && e.lines.length) o.lines = e.lines;
  // Money sanity: where the platform gives both the amount paid and every line's paid share, they
  // must agree; a mismatch is recorded on the order and the platform's total wins.
  const linesFen = e.lines.length > 0 && e.lines.every((l) => l.paidFen !== null) ? e.lines.reduce((sum, l) => sum + l.paidFen!, 0) : undefined;
  if (linesFen !== undefined && e.paidFen > 0 && linesFen !== e.paidFen) {
    o.amountMismatch = { paidFen: e.paidFen, linesFen, eventId: e.eventId, at: e.occurredAt };
  }
  const r = await memberFor(p, e, o);
  const m = r?.member;
  await settle(p, o, m, e.occurredAt);
  if (e.couponCodes?.length && o.paidAt !== undefined) {
    const used = await redeemOnOrder(p, e.couponCodes, orderRef(o), o.paidAt);
    if (used.length) o.coupons = [...new Set([...(o.coupons ?? []), ...used])].sort();
  }
  writeOrder(p, o, isNew);
  if (r) saveMember(p, e, r);
  if (isNew && m) planTmallDetail(p, e, m.memberId);
  // `advanced`: this event told the hub something about the order it did not know (reconciliation's gaps).
  const advanced = isNew || o.status !== before.status || o.paidFen !== before.paidFen;
  return { ...(m ? { memberId: m.memberId } : {}), result: { orderStatus: o.status, advanced } };
}

/**
 * A Tmall trade first seen without its `ouid` (a relayed message or a reconciled trade: only
 * `buyer_open_uid`) gets the detail call after the reply, through the engagement queue
 * (lib/apply/tmall-detail.ts), when the seller's session is configured. One row per order.
 */
function planTmallDetail(p: Port, e: HubEventOf<'order'>, memberId: string): void {
  if (e.platform !== 'tmall' || !p.cfg.TMALL_SESSION_KEY) return;
  if (e.buyer.some((i) => i.kind === 'tmall_ouid')) return;
  const openUid = e.buyer.find((i) => i.kind === 'tmall_buyer_open_uid')?.value;
  if (!openUid) return;
  const payload = { shopId: e.shopId, tid: e.orderId, buyerOpenUid: openUid };
  p.emit({ memberId, ruleId: TMALL_DETAIL_RULE, step: `tmall:${e.shopId}:${e.orderId}`, class: 'transactional', destination: 'member', payload, triggeredAt: e.occurredAt });
}

/**
 * What refunds of an order may total: the amount paid once a message carried it, else the
 * order's total once known; undefined while no amount is known (a refund before its order, or
 * after a thin status message without amounts), so a genuine refund is never refused for
 * arriving early. Amounts only grow (max over messages), so the cap never shrinks.
 */
function refundCap(o: OrderItem): number | undefined {
  if (o.paidFen > 0) return o.paidFen;
  if (o.totalFen > 0) return o.totalFen;
  return undefined;
}

/** A refund's status only moves forward: a late `requested` never reopens a settled refund. */
const REFUND_RANK: Record<string, number> = { requested: 1, closed: 2, succeeded: 3 };

/** Same rank: the later message wins; equal times are broken by the platform status, so arrival order never matters. */
function laterStatus(e: HubEventOf<'order'>, o: OrderItem): boolean {
  if (o.statusAt === undefined || e.occurredAt > o.statusAt) return true;
  return e.occurredAt === o.statusAt && e.platformStatus > (o.platformStatus ?? '');
}

/**
 * One sub-order's message: its state moves forward (a later message of the same rank wins), the
 * refund it names goes to the refund ledger as a succeeded refund (once per refundId: the
 * platform's own refund message of the same id adds nothing), and the trade's status is derived
 * only when every known line has ended (then `refunded` if it was paid, else `closed`). So a
 * refund of one sub-order claws back the points of its amount, never the whole order's.
 */
async function planSubOrder(e: HubEventOf<'order'>, s: SubOrderState, p: Port): Promise<PlanOutput> {
  if (s.refundFen !== undefined) checkAmount(p, s.refundFen, 'refund');
  const { o, isNew } = await loadOrder(p, e.platform, e.shopId, e.orderId);
  const subs = { ...o.subOrders };
  const prev = subs[s.lineId];
  const rank = STATUS_RANK[s.status];
  let advanced = isNew;
  if (!prev || rank > prev.rank || (rank === prev.rank && e.occurredAt > prev.at)) {
    subs[s.lineId] = { status: s.status, rank, platformStatus: s.platformStatus, at: e.occurredAt };
    advanced ||= prev?.status !== s.status;
  }
  o.subOrders = subs;
  if (s.refundId !== undefined && s.refundFen !== undefined && rank >= TERMINAL) {
    const r = await ledgerRefund(p, o, { ...e, refundId: s.refundId, status: 'succeeded', refundFen: s.refundFen });
    advanced ||= r.advanced;
  }
  const lineIds = (o.lines ?? []).map((l) => (l as { lineId?: string }).lineId).filter((id): id is string => typeof id === 'string');
  if (lineIds.length > 0 && o.rank < TERMINAL && lineIds.every((id) => (subs[id]?.rank ?? 0) >= TERMINAL)) {
    o.status = o.paidAt !== undefined ? 'refunded' : 'closed';
    o.rank = TERMINAL;
    o.statusAt = e.occurredAt;
    advanced = true;
  }
  const r = await memberFor(p, e, o);
  const m = r?.member;
  await settle(p, o, m, e.occurredAt);
  writeOrder(p, o, isNew);
  if (r) saveMember(p, e, r);
  return { ...(m ? { memberId: m.memberId } : {}), result: { orderStatus: o.status, subOrderStatus: subs[s.lineId]!.status, advanced } };
}

interface LedgerEntry {
  platform: Platform;
  shopId: string;
  orderId: string;
  refundId: string;
  status: HubEventOf<'refund'>['status'];
  refundFen: number;
  occurredAt: number;
}

/**
 * Writes a refund's ledger row (its status only moves forward; a succeeded refund keeps its
 * amount) and adds a newly succeeded amount to the order's refunded total, refusing refunds
 * that would exceed what the order paid (`refundCap`).
 */
async function ledgerRefund(p: Port, o: OrderItem, e: LedgerEntry): Promise<{ status: string; advanced: boolean }> {
  const existing = await p.reads.refund(e.platform, e.refundId);
  const wasSucceeded = existing?.status === 'succeeded';
  const others = o.refundedFen - (wasSucceeded ? existing.refundFen : 0);
  const cap = refundCap(o);
  if (cap !== undefined && !wasSucceeded && others + e.refundFen > cap) {
    throw new RefusedForReviewError(`refunds would total ${others + e.refundFen} fen, above the ${cap} fen paid`, 'refund_exceeds_paid', {
      kind: 'refund',
      reason: 'refund_exceeds_paid',
      platform: e.platform,
      shopId: e.shopId,
      orderId: e.orderId,
      refundId: e.refundId,
      refundFen: e.refundFen,
      refundedFen: others,
      paidFen: cap,
    });
  }
  const nowSucceeded = wasSucceeded || e.status === 'succeeded';
  const rank = REFUND_RANK[e.status] ?? 0;
  const prevRank = existing ? (REFUND_RANK[existing.status] ?? 0) : 0;
  // A settled (succeeded) refund keeps the amount that moved money; otherwise the later message
  // of the highest status wins (equal times: the larger amount), whatever the arrival order.
  const wins =
    !existing ||
    rank > prevRank ||
    (rank === prevRank &&
      !wasSucceeded &&
      (e.occurredAt > (existing.statusAt ?? -1) || (e.occurredAt === existing.statusAt && e.refundFen > existing.refundFen)));
  const refundRow = {
    platform: e.platform,
    shopId: e.shopId,
    orderId: e.orderId,
    refundId: e.refundId,
    status: wins ? e.status : existing.status,
    refundFen: wins ? e.refundFen : existing.refundFen,
    statusAt: wins ? e.occurredAt : (existing.statusAt ?? e.occurredAt),
    updatedAt: p.now,
    version: (existing?.version ?? 0) + 1,
  };
  refunds.write(p.tx, refundRow, existing?.version);
  if (nowSucceeded && !wasSucceeded) o.refundedFen += e.refundFen;
  return { status: refundRow.status, advanced: !existing || refundRow.status !== existing.status || refundRow.refundFen !== existing.refundFen };
}

export async function planRefund(e: HubEventOf<'refund'>, p: Port): Promise<PlanOutput> {
  checkAmount(p, e.refundFen, 'refund');
  const { o, isNew } = await loadOrder(p, e.platform, e.shopId, e.orderId);
  const ledger = await ledgerRefund(p, o, e);
  const r = await memberFor(p, e, o);
  const m = r?.member;
  await settle(p, o, m, e.occurredAt);
  writeOrder(p, o, isNew);
  if (r) saveMember(p, e, r);
  return { ...(m ? { memberId: m.memberId } : {}), result: { refundStatus: ledger.status, advanced: ledger.advanced } };
}

/**
 * A platform-side join. With a phone HMAC (Tmall 会员通 bind/register) the phone is an identity
 * too, so the shopper joins the record that already holds the phone (a WeChat member who
 * registered it) or the one the platform ids lead to; a record holding another phone is never
 * joined (ConflictError `phone_conflict`, nothing written). `membership` makes the person a
 * member of the brand's programme (registeredAt, the earliest join of any arrival order).
 */
export async function planPlatformJoin(e: HubEventOf<'platform.member_join'>, p: Port): Promise<PlanOutput> {
  const ids = e.phoneHash ? [...e.buyer, { kind: 'phone' as const, value: e.phoneHash }] : e.buyer;
  const r = (await resolveMember(p, e, ids, { createAs: e.membership ? 'member' : 'buyer', seenChannel: e.platform }))!;
  const m = r.member;
  if (e.phoneHash) {
    if (m.phoneHash && m.phoneHash !== e.phoneHash) throw new ConflictError('this member holds another phone number', undefined, 'phone_conflict');
    m.phoneHash = e.phoneHash;
    if (e.phoneMasked) m.phoneMasked ??= e.phoneMasked;
  }
  const registeredAt = m.history.registeredAt;
  if (e.membership && (registeredAt === undefined || e.occurredAt < registeredAt)) m.history.registeredAt = e.occurredAt;
  saveMember(p, e, r);
  return { memberId: m.memberId };
}

/**
 * Brings points and the member's purchase facts in line with the order's totals: earned =
 * points for the paid amount once payment is seen; clawed = points for the refunded amount
 * (never more than earned). Only the differences are written.
 */
async function settle(p: Port, o: OrderItem, m: Resolved['member'] | undefined, at: number): Promise<void> {
  if (!m) return;
  o.memberId = m.memberId;
  const ref = orderRef(o);
  const perYuan = p.cfg.HUB_POINTS_PER_YUAN;
  const counted = o.paidAt !== undefined;
  if (counted) {
    const paid: PaidOrder = { key: ref, paidAt: o.paidAt!, paidFen: o.paidFen, platform: o.platform };
    const paidOrders = m.history.orders;
    const i = paidOrders.findIndex((x) => x.key === ref);
    if (i >= 0) paidOrders[i] = paid;
    else {
      paidOrders.push(paid);
      planEngagement(p, { kind: 'paid_order', orderRef: ref, paidAt: o.paidAt! }, m);
    }
  }
  const earned = counted ? pointsFor(o.paidFen, perYuan) : 0;
  const refundedFen = o.status === 'refunded' ? Math.max(o.refundedFen, o.paidFen) : o.refundedFen;
  const clawed = Math.min(earned, pointsFor(refundedFen, perYuan));
  if (earned > o.pointsEarned) {
    const delta = earned - o.pointsEarned;
    earn(p, m, delta, 'order', `${ref}#${earned}`, o.paidAt ?? at);
    planEngagement(p, { kind: 'points_earned', cause: 'order', ref: `${ref}#${earned}`, points: delta, at }, m);
  }
  if (clawed > o.pointsClawed) await consume(p, m, clawed - o.pointsClawed, 'refund', `${ref}#${clawed}`, at);
  o.pointsEarned = Math.max(o.pointsEarned, earned);
  o.pointsClawed = Math.max(o.pointsClawed, clawed);
}

function writeOrder(p: Port, o: OrderItem, isNew: boolean): void {
  const prev = o.version;
  const item: OrderItem = { ...o, version: prev + 1, updatedAt: p.now };
  orders.write(p.tx, item, { isNew, prevVersion: prev });
}
