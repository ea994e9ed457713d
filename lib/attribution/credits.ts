/**
 * Attribution as a pure function of one member's history.
 *
 * Platforms deliver late, twice and out of order, so a counter moved "when the event arrives"
 * depends on arrival order. Instead each member keeps the facts that matter (follows,
 * unfollows, touches, registration, paid orders); what it has already added to the channel-day
 * counters is the credits of the history as it was read (lib/members/record.ts creditsGiven).
 * On every event the hub recomputes the credits this history deserves and adds only the
 * difference, as a credit delta in the event's transaction. Any arrival order, any
 * duplicate and any merge of two histories therefore ends in the same counters.
 *
 * Metric definitions (per channel, per local day in HUB_TIMEZONE):
 *   newFans             the member's first follow of any account (brand scope), on its day, to
 *                       the follow's channel
 *   laterAccountFans    the member's first follow of each further account (after the brand's
 *                       first follow, on another account), on its day, to that follow's channel.
 *                       Account scope newFans = newFans + laterAccountFans: a person who follows
 *                       A and later B is a new fan of both accounts and of the brand once
 *                       (docs/design.md#wechat-accounts). A follow without `app` is one of the
 *                       default account (WECHAT_APP_ID).
 *   unfollows           each unfollow, on its day
 *   convertedFans       a fan who registered, on the day of the first follow (cohort)
 *   sameDayConversions  of those, registered on the same local day as the first follow
 *   ttc_*               hours from first follow to registration, as a histogram (cohort)
 *   newMembers          the registration, on its day
 *   scans               each code scan (一物一码), on its day
 *   qrScans             each scan of a parametric QR by an existing fan, on its day
 *   orders, gmvFen      each order that reached `paid`, on the day it was paid
 *   newContacts         WeCom: each contact with a staff member (guide) that begins, on its
 *                       day, to the channel of the add's contact way (`organic` without one). An
 *                       add while the person is already that guide's contact (add_half_external_contact
 *                       then add_external_contact) begins nothing; an add after the contact ended
 *                       begins a new one
 *   lostContacts        WeCom: each such contact that ends by the staff member's or the customer's
 *                       deletion, on its day, to the channel the contact began through; an end by
 *                       transfer to another staff member (DELETE_BY_TRANSFER) is not a loss
 *   referredMembers     (the referrer's channel family `referral`) each person this member
 *                       referred who registered, on that registration's day, to the REFERRER's
 *                       channels (first model: the referrer's first touch)
 *   referringMembers    the referrer once, on the day of its first referral; per channel
 *                       K-factor = referredMembers ÷ referringMembers (lib/attribution/query.ts)
 * Models: `first` credits the member's first-touch channel (for newFans and the cohort
 * metrics: the first follow's channel; for the contact metrics: the contact's channel); `last`
 * credits the last marketing touch (follow, QR scan, code scan, WeCom add) at or before the
 * event. First touch counts WeChat and WeCom alike: the earliest follow, scan, order or WeCom add.
 */
import { localDay } from '../time.ts';
import type { ContactAdd, ContactEnd, MemberHistory as History, PaidOrder, Touch } from '../store/entities/member.ts';

export const MODELS = ['first', 'last'] as const;
export type Model = (typeof MODELS)[number];
/** Models a credit key may name: the channel models, and `cohort` (lib/attribution/cohorts.ts). */
export type CreditModel = Model | 'cohort';

export const METRICS = [
  'newFans',
  'laterAccountFans',
  'unfollows',
  'convertedFans',
  'sameDayConversions',
  'newMembers',
  'scans',
  'qrScans',
  'orders',
  'gmvFen',
  'newContacts',
  'lostContacts',
  'referredMembers',
  'referringMembers',
] as const;
export type Metric = (typeof METRICS)[number];

/** The history attribution reads, with readable names (stored short: lib/store/entities/member.ts). */
export type { MemberHistory as History, PaidOrder, Touch, ContactAdd, ContactEnd } from '../store/entities/member.ts';

export const emptyHistory = (): History => ({ follows: [], unfollows: [], qrScans: [], codeScans: [], orders: [] });

/** Credits: counter key (JSON [channel, model, day]) → metric → amount. */
export type Credits = Record<string, Record<string, number>>;

export const creditKey = (channel: string, model: CreditModel, day: string) => JSON.stringify([channel, model, day]);
export const parseCreditKey = (k: string) => {
  const [channel, model, day] = JSON.parse(k) as [string, CreditModel, string];
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

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byTime = (a: Touch, b: Touch) => a.at - b.at || cmp(a.channel, b.channel) || cmp(a.app ?? '', b.app ?? '');
const byPaidAt = (a: PaidOrder, b: PaidOrder) => a.paidAt - b.paidAt || cmp(a.key, b.key);

/** Canonical order of contact facts: time, guide, then channel (adds) or by whom (ends). */
const contactOrder = (a: ContactAdd | ContactEnd, b: ContactAdd | ContactEnd) => a.at - b.at || cmp(a.guide, b.guide) || cmp('channel' in a ? a.channel : a.by, 'channel' in b ? b.channel : b.by);

/** The WeCom adds as marketing touches (their contact ways' channels). */
const contactTouches = (h: History): Touch[] => (h.contactAdds ?? []).map((a) => ({ at: a.at, channel: a.channel }));

/** Marketing touches: follows, QR scans, code scans and WeCom adds. */
export const marketingTouches = (h: History): Touch[] => [...h.follows, ...h.qrScans, ...h.codeScans, ...contactTouches(h)];

/** First touch: the earliest fact with a channel (marketing touches, orders' platforms, first sighting). */
export function firstTouchOf(h: History): Touch | undefined {
  const all: Touch[] = [...marketingTouches(h), ...h.orders.map((o) => ({ at: o.paidAt, channel: o.platform }))];
  return all.concat(h.seen ?? []).sort(byTime)[0];
}

/** The last marketing touch at or before `t`, else the first touch. */
export function lastTouchAt(h: History, t: number): Touch | undefined {
  return marketingTouches(h).filter((x) => x.at <= t).sort(byTime).at(-1) ?? firstTouchOf(h);
}

/** One WeCom contact: the add that began it and the end that closed it (absent: current). */
export interface ContactSpan {
  guide: string;
  begin: ContactAdd;
  end?: ContactEnd;
}

/**
 * The WeCom contacts of a history: per guide, each begins with an add while the person was not
 * that guide's contact and ends with the first end after it. Facts are taken in time order; at
 * one instant adds before ends, then by channel / by whom (so the result never depends on the
 * order the facts are listed in).
 */
export function contactSpans(h: History): ContactSpan[] {
  const facts = [
    ...(h.contactAdds?.map((add) => ({ at: add.at, guide: add.guide, rank: 0, key: add.channel, add })) ?? []),
    ...(h.contactEnds?.map((end) => ({ at: end.at, guide: end.guide, rank: 1, key: end.by, end })) ?? []),
  ].sort((a, b) => a.at - b.at || a.rank - b.rank || cmp(a.key, b.key));
  const open = new Map<string, ContactSpan>();
  const spans: ContactSpan[] = [];
  for (const f of facts) {
    const current = open.get(f.guide);
    if ('add' in f && !current) {
      const span: ContactSpan = { guide: f.guide, begin: f.add };
      spans.push(span);
      open.set(f.guide, span);
    } else if ('end' in f && current) {
      current.end = f.end;
      open.delete(f.guide);
    }
  }
  return spans;
}

export function firstFollow(h: History): Touch | undefined {
  return [...h.follows].sort(byTime)[0];
}

/** The first follow of each account (a follow without `app` is one of the default account). */
export function firstFollowPerAccount(h: History): Touch[] {
  const first = new Map<string, Touch>();
  for (const f of [...h.follows].sort(byTime)) if (!first.has(f.app ?? '')) first.set(f.app ?? '', f);
  return [...first.values()];
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
  // The brand's first follow is the first of the first follows per account (both sorted by byTime).
  const [ff, ...laterAccounts] = firstFollowPerAccount(h);
  const both = (at: number, metric: string, n = 1, firstChannel = first.channel) => {
    add(firstChannel, 'first', at, metric, n);
    add(lastTouchAt(h, at)!.channel, 'last', at, metric, n);
  };

  if (ff) {
    add(ff.channel, 'first', ff.at, 'newFans');
    add(ff.channel, 'last', ff.at, 'newFans');
  }
  for (const f of laterAccounts) {
    add(f.channel, 'first', f.at, 'laterAccountFans');
    add(f.channel, 'last', f.at, 'laterAccountFans');
  }
  for (const u of h.unfollows) both(u, 'unfollows');
  const registeredAt = h.registeredAt;
  if (registeredAt !== undefined) {
    both(registeredAt, 'newMembers');
    if (ff) {
      const lastCh = lastTouchAt(h, registeredAt)!.channel;
      const sameDay = localDay(ff.at, tz) === localDay(registeredAt, tz);
      const bucket = ttcBucket(registeredAt - ff.at);
      for (const [ch, model] of [
        [ff.channel, 'first'],
        [lastCh, 'last'],
      ] as const) {
        add(ch, model, ff.at, 'convertedFans');
        if (sameDay) add(ch, model, ff.at, 'sameDayConversions');
        add(ch, model, ff.at, bucket);
      }
    }
  }
  for (const { at } of h.codeScans) both(at, 'scans');
  for (const { at } of h.qrScans) both(at, 'qrScans');
  for (const { paidAt, paidFen } of h.orders) {
    both(paidAt, 'orders');
    if (paidFen) both(paidAt, 'gmvFen', paidFen);
  }
  for (const { begin, end } of contactSpans(h)) {
    for (const model of MODELS) {
      add(begin.channel, model, begin.at, 'newContacts');
      if (end && end.by !== 'transfer') add(begin.channel, model, end.at, 'lostContacts');
    }
  }
  // Referrals (老带新), credited to the referrer's own touches: each referred registration, and the
  // referrer once, on the day of its first referral (K-factor = referredMembers ÷ referringMembers).
  const referrals = h.referrals ?? [];
  for (const r of referrals) both(r.at, 'referredMembers');
  if (referrals.length) both(Math.min(...referrals.map((r) => r.at)), 'referringMembers');
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
  h.follows.sort(byTime);
  h.qrScans.sort(byTime);
  h.codeScans.sort(byTime);
  h.unfollows.sort((a, b) => a - b);
  h.orders.sort(byPaidAt);
  h.contactAdds?.sort(contactOrder);
  h.contactEnds?.sort(contactOrder);
}

/** Merges two histories (member merge): the union of facts, the earliest registration. */
export function mergeHistories(a: History, b: History): History {
  const uniq = <T>(xs: T[], id: (x: T) => unknown = (x) => x) => [...new Map(xs.map((x) => [JSON.stringify(id(x)), x])).values()];
  const touchId = (t: Touch) => [t.at, t.channel, t.app ?? ''];
  const seen = [a.seen, b.seen].flatMap((x) => x ?? []).sort(byTime)[0];
  const registeredAt = [a.registeredAt, b.registeredAt].flatMap((x) => x ?? []).sort((x, y) => x - y)[0];
  const orders = new Map<string, PaidOrder>();
  for (const o of [...a.orders, ...b.orders]) if (!orders.has(o.key)) orders.set(o.key, o);
  const contactAdds = uniq([...(a.contactAdds ?? []), ...(b.contactAdds ?? [])], (x) => [x.at, x.guide, x.channel]).sort(contactOrder);
  const contactEnds = uniq([...(a.contactEnds ?? []), ...(b.contactEnds ?? [])], (x) => [x.at, x.guide, x.by]).sort(contactOrder);
  return {
    follows: uniq([...a.follows, ...b.follows], touchId).sort(byTime),
    unfollows: uniq([...a.unfollows, ...b.unfollows]).sort((x, y) => x - y),
    qrScans: uniq([...a.qrScans, ...b.qrScans], touchId).sort(byTime),
    codeScans: uniq([...a.codeScans, ...b.codeScans], touchId).sort(byTime),
    orders: [...orders.values()].sort((x, y) => x.paidAt - y.paidAt),
    ...(registeredAt !== undefined ? { registeredAt } : {}),
    ...(seen ? { seen } : {}),
    ...(contactAdds.length ? { contactAdds } : {}),
    ...(contactEnds.length ? { contactEnds } : {}),
    ...(a.referrals?.length || b.referrals?.length
      ? { referrals: uniq([...(a.referrals ?? []), ...(b.referrals ?? [])], (r) => r.memberId).sort((x, y) => x.at - y.at) }
      : {}),
  };
}
