/**
 * The member record: one person, whichever door they came through. Stored as one profile
 * item (keys.member) guarded by an optimistic `version`; identities, lots, ledger rows and
 * orders are items of their own that point at it.
 */
import { supersedes, type InteractionKind } from '../engagement/windows.ts';
import type { Subscriptions } from '../engagement/subscriptions.ts';

export type MemberStatus = 'fan' | 'member' | 'buyer';
export type Lifecycle = 'prospect' | 'new' | 'repeat' | 'at_risk' | 'lapsed' | 'won_back';

export interface Touch {
  channel: string;
  at: number;
}

export type { InteractionKind };

/**
 * The member's presence on one WeChat app (official account or mini program), keyed by appId on
 * `apps`. Every field is a minimum or maximum of facts, so any arrival order and any merge give
 * the same state: `followed` follows from the last follow and the last unfollow (a scan or a
 * message proves a follow the hub never saw).
 */
export interface AppPresence {
  openid: string;
  followed: boolean;
  firstFollowAt?: number;
  lastFollowAt?: number;
  unfollowedAt?: number;
  lastInteractionAt?: number;
  lastInteractionKind?: InteractionKind;
}

/**
 * One WeCom staff member (`userid`) the person is a contact of: when the contact was added and
 * through which contact way (`state`), when it ended and by whom. Times decide, never arrival
 * order: the contact is current while `addedAt` is later than `removedAt`.
 */
export interface WecomGuide {
  addedAt?: number;
  state?: string;
  removedAt?: number;
  /** `staff` (del_external_contact), `customer` (del_follow_user), `transfer` (DELETE_BY_TRANSFER). */
  removedBy?: 'staff' | 'customer' | 'transfer';
}

/** The person as a WeCom customer of the brand's corp: the corp's external_userid and their guides. */
export interface WecomPresence {
  corpId: string;
  externalUserId: string;
  guides: Record<string, WecomGuide>;
}

/** Folds one record's guides into another's: the later add and the later removal of each guide win. */
export function mergeWecom(a: WecomPresence | undefined, b: WecomPresence | undefined): WecomPresence | undefined {
  if (!a || !b) return a ?? (b ? structuredClone(b) : undefined);
  const guides = { ...a.guides };
  for (const [userId, g] of Object.entries(b.guides)) {
    const mine = guides[userId];
    if (!mine) {
      guides[userId] = { ...g };
      continue;
    }
    const added = (mine.addedAt ?? -1) >= (g.addedAt ?? -1) ? mine : g;
    const removed = (mine.removedAt ?? -1) >= (g.removedAt ?? -1) ? mine : g;
    guides[userId] = {
      ...(added.addedAt !== undefined ? { addedAt: added.addedAt } : {}),
      ...(added.state !== undefined ? { state: added.state } : {}),
      ...(removed.removedAt !== undefined ? { removedAt: removed.removedAt } : {}),
      ...(removed.removedBy !== undefined ? { removedBy: removed.removedBy } : {}),
    };
  }
  return { ...a, guides };
}

/**
 * What the person agreed to (docs/privacy.md#consent): the privacy-policy version accepted at
 * registration and the separate marketing consent, each with when and through which channel.
 * Its history is kept as consent records (lib/store/entities/consent.ts).
 */
export interface MemberConsent {
  policyVersion?: string;
  policyAcceptedAt?: number;
  marketing: boolean;
  marketingAt: number;
  marketingChannel: string;
}

export interface MemberRecord {
  memberId: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  status: MemberStatus;
  /**
   * The member's first WeChat address and its follow state (absent for a buyer never seen on
   * WeChat); with several accounts, every address is in `apps`.
   */
  wechat?: { appId: string; openid: string; followed: boolean; followedAt?: number; unfollowedAt?: number };
  /** Per WeChat app (appId): the address and its own follow state and last interaction. */
  apps?: Record<string, AppPresence>;
  /** WeChat user tags planned for this member (`<appId>:<tagId>`, lib/engagement/tags.ts): each is planned once. */
  wechatTags?: string[];
  /** The person as a WeCom customer (lib/apply/planners/wecom.ts). */
  wecom?: WecomPresence;
  /** The open-platform unionid shared by the brand's apps: one per member, never two. */
  unionid?: string;
  /** First follow: when and through which channel (the cohort the conversion metrics use). */
  fanSince?: number;
  fanChannel?: string;
  memberSince?: number;
  firstTouch: Touch;
  lastTouch: Touch;
  /** The person's last action that opens a customer-service window (lib/engagement/windows.ts). */
  lastInteractionAt?: number;
  /** Its kind (`message`, `menu_click`, `follow` …); absent on records written before it was kept. */
  lastInteractionKind?: InteractionKind;
  /** Subscription messages the person accepted, per template (lib/engagement/subscriptions.ts). */
  subscriptions?: Subscriptions;
  /** Consent given at registration and changed by the member (POST /me/consent). */
  consent?: MemberConsent;
  phoneMasked?: string;
  /** The member whose referral link brought this one to register (lib/loyalty/referrals.ts). */
  referredBy?: string;
  /** HMAC of the phone (lib/members/phone.ts); the one phone this member owns. */
  phoneHash?: string;
  name?: string;
  birthday?: string;
  points: number;
  tier: string;
  orderCount: number;
  gmvFen: number;
  firstOrderAt?: number;
  lastOrderAt?: number;
  lifecycle: Lifecycle;
  rfm?: { r: number; f: number; m: number };
  /** Set on a record merged into another; readers follow it. */
  mergedInto?: string;
  /** Records merged into this one; their partitions (lots, ledger) still belong to it. */
  mergedFrom?: string[];
}

export const ORGANIC = 'organic';

export function newMember(memberId: string, at: number, firstTouch: Touch, status: MemberStatus): MemberRecord {
  return {
    memberId,
    version: 0,
    createdAt: at,
    updatedAt: at,
    status,
    firstTouch,
    lastTouch: firstTouch,
    points: 0,
    tier: 'normal',
    orderCount: 0,
    gmvFen: 0,
    lifecycle: 'prospect',
  };
}

/** Records a window-opening action; the latest one wins (windows.ts `supersedes`; an earlier one arriving late changes nothing). */
export function interacted(m: MemberRecord, at: number, kind: InteractionKind): void {
  if (supersedes(kind, at, { kind: m.lastInteractionKind, at: m.lastInteractionAt })) {
    m.lastInteractionAt = at;
    m.lastInteractionKind = kind;
  }
}

/**
 * The member's presence on `appId` (created on first use). A record from before accounts were
 * per app starts from its one `wechat` address's state.
 */
export function presenceOn(m: MemberRecord, appId: string, openid: string): AppPresence {
  const apps = (m.apps ??= {});
  let a = apps[appId];
  if (!a) {
    const legacy = m.wechat && m.wechat.appId === appId && m.wechat.openid === openid ? m.wechat : undefined;
    a = { openid, followed: legacy?.followed ?? false };
    if (legacy?.followedAt !== undefined) a.lastFollowAt = legacy.followedAt;
    if (legacy?.unfollowedAt !== undefined) a.unfollowedAt = legacy.unfollowedAt;
    if (legacy && m.lastInteractionAt !== undefined) {
      a.lastInteractionAt = m.lastInteractionAt;
      if (m.lastInteractionKind !== undefined) a.lastInteractionKind = m.lastInteractionKind;
    }
    apps[appId] = a;
  }
  return a;
}

/**
 * An interaction on one app: its own last interaction (and kind) and the member's. A push that
 * opens no customer-service window (VIEW, LOCATION: `kind` undefined) changes neither.
 */
export function interactedOn(m: MemberRecord, a: AppPresence | undefined, at: number, kind: InteractionKind | undefined): void {
  if (kind === undefined) return;
  interacted(m, at, kind);
  if (a && supersedes(kind, at, { kind: a.lastInteractionKind, at: a.lastInteractionAt })) {
    a.lastInteractionAt = at;
    a.lastInteractionKind = kind;
  }
}

const minOf = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const maxOf = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

/** Follow state from the facts: the last follow after the last unfollow; without either, what was proven. */
export function settleFollow(a: AppPresence): void {
  if (a.lastFollowAt !== undefined || a.unfollowedAt !== undefined) a.followed = (a.lastFollowAt ?? -1) > (a.unfollowedAt ?? -1);
}

/** Two presences of one address on one app (a merge): the extremes of both. */
export function mergePresence(a: AppPresence, b: AppPresence): AppPresence {
  const out: AppPresence = { openid: a.openid, followed: a.followed || b.followed };
  const first = minOf(a.firstFollowAt, b.firstFollowAt);
  const last = maxOf(a.lastFollowAt, b.lastFollowAt);
  const unf = maxOf(a.unfollowedAt, b.unfollowedAt);
  if (first !== undefined) out.firstFollowAt = first;
  if (last !== undefined) out.lastFollowAt = last;
  if (unf !== undefined) out.unfollowedAt = unf;
  for (const x of [a, b]) {
    if (x.lastInteractionAt === undefined) continue;
    const wins = x.lastInteractionKind !== undefined ? supersedes(x.lastInteractionKind, x.lastInteractionAt, { kind: out.lastInteractionKind, at: out.lastInteractionAt }) : out.lastInteractionAt === undefined || x.lastInteractionAt > out.lastInteractionAt;
    if (wins) {
      out.lastInteractionAt = x.lastInteractionAt;
      if (x.lastInteractionKind !== undefined) out.lastInteractionKind = x.lastInteractionKind;
      else delete out.lastInteractionKind;
    }
  }
  settleFollow(out);
  return out;
}

/** Records a follow on one app. */
export function followedOn(a: AppPresence, at: number): void {
  a.firstFollowAt = minOf(a.firstFollowAt, at);
  a.lastFollowAt = maxOf(a.lastFollowAt, at);
  settleFollow(a);
}

/** Records an unfollow on one app. */
export function unfollowedOn(a: AppPresence, at: number): void {
  a.unfollowedAt = maxOf(a.unfollowedAt, at);
  settleFollow(a);
}

/**
 * The address a message without one goes to (a scheduled nudge): the followed app the member
 * interacted with last, else the first address (`wechat`), whose follow state the guardrails
 * then judge.
 */
export function sendingAddress(m: Pick<MemberRecord, 'apps' | 'wechat'>): { appId: string; openid: string } | undefined {
  let best: [string, AppPresence] | undefined;
  for (const e of Object.entries(m.apps ?? {})) {
    if (!e[1].followed) continue;
    if (!best || (e[1].lastInteractionAt ?? -1) > (best[1].lastInteractionAt ?? -1)) best = e;
  }
  if (best) return { appId: best[0], openid: best[1].openid };
  return m.wechat ? { appId: m.wechat.appId, openid: m.wechat.openid } : undefined;
}

/** The member as one app sees it: that app's follow state and last interaction with its kind (the guardrails read these). */
export function asSeenBy<T extends Pick<MemberRecord, 'apps' | 'wechat' | 'lastInteractionAt' | 'lastInteractionKind'>>(m: T, appId: string): T {
  const a = m.apps?.[appId];
  if (!a) return m;
  const seen = { ...m, wechat: { ...(m.wechat ?? { appId, openid: a.openid }), followed: a.followed } };
  if (a.lastInteractionAt !== undefined) seen.lastInteractionAt = a.lastInteractionAt;
  else delete seen.lastInteractionAt;
  if (a.lastInteractionKind !== undefined) seen.lastInteractionKind = a.lastInteractionKind;
  else delete seen.lastInteractionKind;
  return seen;
}
