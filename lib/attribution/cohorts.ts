/**
 * Cohort credits: the value a member's first-touch channel brought, per acquisition cohort, as a
 * pure function of the member's history (docs/design.md#cohorts-value-by-acquisition-channel).
 *
 * They travel exactly like the channel credits of lib/attribution/credits.ts: every member write
 * gives the counters the difference between the credits of the history it read and those of the
 * history it writes (lib/members/record.ts), as a credit delta folded later by
 * lib/attribution/fold.ts. Duplicates, late and shuffled events therefore end in the same
 * figures, and a late earlier touch moves the member to its new cohort and channel.
 *
 * One credit row per member: key [first-touch channel, `cohort`, local day of the first touch]
 * (HUB_TIMEZONE). The fold adds it to the day and month rollups of model `cohort` only (no
 * channel-day counter item), so a month cohort is one rollup partition and a week cohort seven.
 * Metrics, for each horizon H in HORIZONS (days after the first touch, inclusive: at most
 * H × 24 h after it):
 *   acquired            1 (the person was acquired on that day through that channel)
 *   members_H           registered at most H days after the first touch (or before it)
 *   buyers_H            at least one paid order paid within H days
 *   repeatBuyers_H      at least two such orders
 *   gmvFen_H            the paid amount of those orders (as the channel GMV: the paid amount of an
 *                       order that reached `paid`, refunds not deducted — lib/members/lifecycle.ts)
 *   gh<H>_<L>           1 in the GMV histogram bucket whose lower bound is L fen, when gmvFen_H > 0
 *
 * The histogram: a value below 2^7 fen is its own bucket; above, a bucket keeps the top 7 bits of
 * the value (64 buckets per doubling), so a bucket's width is at most 1/64 of its lower bound. As a
 * member's GMV grows, the write's difference moves its 1 from the old bucket to the new one.
 */
import { localDay, addDays, DAY_MS } from '../time.ts';
import { creditKey, firstTouchOf, type Credits, type History } from './credits.ts';

/** The counter model cohort credits are kept under. */
export const COHORT_MODEL = 'cohort';

/** Days after the first touch the cohort metrics are measured at. */
export const HORIZONS = [30, 90, 180] as const;
export type Horizon = (typeof HORIZONS)[number];

/** Values below this are exact histogram buckets (2^EXACT_BITS fen). */
const EXACT_BITS = 7;

/** The lower bound (fen) of the histogram bucket of a positive integer amount. */
export function gmvBucket(fen: number): number {
  const g = Math.floor(fen);
  if (g < 2 ** EXACT_BITS) return g;
  let bits = 0;
  while (2 ** (bits + 1) <= g) bits++;
  const width = 2 ** (bits - (EXACT_BITS - 1));
  return Math.floor(g / width) * width;
}

/** The width of the bucket whose lower bound is `lower` (1 below 2^7, else 2^(⌊log2 lower⌋ − 6)). */
export function gmvBucketWidth(lower: number): number {
  if (lower < 2 ** EXACT_BITS) return 1;
  let bits = 0;
  while (2 ** (bits + 1) <= lower) bits++;
  return 2 ** (bits - (EXACT_BITS - 1));
}

/** Counter attribute names of the cohort metrics at a horizon. */
export const cohortMetric = {
  members: (h: number) => `members_${h}`,
  buyers: (h: number) => `buyers_${h}`,
  repeatBuyers: (h: number) => `repeatBuyers_${h}`,
  gmvFen: (h: number) => `gmvFen_${h}`,
  bucket: (h: number, lower: number) => `gh${h}_${lower}`,
};

/** The histogram bucket lower bound an attribute holds at horizon `h`, else undefined. */
export function bucketOfAttr(attr: string, h: number): number | undefined {
  const prefix = `gh${h}_`;
  if (!attr.startsWith(prefix)) return undefined;
  const rest = attr.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** The cohort credits a history deserves (empty for a history without any touch). */
export function cohortCredits(h: History, tz: string): Credits {
  const first = firstTouchOf(h);
  if (!first) return {};
  const row: Record<string, number> = { acquired: 1 };
  for (const horizon of HORIZONS) {
    const limit = first.at + horizon * DAY_MS;
    if (h.registeredAt !== undefined && h.registeredAt <= limit) row[cohortMetric.members(horizon)] = 1;
    const within = h.orders.filter((o) => o.paidAt <= limit);
    if (within.length >= 1) row[cohortMetric.buyers(horizon)] = 1;
    if (within.length >= 2) row[cohortMetric.repeatBuyers(horizon)] = 1;
    const gmv = within.reduce((s, o) => s + o.paidFen, 0);
    if (gmv > 0) {
      row[cohortMetric.gmvFen(horizon)] = gmv;
      row[cohortMetric.bucket(horizon, gmvBucket(gmv))] = 1;
    }
  }
  return { [creditKey(first.channel, COHORT_MODEL, localDay(first.at, tz))]: row };
}

/** The ISO-8601 week (`YYYY-Www`) of a calendar day. */
export function isoWeekOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(d.getTime() + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday of a day's ISO week. */
export function mondayOf(day: string): string {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}
