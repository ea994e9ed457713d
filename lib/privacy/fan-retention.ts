/**
 * Fan retention (docs/privacy.md#unfollow): WeChat asks an account to stop using a person's data
 * once they unfollow, and PIPL art. 47 requires deletion when the purpose ends. A fan who never
 * registered and has unfollowed every account of the brand (and is no current WeCom contact) is
 * erased HUB_FAN_RETENTION_DAYS after the last unfollow — in case they come back, the grace
 * period keeps their first touch. A member (registered) keeps their membership data; a follow in
 * the meantime moves the date away (every write recomputes it).
 *
 * The date rides on the member review index (lib/members/record.ts derive: the profile is filed
 * under that day at the latest), so the nightly review finds it without a scan and requests the
 * erasure (lib/members/nightly.ts).
 */
import type { MemberRecord } from '../members/model.ts';
import type { MemberHistory } from '../store/entities/member.ts';

const DAY_MS = 86_400_000;

/** When the fan's data is due for erasure (epoch ms), or undefined: a member, still following somewhere, or never on WeChat. */
export function fanRetentionAt(m: Pick<MemberRecord, 'apps' | 'wechat' | 'wecom'> & { history: Pick<MemberHistory, 'registeredAt' | 'unfollows'> }, days: number): number | undefined {
  if (m.history.registeredAt !== undefined) return undefined;
  const presences = Object.values(m.apps ?? {});
  const followed = presences.length ? presences.some((a) => a.followed) : m.wechat?.followed;
  if (followed !== false) return undefined;
  if (Object.values(m.wecom?.guides ?? {}).some((g) => (g.addedAt ?? -1) > (g.removedAt ?? -1))) return undefined;
  const last = Math.max(-1, ...m.history.unfollows, ...presences.map((a) => a.unfollowedAt ?? -1), m.wechat?.unfollowedAt ?? -1);
  return last < 0 ? undefined : last + days * DAY_MS;
}
