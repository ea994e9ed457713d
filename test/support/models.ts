/**
 * Independent models of the hub's metric and member-programme definitions, for tests that need
 * expected values over histories too large to work out by hand. Each is re-stated from the
 * written definitions (the comment at the top of lib/attribution/credits.ts and of
 * lib/members/lifecycle.ts, and README "Metrics"), plainly and without importing the code it
 * checks: a test that compares the hub against these fails when either drifts from the
 * definition.
 */
import type { Credits, History } from '../../lib/attribution/credits.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

type Touch = History['follows'][number];

/** The local calendar day (YYYY-MM-DD) of an instant in `tz`: Swedish dates are ISO-shaped. */
export function dayIn(tz: string): (ms: number) => string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (ms) => f.format(new Date(ms));
}

/** Earliest (ties: the smaller channel name). */
function earliest(xs: Touch[]): Touch | undefined {
  let best: Touch | undefined;
  for (const x of xs) if (!best || x.at < best.at || (x.at === best.at && x.channel < best.channel)) best = x;
  return best;
}

/** Latest (ties: the larger channel name). */
function latest(xs: Touch[]): Touch | undefined {
  let best: Touch | undefined;
  for (const x of xs) if (!best || x.at > best.at || (x.at === best.at && x.channel > best.channel)) best = x;
  return best;
}

/**
 * The channel-day credits a member's history deserves, per the definitions:
 *   newFans             the first follow, on its day, to its channel (both models)
 *   unfollows, newMembers (the registration), scans (code scans), qrScans (QR scans by a fan),
 *   orders and gmvFen (paid orders, on the day paid)
 *                       on their own day; `first` → the first touch, `last` → the latest
 *                       follow / QR scan / code scan at or before it (else the first touch)
 *   convertedFans, sameDayConversions, ttc_*   the cohort of a registered fan: on the day of the
 *                       FIRST FOLLOW; `first` → the first follow's channel, `last` → the last
 *                       touch at the registration; same day = follow and registration share a
 *                       local day; ttc = whole minutes below 48 h, else whole hours
 * First touch: the earliest of follows, QR scans, code scans, paid orders (their platform) and
 * the first sighting.
 */
export function modelCredits(h: History, tz: string): Credits {
  const day = dayIn(tz);
  const out: Credits = {};
  const credit = (channel: string, model: 'first' | 'last', at: number, metric: string, n = 1) => {
    const row = (out[JSON.stringify([channel, model, day(at)])] ??= {});
    row[metric] = (row[metric] ?? 0) + n;
  };
  const follows = h.follows;
  const marketing = [...h.follows, ...h.qrScans, ...h.codeScans, ...(h.contactAdds ?? []).map((a) => ({ at: a.at, channel: a.channel }))];
  const first = earliest([...marketing, ...h.orders.map((o) => ({ at: o.paidAt, channel: o.platform })), ...(h.seen ? [h.seen] : [])]);
  if (!first) return out;
  const lastTouchAt = (t: number) => latest(marketing.filter((x) => x.at <= t)) ?? first;
  const onItsDay = (at: number, metric: string, n = 1) => {
    credit(first.channel, 'first', at, metric, n);
    credit(lastTouchAt(at).channel, 'last', at, metric, n);
  };

  const firstFollow = earliest(follows);
  if (firstFollow) {
    credit(firstFollow.channel, 'first', firstFollow.at, 'newFans');
    credit(firstFollow.channel, 'last', firstFollow.at, 'newFans');
  }
  const registeredAt = h.registeredAt;
  if (registeredAt !== undefined) {
    onItsDay(registeredAt, 'newMembers');
    if (firstFollow) {
      const minutes = Math.floor(Math.max(0, registeredAt - firstFollow.at) / MINUTE);
      const bucket = minutes < 48 * 60 ? `ttc_m${minutes}` : `ttc_h${Math.floor(minutes / 60)}`;
      const sameDay = day(firstFollow.at) === day(registeredAt);
      for (const [channel, model] of [
        [firstFollow.channel, 'first'],
        [lastTouchAt(registeredAt).channel, 'last'],
      ] as const) {
        credit(channel, model, firstFollow.at, 'convertedFans');
        if (sameDay) credit(channel, model, firstFollow.at, 'sameDayConversions');
        credit(channel, model, firstFollow.at, bucket);
      }
    }
  }
  for (const at of h.unfollows) onItsDay(at, 'unfollows');
  const scans = [...h.codeScans.map((t) => [t.at, 'scans'] as const), ...h.qrScans.map((t) => [t.at, 'qrScans'] as const)];
  for (const [at, metric] of scans) onItsDay(at, metric);
  for (const order of h.orders) {
    onItsDay(order.paidAt, 'orders');
    if (order.paidFen > 0) onItsDay(order.paidAt, 'gmvFen', order.paidFen);
  }
  // WeCom contacts, guide by guide: an add opens a contact unless one is open; the next end closes it
  // (a loss unless by transfer). At one instant the add is taken first, then the smaller channel or kind of end.
  const guides = new Set([...(h.contactAdds ?? []), ...(h.contactEnds ?? [])].map((x) => x.guide));
  for (const guide of guides) {
    const timeline = [
      ...(h.contactAdds ?? []).filter((a) => a.guide === guide).map((a) => ({ at: a.at, rank: 0, channel: a.channel, by: '' })),
      ...(h.contactEnds ?? []).filter((e) => e.guide === guide).map((e) => ({ at: e.at, rank: 1, channel: '', by: e.by })),
    ].sort((x, y) => x.at - y.at || x.rank - y.rank || (x.channel + x.by < y.channel + y.by ? -1 : x.channel + x.by > y.channel + y.by ? 1 : 0));
    let openChannel: string | null = null;
    for (const step of timeline) {
      if (step.rank === 0 && openChannel === null) {
        openChannel = step.channel;
        credit(step.channel, 'first', step.at, 'newContacts');
        credit(step.channel, 'last', step.at, 'newContacts');
      } else if (step.rank === 1 && openChannel !== null) {
        if (step.by !== 'transfer') {
          credit(openChannel, 'first', step.at, 'lostContacts');
          credit(openChannel, 'last', step.at, 'lostContacts');
        }
        openChannel = null;
      }
    }
  }
  return out;
}

/** The member-programme rules in the shape the models read (lib/members/lifecycle.ts MemberRules). */
export interface ModelRules {
  tiers: Record<'silver' | 'gold' | 'diamond', number>;
  days: { atRisk: number; lapsed: number; tierWindow: number };
  rfm: { recencyDays: readonly number[]; frequency: readonly number[]; monetaryFen: readonly number[] };
}

type PaidOrders = Pick<History, 'orders'>;

/** Tier: the highest whose threshold the paid GMV of the orders paid less than `tierWindow` days ago reaches. */
export function modelTier(h: PaidOrders, now: number, rules: ModelRules): string {
  let gmv = 0;
  for (const { paidAt, paidFen } of h.orders) if (now - paidAt < rules.days.tierWindow * DAY) gmv += paidFen;
  if (gmv >= rules.tiers.diamond) return 'diamond';
  if (gmv >= rules.tiers.gold) return 'gold';
  if (gmv >= rules.tiers.silver) return 'silver';
  return 'normal';
}

/** Lifecycle from the days since the latest paid order and the gap before it. */
export function modelLifecycle(h: PaidOrders, now: number, rules: ModelRules): string {
  const times = h.orders.map((o) => o.paidAt).sort((a, b) => a - b);
  if (times.length === 0) return 'prospect';
  const last = times[times.length - 1]!;
  const since = now - last;
  if (since > rules.days.lapsed * DAY) return 'lapsed';
  if (since >= rules.days.atRisk * DAY) return 'at_risk';
  if (times.length >= 2 && last - times[times.length - 2]! > rules.days.lapsed * DAY) return 'won_back';
  return times.length === 1 ? 'new' : 'repeat';
}

/** RFM scores 1–5; undefined without a paid order. */
export function modelRfm(h: PaidOrders, now: number, rules: ModelRules): { r: number; f: number; m: number } | undefined {
  if (h.orders.length === 0) return undefined;
  const sinceDays = (now - Math.max(...h.orders.map((o) => o.paidAt))) / DAY;
  const [r1, r2, r3, r4] = rules.rfm.recencyDays as [number, number, number, number];
  const r = sinceDays <= r1 ? 5 : sinceDays <= r2 ? 4 : sinceDays <= r3 ? 3 : sinceDays <= r4 ? 2 : 1;
  const score = (value: number, minimums: readonly number[]) => {
    let s = 1;
    for (const min of minimums) if (value >= min) s++;
    return s;
  };
  const gmv = h.orders.reduce((sum, o) => sum + o.paidFen, 0);
  return { r, f: score(h.orders.length, rules.rfm.frequency), m: score(gmv, rules.rfm.monetaryFen) };
}
