/**
 * Loading, deriving and writing member records inside an `apply` transaction.
 *
 * The profile item holds the attribution history (lib/attribution/credits.ts); derived fields
 * (first/last touch, fan since, followed) are recomputed from the history on every write so
 * arrival order never matters. The credits already given to the counters are not stored: every
 * write gives exactly computeCredits(history), so what a record has given is computeCredits of
 * the history it was read with (`creditsGiven`). A record stored before that carries its
 * `credits` map, which is used once and then dropped; a merged-away record keeps `credits: {}`
 * (it gave everything back). A long history lives in month buckets
 * (lib/store/entities/member-history.ts), so the profile stays small.
 *
 * Cohort credits (lib/attribution/cohorts.ts) are part of what a write gives since records carry
 * `cohortCredits: true`. A record written before has given only the channel credits, so its
 * `creditsGiven` leaves the cohort rows out and its next write (or the cohort backfill,
 * lib/attribution/backfill.ts) gives them whole and marks the record: exactly once, under the
 * record's version condition.
 *
 * The credit difference of a write leaves the transaction as one credit-delta item of this
 * member (lib/store/entities/credit-delta.ts), folded into the shared counters afterwards by
 * lib/attribution/fold.ts: the event's transaction touches no item another member's event also
 * touches, so a viral channel causes no transaction conflicts.
 */
import type { Store } from '../store/client.ts';
import { members, setReviewIndex } from '../store/entities/member.ts';
import type { Tx } from '../store/tx.ts';
import { counters } from '../store/entities/counter.ts';
import { creditDeltas } from '../store/entities/credit-delta.ts';
import {
  computeCredits,
  diffCredits,
  emptyHistory,
  firstFollow,
  firstTouchOf,
  lastTouchAt,
  marketingTouches,
  parseCreditKey,
  sortHistory,
  type Credits,
  type History,
} from '../attribution/credits.ts';
import { bucketOf } from '../ids.ts';
import { cohortCredits, COHORT_MODEL } from '../attribution/cohorts.ts';
import { newMember, ORGANIC, settleFollow, type MemberRecord, type MemberStatus } from './model.ts';
import { higherTier, lifecycleOf, nextReviewAt, REVIEW_SHARDS, reviewDay, rfmOf, tierOf, tierRank } from './lifecycle.ts';
import type { MemberRules } from '../config/members.ts';
import type { CreditWrites } from '../port.ts';
import { fanRetentionAt } from '../privacy/fan-retention.ts';

/** The member profile as the domain works with it (stored form: lib/store/entities/member.ts). */
export interface StoredMember extends MemberRecord {
  history: History;
  /**
   * The credits this record has given, when known without its history: none for a new record,
   * the stored map of a record written before credits left the profile, `{}` for a merged-away one.
   */
  credits?: Credits;
  /** True once the record's writes include cohort credits (see the header). */
  cohortCredits?: boolean;
}

/** Every credit a history deserves: channel credits and, when `cohorts`, cohort credits. */
export function memberCredits(h: History, tz: string, cohorts = true): Credits {
  return cohorts ? { ...computeCredits(h, tz), ...cohortCredits(h, tz) } : computeCredits(h, tz);
}

/** What a record has given the counters so far (see the header). */
export function creditsGiven(m: StoredMember, tz: string): Credits {
  if (m.credits) return m.credits;
  if (m.mergedInto) return {};
  const read = members.historyAsRead(m);
  // A record the write path did not read (a programming error): its credits cannot be known.
  if (!read) throw new Error(`member ${m.memberId}: credits of a record not read through members.get/resolve`);
  return memberCredits(read, tz, m.cohortCredits === true);
}

/** Reads a member, following merge pointers. */
export function readMember(store: Store, memberId: string): Promise<StoredMember | undefined> {
  return members.resolve<StoredMember>(store, memberId);
}

export function createStoredMember(memberId: string, at: number, status: MemberStatus, seenChannel = ORGANIC): StoredMember {
  const m = newMember(memberId, at, { channel: seenChannel, at }, status) as StoredMember;
  m.history = { ...emptyHistory(), seen: { at, channel: seenChannel } };
  m.credits = {};
  m.cohortCredits = true;
  return m;
}

/**
 * Recomputes the fields that follow from the history, as of `now` (the write's time). Tier only
 * rises here (the order that crosses a threshold upgrades at once); the nightly review stores a
 * lower tier when orders have left the window. Lifecycle, RFM and the member's review-index
 * entry (lib/members/lifecycle.ts, lib/store/entities/member.ts) are kept current on every write.
 */
export function derive(m: StoredMember, now: number, tz: string, rules: MemberRules, fanRetentionDays?: number): void {
  const h = m.history;
  sortHistory(h);
  const first = firstTouchOf(h);
  if (first) m.firstTouch = { at: first.at, channel: first.channel };
  const lastAt = Math.max(m.firstTouch.at, ...marketingTouches(h).map((x) => x.at));
  const last = lastTouchAt(h, lastAt);
  if (last) m.lastTouch = { at: last.at, channel: last.channel };
  const ff = firstFollow(h);
  if (ff) {
    m.fanSince = ff.at;
    m.fanChannel = ff.channel;
  }
  if (h.registeredAt !== undefined) m.memberSince = h.registeredAt;
  // Per app: the follow facts of the history (a follow without `app` is one of the address in
  // `wechat`, the account of single-account data) within each presence's extremes.
  for (const [appId, a] of Object.entries(m.apps ?? {})) {
    const own = h.follows.filter((f) => (f.app ?? m.wechat?.appId) === appId).map((f) => f.at);
    if (own.length) {
      a.firstFollowAt = Math.min(a.firstFollowAt ?? Infinity, ...own);
      a.lastFollowAt = Math.max(a.lastFollowAt ?? -1, ...own);
    }
    settleFollow(a);
  }
  const primary = m.wechat ? m.apps?.[m.wechat.appId] : undefined;
  if (m.wechat && primary && primary.openid === m.wechat.openid) {
    m.wechat.followed = primary.followed;
    if (primary.lastFollowAt !== undefined) m.wechat.followedAt = primary.lastFollowAt;
    if (primary.unfollowedAt !== undefined) m.wechat.unfollowedAt = primary.unfollowedAt;
  } else if (m.wechat) {
    const lastFollow = Math.max(-1, ...h.follows.map((x) => x.at));
    const lastUnfollow = Math.max(-1, ...h.unfollows);
    if (lastFollow >= 0 || lastUnfollow >= 0) {
      m.wechat.followed = lastFollow > lastUnfollow;
      if (lastFollow >= 0) m.wechat.followedAt = lastFollow;
      if (lastUnfollow >= 0) m.wechat.unfollowedAt = lastUnfollow;
    }
  }
  m.orderCount = h.orders.length;
  m.gmvFen = h.orders.reduce((s, o) => s + o.paidFen, 0);
  const paidTimes = h.orders.map((o) => o.paidAt);
  if (paidTimes.length) {
    m.firstOrderAt = Math.min(...paidTimes);
    m.lastOrderAt = Math.max(...paidTimes);
  }
  if (h.registeredAt !== undefined) m.status = 'member';
  // A fan is someone the hub knows on WeChat (followed, scanned a QR or a code); a buyer is
  // known only through orders (a platform buyer id, or an openid an order carried).
  else if (ff || m.wechat?.followed || h.codeScans.length || h.qrScans.length) m.status = 'fan';
  else if (h.orders.length || m.status === 'buyer') m.status = 'buyer';
  else m.status = 'fan';
  const earned = tierOf(h, now, rules.tiers, rules.days.tierWindow);
  m.tier = higherTier(m.tier, earned);
  m.lifecycle = lifecycleOf(h, now, rules.days);
  const rfm = rfmOf(h, now, rules.rfm);
  if (rfm) m.rfm = rfm;
  else delete m.rfm;
  // A tier above what the window now earns is a downgrade the next nightly review owes.
  const programme = tierRank(m.tier) > tierRank(earned) ? now : nextReviewAt(h, now, rules);
  // An unregistered fan gone from every account is reviewed (and erased) when their grace period ends.
  const retention = fanRetentionDays === undefined ? undefined : fanRetentionAt(m, fanRetentionDays);
  const reviewAt = retention === undefined ? programme : programme === undefined ? Math.max(now, retention) : Math.min(programme, Math.max(now, retention));
  setReviewIndex(m, reviewAt === undefined ? undefined : { localDay: reviewDay(reviewAt, tz), shard: bucketOf(m.memberId, REVIEW_SHARDS) }, m.memberId);
}

export interface WriteOptions {
  tz: string;
  shards: number;
  now: number;
  /** cfg.memberRules: tier, lifecycle and RFM are derived with them. */
  rules: MemberRules;
  /** Credits of another record that this write absorbs (merge): removed from the counters. */
  absorbed?: { memberId: string; credits: Credits }[];
  /** HUB_FAN_RETENTION_DAYS: an unregistered fan gone from every account is filed for review then (lib/privacy/fan-retention.ts). */
  fanRetentionDays?: number;
  /** `deltas` (default): a credit-delta item; `inline`: the counter items themselves, in this transaction (port.ts CreditWrites). */
  creditWrites?: CreditWrites;
}

/**
 * Adds the member's profile write and its credit difference (with that of any record it
 * absorbs) to the transaction. New records are created (unique by memberId); existing ones are
 * guarded by `version`.
 */
export function writeMember(tx: Tx, m: StoredMember, isNew: boolean, opts: WriteOptions): void {
  const given = creditsGiven(m, opts.tz);
  derive(m, opts.now, opts.tz, opts.rules, opts.fanRetentionDays);
  const diff = diffCredits(given, memberCredits(m.history, opts.tz));
  const released = (opts.absorbed ?? []).map((a) => ({ memberId: a.memberId, diff: diffCredits(a.credits, {}) }));
  // Not stored: the next write recomputes them from the history it reads.
  delete m.credits;
  m.cohortCredits = true;
  const prevVersion = m.version;
  m.version = prevVersion + 1;
  m.updatedAt = opts.now;
  members.write(tx, m, { isNew, prevVersion });
  if (opts.creditWrites === 'inline') {
    addCredits(tx, m.memberId, diff, opts.shards);
    for (const a of released) addCredits(tx, a.memberId, a.diff, opts.shards);
    return;
  }
  const total = sumCredits([diff, ...released.map((a) => a.diff)]);
  if (Object.keys(total).length) creditDeltas.create(tx, m.memberId, m.version, total, opts.now);
}

/** The sum of credit differences, zero amounts and empty rows dropped. */
export function sumCredits(parts: readonly Credits[]): Credits {
  const sum: Credits = {};
  for (const part of parts) {
    for (const [k, metrics] of Object.entries(part)) {
      const row = (sum[k] ??= {});
      for (const [metric, n] of Object.entries(metrics)) row[metric] = (row[metric] ?? 0) + n;
    }
  }
  for (const [k, row] of Object.entries(sum)) {
    for (const [metric, n] of Object.entries(row)) if (n === 0) delete row[metric];
    if (!Object.keys(row).length) delete sum[k];
  }
  return sum;
}

/**
 * The pre-fold write path (`inline`, kept for the hot-channel comparison): the difference added to
 * the counter shard of `memberId` in the event's transaction. Cohort rows are left out: cohorts
 * are read from the rollups, which only the fold keeps.
 */
export function addCredits(tx: Tx, memberId: string, diff: Credits, shards: number): void {
  const shard = bucketOf(memberId, shards);
  for (const [k, metrics] of Object.entries(diff)) {
    const { channel, model, day } = parseCreditKey(k);
    if (model === COHORT_MODEL) continue;
    counters.add(tx, { channelId: channel, shard, model, day }, metrics);
  }
}
