/**
 * Test data for the attribution read side: channel items written straight into the table with
 * the hub's key schema (lib/store/keys.ts), the counter figures written as credit deltas and
 * folded by the real fold (lib/attribution/fold.ts) into counters and rollups, plus an
 * independent calculation of what the API should answer for any range and model. Shared by the integration test
 * (test/integration/attribution-api.test.ts) and the browser test.
 *
 * Time-to-convert buckets are multiples of 6 minutes or whole hours, so every median is exact
 * at 2 decimals and the expected values need no rounding convention.
 */
import { ddb, activeRuntime } from '../support/env.ts';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

import { channelKey, channelListIndex } from '../../lib/store/entities/channel.ts';
import { deltaId, deltaKey, DELTA_SHARDS } from '../../lib/store/entities/credit-delta.ts';
import { creditKey } from '../../lib/attribution/credits.ts';
import { foldCounters } from '../support/table.ts';
import { memberKey } from '../../lib/store/entities/member.ts';
import { eligibility, type Arm } from '../../lib/store/entities/eligibility.ts';
import { insightCounters, type InsightSubject } from '../../lib/store/entities/insight.ts';
import { Tx } from '../../lib/store/tx.ts';

export interface SeedChannel {
  id: string;
  name: string;
  kind: string;
  /** false: counters only, no channel item (a built-in channel). */
  item: boolean;
}

export const SEED_CHANNELS: SeedChannel[] = [
  { id: 'qr-sh-flagship', name: '上海旗舰店 门店码', kind: 'wechat_qr', item: true },
  { id: 'qr-bj-mall', name: '北京, "朝阳" 商场', kind: 'wechat_qr', item: true },
  { id: 'ad-douyin', name: '抖音信息流 Douyin ads', kind: 'ad', item: true },
  // listed without any counters: must appear with zeros
  { id: 'qr-new-empty', name: '新建渠道（无数据）', kind: 'wechat_qr', item: true },
  // built-in platform channel: counters but no channel item
  { id: 'tmall', name: '天猫', kind: 'platform', item: false },
];

/** The shards written (of the configured 4). */
export const SEED_SHARDS = [0, 2];

export interface CounterSeed {
  channel: string;
  shard: number;
  model: 'first' | 'last';
  day: string;
  metrics: Record<string, number>;
}

/** Deterministic pseudo-random numbers. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const addDays = (day: string, n: number): string => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
};

/**
 * Counter items for the seeded channels on `dayOffsets` days before `today` (0 = today), both
 * models, shards 0 and 2. One extra day far back (offset 45) lies outside a 30-day default.
 */
export function makeCounters(today: string, dayOffsets = [0, 1, 2, 4, 7, 12, 20, 29, 45]): CounterSeed[] {
  const rnd = prng(20240501);
  const int = (max: number) => Math.floor(rnd() * (max + 1));
  const out: CounterSeed[] = [];
  for (const ch of SEED_CHANNELS) {
    if (ch.id === 'qr-new-empty') continue;
    for (const model of ['first', 'last'] as const) {
      for (const shard of SEED_SHARDS) {
        for (const off of dayOffsets) {
          if (ch.id === 'tmall' && off % 2 === 1) continue;
          if (rnd() < 0.15) continue; // some shard-days have nothing
          const newFans = ch.id === 'tmall' ? 0 : 1 + int(12);
          const convertedFans = int(newFans);
          const metrics: Record<string, number> = {
            newFans,
            unfollows: int(3),
            convertedFans,
            sameDayConversions: int(convertedFans),
            newMembers: int(6),
            scans: int(5),
            qrScans: int(4),
            orders: int(4),
            gmvFen: 0,
            newContacts: int(5),
            lostContacts: int(2),
          };
          metrics.gmvFen = metrics.orders! * (990 + int(50_000));
          for (let i = 0; i < convertedFans; i++) {
            const bucket = rnd() < 0.7 ? `ttc_m${6 * int(400)}` : `ttc_h${48 + int(300)}`;
            metrics[bucket] = (metrics[bucket] ?? 0) + 1;
          }
          // Referrals: some of the channel's members referred 1..3 people each that day.
          metrics.referringMembers = ch.id === 'tmall' ? 0 : int(2);
          metrics.referredMembers = metrics.referringMembers! > 0 ? metrics.referringMembers! + int(4) : 0;
          for (const [k, v] of Object.entries(metrics)) if (v === 0 && !k.startsWith('ttc_')) delete metrics[k];
          out.push({ channel: ch.id, shard, model, day: addDays(today, -off), metrics });
        }
      }
    }
  }
  return out;
}

/**
 * Writes the channel items, then each counter seed as one credit delta in a delta shard that
 * folds into the seed's counter shard (shard s of DELTA_SHARDS folds into s mod
 * HUB_COUNTER_SHARDS), and runs the fold until none is left.
 */
export async function writeSeed(counters: CounterSeed[]): Promise<void> {
  const table = activeRuntime().store.table;
  for (const ch of SEED_CHANNELS) {
    if (!ch.item) continue;
    await ddb().send(
      new PutCommand({
        TableName: table,
        Item: { ...channelKey(ch.id), ...channelListIndex(ch.id), channelId: ch.id, name: ch.name, kind: ch.kind, createdAt: 1_714_000_000_000 },
      }),
    );
  }
  const shards = activeRuntime().cfg.HUB_COUNTER_SHARDS;
  if (shards > DELTA_SHARDS) throw new Error('the seed assumes HUB_COUNTER_SHARDS ≤ DELTA_SHARDS');
  const puts = counters.map((c, i) => ({
    PutRequest: { Item: { ...deltaKey(c.shard % shards, deltaId(1_714_000_000_000, `seed${i}`, 1)), c: { [creditKey(c.channel, c.model, c.day)]: c.metrics }, at: 1_714_000_000_000 } },
  }));
  for (let i = 0; i < puts.length; i += 25) {
    let pending: Record<string, unknown[]> | undefined = { [table]: puts.slice(i, i + 25) };
    for (let attempt = 0; pending && Object.keys(pending).length && attempt < 10; attempt++) {
      const res = await ddb().send(new BatchWriteCommand({ RequestItems: pending as never }));
      pending = res.UnprocessedItems as Record<string, unknown[]> | undefined;
    }
  }
  await foldCounters(table);
}

// ---------------------------------------------------------------------------------------------
// Independent expectations

const SUM_KEYS = ['newFans', 'unfollows', 'convertedFans', 'sameDayConversions', 'newMembers', 'scans', 'qrScans', 'orders', 'gmvFen', 'newContacts', 'lostContacts', 'referredMembers', 'referringMembers'] as const;

interface Sum {
  [k: string]: number;
}

function sumOf(items: CounterSeed[]): { sum: Sum; hours: number[] } {
  const sum: Sum = Object.fromEntries(SUM_KEYS.map((k) => [k, 0]));
  const hours: number[] = [];
  for (const it of items) {
    for (const k of SUM_KEYS) sum[k]! += it.metrics[k] ?? 0;
    for (const [k, v] of Object.entries(it.metrics)) {
      const m = /^ttc_m(\d+)$/.exec(k);
      const h = /^ttc_h(\d+)$/.exec(k);
      for (let i = 0; i < v; i++) {
        if (m) hours.push(Number(m[1]) / 60);
        if (h) hours.push(Number(h[1]));
      }
    }
  }
  return { sum, hours };
}

function textbookMedian(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const v = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return Math.round(v * 100) / 100;
}

const metricsOf = (items: CounterSeed[]) => {
  const { sum, hours } = sumOf(items);
  return {
    newFans: sum.newFans!,
    unfollows: sum.unfollows!,
    convertedFans: sum.convertedFans!,
    conversionRate: sum.newFans! > 0 ? Math.round((sum.convertedFans! / sum.newFans!) * 10_000) / 10_000 : 0,
    sameDayConversions: sum.sameDayConversions!,
    medianHoursToConvert: textbookMedian(hours),
    newMembers: sum.newMembers!,
    scans: sum.scans!,
    orders: sum.orders!,
    gmvFen: sum.gmvFen!,
    referredMembers: sum.referredMembers!,
    referringMembers: sum.referringMembers!,
    kFactor: sum.referringMembers! > 0 ? Math.round((sum.referredMembers! / sum.referringMembers!) * 100) / 100 : null,
  };
};

/** The fields after the contract's in a row: qrScans and the WeCom contact metrics. */
const extrasOf = (items: CounterSeed[]) => {
  const { sum } = sumOf(items);
  return { qrScans: sum.qrScans!, newContacts: sum.newContacts!, lostContacts: sum.lostContacts! };
};

const inRange = (c: CounterSeed, from: string, to: string, model: 'first' | 'last') => c.model === model && c.day >= from && c.day <= to;

/** What GET /attribution/channels should answer (rows in channel id order). */
export function expectedChannels(counters: CounterSeed[], from: string, to: string, model: 'first' | 'last') {
  return SEED_CHANNELS.map((ch) => {
    const items = counters.filter((c) => c.channel === ch.id && inRange(c, from, to, model));
    return { ch, items };
  })
    .filter(({ ch, items }) => ch.item || items.length > 0)
    .map(({ ch, items }) => ({ channel: ch.id, name: ch.name, ...metricsOf(items), kind: ch.kind, ...extrasOf(items) }))
    .sort((a, b) => (a.channel < b.channel ? -1 : 1));
}

/** What GET /attribution/channels/{id}/daily should answer for each day. */
export function expectedDaily(counters: CounterSeed[], channel: string, from: string, to: string, model: 'first' | 'last') {
  const days: Array<{ day: string } & ReturnType<typeof metricsOf> & ReturnType<typeof extrasOf>> = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const items = counters.filter((c) => c.channel === channel && c.day === d && c.model === model);
    days.push({ day: d, ...metricsOf(items), ...extrasOf(items) });
  }
  return days;
}

// ---------------------------------------------------------------------------------------------
// Lift (GET /insight/lift): eligibility records and the members' paid orders

export interface LiftSeedCounts {
  treated: { eligible: number; converted: number };
  holdout: { eligible: number; converted: number };
}

/** The lift seed's rules: a rule with a large effect, a campaign with about none. */
export const LIFT_SEED_RULES = { birthday: { treated: 0.5, holdout: 0.1 }, 'campaign:seed-spring': { treated: 0.2, holdout: 0.2 } } as const;
const LIFT_DAY_MS = 86_400_000;

/**
 * Per rule: 80 treated and 20 held-out members eligible 5–20 days before `today` (noon UTC of
 * that day), each converting (a paid order 2 days after eligibility) with the rule's rate by a
 * fixed pseudo-random draw; a non-converter has an order 3 days before eligibility or none. The
 * member profiles carry the orders in their history; the records are written as the sender
 * writes them (lib/store/entities/eligibility.ts). Returns the counts (default 14-day window).
 */
export async function writeLiftSeed(today: string): Promise<Record<string, LiftSeedCounts>> {
  const store = activeRuntime().store;
  const rnd = prng(2325);
  const out: Record<string, LiftSeedCounts> = {};
  for (const [ruleId, rates] of Object.entries(LIFT_SEED_RULES)) {
    const counts: LiftSeedCounts = { treated: { eligible: 0, converted: 0 }, holdout: { eligible: 0, converted: 0 } };
    for (let i = 0; i < 100; i++) {
      const arm: Arm = i < 80 ? 'treated' : 'holdout';
      const day = addDays(today, -(5 + (i % 16)));
      const eligibleAt = Date.parse(`${day}T04:00:00Z`);
      const converts = rnd() < rates[arm];
      const memberId = `lift-${ruleId.replace(/[^a-z]/g, '')}-${i}`;
      const orders: [string, number, number, string][] = [];
      if (converts) orders.push([`youzan:1:${memberId}a`, eligibleAt + 2 * LIFT_DAY_MS, 9_900, 'youzan']);
      else if (i % 2 === 0) orders.push([`youzan:1:${memberId}b`, eligibleAt - 3 * LIFT_DAY_MS, 9_900, 'youzan']);
      await ddb().send(
        new PutCommand({
          TableName: store.table,
          Item: { ...memberKey(memberId), memberId, version: 1, createdAt: eligibleAt - 90 * LIFT_DAY_MS, updatedAt: eligibleAt, status: 'fan', points: 0, tier: 'normal', orderCount: orders.length, gmvFen: 9_900 * orders.length, lifecycle: 'new', h: { f: [], u: [], q: [], c: [], o: orders }, credits: {} },
        }),
      );
      await eligibility.record(store, { messageId: `seed-${memberId}`, memberId, ruleId, step: 'seed', arm, eligibleAt, day, decision: arm === 'holdout' ? 'holdout' : 'send' }, 180);
      counts[arm].eligible++;
      if (converts) counts[arm].converted++;
    }
    out[ruleId] = counts;
  }
  return out;
}
// Menus and keywords

/** One insight counter as the seed writes it (through the entity's own add, lib/store/entities/insight.ts). */
export interface InsightSeed {
  id: string;
  day: string;
  appId: string;
  subject: InsightSubject;
  n: number;
  replies?: number;
}

/**
 * Menu, keyword and term counters over three days (today, 3 and 40 days back) and two accounts,
 * several seeds per counter (different event ids: different shards, or the same one added twice).
 */
export function makeInsight(today: string, appIds: readonly [string, string]): InsightSeed[] {
  const rand = prng(23);
  const out: InsightSeed[] = [];
  const days = [today, addDays(today, -3), addDays(today, -40)];
  const menus: [event: 'CLICK' | 'VIEW', key: string][] = [
    ['CLICK', 'MEMBER_CENTRE'],
    ['CLICK', 'OFFERS'],
    ['CLICK', 'PUPPY_FEEDING'],
    ['VIEW', 'https://shop.example.cn/puppy#feeding'],
  ];
  const keywords = ['会员中心', '积分', '抽奖', '投诉'];
  const words = ['狗粮', '猫粮', '优惠券', 'hello', '客服', '小包装', '发货', '退货', '价格', '幼犬', '配送', '试用装'];
  for (const day of days) {
    for (const appId of appIds) {
      for (const [event, key] of menus) {
        for (let i = 0; i < 3; i++) out.push({ id: `m${out.length}`, day, appId, subject: { kind: 'menu', channel: i === 0 ? 'organic' : 'qr-sh-flagship', event, key }, n: 1 + Math.floor(rand() * 9) });
      }
      for (const kw of keywords) {
        for (let i = 0; i < 2; i++) {
          const n = 1 + Math.floor(rand() * 12);
          out.push({ id: `k${out.length}`, day, appId, subject: { kind: 'kw', channel: 'organic', key: kw }, n, ...(kw === '投诉' ? {} : { replies: n }) });
        }
      }
      for (const w of words) out.push({ id: `w${out.length}`, day, appId, subject: { kind: 'word', key: w }, n: 1 + Math.floor(rand() * 20) });
    }
  }
  return out;
}

/** Writes the insight seeds through the entity's add, one transaction per 90. */
export async function writeInsightSeed(seeds: readonly InsightSeed[]): Promise<void> {
  const table = activeRuntime().store.table;
  const at = Date.now();
  for (let i = 0; i < seeds.length; i += 90) {
    const tx = new Tx(table);
    for (const s of seeds.slice(i, i + 90)) insightCounters.add(tx, { eventId: s.id, day: s.day, appId: s.appId, at, subject: s.subject, adds: { n: s.n, ...(s.replies !== undefined ? { replies: s.replies } : {}) } });
    await tx.commit(ddb());
  }
}

/** What the insight routes should answer for a range and account ('' = all), computed from the seeds alone. */
export function expectedInsight(seeds: readonly InsightSeed[], from: string, to: string, appId: string, topWords: number) {
  const inRange = seeds.filter((s) => s.day >= from && s.day <= to && (appId === '' || s.appId === appId));
  const menus = new Map<string, number>();
  const keywords = new Map<string, { count: number; replies: number }>();
  const words = new Map<string, number>();
  for (const s of inRange) {
    if (s.subject.kind === 'menu') {
      const k = JSON.stringify([s.appId, s.subject.event, s.subject.key]);
      menus.set(k, (menus.get(k) ?? 0) + s.n);
    } else if (s.subject.kind === 'kw') {
      const k = JSON.stringify([s.appId, s.subject.key]);
      const row = keywords.get(k) ?? { count: 0, replies: 0 };
      row.count += s.n;
      row.replies += s.replies ?? 0;
      keywords.set(k, row);
    } else words.set(s.subject.key, (words.get(s.subject.key) ?? 0) + s.n);
  }
  const top = [...words.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, topWords);
  return { menus, keywords, words: top };
}

// Cohorts (value by acquisition channel)

/** One acquired person of the cohort seed: first-touch channel, days before today, and figures at 90 days. */
export interface CohortPerson {
  channel: string;
  daysAgo: number;
  member: boolean;
  orders: number;
  /** GMV within 90 days, fen: each a histogram bucket's lower bound (m × 2^k, 64 ≤ m < 128), so its bucket is itself. */
  gmvFen: number;
}

export const COHORT_PEOPLE: CohortPerson[] = [
  { channel: 'qr-sh-flagship', daysAgo: 3, member: true, orders: 2, gmvFen: 25_600 }, // 100 × 2^8
  { channel: 'qr-sh-flagship', daysAgo: 5, member: false, orders: 0, gmvFen: 0 },
  { channel: 'qr-sh-flagship', daysAgo: 40, member: true, orders: 1, gmvFen: 51_200 }, // 100 × 2^9
  { channel: 'qr-bj-mall', daysAgo: 8, member: false, orders: 1, gmvFen: 6_400 }, // 100 × 2^6
  { channel: 'qr-bj-mall', daysAgo: 70, member: true, orders: 2, gmvFen: 12_800 }, // 100 × 2^7
  { channel: 'ad-douyin', daysAgo: 12, member: false, orders: 1, gmvFen: 3_200 }, // 100 × 2^5
  { channel: 'ad-douyin', daysAgo: 100, member: false, orders: 0, gmvFen: 0 },
  { channel: 'ad-douyin', daysAgo: 130, member: true, orders: 3, gmvFen: 102_400 }, // 100 × 2^10
  { channel: 'tmall', daysAgo: 45, member: false, orders: 1, gmvFen: 9_600 }, // 75 × 2^7
];

/** Writes each person's cohort credits (metrics at 90 days) as one credit delta, and folds. */
export async function writeCohortSeed(people: CohortPerson[], today: string): Promise<void> {
  const table = activeRuntime().store.table;
  const puts = people.map((p, i) => {
    const metrics: Record<string, number> = { acquired: 1 };
    if (p.member) metrics.members_90 = 1;
    if (p.orders >= 1) metrics.buyers_90 = 1;
    if (p.orders >= 2) metrics.repeatBuyers_90 = 1;
    if (p.gmvFen > 0) {
      metrics.gmvFen_90 = p.gmvFen;
      metrics[`gh90_${p.gmvFen}`] = 1;
    }
    return { PutRequest: { Item: { ...deltaKey(i % DELTA_SHARDS, deltaId(1_714_000_000_000, `cohortseed${i}`, 1)), c: { [creditKey(p.channel, 'cohort', addDays(today, -p.daysAgo))]: metrics }, at: 1_714_000_000_000 } } };
  });
  for (let i = 0; i < puts.length; i += 25) await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: puts.slice(i, i + 25) } }));
  await foldCounters(table);
}

/** What the month heatmap at 90 days should show: `<month>|<channel>` → {acquired, gmvPerAcquiredFen}, and each channel's top-20 % share. */
export function expectedCohortCells(people: CohortPerson[], today: string) {
  const cells = new Map<string, { acquired: number; gmv: number }>();
  for (const p of people) {
    const k = `${addDays(today, -p.daysAgo).slice(0, 7)}|${p.channel}`;
    const c = cells.get(k) ?? { acquired: 0, gmv: 0 };
    c.acquired++;
    c.gmv += p.gmvFen;
    cells.set(k, c);
  }
  // Top 20 %: of the customers (GMV > 0), the ⌈n/5⌉ highest GMVs, ties included.
  const gmvs = people.map((p) => p.gmvFen).filter((g) => g > 0).sort((a, b) => b - a);
  const threshold = gmvs[Math.ceil(gmvs.length / 5) - 1]!;
  const top = people.filter((p) => p.gmvFen >= threshold && p.gmvFen > 0);
  const channels = [...new Set(people.map((p) => p.channel))].sort();
  return {
    cells: new Map([...cells].map(([k, c]) => [k, { acquired: c.acquired, gmvPerAcquiredFen: Math.round(c.gmv / c.acquired) }])),
    topShare: Object.fromEntries(channels.map((ch) => [ch, Math.round((top.filter((p) => p.channel === ch).length / top.length) * 10_000) / 10_000])),
    threshold,
  };
}
