/**
 * Engagement guardrails: the pure decisions the sender makes for one planned message: send it
 * (and through which WeChat API), defer it, or suppress it. No I/O: the sender reads the member
 * and the sent-log counts and passes them in, so every rule is unit-testable with a fixed clock.
 *
 * Order of the checks:
 *   1. staff destination   → suppress `wrong_queue` (staff rows go to the staff queue, never here)
 *   2. unfollowed member   → suppress `unfollowed` (any class: WeChat refuses both APIs, 43004)
 *   3. marketing only (transactional messages answer the person's own action and are exempt):
 *      0. a registered member without separate marketing consent → suppress `no_consent`
 *         (PIPL: marketing needs its own consent, docs/privacy.md#consent); read when the message
 *         is sent, so a withdrawal holds back every message already queued
 *      a. holdout bucket   → suppress `holdout` (a stable control group, still measured)
 *      b. quiet hours      → defer to the next allowed local time (held, not dropped)
 *      c. caps             → suppress `cap_daily` / `cap_weekly`
 *   4. channel: a customer-service message only inside the window WeChat allows it in, else a
 *      template message when the payload names a template, else a subscription message when the
 *      payload names one the person has a credit for, else suppress `outside_window`.
 *
 * Sources of the defaults (EngagementPolicy, lib/config/engagement.ts; set by HUB_ENGAGEMENT_POLICY):
 *   - Caps counted per local calendar day (Braze: "calendar day in the user's timezone") and a
 *     rolling multi-day window (GrowingIO: "≤X messages in X days"); capped messages are skipped,
 *     not queued (Braze: the capped user skips the send; Customer.io: "Undeliverable"); transactional
 *     messages are exempt (Braze per-campaign toggle, Customer.io) — docs/design.md#engagement-guardrails.
 *     The numbers 1/day and 3/7 days are product defaults, not taken from a source.
 *   - Quiet hours hold the message and deliver it at the next allowed local time (Braze quiet
 *     hours, Knock send windows, GrowingIO "defer") — docs/design.md#engagement-guardrails. 22:00–08:00 is a product default.
 *   - Holdout from a stable random bucket 0–9999 (Braze global control group from the random bucket
 *     number) — docs/design.md#engagement-guardrails. 500 buckets (5 %) is a product default.
 *   - Customer-service windows: the table of lib/engagement/windows.ts
 *     (docs/platforms.md#wechat-customer-service-windows): a message from the person opens 48 h
 *     (5 messages); a follow, QR scan or `click` / `scancode_*` menu opens only 1 min (3
 *     messages); VIEW and LOCATION open nothing. Outside them WeChat answers 45015; 45047 when
 *     the count is used up.
 */
import { HOLDOUT_BUCKETS, MAX_VISIBILITY_SECONDS, type EngagementPolicy } from '../config/engagement.ts';
import { bucketOf } from '../ids.ts';
import { addDays, DAY_MS, HOUR_MS, localParts, localToEpoch } from '../time.ts';
import type { OutboxRow } from './outbox.ts';
import { customerServiceWindow, type InteractionKind, type WindowVerdict } from './windows.ts';
import { subscriptionCredits, type Subscriptions } from './subscriptions.ts';

// ---------------------------------------------------------------------------------------------
// Decision
// ---------------------------------------------------------------------------------------------

export type SuppressReason =
  | 'wrong_queue'
  | 'unfollowed'
  | 'holdout'
  | 'cap_daily'
  | 'cap_weekly'
  | 'outside_window'
  | 'no_content'
  | 'no_consent';

export type Decision =
  | { action: 'send'; via: 'custom' | 'template' | 'subscribe' }
  | { action: 'defer'; until: number; reason: 'quiet_hours' }
  | { action: 'suppress'; reason: SuppressReason };

/** A follow or QR scan of the member's history (lib/store/entities/member.ts Touch). */
interface HistoryTouch {
  readonly at: number;
  readonly channel: string;
}

/** What the decision needs of the member record (lib/members/model.ts, record.ts). */
export interface DecisionMember {
  memberId: string;
  /** `member` once registered: marketing then needs `consent.marketing`. */
  status?: string;
  /** The person's separate marketing consent (lib/members/model.ts MemberConsent). */
  consent?: { marketing?: boolean };
  wechat?: { followed: boolean };
  lastInteractionAt?: number;
  /** Kind of that interaction (absent on older records: inferred from the history). */
  lastInteractionKind?: InteractionKind;
  /** Accepted subscription messages per template (lib/engagement/subscriptions.ts). */
  subscriptions?: Subscriptions;
  /** Follow and QR-scan history (StoredMember.history): tells a 1-minute interaction from a 48-hour one. */
  history?: { follows?: readonly HistoryTouch[]; qrScans?: readonly HistoryTouch[] };
}

export interface DecisionInput {
  row: Pick<OutboxRow, 'ruleId' | 'class' | 'destination' | 'payload' | 'triggeredAt'>;
  member: DecisionMember;
  /** Epoch ms. */
  now: number;
  /** Marketing messages already sent to this member in the current local day / the last 7 days. */
  sentMarketingToday: number;
  sentMarketingWeek: number;
  /** Customer-service messages already sent to the member since `member.lastInteractionAt`. */
  sentCustomInWindow?: number;
  policy: EngagementPolicy;
  /** IANA time zone of quiet hours and the cap day (HUB_TIMEZONE). */
  tz: string;
}

export function decide(input: DecisionInput): Decision {
  const { row, member, now, policy, tz } = input;
  if (row.destination === 'staff') return { action: 'suppress', reason: 'wrong_queue' };
  if (member.wechat?.followed === false) return { action: 'suppress', reason: 'unfollowed' };

  if (row.class === 'marketing') {
    if (!mayMarket(member)) return { action: 'suppress', reason: 'no_consent' };
    if (isHoldout(member.memberId, policy)) return { action: 'suppress', reason: 'holdout' };
    const until = quietHoursEnd(now, tz, policy);
    if (until !== null) return { action: 'defer', until, reason: 'quiet_hours' };
    if (input.sentMarketingToday >= policy.dailyCap) return { action: 'suppress', reason: 'cap_daily' };
    if (input.sentMarketingWeek >= policy.weeklyCap) return { action: 'suppress', reason: 'cap_weekly' };
  }

  const canCustom = hasCustomContent(row.payload);
  const canTemplate = hasTemplate(row.payload);
  if (!canCustom && !canTemplate && !hasSubscribeTemplate(row.payload)) return { action: 'suppress', reason: 'no_content' };
  if (canCustom && insideCustomWindow(input)) return { action: 'send', via: 'custom' };
  if (canTemplate) return { action: 'send', via: 'template' };
  if (canSubscribe(row.payload, member)) return { action: 'send', via: 'subscribe' };
  return { action: 'suppress', reason: 'outside_window' };
}

/** Marketing to this person is allowed: a fan who never registered, or a member who consented to marketing. */
export function mayMarket(member: Pick<DecisionMember, 'status' | 'consent'>): boolean {
  return member.status !== 'member' || member.consent?.marketing === true;
}

/** Stable: the same member is always in (or out of) the holdout for a given `policy.holdout`. */
export function isHoldout(memberId: string, policy: Pick<EngagementPolicy, 'holdout'>): boolean {
  return bucketOf(memberId, HOLDOUT_BUCKETS) < policy.holdout;
}

export function hasTemplate(payload: Record<string, unknown>): boolean {
  return typeof payload.templateId === 'string' && payload.templateId !== '';
}

/** The payload names a subscription-message template (`subscribeTemplateId`). */
export function hasSubscribeTemplate(payload: Record<string, unknown>): boolean {
  return typeof payload.subscribeTemplateId === 'string' && payload.subscribeTemplateId !== '';
}

/**
 * A subscription message is possible: the payload names its template and the person has a
 * credit for it (an accepted one-time subscription not yet used, or an accepted long-term one
 * when the payload says `subscribeLongTerm`).
 */
export function canSubscribe(payload: Record<string, unknown>, member: DecisionMember): boolean {
  if (!hasSubscribeTemplate(payload)) return false;
  const credits = subscriptionCredits(member.subscriptions?.[String(payload.subscribeTemplateId)], payload.subscribeLongTerm === true);
  return credits === 'unlimited' || credits > 0;
}

/** A customer-service message can be rendered: `text`, or a wire-format `custom` object with `msgtype`. */
export function hasCustomContent(payload: Record<string, unknown>): boolean {
  if (typeof payload.text === 'string' && payload.text.trim() !== '') return true;
  const c = payload.custom;
  return c !== null && typeof c === 'object' && typeof (c as Record<string, unknown>).msgtype === 'string';
}

/** What a member record written before `lastInteractionKind` was kept most likely recorded. */
function legacyKind(member: DecisionMember): InteractionKind {
  // Without `lastInteractionAt` the window is closed whatever the kind (customerServiceWindow).
  const at = member.lastInteractionAt;
  if (member.history?.follows?.some((x) => x.at === at)) return 'follow';
  if (member.history?.qrScans?.some((x) => x.at === at)) return 'qr_scan';
  return 'message';
}

/**
 * The customer-service window a message may use now (the table: lib/engagement/windows.ts).
 * - A follow-answering rule (`policy.followRuleIds`): the follow's own window, from the follow
 *   (`row.triggeredAt`); a follow stamped up to the short window ahead of the clock counts (skew).
 * - Otherwise the member's last recorded interaction (`lastInteractionKind`, `lastInteractionAt`)
 *   and the customer-service messages already sent since it (`sentCustomInWindow`).
 * `policy.interactionWindowHours` / `followWindowSeconds` may only shorten the table's windows.
 */
export function customWindow(input: Pick<DecisionInput, 'row' | 'member' | 'now' | 'policy' | 'sentCustomInWindow'>): WindowVerdict {
  const { row, member, now, policy } = input;
  const limits = { longMs: policy.interactionWindowHours * HOUR_MS, shortMs: policy.followWindowSeconds * 1000 };
  if (policy.followRuleIds.includes(row.ruleId)) {
    if (now < row.triggeredAt - limits.shortMs) return { open: false, reason: 'no_interaction' };
    return customerServiceWindow({ kind: 'follow', at: row.triggeredAt, sentInWindow: 0, now, limits });
  }
  return customerServiceWindow({
    kind: member.lastInteractionKind ?? legacyKind(member),
    at: member.lastInteractionAt,
    sentInWindow: input.sentCustomInWindow ?? 0,
    now,
    limits,
  });
}

/** Whether WeChat still accepts a customer-service message now (customWindow is open). */
export function insideCustomWindow(input: Pick<DecisionInput, 'row' | 'member' | 'now' | 'policy' | 'sentCustomInWindow'>): boolean {
  return customWindow(input).open;
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The end of the quiet period `now` falls in (the next allowed local time, epoch ms), or null
 * when `now` is outside quiet hours. Ranges may wrap midnight (22:00–08:00).
 */
export function quietHoursEnd(now: number, tz: string, policy: Pick<EngagementPolicy, 'quietHours'>): number | null {
  const qh = policy.quietHours;
  if (!qh) return null;
  const start = minutesOf(qh.start);
  const end = minutesOf(qh.end);
  const p = localParts(now, tz);
  const t = p.hour * 60 + p.minute;
  const wraps = start > end;
  // start === end is an empty range: `inside` is false for every t.
  const inside = wraps ? t >= start || t < end : t >= start && t < end;
  if (!inside) return null;
  const endDay = wraps && t >= start ? addDays(p.day, 1) : p.day;
  const until = localToEpoch(endDay, Math.floor(end / 60), end % 60, tz);
  // A wall-clock time skipped by a DST change resolves near it; never defer into the past.
  return until > now ? until : now + 60_000;
}

/** Seconds before a failed send is tried again: base × 2^(receiveCount−1), capped (SQS visibility ≤ 12 h). */
export function retryDelaySeconds(receiveCount: number, policy: Pick<EngagementPolicy, 'retryBaseSeconds' | 'retryMaxSeconds'>): number {
  const n = Math.max(1, Math.floor(Number.isFinite(receiveCount) ? receiveCount : 1));
  const raw = policy.retryBaseSeconds * 2 ** Math.min(n - 1, 30);
  return Math.min(raw, policy.retryMaxSeconds, MAX_VISIBILITY_SECONDS);
}

/** Seconds until `until` (a deferral), at least 1, capped at the SQS visibility maximum. */
export function deferDelaySeconds(until: number, now: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil((until - now) / 1000)));
}

/** The 7-day window the weekly cap counts (rolling, ending now). */
export const WEEK_MS = 7 * DAY_MS;
