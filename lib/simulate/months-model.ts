/**
 * The months scenario (`npm run simulate -- --months 6`): who the brand acquires through which
 * channel over months, what they are worth afterwards, what they type and click, and how they
 * answer two marketing rules — planned deterministically from the seed — and the ground truth
 * over what the hub accepted, computed here without any of the hub's code or APIs.
 *
 * Value by channel (VALUE): the KOL livestream brings the most fans, but the Jing'an store QR
 * (STORE_QR_CHANNEL) brings people who register, buy, come back and buy big, so it is the most
 * valuable per acquired person at 30, 90 and 180 days. Some of each channel's buyers are "gold"
 * buyers: four large orders within their first four weeks, then nothing (gold members who become
 * at-risk when their acquisition lies early enough in the run) or, for about a third, a large
 * order every month or so (active gold members).
 *
 * Rules (the hub's rule set for the run: events/simulate-rules.json):
 *   repurchase (REAL effect): a buyer still on one order when the one-step ladder falls due
 *     (30 days after the first order) is eligible; one who RECEIVES the message (observed at the
 *     WeChat stand-in) buys again within the conversion window with probability
 *     LADDER_TREATED_P, one who does not (the hub's holdout, or not delivered) with
 *     LADDER_BASE_P, as a quota (Quota: exactly ⌊n·p⌋ of the n people of each group, spread
 *     evenly), so the realised rates are the model's up to 1/n whichever members the hub's random
 *     member ids put in its 5 % holdout. The simulated effect is their difference.
 *   birthday (NO effect): a member whose birthday falls in the run is eligible on it. The plan
 *     keeps the person's own orders out of the birthday window (inBirthdayWindow); in it, exactly
 *     ⌊n·BIRTHDAY_P⌋ of the n eligible people of each group (received or not) who are not gold
 *     buyers buy once, the same rate for both — receipt changes nothing (effect 0), in every run.
 *     Gold buyers never buy in the window, so the at-risk gold audience does not depend on which
 *     members the hub holds out.
 *
 * The hub's member definitions the ground truth models (lib/members/lifecycle.ts; implemented
 * again here, not imported), evaluated at the end of the run E:
 *   tier       the highest of normal 0 · silver 100,000 · gold 500,000 · diamond 2,000,000 fen
 *              reached by the paid GMV of the orders paid within 365 days before E (a run is
 *              shorter than that window, so no downgrade is owed);
 *   lifecycle  since = E − latest paid order: none → prospect; since > 180 d → lapsed;
 *              90 d ≤ since ≤ 180 d → at_risk; otherwise won_back when the latest order came
 *              more than 180 d after the one before it, new with one order, repeat with more.
 * So that nothing sits on a boundary the hub and the model could read differently, the plan
 * keeps every order ≥ 2 days away from E − 90 d and E − 180 d, and every registration and
 * order ≥ 1 day away from the 30 / 90 / 180-day horizons after the person's first follow.
 */
import { addDays, DAY_MS, localDay } from '../time.ts';
import { Rng } from './rng.ts';
import { PRODUCTS } from './scenario.ts';

/** The store QR whose people are the most valuable; the audience's first-touch channel. */
export const STORE_QR_CHANNEL = 'store_sh_jingan';
/** The channel that brings the most fans. */
export const MOST_FANS_CHANNEL = 'kol_live_spring';

export interface ValueSpec {
  /** Relative share of first follows. */
  share: number;
  /** Registers as a member. */
  register: number;
  /** A member buys at least once. */
  buy: number;
  /** A buyer comes back (a second order within 3–25 days, then more). */
  repeat: number;
  /** Mean further orders of a repeat buyer after the second. */
  moreOrders: number;
  /** Units per order line, mean. */
  basket: number;
  /** A buyer is a gold buyer (four large orders, then silence). */
  gold: number;
}

export const VALUE: Readonly<Record<string, ValueSpec>> = {
  [STORE_QR_CHANNEL]: { share: 14, register: 0.75, buy: 0.8, repeat: 0.55, moreOrders: 3, basket: 2.2, gold: 0.3 },
  store_bj_sanlitun: { share: 10, register: 0.6, buy: 0.6, repeat: 0.35, moreOrders: 1.5, basket: 1.4, gold: 0.08 },
  [MOST_FANS_CHANNEL]: { share: 34, register: 0.3, buy: 0.45, repeat: 0.1, moreOrders: 0.5, basket: 1, gold: 0 },
  ad_moments_cpc: { share: 18, register: 0.2, buy: 0.4, repeat: 0.12, moreOrders: 0.5, basket: 1, gold: 0 },
  organic: { share: 24, register: 0.35, buy: 0.5, repeat: 0.25, moreOrders: 1, basket: 1.2, gold: 0.05 },
};

export const HORIZONS = [30, 90, 180] as const;
export type Horizon = (typeof HORIZONS)[number];

/** The one-step ladder of events/simulate-rules.json: days after the first order. */
/**
 * Exactly ⌊n·p⌋ of the first n draws say yes, spread evenly (draw n says yes when ⌊n·p⌋ grows):
 * a group's realised rate is p up to 1/n, with no sampling noise.
 */
export class Quota {
  private n = 0;
  private yes = 0;
  constructor(private readonly p: number) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`a quota is a probability, got ${p}`);
  }
  next(): boolean {
    this.n++;
    // The epsilon keeps n·p on the integer it should be (e.g. 20 × 0.45 = 9.000000000000002 or 8.999…).
    const due = Math.floor(this.n * this.p + 1e-9) > this.yes;
    if (due) this.yes++;
    return due;
  }
}

export const LADDER_DAY = 30;
export const LADDER_TREATED_P = 0.45;
export const LADDER_BASE_P = 0.1;
/** Conversion window of both rules (the lift report's default, 14 days); conversions are planned well inside it. */
export const CONVERSION_DAYS = 14;
/**
 * The engagement policy the scenario runs with (HUB_ENGAGEMENT_POLICY): a 50 % holdout, an A/B
 * split, so six months of a few hundred fans give both arms of the lift report enough members.
 */
export const SIMULATE_ENGAGEMENT_POLICY = '{"holdout":5000}';

/** The rate at which birthday-eligible people buy in the window, received or not (effect 0). */
export const BIRTHDAY_P = 0.2;

/** Whether day d lies in the person's birthday conversion window (from the day before the birthday to the window's end + 1). */
export function inBirthdayWindow(p: { birthdayDay?: number }, d: number): boolean {
  return p.birthdayDay !== undefined && d >= p.birthdayDay - 1 && d <= p.birthdayDay + CONVERSION_DAYS + 1;
}
export const RULE_TEMPLATES = { repurchase: 'TPL_REPURCHASE', birthday: 'TPL_BIRTHDAY' } as const;
export type SimRule = keyof typeof RULE_TEMPLATES;

/** Keyword auto-replies of the scenario, first match wins (configured on the hub by the keywords part). */
export const KEYWORDS: readonly { keyword: string; match: 'exact' | 'contains'; reply: string }[] = [
  { keyword: '会员', match: 'contains', reply: '点击菜单「会员中心」即可注册会员，积分全渠道通用。' },
  { keyword: '积分', match: 'contains', reply: '积分可在「会员中心 → 积分商城」兑换正装和小样。' },
  { keyword: '优惠券', match: 'contains', reply: '您的优惠券在「会员中心 → 我的券」中查看。' },
  { keyword: '门店', match: 'contains', reply: '全国门店地址请点击菜单「门店查询」。' },
  { keyword: '人工', match: 'exact', reply: '正在为您转接人工客服，请稍候。' },
];
/** Texts fans send; each matches exactly the keyword named (or none). */
export const TEXTS: readonly { text: string; keyword?: string; weight: number }[] = [
  { text: '怎么注册会员', keyword: '会员', weight: 10 },
  { text: '会员生日有礼物吗', keyword: '会员', weight: 4 },
  { text: '积分怎么用', keyword: '积分', weight: 8 },
  { text: '我的优惠券在哪里', keyword: '优惠券', weight: 6 },
  { text: '附近门店地址', keyword: '门店', weight: 5 },
  { text: '人工', keyword: '人工', weight: 3 },
  { text: '人工客服在吗', weight: 2 },
  { text: '你好', weight: 6 },
  { text: '发货了吗', weight: 5 },
  { text: '小样还有吗', weight: 4 },
  { text: '敏感肌能用精华吗', weight: 3 },
];
export const MENU: readonly { event: 'CLICK' | 'VIEW'; key: string; weight: number }[] = [
  { event: 'CLICK', key: 'MEMBER_CENTRE', weight: 12 },
  { event: 'CLICK', key: 'OFFERS', weight: 8 },
  { event: 'CLICK', key: 'NEW_ARRIVALS', weight: 4 },
  { event: 'VIEW', key: 'https://shop.example.com/mall', weight: 6 },
  { event: 'VIEW', key: 'https://shop.example.com/stores', weight: 3 },
];

/** What a person does on a day (the day of the run, 0-based). */
export type DayAction =
  | { kind: 'follow' }
  | { kind: 'register' }
  | { kind: 'order'; fen: number; lines: { sku: string; title: string; qty: number; priceFen: number }[] }
  | { kind: 'text'; text: string }
  | { kind: 'menu'; event: 'CLICK' | 'VIEW'; key: string };

export interface PlannedPerson {
  idx: number;
  channel: string;
  followDay: number;
  /** MM-DD given at registration, planned to fall inside the run. */
  birthday?: string;
  birthdayDay?: number;
  buyer: 'none' | 'single' | 'repeat' | 'gold';
}

export interface MonthsPlan {
  days: number;
  persons: PlannedPerson[];
  /** Per day, in order: [person, action]; a person's actions of a day keep their order. */
  byDay: [number, DayAction][][];
}

export interface MonthsInput {
  fans: number;
  months: number;
  seed: string;
  /** Local midnight of day 0, epoch ms, and the time zone. */
  start: number;
  tz: string;
}

/** Offsets (days after the first follow) kept free of registrations and orders: the horizons ± 1. */
const HORIZON_BLACKOUT = new Set(HORIZONS.flatMap((h) => [h - 1, h, h + 1]));

/**
 * Whether a registration or order of a person first met on `followDay` may fall on day `d`: inside
 * the run, ≥ 2 days from the lifecycle boundaries at E (E − 90 d, E − 180 d) and off the
 * horizon days (± 1) after the first follow.
 */
export function freeDay(days: number, followDay: number, d: number): boolean {
  const endDay = days + 0.5;
  return d < days && !HORIZON_BLACKOUT.has(d - followDay) && ![90, 180].some((b) => Math.abs(endDay - b - d) <= 2.5);
}

/** The run's days: 30 per month. */
export const runDays = (months: number) => months * 30;

/** The end of the run E (the clock's last setting), epoch ms: noon of the day after the last. */
export const runEnd = (start: number, days: number) => start + days * DAY_MS + DAY_MS / 2;

function basketLines(rng: Rng, basket: number, gold: boolean) {
  if (gold) {
    const set = PRODUCTS.find((p) => p.sku === 'SKU-0005')!;
    return [{ sku: set.sku, title: set.title, qty: 3, priceFen: set.priceFen }];
  }
  const n = rng.chance(0.7) ? 1 : 2;
  const lines: { sku: string; title: string; qty: number; priceFen: number }[] = [];
  const used = new Set<string>();
  for (let i = 0; i < n; i++) {
    const prod = PRODUCTS[rng.weightedIndex(PRODUCTS.map((p) => (used.has(p.sku) || p.sku === 'SKU-0005' ? 0 : p.weight)))]!;
    used.add(prod.sku);
    lines.push({ sku: prod.sku, title: prod.title, qty: Math.max(1, Math.round(rng.between(0.5, basket + 0.5))), priceFen: prod.priceFen });
  }
  return lines;
}

export function planMonths(input: MonthsInput): MonthsPlan {
  const { fans, months, seed, start, tz } = input;
  if (!Number.isInteger(fans) || fans < 1) throw new Error('fans must be a positive integer');
  if (!Number.isInteger(months) || months < 2 || months > 12) throw new Error('months must be 2..12');
  const days = runDays(months);
  const rng = new Rng(`scrm-simulate-months:${seed}`);
  const acquireDays = Math.floor(days / 2);
  const channels = Object.keys(VALUE);
  const weights = channels.map((c) => VALUE[c]!.share);
  const byDay: [number, DayAction][][] = Array.from({ length: days }, () => []);
  const persons: PlannedPerson[] = [];
  const free = (p: PlannedPerson, d: number) => freeDay(days, p.followDay, d);
  const textWeights = TEXTS.map((t) => t.weight);
  const menuWeights = MENU.map((m) => m.weight);

  for (let i = 0; i < fans; i++) {
    const channel = channels[rng.weightedIndex(weights)]!;
    const v = VALUE[channel]!;
    const p: PlannedPerson = { idx: i, channel, followDay: rng.int(0, acquireDays - 1), buyer: 'none' };
    persons.push(p);
    byDay[p.followDay]!.push([i, { kind: 'follow' }]);
    // Chat and menu use, any time after the follow.
    for (let k = rng.chance(0.45) ? rng.int(1, 3) : 0; k > 0; k--) {
      const d = p.followDay + rng.int(0, 60);
      if (d < days) byDay[d]!.push([i, { kind: 'text', text: TEXTS[rng.weightedIndex(textWeights)]!.text }]);
    }
    for (let k = rng.chance(0.55) ? rng.int(1, 3) : 0; k > 0; k--) {
      const d = p.followDay + rng.int(0, 90);
      if (d < days) {
        const m = MENU[rng.weightedIndex(menuWeights)]!;
        byDay[d]!.push([i, { kind: 'menu', event: m.event, key: m.key }]);
      }
    }
    if (!rng.chance(v.register)) continue;
    const regDay = p.followDay + (rng.chance(0.6) ? 0 : rng.int(1, 10));
    if (!free(p, regDay)) continue;
    // A third of the members give a birthday that falls 3 days or more after registering and
    // 20 days or more before the end (February 29 is not used).
    if (rng.chance(0.35)) {
      const bd = rng.int(regDay + 3, days - 20);
      const md = localDay(start + bd * DAY_MS + DAY_MS / 2, tz).slice(5);
      if (bd > regDay + 2 && md !== '02-29') {
        p.birthday = md;
        p.birthdayDay = bd;
      }
    }
    byDay[regDay]!.push([i, { kind: 'register' }]);
    if (!rng.chance(v.buy)) continue;
    const order = (d: number, gold = false) => {
      if (!free(p, d) || inBirthdayWindow(p, d)) return false;
      const lines = basketLines(rng, v.basket, gold);
      byDay[d]!.push([i, { kind: 'order', fen: lines.reduce((s, l) => s + l.qty * l.priceFen, 0), lines }]);
      return true;
    };
    if (rng.chance(v.gold)) {
      p.buyer = 'gold';
      // Four large orders within four weeks (≥ ¥5,000 in all); then silence, or for some a large
      // order every month or so (an active gold member).
      let d = regDay + rng.int(0, 7);
      order(d, true);
      for (const gap of [rng.int(4, 9), rng.int(4, 9), rng.int(4, 9)]) {
        d += gap;
        order(d, true);
      }
      if (rng.chance(0.35)) for (d += rng.int(20, 40); d < days; d += rng.int(20, 40)) order(d, true);
      continue;
    }
    // Most buy within the first week; some only months later (still `new` at the end).
    let d = regDay + (rng.chance(0.7) ? rng.int(0, 7) : rng.int(30, 100));
    if (!order(d)) continue;
    if (!rng.chance(v.repeat)) {
      p.buyer = 'single';
      continue;
    }
    p.buyer = 'repeat';
    d += rng.int(3, 25);
    order(d);
    for (let k = Math.floor(rng.exp(v.moreOrders + 0.01)); k > 0; k--) {
      d += Math.floor(rng.exp(35)) + 5;
      order(d);
    }
  }
  return { days, persons, byDay };
}

// ---------------------------------------------------------------------------------------------
// Ground truth

/** What the hub accepted for one person (times are the clock's when the request was accepted). */
export interface Observed {
  channel: string;
  openid: string;
  firstFollowAt?: number;
  registeredAt?: number;
  orders: { at: number; fen: number }[];
}

export interface CohortTruth {
  acquired: number;
  members: number;
  buyers: number;
  repeatBuyers: number;
  /** Paid orders and their GMV within the horizon. */
  orders: number;
  gmvFen: number;
  /** gmvFen / acquired (unrounded). */
  gmvPerAcquired: number;
  /** Of the brand's top 20 % customers by GMV within the horizon, those first met here, and their share. */
  topCustomers: number;
  topShare: number;
}

export interface RuleArm {
  eligible: number;
  converted: number;
}

export interface RuleTruth {
  conversionDays: number;
  /** Eligible people who received the rule's message (observed at the WeChat stand-in). */
  treated: RuleArm;
  /** Eligible people who did not (the hub's holdout, or a message not delivered). */
  untreated: RuleArm;
  /** The effect the model simulates on the conversion probability (treated − untreated). */
  trueEffect: number;
  /** openids of the untreated eligible people. */
  untreatedOpenids: string[];
}

export interface MonthsTruth {
  end: number;
  /** horizon → cohort month (YYYY-MM, local) → channel → tallies. */
  cohorts: Record<Horizon, Record<string, Record<string, CohortTruth>>>;
  /** horizon → channel → tallies over all cohorts. */
  channels: Record<Horizon, Record<string, CohortTruth>>;
  /** horizon → the smallest GMV of the top 20 % (customers = people with a paid order within the horizon). */
  topThresholdFen: Record<Horizon, number>;
  /** The channel with the highest GMV per acquired person at 180 days, and the one with the most fans. */
  mostValuable: string;
  mostFans: string;
  rules: Record<SimRule, RuleTruth>;
  /** Accepted text messages by the keyword they match (first match wins), unmatched by text; menu events. */
  keywords: { matched: Record<string, number>; unmatched: Record<string, number> };
  menus: { event: 'CLICK' | 'VIEW'; key: string; count: number }[];
  /** Members by tier and lifecycle at E (the model above), and the audience set. */
  members: { byTier: Record<string, number>; byLifecycle: Record<string, number> };
  /** openids of the members who are gold, at_risk at E and first came from STORE_QR_CHANNEL, sorted. */
  atRiskGoldStoreQr: string[];
}

const TIER_THRESHOLDS: readonly [string, number][] = [
  ['diamond', 2_000_000],
  ['gold', 500_000],
  ['silver', 100_000],
];
const YEAR_MS = 365 * DAY_MS;

export function modelTier(orders: readonly { at: number; fen: number }[], at: number): string {
  const rolling = orders.filter((o) => o.at <= at && at - o.at < YEAR_MS).reduce((s, o) => s + o.fen, 0);
  return TIER_THRESHOLDS.find(([, min]) => rolling >= min)?.[0] ?? 'normal';
}

export function modelLifecycle(orders: readonly { at: number; fen: number }[], at: number): string {
  const paid = orders.filter((o) => o.at <= at).map((o) => o.at).sort((a, b) => a - b);
  if (!paid.length) return 'prospect';
  const last = paid[paid.length - 1]!;
  const since = at - last;
  if (since > 180 * DAY_MS) return 'lapsed';
  if (since >= 90 * DAY_MS) return 'at_risk';
  if (paid.length >= 2 && last - paid[paid.length - 2]! > 180 * DAY_MS) return 'won_back';
  return paid.length === 1 ? 'new' : 'repeat';
}

/** The keyword a text matches, first match wins. */
export function keywordOf(text: string): string | undefined {
  return KEYWORDS.find((k) => (k.match === 'exact' ? text === k.keyword : text.includes(k.keyword)))?.keyword;
}

const emptyCohort = (): CohortTruth => ({ acquired: 0, members: 0, buyers: 0, repeatBuyers: 0, orders: 0, gmvFen: 0, gmvPerAcquired: 0, topCustomers: 0, topShare: 0 });

export interface TruthInput {
  people: readonly Observed[];
  end: number;
  tz: string;
  rules: Record<SimRule, { conversionDays: number; trueEffect: number; eligible: { openid: string; at: number; received: boolean }[] }>;
  texts: readonly string[];
  menus: readonly { event: 'CLICK' | 'VIEW'; key: string }[];
}

export function computeTruth(input: TruthInput): MonthsTruth {
  const { people, end, tz } = input;
  const cohorts = {} as MonthsTruth['cohorts'];
  const channels = {} as MonthsTruth['channels'];
  const topThresholdFen = {} as MonthsTruth['topThresholdFen'];
  for (const h of HORIZONS) {
    const byCohort: Record<string, Record<string, CohortTruth>> = {};
    const byChannel: Record<string, CohortTruth> = {};
    const gmvOf: { channel: string; gmv: number }[] = [];
    for (const p of people) {
      if (p.firstFollowAt === undefined) continue;
      const t0 = p.firstFollowAt;
      const cohort = localDay(t0, tz).slice(0, 7);
      const within = p.orders.filter((o) => o.at - t0 <= h * DAY_MS);
      const gmv = within.reduce((s, o) => s + o.fen, 0);
      for (const c of [((byCohort[cohort] ??= {})[p.channel] ??= emptyCohort()), (byChannel[p.channel] ??= emptyCohort())]) {
        c.acquired++;
        if (p.registeredAt !== undefined && p.registeredAt - t0 <= h * DAY_MS) c.members++;
        if (within.length >= 1) c.buyers++;
        if (within.length >= 2) c.repeatBuyers++;
        c.orders += within.length;
        c.gmvFen += gmv;
      }
      if (gmv > 0) gmvOf.push({ channel: p.channel, gmv });
    }
    gmvOf.sort((a, b) => b.gmv - a.gmv);
    const topN = Math.ceil(gmvOf.length * 0.2);
    const threshold = topN ? gmvOf[topN - 1]!.gmv : 0;
    const top = gmvOf.filter((g) => topN > 0 && g.gmv >= threshold);
    for (const c of [...Object.values(byCohort).flatMap((x) => Object.values(x)), ...Object.values(byChannel)]) c.gmvPerAcquired = c.acquired ? c.gmvFen / c.acquired : 0;
    for (const [channel, c] of Object.entries(byChannel)) {
      c.topCustomers = top.filter((g) => g.channel === channel).length;
      c.topShare = top.length ? c.topCustomers / top.length : 0;
    }
    cohorts[h] = byCohort;
    channels[h] = byChannel;
    topThresholdFen[h] = threshold;
  }
  const ranked = Object.entries(channels[180]);
  const mostValuable = ranked.reduce((a, b) => (b[1].gmvPerAcquired > a[1].gmvPerAcquired ? b : a))[0];
  const mostFans = ranked.reduce((a, b) => (b[1].acquired > a[1].acquired ? b : a))[0];

  const ordersOf = new Map(people.map((p) => [p.openid, p.orders]));
  const rules = {} as MonthsTruth['rules'];
  for (const [rule, r] of Object.entries(input.rules) as [SimRule, TruthInput['rules'][SimRule]][]) {
    const arm = (): RuleArm => ({ eligible: 0, converted: 0 });
    const t: RuleTruth = { conversionDays: r.conversionDays, treated: arm(), untreated: arm(), trueEffect: r.trueEffect, untreatedOpenids: [] };
    for (const e of r.eligible) {
      const a = e.received ? t.treated : t.untreated;
      a.eligible++;
      if ((ordersOf.get(e.openid) ?? []).some((o) => o.at > e.at && o.at - e.at <= r.conversionDays * DAY_MS)) a.converted++;
      if (!e.received) t.untreatedOpenids.push(e.openid);
    }
    t.untreatedOpenids.sort();
    rules[rule] = t;
  }

  const matched: Record<string, number> = {};
  const unmatched: Record<string, number> = {};
  for (const text of input.texts) {
    const k = keywordOf(text);
    if (k) matched[k] = (matched[k] ?? 0) + 1;
    else unmatched[text] = (unmatched[text] ?? 0) + 1;
  }
  const menuCounts = new Map<string, { event: 'CLICK' | 'VIEW'; key: string; count: number }>();
  for (const m of input.menus) {
    const k = `${m.event} ${m.key}`;
    const row = menuCounts.get(k) ?? { event: m.event, key: m.key, count: 0 };
    row.count++;
    menuCounts.set(k, row);
  }

  const byTier: Record<string, number> = {};
  const byLifecycle: Record<string, number> = {};
  const audience: string[] = [];
  for (const p of people) {
    if (p.registeredAt === undefined) continue;
    const tier = modelTier(p.orders, end);
    const life = modelLifecycle(p.orders, end);
    byTier[tier] = (byTier[tier] ?? 0) + 1;
    byLifecycle[life] = (byLifecycle[life] ?? 0) + 1;
    if (tier === 'gold' && life === 'at_risk' && p.channel === STORE_QR_CHANNEL) audience.push(p.openid);
  }
  return {
    end,
    cohorts,
    channels,
    topThresholdFen,
    mostValuable,
    mostFans,
    rules,
    keywords: { matched, unmatched },
    menus: [...menuCounts.values()].sort((a, b) => a.event.localeCompare(b.event) || a.key.localeCompare(b.key)),
    members: { byTier, byLifecycle },
    atRiskGoldStoreQr: audience.sort(),
  };
}

/** The local day `n` days after the run's first day (for the APIs' from/to). */
export const runDay = (start: number, tz: string, n: number) => addDays(localDay(start + DAY_MS / 2, tz), n);
