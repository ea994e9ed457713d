/**
 * Value by acquisition channel on DynamoDB Local: people follow through three channels over three
 * months, register and pay orders through the real apply path (wechat.follow,
 * platform.member_join, Youzan orders); one person's earlier follow arrives late and moves them
 * to another channel and cohort. The fold moves the cohort credits into the rollups, and
 * GET /attribution/cohorts (the real handler) answers exactly what an independent model computes
 * here from the raw people table below — before the fold of the last events (the folded part
 * only) and after it; in order, with every event twice, and shuffled with duplicates: identical.
 * The cohort backfill gives records written before cohort credits their credits exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { useLocalAws, hubConfig, hubContext, ddb } from '../support/env.ts';
import { foldCounters, scanAll } from '../support/table.ts';
import { paidYouzanOrder } from '../support/orders.ts';
import { shuffle } from '../support/random.ts';
import { createTable } from '../../local/emulators.ts';
import { apply } from '../../lib/apply/apply.ts';
import { backfillCohorts } from '../../lib/attribution/backfill.ts';
import { handler } from '../../functions/attribution-api.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';
import type { CohortFigures } from '../../lib/attribution/cohort-query.ts';
import { getEvent } from '../support/http-event.ts';

const aws = await useLocalAws();
const APP = aws.runtime.cfg.WECHAT_APP_ID;
const DAY = 86_400_000;
/** Shanghai wall clock → epoch ms (UTC+8, no daylight saving). */
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);

interface Person {
  openid: string;
  /** Follows: [scene, time]; the earliest is the first touch (listed in arrival order). */
  follows: [string, number][];
  /** The first touch's local day's ISO week, written by hand from a calendar. */
  week: string;
  /** Registration, days after the first touch. */
  registerAfter?: number;
  /** Orders: [days after the first touch, fen]. */
  orders: [number, number][];
}

// The people table. Local days (Asia/Shanghai); months and ISO weeks by hand.
const PEOPLE: Person[] = [
  { openid: 'co_p1', follows: [['coh_a', sh(2023, 1, 3, 10)]], week: '2023-W01', registerAfter: 2, orders: [[5, 12_000], [40, 23_000]] },
  // 23:30 local on 01-15 is 15:30 UTC the same day; a Sunday: still week 2.
  { openid: 'co_p2', follows: [['coh_a', sh(2023, 1, 15, 23, 30)]], week: '2023-W02', orders: [[100, 51_000]] },
  { openid: 'co_p3', follows: [['coh_b', sh(2023, 1, 20, 8)]], week: '2023-W03', registerAfter: 1, orders: [[1, 3_000], [2, 4_500], [29.9, 7_000]] },
  // 00:10 local on 02-01 is 16:10 UTC on 01-31: the February cohort.
  { openid: 'co_p4', follows: [['coh_b', sh(2023, 2, 1, 0, 10)]], week: '2023-W05', registerAfter: 95, orders: [[150, 88_000]] },
  { openid: 'co_p5', follows: [['coh_c', sh(2023, 2, 14, 12)]], week: '2023-W07', orders: [] },
  // An order exactly 30 days after the first touch counts at 30; one 200 days after never counts.
  { openid: 'co_p6', follows: [['coh_a', sh(2023, 2, 20, 12)]], week: '2023-W08', registerAfter: 0.5, orders: [[30, 16_000], [31, 1_200], [200, 99_000]] },
  { openid: 'co_p7', follows: [['coh_c', sh(2023, 3, 5, 9)]], week: '2023-W09', registerAfter: 10, orders: [[10, 31_000], [60, 27_000], [170, 45_000]] },
  { openid: 'co_p8', follows: [['coh_b', sh(2023, 3, 28, 18)]], week: '2023-W13', orders: [[3, 64_000]] },
  // The follow through coh_c on 02-25 (a Saturday, week 8) arrives after the one through coh_a.
  { openid: 'co_p9', follows: [['coh_a', sh(2023, 3, 10, 10)], ['coh_c', sh(2023, 2, 25, 10)]], week: '2023-W08', orders: [[20, 19_000]] },
  { openid: 'co_p10', follows: [['coh_a', sh(2023, 1, 28, 9)]], week: '2023-W04', registerAfter: 200, orders: [[45, 9_000], [80, 12_000]] },
];

/** An instant `after` days after `t0`, in whole milliseconds. */
const later = (t0: number, after: number) => t0 + Math.round(after * DAY);
const firstTouch = (p: Person) => p.follows.reduce((a, b) => (b[1] < a[1] ? b : a));

function eventsOf(p: Person): HubEvent[] {
  const [, t0] = firstTouch(p);
  const buyer = [
    { kind: 'youzan_open_id' as const, value: `yz_${p.openid}` },
    { kind: 'wechat_openid' as const, value: `${APP}:${p.openid}` },
  ];
  const out: HubEvent[] = p.follows.map(([scene, at], i) => ({ source: 'wechat', type: 'wechat.follow', eventId: `coh:${p.openid}:f${i}`, occurredAt: at, appId: APP, openid: p.openid, scene }));
  if (p.registerAfter !== undefined) {
    out.push({ source: 'youzan', type: 'platform.member_join', platform: 'youzan', eventId: `coh:${p.openid}:join`, occurredAt: later(t0, p.registerAfter), shopId: '12345678', buyer, membership: true });
  }
  p.orders.forEach(([after, fen], i) => {
    const orderId = `CO${p.openid}${i}`;
    out.push(paidYouzanOrder({ eventId: `coh:${orderId}`, shopId: '12345678', orderId, at: later(t0, after), fen, buyer }));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The independent model: straight from the people table.

type Figures = CohortFigures;

/** Shanghai local day of an instant (UTC+8). */
const localDayOf = (t: number) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 10);

function model(people: readonly Person[], granularity: 'week' | 'month', horizon: number) {
  const persons = people.map((p) => {
    const [channel, t0] = firstTouch(p);
    const within = p.orders.filter(([after]) => after * DAY <= horizon * DAY);
    return {
      channel,
      cohort: granularity === 'month' ? localDayOf(t0).slice(0, 7) : p.week,
      member: p.registerAfter !== undefined && p.registerAfter <= horizon ? 1 : 0,
      orders: within.length,
      gmv: within.reduce((s, [, fen]) => s + fen, 0),
    };
  });
  // Top customers: the ⌈20 %⌉ highest GMVs within the horizon, ties included.
  const gmvs = persons.map((x) => x.gmv).filter((g) => g > 0).sort((a, b) => b - a);
  const threshold = gmvs.length ? gmvs[Math.ceil(gmvs.length / 5) - 1]! : null;
  const isTop = (g: number) => threshold !== null && g > 0 && g >= threshold;
  const allTop = persons.filter((x) => isTop(x.gmv)).length;
  const sum = (xs: typeof persons): Figures => {
    const acquired = xs.length;
    const gmvFen = xs.reduce((s, x) => s + x.gmv, 0);
    const topCustomers = xs.filter((x) => isTop(x.gmv)).length;
    return {
      acquired,
      members: xs.reduce((s, x) => s + x.member, 0),
      buyers: xs.filter((x) => x.orders >= 1).length,
      repeatBuyers: xs.filter((x) => x.orders >= 2).length,
      gmvFen,
      gmvPerAcquiredFen: Math.round(gmvFen / acquired),
      topCustomers,
      topShare: allTop ? Math.round((topCustomers / allTop) * 10_000) / 10_000 : 0,
    };
  };
  const cohorts = [...new Set(persons.map((x) => x.cohort))].sort();
  const channels = [...new Set(persons.map((x) => x.channel))].sort();
  const rows = cohorts.flatMap((cohort) =>
    channels.filter((channel) => persons.some((x) => x.cohort === cohort && x.channel === channel)).map((channel) => ({ cohort, channel, ...sum(persons.filter((x) => x.cohort === cohort && x.channel === channel)), mature: true })),
  );
  return { rows, channels: channels.map((channel) => ({ channel, ...sum(persons.filter((x) => x.channel === channel)) })), threshold, gmvs };
}

// ---------------------------------------------------------------------------------------------
// The real handler

const event = (path: string, qs: Record<string, string>, headers: Record<string, string> = { authorization: `Bearer ${hubConfig().HUB_ADMIN_TOKEN}` }): APIGatewayProxyEventV2 =>
  getEvent(path, { routeKey: `GET ${path}`, qs, headers });

async function call(rt: Runtime, path: string, qs: Record<string, string>, headers?: Record<string, string>) {
  const res = (await handler(event(path, qs, headers), hubContext(rt))) as APIGatewayProxyStructuredResultV2;
  const ct = String(res.headers?.['content-type'] ?? '');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  const json: any = /json/.test(ct) ? JSON.parse(res.body ?? 'null') : undefined;
  return { status: res.statusCode, text: res.body ?? '', json };
}

const Q = (granularity: 'week' | 'month', horizon: number) => ({ from: '2023-01-01', to: '2023-03-31', granularity, horizon: String(horizon) });

/** The API's answer against the model: figures exactly, the threshold within its stated bound (T × 64/65 < L ≤ T). */
async function expectModel(rt: Runtime, people: readonly Person[], granularity: 'week' | 'month', horizon: number): Promise<void> {
  const m = model(people, granularity, horizon);
  // Fixture check: GMVs within the horizon are more than 1,000 fen apart (or equal), so no customer's
  // GMV lies within a histogram bucket (at most 1/64 of the amount, < 1,000 fen here) below another's.
  for (let i = 1; i < m.gmvs.length; i++) expect(m.gmvs[i - 1]! - m.gmvs[i]! === 0 || m.gmvs[i - 1]! - m.gmvs[i]! > 1_000, `fixture GMVs ${m.gmvs.join(' ')}`).toBe(true);
  const r = await call(rt, '/attribution/cohorts', Q(granularity, horizon));
  expect(r.status).toBe(200);
  expect(r.json.rows, `${granularity} ${horizon}`).toEqual(m.rows);
  expect(r.json.channels).toEqual(m.channels);
  expect(r.json).toMatchObject({ from: '2023-01-01', to: '2023-03-31', granularity, horizon });
  if (m.threshold === null) expect(r.json.topThresholdFen).toBeNull();
  else {
    expect(r.json.topThresholdFen).toBeLessThanOrEqual(m.threshold);
    expect(r.json.topThresholdFen).toBeGreaterThan((m.threshold * 64) / 65);
  }
}

const ALL_QUERIES = [
  ['month', 30],
  ['month', 90],
  ['month', 180],
  ['week', 30],
  ['week', 180],
] as const;

let tables = 0;
async function freshRuntime(): Promise<Runtime> {
  const table = `${aws.table}-coh${++tables}`;
  await createTable(ddb(), table);
  return aws.runtime.with({ settings: { HUB_TABLE: table } });
}

const applyAll = async (rt: Runtime, events: readonly HubEvent[]) => {
  for (const e of events) await apply(e, rt);
};

beforeAll(() => {
  expect(aws.runtime.cfg.HUB_TIMEZONE).toBe('Asia/Shanghai');
});

describe('GET /attribution/cohorts', () => {
  let inOrder: Runtime;

  it('equals the model of the folded part before the last fold, and of everything after it', async () => {
    inOrder = await freshRuntime();
    const early = PEOPLE.slice(0, 6);
    const late = PEOPLE.slice(6);
    await applyAll(inOrder, early.flatMap(eventsOf));
    await foldCounters(inOrder.cfg.HUB_TABLE);
    await applyAll(inOrder, late.flatMap(eventsOf));
    for (const [g, h] of ALL_QUERIES) await expectModel(inOrder, early, g, h);
    await foldCounters(inOrder.cfg.HUB_TABLE);
    for (const [g, h] of ALL_QUERIES) await expectModel(inOrder, PEOPLE, g, h);
  });

  it('duplicates and a shuffled arrival order end in the identical answer', async () => {
    const events = PEOPLE.flatMap(eventsOf);
    const replayed = await freshRuntime();
    const twice = [...events, ...events];
    shuffle(twice, 23);
    await applyAll(replayed, twice);
    await foldCounters(replayed.cfg.HUB_TABLE);
    // Every event again, after the fold: nothing moves.
    await applyAll(replayed, events);
    await foldCounters(replayed.cfg.HUB_TABLE);
    for (const [g, h] of ALL_QUERIES) {
      await expectModel(replayed, PEOPLE, g, h);
      expect((await call(replayed, '/attribution/cohorts', Q(g, h))).json).toEqual((await call(inOrder, '/attribution/cohorts', Q(g, h))).json);
    }
  });

  it('the CSV has one line per row, the same figures', async () => {
    const m = model(PEOPLE, 'month', 90);
    const r = await call(inOrder, '/attribution/cohorts.csv', Q('month', 90));
    expect(r.status).toBe(200);
    const lines = r.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('cohort,channel,acquired,members,buyers,repeatBuyers,gmvFen,gmvYuan,gmvPerAcquiredFen,topCustomers,topShare,mature');
    expect(lines.slice(1)).toEqual(
      m.rows.map((x) => [x.cohort, x.channel, x.acquired, x.members, x.buyers, x.repeatBuyers, x.gmvFen, (x.gmvFen / 100).toFixed(2), x.gmvPerAcquiredFen, x.topCustomers, x.topShare, 'true'].join(',')),
    );
  });

  it('bad input is a 400 with the reason; no token a 401', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ from: '2023-01-01', to: '2023-03-31', granularity: 'day' }, 'bad_granularity'],
      [{ from: '2023-01-01', to: '2023-03-31', horizon: '60' }, 'bad_horizon'],
      [{ from: '2023-02-30', to: '2023-03-31' }, 'bad_date'],
      [{ to: '2023-03-31' }, 'bad_date'],
      [{ from: '2023-03-31', to: '2023-01-01' }, 'bad_range'],
      [{ from: '2021-01-01', to: '2023-01-31', granularity: 'month' }, 'range_too_long'],
      [{ from: '2022-01-01', to: '2023-01-10', granularity: 'week' }, 'range_too_long'],
    ];
    for (const [qs, code] of bad) {
      const r = await call(inOrder, '/attribution/cohorts', qs);
      expect(r.status, JSON.stringify(qs)).toBe(400);
      expect(r.json.error).toBe(code);
      expect(typeof r.json.message).toBe('string');
    }
    expect((await call(inOrder, '/attribution/cohorts', Q('month', 90), {})).status).toBe(401);
  });
});

describe('cohort backfill', () => {
  it('gives records written before cohort credits their credits once: on their next write, or by the backfill', async () => {
    const rt = await freshRuntime();
    const table = rt.cfg.HUB_TABLE;
    await applyAll(rt, PEOPLE.flatMap(eventsOf));
    await foldCounters(table);
    // The state before cohort credits: no cohort rollups, profiles without the mark.
    for (const item of await scanAll(table)) {
      if (String(item.pk).startsWith('ROLLUP#cohort#')) await ddb().send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
      if (item.sk === '#PROFILE') await ddb().send(new UpdateCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: 'REMOVE cohortCredits' }));
    }
    expect((await call(rt, '/attribution/cohorts', Q('month', 90))).json.rows).toEqual([]);

    // One person's next write gives their whole cohort credits.
    const p1 = PEOPLE[0]!;
    const extra: HubEvent = paidYouzanOrder({ eventId: 'coh:extra', shopId: '12345678', orderId: 'COEXTRA', at: firstTouch(p1)[1] + 6 * DAY, fen: 9_000, buyer: [{ kind: 'youzan_open_id', value: `yz_${p1.openid}` }] });
    await apply(extra, rt);
    const withExtra = PEOPLE.map((p) => (p === p1 ? { ...p, orders: [...p.orders, [6, 9_000] as [number, number]] } : p));
    const [a, b] = await Promise.all([backfillCohorts(rt), backfillCohorts(rt)]);
    const profiles = PEOPLE.length;
    expect(a.profiles).toBe(profiles);
    expect(a.backfilled + b.backfilled).toBe(profiles - 1);
    expect(await backfillCohorts(rt)).toEqual({ profiles, backfilled: 0, alreadyDone: profiles });
    await foldCounters(table);
    for (const [g, h] of ALL_QUERIES) await expectModel(rt, withExtra, g, h);
  });
});
