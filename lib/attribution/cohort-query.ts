/**
 * The cohort read side: value by acquisition channel (lib/attribution/cohorts.ts keeps the
 * credits; the fold keeps them in the `cohort` day and month rollups).
 *
 * A query names local days from..to, a granularity and a horizon. Its cohorts are the whole
 * months (`YYYY-MM`) or ISO weeks (`YYYY-Www`) that from..to touches: a month cohort is one Query
 * of its month rollup partition, a week cohort one Query per day of its seven day partitions.
 * Nothing is scanned; the figures include every credit folded so far (the fold lag of
 * docs/design.md).
 *
 * Per cohort and first-touch channel: acquired, members, buyers, repeat buyers, GMV within the
 * horizon, GMV per acquired person (rounded to the fen), and the brand's top customers among them.
 * Top customers (docs/design.md#cohorts-value-by-acquisition-channel): of the people acquired in
 * the query's cohorts with a GMV within the horizon (customers), the ⌈20 %⌉ with the highest
 * GMV, ties included. Their threshold comes from the summed GMV histograms: the bucket holding
 * the ⌈n/5⌉-th highest GMV; every customer in that bucket or above counts. Exact below 128 fen;
 * above, the threshold reported is the bucket's lower bound L, at most 1/65 below the exact
 * threshold T (T × 64/65 < L ≤ T), and the only customers counted beyond the exact top set are
 * those with a GMV in [L, T).
 */
import * as z from 'zod';
import { BadRequestError } from '../errors.ts';
import type { Store } from '../store/client.ts';
import { rollups } from '../store/entities/rollup.ts';
import type { RequestCounter } from '../store/item-ops.ts';
import { addDays, daysBetween, isIsoDay, localDay } from '../time.ts';
import { logger } from '../log.ts';
import { mapLimit, READ_CONCURRENCY } from './query.ts';
import { bucketOfAttr, COHORT_MODEL, cohortMetric, HORIZONS, isoWeekOf, mondayOf, type Horizon } from './cohorts.ts';

export const GRANULARITIES = ['week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Most cohorts one query covers, per granularity. */
export const MAX_COHORTS: Record<Granularity, number> = { week: 53, month: 24 };
/** Safety bound on pages per rollup partition. */
const MAX_PAGES_PER_PERIOD = 40;

export interface CohortQuery {
  from: string;
  to: string;
  granularity: Granularity;
  horizon: Horizon;
}

const day = (name: string) =>
  z
    .string({ error: `${name} is required (YYYY-MM-DD)` })
    .refine(isIsoDay, { error: (i) => `${name} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(String(i.input).slice(0, 40))}` });

const QuerySchema = z.object({
  from: day('from'),
  to: day('to'),
  granularity: z.enum(GRANULARITIES, { error: 'granularity must be week or month' }).default('month'),
  horizon: z
    .enum(HORIZONS.map(String) as ['30', '90', '180'], { error: `horizon must be one of ${HORIZONS.join(', ')} (days)` })
    .default('90')
    .transform((h) => Number(h) as Horizon),
});

/** Which field a schema issue is about → the error code callers get. */
const CODES: Record<string, string> = { from: 'bad_date', to: 'bad_date', granularity: 'bad_granularity', horizon: 'bad_horizon' };

/** Validates a cohort query (query-string values); BadRequestError with the reason otherwise. */
export function parseCohortQuery(q: Record<string, string | undefined>): CohortQuery {
  const input = Object.fromEntries(Object.entries({ from: q.from, to: q.to, granularity: q.granularity, horizon: q.horizon }).filter(([, v]) => v !== undefined && v !== ''));
  const r = QuerySchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new BadRequestError(issue.message, undefined, CODES[field] ?? 'bad_request');
  }
  const out = r.data;
  if (out.from > out.to) throw new BadRequestError(`from (${out.from}) is after to (${out.to})`, undefined, 'bad_range');
  const n = cohortCount(out.from, out.to, out.granularity);
  if (n > MAX_COHORTS[out.granularity]) {
    throw new BadRequestError(`the range covers ${n} ${out.granularity}s; at most ${MAX_COHORTS[out.granularity]} are allowed`, undefined, 'range_too_long');
  }
  return out;
}

/** How many cohorts from..to touches (computed, so a long range is refused before it is listed). */
export function cohortCount(from: string, to: string, granularity: Granularity): number {
  if (granularity === 'month') {
    const index = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
    return index(to) - index(from) + 1;
  }
  return Math.round((Date.parse(`${mondayOf(to)}T00:00:00Z`) - Date.parse(`${mondayOf(from)}T00:00:00Z`)) / (7 * 86_400_000)) + 1;
}

/** A cohort: its label and the rollup periods it is read from (a month, or the days of a week). */
export interface Cohort {
  cohort: string;
  periods: string[];
  /** The cohort's last local day. */
  lastDay: string;
}

/** The whole cohorts from..to touches, oldest first. */
export function cohortsOf(from: string, to: string, granularity: Granularity): Cohort[] {
  const out: Cohort[] = [];
  if (granularity === 'month') {
    for (let month = from.slice(0, 7); month <= to.slice(0, 7); month = addDays(`${month}-28`, 7).slice(0, 7)) {
      out.push({ cohort: month, periods: [month], lastDay: addDays(addDays(`${month}-28`, 7).slice(0, 7) + '-01', -1) });
    }
    return out;
  }
  for (let monday = mondayOf(from); monday <= to; monday = addDays(monday, 7)) {
    out.push({ cohort: isoWeekOf(monday), periods: daysBetween(monday, addDays(monday, 6)), lastDay: addDays(monday, 6) });
  }
  return out;
}

/** Sums of one cohort × channel (or one channel) at the query's horizon. */
interface Sums {
  acquired: number;
  members: number;
  buyers: number;
  repeatBuyers: number;
  gmvFen: number;
  /** GMV histogram: bucket lower bound (fen) → customers. */
  hist: Map<number, number>;
}

const emptySums = (): Sums => ({ acquired: 0, members: 0, buyers: 0, repeatBuyers: 0, gmvFen: 0, hist: new Map() });
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Adds one rollup item's values at horizon `h` into `into`. */
export function addCohortValues(into: Sums, values: Record<string, unknown>, h: Horizon): void {
  into.acquired += num(values.acquired);
  into.members += num(values[cohortMetric.members(h)]);
  into.buyers += num(values[cohortMetric.buyers(h)]);
  into.repeatBuyers += num(values[cohortMetric.repeatBuyers(h)]);
  into.gmvFen += num(values[cohortMetric.gmvFen(h)]);
  for (const [attr, v] of Object.entries(values)) {
    const lower = bucketOfAttr(attr, h);
    const n = num(v);
    if (lower === undefined || n === 0) continue;
    into.hist.set(lower, (into.hist.get(lower) ?? 0) + n);
  }
}

function mergeSums(a: Sums, b: Sums): Sums {
  a.acquired += b.acquired;
  a.members += b.members;
  a.buyers += b.buyers;
  a.repeatBuyers += b.repeatBuyers;
  a.gmvFen += b.gmvFen;
  for (const [k, n] of b.hist) a.hist.set(k, (a.hist.get(k) ?? 0) + n);
  return a;
}

/**
 * The top threshold of a histogram (bucket lower bound → count): the bucket holding the
 * ⌈total/5⌉-th highest value; null when the histogram is empty.
 */
export function topThreshold(hist: ReadonlyMap<number, number>): number | null {
  const buckets = [...hist].filter(([, n]) => n > 0).sort((a, b) => b[0] - a[0]);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const wanted = Math.ceil(total / 5);
  let seen = 0;
  for (const [lower, n] of buckets) {
    seen += n;
    if (seen >= wanted) return lower;
  }
  return buckets.at(-1)![0];
}

/** Customers of a histogram at or above the threshold bucket. */
const atOrAbove = (hist: ReadonlyMap<number, number>, threshold: number | null): number =>
  threshold === null ? 0 : [...hist].reduce((s, [lower, n]) => (lower >= threshold && n > 0 ? s + n : s), 0);

export interface CohortFigures {
  acquired: number;
  members: number;
  buyers: number;
  repeatBuyers: number;
  gmvFen: number;
  gmvPerAcquiredFen: number;
  topCustomers: number;
  /** topCustomers ÷ all top customers of the query, 4 decimals; 0 when there are none. */
  topShare: number;
}

export interface CohortRow extends CohortFigures {
  cohort: string;
  channel: string;
  /** Every person of the cohort has had the whole horizon (its last day + horizon days is before today). */
  mature: boolean;
}

export interface ChannelCohortRow extends CohortFigures {
  channel: string;
}

export interface CohortResult {
  from: string;
  to: string;
  granularity: Granularity;
  horizon: Horizon;
  rows: CohortRow[];
  channels: ChannelCohortRow[];
  /** Lower bound (fen) of the top threshold bucket; null without customers. */
  topThresholdFen: number | null;
  /** DynamoDB requests made. */
  requests: number;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function figures(s: Sums, threshold: number | null, allTop: number): CohortFigures {
  const topCustomers = atOrAbove(s.hist, threshold);
  return {
    acquired: s.acquired,
    members: s.members,
    buyers: s.buyers,
    repeatBuyers: s.repeatBuyers,
    gmvFen: s.gmvFen,
    gmvPerAcquiredFen: s.acquired > 0 ? Math.round(s.gmvFen / s.acquired) : 0,
    topCustomers,
    topShare: allTop > 0 ? round4(topCustomers / allTop) : 0,
  };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The cohort table for a validated query (parseCohortQuery), as of `now` in `tz`. */
export async function cohortMetrics(src: { readonly store: Store; readonly cfg: { readonly HUB_TIMEZONE: string }; readonly now: () => number }, q: CohortQuery): Promise<CohortResult> {
  const counter: RequestCounter = { requests: 0 };
  const cohorts = cohortsOf(q.from, q.to, q.granularity);
  const jobs = cohorts.flatMap((c, i) => c.periods.map((period) => ({ period, i })));
  const cells = cohorts.map(() => new Map<string, Sums>());
  const read = await mapLimit(jobs, READ_CONCURRENCY, async ({ period }) => {
    const { items, complete } = await rollups.readPeriod(src.store, COHORT_MODEL, period, { maxPages: MAX_PAGES_PER_PERIOD, counter });
    if (!complete) logger.warn('cohort rollup query stopped at the page bound', { period });
    return items;
  });
  read.forEach((items, j) => {
    const cell = cells[jobs[j]!.i]!;
    for (const item of items) {
      const sums = cell.get(item.channelId) ?? emptySums();
      addCohortValues(sums, item.values, q.horizon);
      cell.set(item.channelId, sums);
    }
  });

  const all = emptySums();
  const perChannel = new Map<string, Sums>();
  for (const cell of cells) {
    for (const [channel, s] of cell) {
      mergeSums(all, s);
      perChannel.set(channel, mergeSums(perChannel.get(channel) ?? emptySums(), s));
    }
  }
  const threshold = topThreshold(all.hist);
  const allTop = atOrAbove(all.hist, threshold);
  const today = localDay(src.now(), src.cfg.HUB_TIMEZONE);
  // A cell whose credits were all taken back (a late earlier touch moved its people) is left out.
  const isEmpty = (s: Sums) => s.acquired === 0 && s.members === 0 && s.buyers === 0 && s.repeatBuyers === 0 && s.gmvFen === 0 && [...s.hist.values()].every((n) => n === 0);

  const rows: CohortRow[] = [];
  cohorts.forEach((c, i) => {
    const mature = addDays(c.lastDay, q.horizon + 1) <= today;
    for (const channel of [...cells[i]!.keys()].sort(byText)) {
      const s = cells[i]!.get(channel)!;
      if (!isEmpty(s)) rows.push({ cohort: c.cohort, channel, ...figures(s, threshold, allTop), mature });
    }
  });
  const channels = [...perChannel.keys()]
    .sort(byText)
    .filter((ch) => !isEmpty(perChannel.get(ch)!))
    .map((channel) => ({ channel, ...figures(perChannel.get(channel)!, threshold, allTop) }));
  return { from: q.from, to: q.to, granularity: q.granularity, horizon: q.horizon, rows, channels, topThresholdFen: threshold, requests: counter.requests };
}
