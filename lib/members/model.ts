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

export interface MemberRecord {
  memberId: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  status: MemberStatus;
  /** WeChat presence on the hub's official account (absent for a buyer never seen on WeChat). */
  wechat?: { appId: string; openid: string; followed: boolean; followedAt?: number; unfollowedAt?: number };
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
  phoneMasked?: string;
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
