/**
 * The simulated month, planned up front and deterministically from the seed: who follows through
 * which channel and when, who registers, unfollows, re-scans, chats, buys on Tmall / JD / Youzan
 * and scans product codes. The plan is a list of actions in time order; each knows the person it
 * belongs to (a person's actions are sent one after another) and the ground-truth effects it has
 * on the first-touch attribution counters once the hub accepts it.
 *
 * Times: every webhook event lies in the window of `days` local days ending at `anchor` (the
 * current hour, so a re-run within the hour repeats the same events and is deduplicated).
 * Registrations and code scans are stamped by the hub with its own clock when they arrive, so
 * their planned time only decides the order they are sent in and whether they happen at all.
 */
import { createHash } from 'node:crypto';
import { addDays, DAY_MS, HOUR_MS, localDay, startOfLocalDay } from '../time.ts';
import { hash32, Rng } from './rng.ts';
import {
  CHANNELS,
  CODE_BATCH_CHANNEL,
  PHONE_PREFIXES,
  PRODUCTS,
  TEXT_MESSAGES,
  personName,
  type ChannelSpec,
  type Timing,
} from './scenario.ts';

const MINUTE_MS = 60_000;

/** What an accepted action adds to its person's first-touch channel. */
export type Effect =
  | { type: 'firstFollow' }
  | { type: 'unfollow' }
  | { type: 'qrScan' }
  | { type: 'register' }
  | { type: 'orderPaid'; fen: number }
  /** Counted only when the hub answers `redeemed`. */
  | { type: 'codeScan' };

export type PersonKind = 'fan' | 'scanner' | 'tmall' | 'jd' | 'youzan';

export interface Person {
  idx: number;
  kind: PersonKind;
  /** Key that serialises this person's actions. */
  key: string;
  /** The channel the hub's first-touch model credits for this person. */
  channel: string;
  openid?: string;
  phone: string;
  name?: string;
  birthday?: string;
  yzOpenId?: string;
  tmallOpenUid?: string;
  jdOpenId?: string;
  jdXid?: string;
  /** Ticks the member centre's separate marketing-consent box when registering. */
  marketingConsent?: boolean;
}

export interface OrderLine {
  sku: string;
  title: string;
  qty: number;
  priceFen: number;
  /** Apportioned paid amount of the line. */
  paidFen: number;
}

export interface OrderSpec {
  orderId: string;
  lines: OrderLine[];
  totalFen: number;
  paidFen: number;
  createdAt: number;
  /** Pay time (absent for an order closed unpaid). */
  paidAt?: number;
}

export interface WechatPushSpec {
  createTime: number;
  msgType: 'event' | 'text';
  event?: 'subscribe' | 'unsubscribe' | 'SCAN' | 'CLICK' | 'VIEW';
  /** Absent element vs empty element both occur for organic follows. */
  eventKey?: string;
  /** Channel whose QR ticket rides along. */
  ticketOf?: string;
  content?: string;
  msgId?: string;
}

export type TmcTopic = 'taobao_trade_TradeCreate' | 'taobao_trade_TradeBuyerPay' | 'taobao_trade_TradeSellerShip' | 'taobao_trade_TradeClose';

export interface TmcSpec {
  id: string;
  topic: TmcTopic;
  at: number;
  order: OrderSpec;
}

export interface CodeRef {
  /** Index into the planned codes (mapped to a row of the downloaded batch). */
  index: number;
  form: 'canonical' | 'printed' | 'typo';
}

interface ActionBase {
  /** Planned time, epoch ms. */
  at: number;
  person: number;
  effects: Effect[];
}

export type Action = ActionBase &
  (
    | { kind: 'wechat'; push: WechatPushSpec; nonce: string }
    | { kind: 'register' }
    | { kind: 'scan'; code: CodeRef }
    | { kind: 'tmall'; messages: TmcSpec[] }
    | { kind: 'jd'; order: OrderSpec; state: 'WAIT_SELLER_STOCK_OUT' | 'WAIT_GOODS_RECEIVE_CONFIRM'; modified: number; messageId: string }
    | { kind: 'youzan'; order: OrderSpec; type: 'trade_TradeCreate' | 'trade_TradePaid' | 'trade_TradeSuccess'; msgId: string; withOpenid: boolean }
  );

export type ActionKind = Action['kind'];

export interface PlanInput {
  fans: number;
  days: number;
  seed: string | number;
  /** End of the window (exclusive), epoch ms. */
  anchor: number;
  tz: string;
}

export interface Plan {
  persons: Person[];
  actions: Action[];
  /** Fresh codes the plan needs; the batch is created larger than this. */
  codesNeeded: number;
  /** First and last local day of the window. */
  fromDay: string;
  toDay: string;
  anchor: number;
  /** Mixes the seed and the anchor into platform ids (TMC ids, order ids, message ids). */
  runHash: number;
}

const STORE_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 7, 7, 8, 9, 9, 8, 8, 9, 9, 6, 2, 0];
const DAYTIME_HOURS = [0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 3, 3, 3, 4, 3, 3, 3, 3, 3, 3, 4, 5, 6, 5, 2];
const AD_HOURS = [0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 2, 3, 2.5, 2.5, 3, 5, 4, 2.5, 2.5, 2.5, 3, 3, 4, 6, 7, 6, 3];

/** Samples event times over the window's days and hours with a channel's rhythm. */
class Clock {
  readonly days: string[];
  private readonly dayStarts: number[];
  private readonly cumulative = new Map<Timing, number[]>();
  readonly liveDay: number;

  constructor(
    readonly anchor: number,
    readonly count: number,
    private readonly tz: string,
  ) {
    const today = localDay(anchor - 1, tz);
    this.days = Array.from({ length: count }, (_, i) => addDays(today, i - (count - 1)));
    this.dayStarts = this.days.map((d) => startOfLocalDay(d, tz));
    this.liveDay = Math.min(count - 1, Math.floor(count * 0.6));
  }

  private dayWeight(timing: Timing, d: number): number {
    const dow = new Date(`${this.days[d]!}T00:00:00Z`).getUTCDay();
    const weekend = dow === 0 || dow === 6;
    switch (timing) {
      case 'store':
        return weekend ? 1.7 : dow === 5 ? 1.2 : 1;
      case 'ad':
        return weekend ? 0.85 : 1.15;
      case 'poster': {
        const start = Math.floor(this.count * 0.3);
        return d < start ? 0.05 : 0.1 + Math.exp(-(d - start) / 5);
      }
      case 'livestream':
        return d < this.liveDay ? 0.05 : d === this.liveDay ? 0.6 : Math.exp(-(d - this.liveDay) / 2);
      case 'steady':
        return 1;
    }
  }

  private hours(timing: Timing): number[] {
    return timing === 'store' ? STORE_HOURS : timing === 'ad' ? AD_HOURS : DAYTIME_HOURS;
  }

  private table(timing: Timing): number[] {
    let cum = this.cumulative.get(timing);
    if (cum) return cum;
    cum = [];
    let total = 0;
    const hours = this.hours(timing);
    for (let d = 0; d < this.count; d++) {
      for (let h = 0; h < 24; h++) {
        const start = this.dayStarts[d]! + h * HOUR_MS;
        const w = start + HOUR_MS <= this.anchor ? this.dayWeight(timing, d) * hours[h]! : 0;
        total += w;
        cum.push(total);
      }
    }
    this.cumulative.set(timing, cum);
    return cum;
  }

  /** A time in the window following the rhythm; uniform when no hour qualifies. */
  sample(rng: Rng, timing: Timing): number {
    if (timing === 'livestream' && rng.chance(0.75)) {
      // The live session: 20:00–23:30 on the live day, peaking around 21:00.
      const offset = (20 + Math.min(3.5, Math.abs(rng.between(-1, 1) + rng.between(-1, 1) + rng.between(0, 2)))) * HOUR_MS;
      const t = this.dayStarts[this.liveDay]! + Math.floor(offset) + rng.int(0, 59_999);
      if (t < this.anchor) return t;
    }
    const cum = this.table(timing);
    const total = cum[cum.length - 1] ?? 0;
    if (!(total > 0)) return this.uniform(rng);
    const r = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    const d = Math.floor(lo / 24);
    const h = lo % 24;
    return this.dayStarts[d]! + h * HOUR_MS + rng.int(0, HOUR_MS - 1);
  }

  uniform(rng: Rng): number {
    const start = Math.max(this.dayStarts[0]!, this.anchor - this.count * DAY_MS);
    return Math.floor(rng.between(start, this.anchor));
  }
}

/** Unique, seed-stable mainland mobile numbers: prefix, a 3-digit seed block, a 5-digit bijection. */
export function phoneMaker(seed: string) {
  const h = hash32(`phone:${seed}`);
  const block = String(h % 1000).padStart(3, '0');
  const c = hash32(`phone-offset:${seed}`) % 100_000;
  return (i: number): string => {
    const prefix = PHONE_PREFIXES[i % PHONE_PREFIXES.length]!;
    const k = Math.floor(i / PHONE_PREFIXES.length);
    if (k >= 100_000) throw new Error('too many simulated people for unique phone numbers');
    const tail = (Number((BigInt(k) * 48_271n) % 100_000n) + c) % 100_000;
    return `${prefix}${block}${String(tail).padStart(5, '0')}`;
  };
}

export function idChars(label: string, length: number): string {
  return createHash('sha256').update(label).digest('base64url').slice(0, length);
}

/** A uuid-shaped id from a label. */
function uuidOf(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A simulated person's openid on the official account. */
export const simOpenid = (seed: string, idx: number): string => `oSIM${idChars(`openid:${seed}:${idx}`, 24)}`;

export function planSimulation(input: PlanInput): Plan {
  const { fans, days, anchor, tz } = input;
  const seed = String(input.seed);
  if (!Number.isInteger(fans) || fans < 1) throw new Error('fans must be a positive integer');
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error('days must be 1..366');
  const rng = new Rng(`scrm-simulate:${seed}`);
  const clock = new Clock(anchor, days, tz);
  const runHash = hash32(`run:${seed}:${anchor}`);
  const phoneOf = phoneMaker(seed);

  const persons: Person[] = [];
  const actions: Action[] = [];
  let codeCursor = 0;
  const redeemedCodes: { index: number; at: number; person: number }[] = [];

  // Platform id spaces: distinct per seed and window, stable within one.
  let tmcSeq = 0;
  let tidSeq = 0;
  let jdSeq = 0;
  let yzSeq = 0;
  let msgSeq = 0;
  const nextTmcId = () => String(7_000_000_000_000_000_000n + BigInt(runHash) * 100_000_000n + BigInt(++tmcSeq));
  const nextTid = () => String(3_000_000_000_000_000_000n + BigInt(runHash) * 100_000_000n + BigInt(++tidSeq));
  const nextJdOrder = () => String(300_000_000_000 + (runHash % 100_000) * 1_000_000 + ++jdSeq);
  const nextMsgId = () => String(2_400_000_000_000_000_000n + BigInt(runHash) * 100_000_000n + BigInt(++msgSeq));
  const nonce = () => rng.digits(10, true);

  const newPerson = (kind: PersonKind, channel: string, extra: Partial<Person> = {}): Person => {
    const idx = persons.length;
    const p: Person = { idx, kind, key: '', channel, phone: phoneOf(idx), ...extra };
    p.key = p.openid ?? `${kind}:${idx}`;
    persons.push(p);
    return p;
  };
  const openidOf = (idx: number) => simOpenid(seed, idx);

  const push = (p: Person, at: number, spec: Omit<WechatPushSpec, 'createTime'>, effects: Effect[] = []) => {
    actions.push({ kind: 'wechat', at, person: p.idx, effects, nonce: nonce(), push: { ...spec, createTime: Math.floor(at / 1000) } });
  };

  const makeOrder = (createdAt: number, paidAt: number | undefined, orderId: string): OrderSpec => {
    const lineCount = rng.weighted([
      [1, 62],
      [2, 28],
      [3, 10],
    ] as const);
    const lines: OrderLine[] = [];
    const used = new Set<string>();
    for (let i = 0; i < lineCount; i++) {
      const prod = PRODUCTS[rng.weightedIndex(PRODUCTS.map((x) => (used.has(x.sku) ? 0 : x.weight)))]!;
      used.add(prod.sku);
      lines.push({ sku: prod.sku, title: prod.title, qty: rng.chance(0.85) ? 1 : 2, priceFen: prod.priceFen, paidFen: 0 });
    }
    const totalFen = lines.reduce((s, l) => s + l.priceFen * l.qty, 0);
    // Shop coupons: none, 10 or 20 yuan off per 100, or 8.8 折 on the sale days.
    const discount = rng.weighted([
      [0, 50],
      [Math.min(totalFen - 100, Math.floor(totalFen / 10_000) * 1000), 30],
      [Math.round(totalFen * 0.12), 20],
    ] as const);
    const paidFen = Math.max(100, totalFen - Math.max(0, discount));
    let left = paidFen;
    lines.forEach((l, i) => {
      l.paidFen = i === lines.length - 1 ? left : Math.round((paidFen * l.priceFen * l.qty) / totalFen);
      left -= l.paidFen;
    });
    return { orderId, lines, totalFen, paidFen, createdAt, ...(paidAt !== undefined ? { paidAt } : {}) };
  };

  const youzanOrder = (p: Person, payAt: number, withOpenid: boolean): number => {
    const createdAt = payAt - rng.int(20_000, 15 * MINUTE_MS);
    const cn = new Date(createdAt + 8 * HOUR_MS);
    const stamp = cn.toISOString().replace(/\D/g, '').slice(0, 14);
    const order = makeOrder(createdAt, payAt, `E${stamp}${String(runHash % 10_000).padStart(4, '0')}${String(++yzSeq).padStart(5, '0')}`);
    const msgId = () => uuidOf(`youzan:${seed}:${anchor}:${order.orderId}:${actions.length}`);
    actions.push({ kind: 'youzan', at: createdAt, person: p.idx, effects: [], order, type: 'trade_TradeCreate', msgId: msgId(), withOpenid });
    actions.push({ kind: 'youzan', at: payAt, person: p.idx, effects: [{ type: 'orderPaid', fen: order.paidFen }], order, type: 'trade_TradePaid', msgId: msgId(), withOpenid });
    const done = payAt + rng.between(3 * DAY_MS, 8 * DAY_MS);
    if (done < anchor && rng.chance(0.8)) {
      actions.push({ kind: 'youzan', at: done, person: p.idx, effects: [], order, type: 'trade_TradeSuccess', msgId: msgId(), withOpenid });
    }
    return payAt;
  };

  const scanCode = (p: Person, at: number) => {
    const form: CodeRef['form'] = rng.chance(0.01) ? 'typo' : rng.chance(0.12) ? 'printed' : 'canonical';
    const index = codeCursor++;
    actions.push({ kind: 'scan', at, person: p.idx, effects: [{ type: 'codeScan' }], code: { index, form } });
    if (form === 'typo') return;
    redeemedCodes.push({ index, at, person: p.idx });
    // Some people scan their own code again a little later.
    if (rng.chance(0.05)) actions.push({ kind: 'scan', at: at + rng.int(MINUTE_MS, 30 * MINUTE_MS), person: p.idx, effects: [], code: { index, form: 'canonical' } });
  };

  const qrChannels = CHANNELS.filter((c) => c.kind === 'wechat_qr').map((c) => c.id);
  const channelWeights = CHANNELS.map((c) => c.share);

  // ---- Fans: one first follow each, through a channel QR or organically.
  for (let i = 0; i < fans; i++) {
    const ch: ChannelSpec = CHANNELS[rng.weightedIndex(channelWeights)]!;
    const p = newPerson('fan', ch.id);
    p.openid = openidOf(p.idx);
    p.key = p.openid;
    const tf = clock.sample(rng, ch.timing);
    const follow = (at: number, via: string, effects: Effect[]) =>
      push(
        p,
        at,
        via === 'organic'
          ? { msgType: 'event', event: 'subscribe', ...(rng.chance(0.5) ? { eventKey: '' } : {}) }
          : { msgType: 'event', event: 'subscribe', eventKey: `qrscene_${via}`, ticketOf: via },
        effects,
      );
    follow(tf, ch.id, [{ type: 'firstFollow' }]);

    let followedUntil = anchor;
    if (rng.chance(ch.unfollow)) {
      const tu = tf + (rng.chance(0.3) ? rng.int(2 * MINUTE_MS, 60 * MINUTE_MS) : Math.floor(rng.exp(5 * DAY_MS)) + HOUR_MS);
      if (tu < anchor) {
        followedUntil = tu;
        push(p, tu, { msgType: 'event', event: 'unsubscribe' }, [{ type: 'unfollow' }]);
        if (rng.chance(0.25)) {
          const tr = tu + Math.floor(rng.exp(3 * DAY_MS)) + 10 * MINUTE_MS;
          if (tr < anchor) follow(tr, rng.chance(0.6) ? 'organic' : ch.id, []);
        }
      }
    }
    if (rng.chance(0.3)) {
      const n = rng.int(1, 3);
      let t = tf;
      for (let k = 0; k < n; k++) {
        t += Math.floor(rng.exp(2 * DAY_MS)) + 30_000;
        if (t >= followedUntil) break;
        push(p, t, { msgType: 'text', content: rng.pick(TEXT_MESSAGES), msgId: nextMsgId() });
      }
    }
    if (rng.chance(0.08)) {
      const ts = tf + Math.floor(rng.exp(6 * DAY_MS)) + HOUR_MS;
      if (ts < followedUntil) {
        const scene = rng.pick(qrChannels);
        push(p, ts, { msgType: 'event', event: 'SCAN', eventKey: scene, ticketOf: scene }, [{ type: 'qrScan' }]);
      }
    }

    let registeredAt: number | undefined;
    if (rng.chance(ch.conversion)) {
      const delay = rng.chance(ch.fastConversion)
        ? Math.max(3 * MINUTE_MS, Math.floor(rng.exp(1.2 * HOUR_MS)))
        : Math.floor(0.8 * DAY_MS + rng.exp(4 * DAY_MS));
      if (tf + delay < anchor) {
        registeredAt = tf + delay;
        if (rng.chance(0.6)) p.name = personName((xs) => rng.pick(xs), rng.chance(0.7));
        if (rng.chance(0.4)) {
          const md = `${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
          p.birthday = rng.chance(0.7) ? `${rng.int(1975, 2005)}-${md}` : md;
        }
        actions.push({ kind: 'register', at: registeredAt, person: p.idx, effects: [{ type: 'register' }] });
      }
    }

    if (ch.codeScanRate > 0 && rng.chance(ch.codeScanRate)) {
      const t = tf + rng.int(MINUTE_MS, 2 * HOUR_MS);
      if (t < anchor) {
        scanCode(p, t);
        if (rng.chance(0.25) && t + 3 * DAY_MS < anchor) scanCode(p, t + rng.int(DAY_MS, 3 * DAY_MS));
      }
    } else if (registeredAt !== undefined && rng.chance(0.05)) {
      const t = registeredAt + Math.floor(rng.exp(3 * DAY_MS));
      if (t < anchor) scanCode(p, t);
    }

    if (rng.chance(registeredAt !== undefined ? ch.youzanBuy : 0.04)) {
      p.yzOpenId = `${rng.digits(2, true)}${rng.digits(24)}`;
      const n = rng.weighted([
        [1, 70],
        [2, 22],
        [3, 8],
      ] as const);
      let t = Math.max(tf, registeredAt ?? tf) + Math.floor(rng.exp(2 * DAY_MS)) + 20 * MINUTE_MS;
      for (let k = 0; k < n && t < anchor; k++) {
        youzanOrder(p, t, true);
        t += Math.floor(rng.exp(6 * DAY_MS)) + DAY_MS;
      }
    }
  }

  // ---- People who scan a product code without ever following (first touch: the batch's channel).
  const scanners = Math.round(fans * 0.012);
  for (let i = 0; i < scanners; i++) {
    const p = newPerson('scanner', CODE_BATCH_CHANNEL);
    p.openid = openidOf(p.idx);
    p.key = p.openid;
    const t = clock.sample(rng, 'steady');
    const earlier = redeemedCodes.filter((c) => c.at < t - MINUTE_MS);
    if (earlier.length && rng.chance(0.1)) {
      // A code someone else already redeemed (a resold or shared product).
      actions.push({ kind: 'scan', at: t, person: p.idx, effects: [{ type: 'codeScan' }], code: { index: rng.pick(earlier).index, form: 'canonical' } });
    } else {
      scanCode(p, t);
    }
  }

  // ---- Tmall buyers: the hub meets them through TMC trade messages (first touch: tmall).
  const tmallBuyers = Math.round(fans * 0.07);
  for (let i = 0; i < tmallBuyers; i++) {
    const p = newPerson('tmall', 'tmall', { tmallOpenUid: `AAG${idChars(`tmall:${seed}:${i}`, 21)}` });
    let t = clock.sample(rng, 'ad');
    const n = rng.chance(0.2) ? 2 : 1;
    for (let k = 0; k < n && t < anchor; k++) {
      const tc = t;
      if (rng.chance(0.08)) {
        const order = makeOrder(tc, undefined, nextTid());
        actions.push({ kind: 'tmall', at: tc, person: p.idx, effects: [], messages: [{ id: nextTmcId(), topic: 'taobao_trade_TradeCreate', at: tc, order }] });
        const closeAt = tc + rng.int(30 * MINUTE_MS, 72 * HOUR_MS);
        if (closeAt < anchor) actions.push({ kind: 'tmall', at: closeAt, person: p.idx, effects: [], messages: [{ id: nextTmcId(), topic: 'taobao_trade_TradeClose', at: closeAt, order }] });
      } else {
        const tp = tc + rng.int(20_000, 20 * MINUTE_MS);
        if (tp >= anchor) break;
        const order = makeOrder(tc, tp, nextTid());
        const create: TmcSpec = { id: nextTmcId(), topic: 'taobao_trade_TradeCreate', at: tc, order };
        const pay: TmcSpec = { id: nextTmcId(), topic: 'taobao_trade_TradeBuyerPay', at: tp, order };
        const paid: Effect[] = [{ type: 'orderPaid', fen: order.paidFen }];
        // Messages close together reach the relay in one pull and are pushed as one array.
        if (tp - tc < 90_000) actions.push({ kind: 'tmall', at: tp, person: p.idx, effects: paid, messages: [create, pay] });
        else {
          actions.push({ kind: 'tmall', at: tc, person: p.idx, effects: [], messages: [create] });
          actions.push({ kind: 'tmall', at: tp, person: p.idx, effects: paid, messages: [pay] });
        }
        const ship = tp + rng.int(6 * HOUR_MS, 48 * HOUR_MS);
        if (ship < anchor && rng.chance(0.75)) actions.push({ kind: 'tmall', at: ship, person: p.idx, effects: [], messages: [{ id: nextTmcId(), topic: 'taobao_trade_TradeSellerShip', at: ship, order }] });
      }
      t += Math.floor(rng.exp(7 * DAY_MS)) + DAY_MS;
    }
  }

  // ---- JD buyers (first touch: jd).
  const jdBuyers = Math.round(fans * 0.035);
  for (let i = 0; i < jdBuyers; i++) {
    const p = newPerson('jd', 'jd', { jdOpenId: idChars(`jd-open:${seed}:${i}`, 40), jdXid: `o*AA${idChars(`jd-xid:${seed}:${i}`, 48)}` });
    let t = clock.sample(rng, 'ad');
    const n = rng.chance(0.1) ? 2 : 1;
    for (let k = 0; k < n && t < anchor; k++) {
      const tp = t;
      const order = makeOrder(tp - rng.int(10_000, 10 * MINUTE_MS), tp, nextJdOrder());
      actions.push({ kind: 'jd', at: tp, person: p.idx, effects: [{ type: 'orderPaid', fen: order.paidFen }], order, state: 'WAIT_SELLER_STOCK_OUT', modified: tp + 2000, messageId: `relay-${uuidOf(`jd:${seed}:${anchor}:${++jdSeq}`)}` });
      const ship = tp + rng.int(8 * HOUR_MS, 36 * HOUR_MS);
      if (ship < anchor && rng.chance(0.7)) {
        actions.push({ kind: 'jd', at: ship, person: p.idx, effects: [], order, state: 'WAIT_GOODS_RECEIVE_CONFIRM', modified: ship, messageId: `relay-${uuidOf(`jd:${seed}:${anchor}:${++jdSeq}`)}` });
      }
      t += Math.floor(rng.exp(10 * DAY_MS)) + DAY_MS;
    }
  }

  // ---- Youzan buyers who never followed the account (first touch: youzan).
  const youzanBuyers = Math.round(fans * 0.02);
  for (let i = 0; i < youzanBuyers; i++) {
    const withOpenid = rng.chance(0.5);
    const p = newPerson('youzan', 'youzan', { yzOpenId: `${rng.digits(2, true)}${rng.digits(24)}` });
    if (withOpenid) p.openid = openidOf(p.idx);
    youzanOrder(p, clock.sample(rng, 'ad'), withOpenid);
  }

  // Time order; a stable sort keeps each person's same-time actions in planned order.
  const order = actions.map((a, i) => ({ a, i }));
  order.sort((x, y) => x.a.at - y.a.at || x.i - y.i);
  const sorted = order.map((x) => x.a);
  const first = sorted[0]?.at ?? anchor;
  const fromDay = [clock.days[0]!, localDay(first, tz)].sort()[0]!;
  return { persons, actions: sorted, codesNeeded: codeCursor, fromDay, toDay: clock.days[clock.days.length - 1]!, anchor, runHash };
}
