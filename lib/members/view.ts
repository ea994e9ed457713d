/** The member as the API shows it: no internal bookkeeping (history, credits, versions). */
import type { StoredMember } from './record.ts';

/**
 * The member's WeChat addresses, one per account, each with its own follow state: `followed`,
 * first / last follow and `unfollowedAt` (epoch ms of the last unfollow of that account; the
 * member's own data stays, marketing through that account stops — docs/design.md#wechat-accounts).
 * A record of a one-account hub has its one address in `wechat`.
 */
export function accountsView(m: Pick<StoredMember, 'apps' | 'wechat'>) {
  if (m.apps && Object.keys(m.apps).length > 0) {
    return Object.entries(m.apps)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([appId, a]) => ({ appId, openid: a.openid, followed: a.followed, firstFollowAt: a.firstFollowAt, lastFollowAt: a.lastFollowAt, unfollowedAt: a.unfollowedAt, lastInteractionAt: a.lastInteractionAt }));
  }
  if (!m.wechat) return [];
  const w = m.wechat;
  return [{ appId: w.appId, openid: w.openid, followed: w.followed, firstFollowAt: undefined, lastFollowAt: w.followedAt, unfollowedAt: w.unfollowedAt, lastInteractionAt: undefined }];
}

export function memberView(m: StoredMember) {
  return {
    memberId: m.memberId,
    status: m.status,
    wechat: m.wechat,
    accounts: accountsView(m),
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
