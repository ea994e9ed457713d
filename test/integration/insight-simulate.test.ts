/**
 * Issue 23's done-when on simulated months: the months scenario (lib/simulate/months-model.ts)
 * driven through the hub's real signed doors by moving the local clock (local/clock.ts), with
 * the SQS pollers running as under `npm start`, and the hub's answers checked against the
 * ground truth the simulator computed from what it planned and what the hub accepted.
 *
 *   1. the local clock                                    (runs on its own)
 *   2. the simulation and its ground truth                (runs on its own: checked against the
 *      plan and the existing first-touch attribution table)
 *   3. the insight APIs of the shared contract            (needs the cohorts, lift, keywords and
 *      audiences/campaigns parts: GET /attribution/cohorts, GET /insight/lift, keyword replies
 *      and GET /insight/{keywords,menus}, POST /audiences, POST /campaigns)
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hubConfig } from '../support/env.ts';
import { YOUZAN_ON_OFFICIAL_ACCOUNT, useTestHub } from '../support/hub.ts';
import { fetchAttribution } from '../../lib/simulate/index.ts';
import { simulateMonths, type MonthsResult } from '../../lib/simulate/months.ts';
import { CONVERSION_DAYS, HORIZONS, SIMULATE_ENGAGEMENT_POLICY, KEYWORDS, MENU, MOST_FANS_CHANNEL, planMonths, runDay, STORE_QR_CHANNEL, TEXTS } from '../../lib/simulate/months-model.ts';
import { wechatRequest } from '../../lib/simulate/payloads.ts';
import { sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { DAY_MS, HOUR_MS } from '../../lib/time.ts';

const FANS = 500;
const MONTHS = 6;
const SEED = 23;

// The scenario's rule set (a one-step repurchase ladder), a 50 % holdout (an A/B split, so both
// arms of the lift report hold enough members) and Youzan bound to the official account; the
// default 300 s webhook window: every push is signed and stamped with the clock's time.
const hub = useTestHub({
  queuePrefix: 'ins',
  pollers: true,
  env: { ...YOUZAN_ON_OFFICIAL_ACCOUNT, HUB_RULES_FILE: resolve('events/simulate-rules.json'), HUB_ENGAGEMENT_POLICY: SIMULATE_ENGAGEMENT_POLICY },
});
const admin = () => ({ authorization: `Bearer ${hubConfig().HUB_ADMIN_TOKEN}` });
const adminJson = () => ({ ...admin(), 'content-type': 'application/json' });

async function clockPut(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${hub.url}/_local/clock`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function clockNow(): Promise<number> {
  const res = await fetch(`${hub.url}/_local/clock`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { now: number }).now;
}

/** A text push from `openid` stamped `at` (the hub's answer: status and body). */
async function textPush(openid: string, content: string, at: number, msgId: string): Promise<{ status: number; body: string }> {
  const cfg = hubConfig();
  const req = wechatRequest(cfg, openid, { msgType: 'text', content, msgId, createTime: Math.floor(at / 1000) }, String(100_000_000 + (Number(msgId) % 800_000_000)), undefined, cfg.WECHAT_MESSAGE_MODE);
  const res = await fetch(hub.url + req.path, { method: req.method, headers: req.headers, body: req.body! });
  return { status: res.status, body: await res.text() };
}

describe('the local clock', () => {
  it('reads the clock, moves it forward by an instant or an offset, and never back', async () => {
    const t0 = await clockNow();
    expect(Math.abs(t0 - Date.now())).toBeLessThan(60_000);
    const ahead = await clockPut({ advanceMs: DAY_MS });
    expect(ahead.status).toBe(200);
    expect(ahead.body.now as number).toBeGreaterThanOrEqual(t0 + DAY_MS);
    expect(ahead.body.offsetMs as number).toBeGreaterThanOrEqual(DAY_MS);
    const target = (ahead.body.now as number) + 3 * HOUR_MS;
    const moved = await clockPut({ at: new Date(target).toISOString() });
    expect(moved.status).toBe(200);
    expect(moved.body.now).toBe(target);
    expect(moved.body.iso).toBe(new Date(target).toISOString());
    const back = await clockPut({ at: target - HOUR_MS });
    expect(back.status).toBe(409);
    expect(back.body.error).toBe('clock_backwards');
    expect(await clockNow()).toBeGreaterThanOrEqual(target);
  });

  it('refuses a body that is not one of the two forms, with a reason', async () => {
    for (const body of ['{', {}, { at: 'tomorrow' }, { advanceMs: -1 }, { advanceMs: 1.5 }, { at: 1, advanceMs: 1 }, { at: '2026-12-01T00:00:00' }]) {
      const r = await clockPut(body);
      expect({ body, status: r.status, error: r.body.error }).toEqual({ body, status: 400, error: 'bad_request' });
      expect(typeof r.body.message).toBe('string');
    }
    const del = await fetch(`${hub.url}/_local/clock`, { method: 'DELETE' });
    expect(del.status).toBe(405);
  });

  it('is the webhooks\' "now": a request stamped with the clock\'s time passes the 300 s window, one stamped with the wall clock is stale', async () => {
    await clockPut({ advanceMs: 2 * DAY_MS });
    const now = await clockNow();
    expect(now - Date.now()).toBeGreaterThan(DAY_MS);
    // URL verification (it writes nothing, so no person joins the simulated cohorts below).
    const verify = (at: number) => {
      const ts = String(Math.floor(at / 1000));
      const q = new URLSearchParams({ signature: sha1Signature(hubConfig().WECHAT_TOKEN, ts, 'clock1'), timestamp: ts, nonce: 'clock1', echostr: 'clock-echo' });
      return fetch(`${hub.url}/wechat/${hubConfig().WECHAT_APP_ID}?${q}`);
    };
    const ok = await verify(now);
    expect({ status: ok.status, body: await ok.text() }).toEqual({ status: 200, body: 'clock-echo' });
    expect((await verify(Date.now())).status).toBe(401);
    // A push stamped with the wall clock is refused before anything is written.
    const stale = await textPush('oCLOCKtest000000000000000001', '你好', Date.now(), '7100000000000000002');
    expect(stale.status).toBe(401);
    expect(stale.body).toContain('stale timestamp');
  });

  it('lets the hub\'s queues empty on request (POST /_local/settle)', async () => {
    const res = await fetch(`${hub.url}/_local/settle`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { settled: boolean }).settled).toBe(true);
  });
});

let result: MonthsResult;

describe('the months simulation and its ground truth', () => {
  beforeAll(async () => {
    result = await simulateMonths({ base: hub.url, standinUrl: hub.standin.url, fans: FANS, months: MONTHS, seed: SEED, concurrency: 8 });
    if (process.env.HUB_TEST_VERBOSE) console.log(JSON.stringify({ ...result, truth: { ...result.truth, cohorts: undefined } }, null, 1));
  }, 1_500_000);

  it('spans the months through the signed doors: every request is accepted', () => {
    expect(result.failures).toEqual([]);
    expect(result.requests.failed).toBe(0);
    expect(result.days).toBe(MONTHS * 30);
    expect(result.end - result.start).toBeGreaterThan(MONTHS * 30 * DAY_MS);
    for (const r of ['POST /wechat/{appId}', 'POST /members', 'POST /youzan/{clientId}', 'PUT /_local/clock', 'POST /_local/run/nudge-sweep']) {
      expect(Object.keys(result.requests.routes)).toContain(r);
    }
  });

  it('makes the store QR the most valuable channel per acquired person at every horizon, while the livestream brings the most fans', () => {
    const t = result.truth;
    expect(t.mostValuable).toBe(STORE_QR_CHANNEL);
    expect(t.mostFans).toBe(MOST_FANS_CHANNEL);
    for (const h of HORIZONS) {
      const ranked = Object.entries(t.channels[h]).sort((a, b) => b[1].gmvPerAcquired - a[1].gmvPerAcquired);
      expect({ h, top: ranked[0]![0] }).toEqual({ h, top: STORE_QR_CHANNEL });
      // GMV grows with the horizon.
      if (h > 30) expect(t.channels[h][STORE_QR_CHANNEL]!.gmvFen).toBeGreaterThanOrEqual(t.channels[30][STORE_QR_CHANNEL]!.gmvFen);
    }
    expect(t.channels[180][STORE_QR_CHANNEL]!.repeatBuyers).toBeGreaterThan(t.channels[180][MOST_FANS_CHANNEL]!.repeatBuyers);
  });

  it('cohort tallies add up to the hub\'s first-touch attribution table per channel (every order lies within 180 days of its first follow)', async () => {
    const rows = await fetchAttribution(hub.url, hubConfig().HUB_ADMIN_TOKEN, result.from, result.to);
    const byId = new Map(rows.map((r) => [r.channel, r]));
    for (const [channel, c] of Object.entries(result.truth.channels[180])) {
      const row = byId.get(channel);
      expect({ channel, newFans: row?.newFans, newMembers: row?.newMembers, orders: row?.orders, gmvFen: row?.gmvFen }).toEqual({ channel, newFans: c.acquired, newMembers: c.members, orders: c.orders, gmvFen: c.gmvFen });
      // The cohorts partition the channel's people.
      const months = Object.values(result.truth.cohorts[180]).map((m) => m[channel]).filter((x) => x !== undefined);
      expect(months.reduce((s, m) => s + m.acquired, 0)).toBe(c.acquired);
      expect(months.reduce((s, m) => s + m.gmvFen, 0)).toBe(c.gmvFen);
    }
    expect(Object.values(result.truth.channels[180]).reduce((s, c) => s + c.acquired, 0)).toBe(FANS);
    expect(Object.keys(result.truth.cohorts[180]).length).toBeGreaterThanOrEqual(3);
  });

  it('counts the texts and menu events the plan sent, by keyword (first match wins) and by key', () => {
    const plan = planMonths({ fans: FANS, months: MONTHS, seed: String(SEED), start: result.start, tz: result.tz });
    const matched: Record<string, number> = {};
    const unmatched: Record<string, number> = {};
    const menus: Record<string, number> = {};
    for (const day of plan.byDay) {
      for (const [, a] of day) {
        if (a.kind === 'text') {
          const k = TEXTS.find((t) => t.text === a.text)!.keyword;
          if (k) matched[k] = (matched[k] ?? 0) + 1;
          else unmatched[a.text] = (unmatched[a.text] ?? 0) + 1;
        }
        if (a.kind === 'menu') menus[`${a.event} ${a.key}`] = (menus[`${a.event} ${a.key}`] ?? 0) + 1;
      }
    }
    expect(result.truth.keywords).toEqual({ matched, unmatched });
    expect(Object.fromEntries(result.truth.menus.map((m) => [`${m.event} ${m.key}`, m.count]))).toEqual(menus);
    expect(Object.keys(matched).sort()).toEqual(KEYWORDS.map((k) => k.keyword).sort());
    expect(result.truth.menus).toHaveLength(MENU.length);
  });

  it('has members in many lifecycles and tiers, and a non-trivial at-risk gold store-QR audience', () => {
    const { byLifecycle, byTier } = result.truth.members;
    for (const l of ['prospect', 'new', 'repeat', 'at_risk']) expect({ l, n: (byLifecycle[l] ?? 0) > 0 }).toEqual({ l, n: true });
    for (const t of ['normal', 'silver', 'gold']) expect({ t, n: (byTier[t] ?? 0) > 0 }).toEqual({ t, n: true });
    expect(result.truth.atRiskGoldStoreQr.length).toBeGreaterThanOrEqual(3);
    expect(result.truth.atRiskGoldStoreQr.length).toBeLessThan(byTier.gold!);
  });

  it('observed the rules at work: eligible members received the repurchase and birthday messages, the holdout did not', () => {
    for (const rule of ['repurchase', 'birthday'] as const) {
      const r = result.truth.rules[rule];
      // Both groups present: the 50 % holdout did not receive, the others did (every member consents).
      expect({ rule, treated: r.treated.eligible > 0, untreated: r.untreated.eligible > 0 }).toEqual({ rule, treated: true, untreated: true });
    }
    expect(result.truth.rules.repurchase.trueEffect).toBeGreaterThan(0);
    expect(result.truth.rules.birthday.trueEffect).toBe(0);
  });
});

/** The insight APIs (cohorts, lift, menus and keywords, audiences and campaigns) against the simulator's truth. */
describe('issue 23 done-when: the insight APIs recover the simulated truth', () => {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(hub.url + path, { headers: admin() });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return (await res.json()) as T;
  };

  // Value by acquisition channel.
  it('cohorts: names the simulator\'s most valuable channel at 180 days, and every row equals the ground truth', async () => {
    type Row = { cohort: string; channel: string; acquired: number; members: number; buyers: number; repeatBuyers: number; gmvFen: number; gmvPerAcquiredFen: number };
    for (const h of HORIZONS) {
      const body = await get<{ rows: Row[]; channels: Row[] }>(`/attribution/cohorts?from=${result.from}&to=${result.to}&granularity=month&horizon=${h}`);
      const got = body.rows.map((r) => ({ cohort: r.cohort, channel: r.channel, acquired: r.acquired, members: r.members, buyers: r.buyers, repeatBuyers: r.repeatBuyers, gmvFen: r.gmvFen }));
      const want = Object.entries(result.truth.cohorts[h]).flatMap(([cohort, chs]) =>
        Object.entries(chs).map(([channel, c]) => ({ cohort, channel, acquired: c.acquired, members: c.members, buyers: c.buyers, repeatBuyers: c.repeatBuyers, gmvFen: c.gmvFen })),
      );
      const key = (r: { cohort: string; channel: string }) => `${r.cohort} ${r.channel}`;
      expect({ h, rows: [...got].sort((a, b) => key(a).localeCompare(key(b))) }).toEqual({ h, rows: [...want].sort((a, b) => key(a).localeCompare(key(b))) });
      const best = [...body.channels].sort((a, b) => b.gmvPerAcquiredFen - a.gmvPerAcquiredFen)[0]!;
      expect({ h, best: best.channel }).toEqual({ h, best: result.truth.mostValuable });
      for (const c of body.channels) expect(Math.abs(c.gmvPerAcquiredFen - result.truth.channels[h][c.channel]!.gmvPerAcquired)).toBeLessThanOrEqual(1);
    }
  });

  // Lift against the holdout.
  it('lift: the real-effect rule\'s 95 % interval contains the simulated effect; the no-effect rule reports no_effect_yet', async () => {
    type Lift = { treated: { eligible: number; converted: number }; holdout: { eligible: number; converted: number }; ci95: { low: number; high: number }; verdict: string };
    // Eligibility whose conversion window the run observed in full (the simulator counts days d with d + 14 < days).
    const to = runDay(result.start, result.tz, result.days - 1 - CONVERSION_DAYS);
    const real = await get<Lift>(`/insight/lift?rule=repurchase&from=${result.from}&to=${to}`);
    const truth = result.truth.rules.repurchase;
    expect(real.treated.eligible + real.holdout.eligible).toBe(truth.treated.eligible + truth.untreated.eligible);
    expect(real.holdout.eligible).toBeGreaterThan(0);
    expect(real.holdout.eligible).toBeLessThanOrEqual(truth.untreated.eligible);
    const within = (l: Lift, effect: number) => ({ arms: [l.treated, l.holdout], ci95: l.ci95, effect, within: l.ci95.low <= effect && effect <= l.ci95.high });
    expect(within(real, truth.trueEffect)).toMatchObject({ within: true });
    const none = await get<Lift>(`/insight/lift?rule=birthday&from=${result.from}&to=${to}`);
    const noneTruth = result.truth.rules.birthday;
    expect(none.treated.eligible + none.holdout.eligible).toBe(noneTruth.treated.eligible + noneTruth.untreated.eligible);
    expect(none.holdout.eligible).toBeGreaterThan(0);
    if (process.env.HUB_TEST_VERBOSE) console.log(JSON.stringify({ repurchase: real, birthday: none, truth: { treated: truth.treated, untreated: truth.untreated, trueEffect: truth.trueEffect } }));
    expect(none.verdict).toBe('no_effect_yet');
    expect(within(none, 0)).toMatchObject({ within: true });
  });

  // Menus and keywords.
  it('keywords and menus: counts equal the ground truth, and a configured keyword reply comes back in the push answer', async () => {
    const appId = hubConfig().WECHAT_APP_ID;
    const kw = await get<{ matched: { keyword: string; count: number }[] }>(`/insight/keywords?from=${result.from}&to=${result.to}&appId=${appId}`);
    expect(Object.fromEntries(kw.matched.filter((m) => m.count > 0).map((m) => [m.keyword, m.count]))).toEqual(result.truth.keywords.matched);
    const menus = await get<{ rows: { event: string; key: string; count: number }[] }>(`/insight/menus?from=${result.from}&to=${result.to}&appId=${appId}`);
    expect(menus.rows.map((r) => ({ event: r.event, key: r.key, count: r.count })).sort((a, b) => `${a.event} ${a.key}`.localeCompare(`${b.event} ${b.key}`))).toEqual(result.truth.menus);
    // During the run (rules set through PUT /keywords/{appId} before the first push) every text a
    // rule matched was answered with that rule's reply in the push answer itself.
    for (const k of KEYWORDS) {
      const r = result.replies[k.keyword]!;
      expect({ keyword: k.keyword, sent: r.sent > 0, answered: r.answered, other: r.other }).toEqual({ keyword: k.keyword, sent: true, answered: r.sent, other: 0 });
    }
    // Replacing the rules through the route, then a fresh text per keyword.
    const put = await fetch(`${hub.url}/keywords/${appId}`, {
      method: 'PUT',
      headers: adminJson(),
      body: JSON.stringify({ rules: KEYWORDS.map((k) => ({ keyword: k.keyword, match: k.match, reply: k.reply })) }),
    });
    expect(put.status).toBe(200);
    let seq = 7_200_000_000_000_000_000n;
    for (const k of KEYWORDS) {
      const text = TEXTS.find((t) => t.keyword === k.keyword)!.text;
      const r = await textPush('oKEYWORDtest0000000000000001', text, await clockNow(), String(++seq));
      expect(r.status).toBe(200);
      expect({ text, answered: r.body.length > 0 && r.body !== 'success' }).toEqual({ text, answered: true });
    }
  });

  // Audiences and campaigns (through the sender: caps and the holdout).
  it('audience: "at-risk gold members who first came from store QR codes" counts exactly the simulator\'s set, and a campaign to it respects the holdout and the daily cap', async () => {
    const truth = result.truth.atRiskGoldStoreQr;
    const created = await fetch(`${hub.url}/audiences`, {
      method: 'POST',
      headers: adminJson(),
      body: JSON.stringify({ name: 'at-risk gold from the Jing\'an store QR', filter: { lifecycle: ['at_risk'], tier: ['gold'], firstTouchChannel: [STORE_QR_CHANNEL] } }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    let count = await get<{ exact: number | null; estimate: number }>(`/audiences/${id}/count`);
    for (let i = 0; count.exact === null && i < 200; i++) {
      await fetch(`${hub.url}/_local/settle`, { method: 'POST' });
      count = await get(`/audiences/${id}/count`);
    }
    expect(count.exact).toBe(truth.length);

    const before = ((await (await fetch(`${hub.standin.url}/_local/messages`)).json()) as { messages: unknown[] }).messages.length;
    const launch = async () => {
      const res = await fetch(`${hub.url}/campaigns`, { method: 'POST', headers: adminJson(), body: JSON.stringify({ name: 'win back gold', audienceId: id, message: { templateId: 'TPL_WINBACK' } }) });
      expect(res.status).toBe(202);
      const { id: campaignId } = (await res.json()) as { id: string };
      await fetch(`${hub.url}/_local/settle`, { method: 'POST' });
      return get<{ planned: number; sent: number; suppressed: Record<string, number>; deferred: number; failed: number }>(`/campaigns/${campaignId}`);
    };
    const first = await launch();
    expect(first.planned).toBe(truth.length);
    expect(first.sent + (first.suppressed.holdout ?? 0)).toBe(truth.length);
    const sent = ((await (await fetch(`${hub.standin.url}/_local/messages`)).json()) as { messages: { templateId?: string; touser: string }[] }).messages.slice(before).filter((m) => m.templateId === 'TPL_WINBACK');
    expect(sent).toHaveLength(first.sent);
    expect(new Set(sent.map((m) => m.touser)).size).toBe(sent.length);
    for (const m of sent) expect(truth).toContain(m.touser);
    // The same day again: the daily cap (one marketing message per member per day) stops every send.
    const second = await launch();
    expect(second.sent).toBe(0);
    expect(second.suppressed.cap_daily ?? 0).toBe(first.sent);
    expect(second.suppressed.holdout ?? 0).toBe(first.suppressed.holdout ?? 0);
  });
});
