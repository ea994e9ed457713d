/**
 * Member programme rules (their configuration: lib/config/members.ts, `cfg.memberRules`) as pure functions of a member's paid orders (History.orders:
 * `{key, paidAt, paidFen, platform}`) and the instant they are evaluated at. Every amount
 * is the order's paid amount (`paidFen`), not net of refunds; a refunded order still counts.
 *
 * Tier (`tierOf`): the highest tier whose threshold the rolling paid GMV reaches. Rolling GMV =
 * the sum of `paidFen` of orders paid less than `tierWindow` days before `now` (default 365 days,
 * "the last 12 months"); an order leaves the window exactly `tierWindow` days after it was paid.
 *   defaults  normal 0 · silver ¥1,000 (100,000 fen) · gold ¥5,000 · diamond ¥20,000
 *   env       HUB_TIER_THRESHOLDS_FEN='{"silver":100000,"gold":500000,"diamond":2000000}'
 *             (any subset; normal is always 0; thresholds must rise strictly)
 * Upgrades happen on the write that carries the order crossing a threshold (record.ts derive
 * keeps the higher of the stored and the computed tier); downgrades only in the nightly
 * review (lib/members/nightly.ts), which stores the computed tier as is.
 *
 * Lifecycle (`lifecycleOf`), with A = atRisk days (default 90), L = lapsed days (default 180),
 * "since" = now − the latest paidAt, checked in this order:
 *   prospect   no paid order
 *   lapsed     since > L
 *   at_risk    A ≤ since ≤ L
 *   won_back   since < A, and the latest order came more than L days after the one before it
 *              (a return after a lapse; the next order makes the member `repeat` again)
 *   new        since < A, exactly one paid order
 *   repeat     since < A, two or more paid orders
 *   env        HUB_LIFECYCLE_DAYS='{"atRisk":90,"lapsed":180,"tierWindow":365}' (any subset;
 *              atRisk < lapsed)
 *
 * RFM (`rfmOf`): three scores 1–5, undefined for a member without a paid order.
 *   R  days since the latest paid order; cuts [r1,r2,r3,r4] (default [30,60,90,180]):
 *      ≤ r1 → 5, ≤ r2 → 4, ≤ r3 → 3, ≤ r4 → 2, beyond → 1
 *   F  number of paid orders (lifetime); cuts [f1..f4] (default [2,3,5,10]) are the minimum
 *      for scores 2..5: 1 order → 1, 2 → 2, 3–4 → 3, 5–9 → 4, ≥ 10 → 5
 *   M  paid GMV in fen (lifetime); cuts (default [50000,100000,500000,2000000], i.e. ¥500,
 *      ¥1,000, ¥5,000, ¥20,000) are the minimum for scores 2..5
 *   env  HUB_RFM_CUTS='{"recencyDays":[30,60,90,180],"frequency":[2,3,5,10],"monetaryFen":[...]}'
 *        (any subset; each list has four strictly rising values)
 *
 * Review (`nextReviewAt`): the earliest instant after `now` at which any of the above changes
 * without a new event (an order leaving the tier window, the A and L boundaries, an R cut).
 * record.ts derive files the member under that instant's review day (or the next day's when the
 * stored tier is above what the window earns: a downgrade is owed) so the nightly review finds
 * it through the index instead of a table scan (lib/store/keys.ts, lib/members/nightly.ts).
 */
import type { History } from '../attribution/credits.ts';
import { addDays, DAY_MS, localDay } from '../time.ts';
import { DEFAULT_LIFECYCLE_DAYS, DEFAULT_MEMBER_RULES, DEFAULT_RFM_CUTS, DEFAULT_TIERS, type LifecycleDays, type MemberRules, type RfmCuts, type TierThresholds } from '../config/members.ts';
import type { Lifecycle } from './model.ts';

export const TIERS = ['normal', 'silver', 'gold', 'diamond'] as const;
export type Tier = (typeof TIERS)[number];

type Orders = Pick<History, 'orders'>;

export interface Rfm {
  r: number;
  f: number;
  m: number;
}

/** Position of a tier in TIERS; an unknown name ranks as `normal`. */
export function tierRank(tier: string): number {
  return Math.max(0, TIERS.indexOf(tier as Tier));
}

export function higherTier(a: string, b: string): Tier {
  return TIERS[Math.max(tierRank(a), tierRank(b))]!;
}

/** Paid GMV of the orders paid less than `windowDays` before `now`. */
export function rollingGmvFen(h: Orders, now: number, windowDays = DEFAULT_LIFECYCLE_DAYS.tierWindow): number {
  const from = now - windowDays * DAY_MS;
  return h.orders.reduce((s, { paidAt, paidFen }) => (paidAt > from ? s + paidFen : s), 0);
}

export function tierOf(h: Orders, now: number, tiers: TierThresholds = DEFAULT_TIERS, windowDays = DEFAULT_LIFECYCLE_DAYS.tierWindow): Tier {
  const gmv = rollingGmvFen(h, now, windowDays);
  let out: Tier = 'normal';
  for (const t of TIERS) if (gmv >= tiers[t]) out = t;
  return out;
}

const paidTimes = (h: Orders) => h.orders.map((o) => o.paidAt).sort((a, b) => a - b);

export function lifecycleOf(h: Orders, now: number, d: LifecycleDays = DEFAULT_LIFECYCLE_DAYS): Lifecycle {
  const times = paidTimes(h);
  const last = times.at(-1);
  if (last === undefined) return 'prospect';
  const since = now - last;
  if (since > d.lapsed * DAY_MS) return 'lapsed';
  if (since >= d.atRisk * DAY_MS) return 'at_risk';
  const before = times.at(-2);
  if (before !== undefined && last - before > d.lapsed * DAY_MS) return 'won_back';
  return times.length === 1 ? 'new' : 'repeat';
}

export function rfmOf(h: Orders, now: number, cuts: RfmCuts = DEFAULT_RFM_CUTS): Rfm | undefined {
  const times = paidTimes(h);
  const last = times.at(-1);
  if (last === undefined) return undefined;
  const sinceDays = (now - last) / DAY_MS;
  const gmv = h.orders.reduce((s, o) => s + o.paidFen, 0);
  return {
    r: 5 - cuts.recencyDays.filter((c) => sinceDays > c).length,
    f: 1 + cuts.frequency.filter((c) => times.length >= c).length,
    m: 1 + cuts.monetaryFen.filter((c) => gmv >= c).length,
  };
}

/** The earliest instant after `now` at which tier, lifecycle or RFM change with no new event. */
export function nextReviewAt(h: Orders, now: number, rules: MemberRules = DEFAULT_MEMBER_RULES): number | undefined {
  const times = paidTimes(h);
  const last = times.at(-1);
  if (last === undefined) return undefined;
  const candidates = [
    ...times.map((t) => t + rules.days.tierWindow * DAY_MS),
    last + rules.days.atRisk * DAY_MS,
    last + rules.days.lapsed * DAY_MS + 1,
    ...rules.rfm.recencyDays.map((c) => last + Math.ceil(c * DAY_MS) + 1),
  ].filter((t) => t > now);
  return candidates.length ? Math.min(...candidates) : undefined;
}

/** Review partitions per day: spreads the index writes of a busy day. */
export const REVIEW_SHARDS = 8;

/**
 * The local day whose nightly review handles a change due at `at`: the day after, so that any
 * run on that day happens after `at` whatever its hour.
 */
export function reviewDay(at: number, tz: string): string {
  return addDays(localDay(at, tz), 1);
}
