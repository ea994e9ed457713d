/** The member as the API shows it: no internal bookkeeping (history, credits, versions). */
import type { StoredMember } from './record.ts';

export function memberView(m: StoredMember) {
  return {
    memberId: m.memberId,
    status: m.status,
    wechat: m.wechat,
    phone: m.phoneMasked,
    name: m.name,
    birthday: m.birthday,
    fanSince: m.fanSince,
    fanChannel: m.fanChannel,
    memberSince: m.memberSince,
    firstTouch: m.firstTouch,
    lastTouch: m.lastTouch,
    lastInteractionAt: m.lastInteractionAt,
    points: m.points,
    tier: m.tier,
    lifecycle: m.lifecycle,
    rfm: m.rfm,
    orderCount: m.orderCount,
    gmvFen: m.gmvFen,
    firstOrderAt: m.firstOrderAt,
    lastOrderAt: m.lastOrderAt,
    mergedFrom: m.mergedFrom,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

/** What a member sees of itself after registering: nothing of other records, no identities. */
export function ownView(m: StoredMember) {
  return { memberId: m.memberId, status: m.status, phone: m.phoneMasked, points: m.points, tier: m.tier };
}
