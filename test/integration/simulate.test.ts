/**
 * The traffic simulator against the whole hub in process (gateway, real handlers, DynamoDB Local,
 * local SQS, the WeChat stand-in): every request it sends is accepted, the attribution API's
 * first-touch table equals the ground truth the simulator kept of what it sent, and, day by
 * day, each conversion is credited to the day of the fan's first follow (read from the plan the
 * simulator sent, not from the hub).
 */
import { hubConfig } from '../support/env.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { YOUZAN_ON_OFFICIAL_ACCOUNT, useTestHub } from '../support/hub.ts';

import { fetchAttribution, planSimulation, simulate, type AttributionRow, type SimulateResult } from '../../lib/simulate/index.ts';
import { CREATED_CHANNELS } from '../../lib/simulate/scenario.ts';
import { formatSummary } from '../../lib/simulate/report.ts';
import { dayIn } from '../support/models.ts';

// The simulated brand binds Youzan to its official account (its buyers' outer_user_id are the account's openids).
const hub = useTestHub({ replaysHistory: true, queuePrefix: 'sim', env: YOUZAN_ON_OFFICIAL_ACCOUNT });
let result: SimulateResult;
let rows: AttributionRow[];

beforeAll(async () => {
  result = await simulate({ base: hub.url, fans: 300, days: 7, seed: 1, concurrency: 8 });
  // The test hub runs no schedules: the counter fold runs here, as POST /_local/run/counter-fold would.
  await hub.runScheduled('counter-fold');
  rows = await fetchAttribution(hub.url, hubConfig().HUB_ADMIN_TOKEN, result.from, result.to);
  if (process.env.HUB_TEST_VERBOSE) console.log(formatSummary(result, rows));
}, 300_000);

describe('npm run simulate against an in-process hub', () => {
  it('creates the channels and the code batch, and every request succeeds', () => {
    expect(result.channels.map((c) => c.id)).toHaveLength(8);
    expect(result.channels.every((c) => c.created)).toBe(true);
    expect(result.batch?.count).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
    expect(result.requests.failed).toBe(0);
    expect(result.skipped).toBe(0);
    const routes = Object.keys(result.requests.routes);
    for (const r of ['POST /wechat/{appId}', 'POST /members', 'POST /codes/scan', 'POST /tmall/{appKey}', 'POST /jd/{appKey}', 'POST /youzan/{clientId}']) {
      expect(routes).toContain(r);
    }
    expect(result.scanResults.redeemed).toBeGreaterThan(0);
  });

  it('lists the eight channels plus organic in the attribution table', () => {
    const listed = rows.map((r) => r.channel);
    for (const c of CREATED_CHANNELS) expect(listed).toContain(c.id);
    expect(listed).toContain('organic');
  });

  it('matches the ground truth per channel under the first-touch model', () => {
    const byId = new Map(rows.map((r) => [r.channel, r]));
    let fans = 0;
    for (const [channel, t] of Object.entries(result.tallies)) {
      fans += t.firstFollows;
      const row = byId.get(channel);
      const got = {
        newFans: row?.newFans ?? 0,
        convertedFans: row?.convertedFans ?? 0,
        newMembers: row?.newMembers ?? 0,
        orders: row?.orders ?? 0,
        gmvFen: row?.gmvFen ?? 0,
        unfollows: row?.unfollows ?? 0,
        scans: row?.scans ?? 0,
      };
      expect({ channel, ...got }).toEqual({
        channel,
        newFans: t.firstFollows,
        // Every registrant is a fan first met through that channel.
        convertedFans: t.registrations,
        newMembers: t.registrations,
        orders: t.orders,
        gmvFen: t.gmvFen,
        unfollows: t.unfollows,
        scans: t.codeScans,
      });
    }
    expect(fans).toBe(300);
    // The platforms bring buyers of their own, and fans buy in the WeChat mall.
    expect(result.tallies.tmall!.orders).toBeGreaterThan(0);
    expect(result.tallies.jd!.orders).toBeGreaterThan(0);
    const fanOrders = Object.entries(result.tallies)
      .filter(([id]) => !['tmall', 'jd', 'youzan'].includes(id))
      .reduce((s, [, t]) => s + t.orders, 0);
    expect(fanOrders).toBeGreaterThan(0);
  });

  it('per channel and day: new fans on the first-follow day, and each registration counted on that same day (cohort)', async () => {
    const tz = hubConfig().HUB_TIMEZONE;
    const day = dayIn(tz);
    // The plan the simulator sent (same inputs), and the local day of each fan's first follow.
    const plan = planSimulation({ fans: 300, days: 7, seed: 1, anchor: result.anchor, tz });
    const followDay = new Map<number, string>();
    for (const a of plan.actions) {
      if (a.kind === 'wechat' && a.effects.some((e) => e.type === 'firstFollow')) followDay.set(a.person, day(a.push.createTime * 1000));
    }
    const expected: Record<string, Record<string, { newFans: number; convertedFans: number }>> = {};
    const at = (channel: string, d: string) => ((expected[channel] ??= {})[d] ??= { newFans: 0, convertedFans: 0 });
    for (const [person, d] of followDay) at(plan.persons[person]!.channel, d).newFans++;
    let registrations = 0;
    for (const a of plan.actions) {
      if (!a.effects.some((e) => e.type === 'register')) continue;
      registrations++;
      at(plan.persons[a.person]!.channel, followDay.get(a.person)!).convertedFans++;
    }
    expect(registrations).toBeGreaterThan(10);
    // Registrations are stamped by the hub's clock (today); most first follows happened before.
    const today = day(Date.now());
    expect(Object.values(expected).some((days) => Object.entries(days).some(([d, v]) => d !== today && v.convertedFans > 0))).toBe(true);

    const token = hubConfig().HUB_ADMIN_TOKEN;
    for (const channel of Object.keys(expected).sort()) {
      const res = await fetch(`${hub.url}/attribution/channels/${encodeURIComponent(channel)}/daily?from=${result.from}&to=${result.to}&model=first_touch`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { days: { day: string; newFans: number; convertedFans: number }[] };
      const got: Record<string, { newFans: number; convertedFans: number }> = {};
      for (const r of body.days) if (r.newFans || r.convertedFans) got[r.day] = { newFans: r.newFans, convertedFans: r.convertedFans };
      expect({ channel, days: got }).toEqual({ channel, days: expected[channel] });
    }
  });

  it('plans the same traffic for the same seed', () => {
    const input = { fans: 50, days: 5, seed: 7, anchor: result.anchor, tz: hubConfig().HUB_TIMEZONE };
    expect(planSimulation(input)).toEqual(planSimulation(input));
    expect(planSimulation({ ...input, seed: 8 }).actions).not.toEqual(planSimulation(input).actions);
  });
});
