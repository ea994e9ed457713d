/**
 * Attribution as a pure function of one member's history.
 *
 * Platforms deliver late, twice and out of order, so a counter moved "when the event arrives"
 * depends on arrival order. Instead each member keeps the facts that matter (follows,
 * unfollows, touches, registration, paid orders) and the credits it has already added to the
 * channel-day counters. On every event the hub recomputes the credits this history deserves
 * and adds only the difference, inside the event's transaction. Any arrival order, any
 * duplicate and any merge of two histories therefore ends in the same counters.
 *
 * Metric definitions (per channel, per local day in HUB_TIMEZONE):
 *   newFans             the member's first follow, on its day, to the follow's channel
 *   unfollows           each unfollow, on its day
 *   convertedFans       a fan who registered, on the day of the first follow (cohort)
 *   sameDayConversions  of those, registered on the same local day as the first follow
 *   ttc_*               hours from first follow to registration, as a histogram (cohort)
 *   newMembers          the registration, on its day
 *   scans               each code scan (一物一码), on its day
 *   qrScans             each scan of a parametric QR by an existing fan, on its day
 *   orders, gmvFen      each order that reached `paid`, on the day it was paid
 * Models: `first` credits the member's first-touch channel (for newFans and the cohort
 * metrics: the first follow's channel); `last` credits the last marketing touch (follow, QR
 * scan, code scan) at or before the event.
 */
import { localDay } from '../time.ts';

export const MODELS = ['first', 'last'] as const;
export type Model = (typeof MODELS)[number];

export const METRICS = [
  'newFans',
  'unfollows',
  'convertedFans',
  'sameDayConversions',
  'newMembers',
  'scans',
  'qrScans',
  'orders',
  'gmvFen',
] as const;
export type Metric = (typeof METRICS)[number];

/** [at, channel] */
export type TouchFact = [number, string];

export interface History {
  /** follow events */
  f: TouchFact[];
  /** unfollow times */
  u: number[];
  /** parametric-QR scans by an existing fan */
  q: TouchFact[];
  /** code scans, channel = the batch's channel */
  c: TouchFact[];
  /** registration time */
  r?: number;
  /** paid orders: [orderKey, paidAt, paidFen, platform] */
  o: [string, number, number, string][];
  /** earliest time the hub saw this person at all, with the channel to use when nothing else touched them */
  seen?: TouchFact;
}

export const emptyHistory = (): History => ({ f: [], u: [], q: [], c: [], o: [] });

/** Credits: counter key (JSON [channel, model, day]) → metric → amount. */
export type Credits = Record<string, Record<string, number>>;

export const creditKey = (channel: string, model: Model, day: string) => JSON.stringify([channel, model, day]);
export const parseCreditKey = (k: string) => {
  const [channel, model, day] = JSON.parse(k) as [string, Model, string];
  return { channel, model, day };
};

/** Histogram bucket for a conversion delay: whole minutes below 48 h, whole hours above. */
export function ttcBucket(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  return minutes < 48 * 60 ? `ttc_m${minutes}` : `ttc_h${Math.floor(minutes / 60)}`;
}

/** Hours represented by a bucket attribute name. */
export function ttcBucketHours(attr: string): number | undefined {
  const m = /^ttc_([mh])(\d+)$/.exec(attr);
  if (!m) return undefined;
  return m[1] === 'm' ? Number(m[2]) / 60 : Number(m[2]);
}

const byTime = (a: TouchFact, b: TouchFact) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** First touch: the earliest fact with a channel (marketing touches, orders' platforms, first sighting). */
export function firstTouchOf(h: History): TouchFact | undefined {
  const all: TouchFact[] = [...h.f, ...h.q, ...h.c, ...h.o.map(([, at, , p]) => [at, p] as TouchFact)];
  if (h.seen) all.push(h.seen);
  return all.sort(byTime)[0];
}

/** The last marketing touch at or before `t` (follows and scans), else the first touch. */
export function lastTouchAt(h: History, t: number): TouchFact | undefined {
  let best: TouchFact | undefined;
  for (const x of [...h.f, ...h.q, ...h.c]) if (x[0] <= t && (!best || byTime(best, x) < 0)) best = x;
  return best ?? firstTouchOf(h);
}

export function firstFollow(h: History): TouchFact | undefined {
  return [...h.f].sort(byTime)[0];
}

/** Computes the credits a history deserves. */
export function computeCredits(h: History, tz: string): Credits {
  const out: Credits = {};
  const add = (channel: string, model: Model, at: number, metric: string, n = 1) => {
    const k = creditKey(channel, model, localDay(at, tz));
    const row = (out[k] ??= {});
    row[metric] = (row[metric] ?? 0) + n;
  };
  const first = firstTouchOf(h);
  if (!first) return out;
  const ff = firstFollow(h);
  const both = (at: number, metric: string, n = 1, firstChannel = first[1]) => {
    add(firstChannel, 'first', at, metric, n);
    add(lastTouchAt(h, at)![1], 'last', at, metric, n);
  };

  if (ff) {
    add(ff[1], 'first', ff[0], 'newFans');
    add(ff[1], 'last', ff[0], 'newFans');
  }
  for (const u of h.u) both(u, 'unfollows');
  if (h.r !== undefined) {
    both(h.r, 'newMembers');
    if (ff) {
      const lastCh = lastTouchAt(h, h.r)![1];
      const sameDay = localDay(ff[0], tz) === localDay(h.r, tz);
      const bucket = ttcBucket(h.r - ff[0]);
      for (const [ch, model] of [
        [ff[1], 'first'],
        [lastCh, 'last'],
      ] as const) {
        add(ch, model, ff[0], 'convertedFans');
        if (sameDay) add(ch, model, ff[0], 'sameDayConversions');
        add(ch, model, ff[0], bucket);
      }
    }
  }
  for (const [at] of h.c) both(at, 'scans');
  for (const [at] of h.q) both(at, 'qrScans');
  for (const [, at, fen] of h.o) {
    both(at, 'orders');
    if (fen) both(at, 'gmvFen', fen);
  }
  return out;
}

/** What to add to the counters to move from `before` to `after` (zero rows dropped). */
export function diffCredits(before: Credits, after: Credits): Credits {
  const out: Credits = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k] ?? {};
    const b = after[k] ?? {};
    for (const m of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (b[m] ?? 0) - (a[m] ?? 0);
      if (d !== 0) (out[k] ??= {})[m] = d;
    }
  }
  return out;
}

/** Canonical order of a history's facts, so the stored record does not depend on arrival order. */
export function sortHistory(h: History): void {
  h.f.sort(byTime);
  h.q.sort(byTime);
  h.c.sort(byTime);
  h.u.sort((a, b) => a - b);
  h.o.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Merges two histories (member merge): the union of facts, the earliest registration. */
export function mergeHistories(a: History, b: History): History {
  const uniq = <T>(xs: T[]) => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
  const seen = [a.seen, b.seen].filter((x): x is TouchFact => !!x).sort(byTime)[0];
  const r = [a.r, b.r].filter((x): x is number => x !== undefined).sort((x, y) => x - y)[0];
  const orders = new Map<string, [string, number, number, string]>();
  for (const o of [...a.o, ...b.o]) if (!orders.has(o[0])) orders.set(o[0], o);
  return {
    f: uniq([...a.f, ...b.f]).sort(byTime),
    u: uniq([...a.u, ...b.u]).sort((x, y) => x - y),
    q: uniq([...a.q, ...b.q]).sort(byTime),
    c: uniq([...a.c, ...b.c]).sort(byTime),
    o: [...orders.values()].sort((x, y) => x[1] - y[1]),
    ...(r !== undefined ? { r } : {}),
    ...(seen ? { seen } : {}),
  };
}
