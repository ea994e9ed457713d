/**
 * simulateMonths(): drives the months scenario (months-model.ts) through a LOCAL hub's real,
 * signed doors by moving the hub's controllable clock (`PUT /_local/clock`, local/clock.ts) —
 * a deployed hub has no such route, and the run refuses to start without it.
 *
 * Each simulated day d (local midnight S + d days):
 *   03:00  the nightly member review runs (`POST /_local/run/nightly`; every 7th day, and at E);
 *   10:30  the day's actions go out in slots of SLOT_SIZE, the clock set to each slot's time and
 *          every request signed and stamped within 200 s before it (follows, texts and menu
 *          events as encrypted WeChat pushes, registrations through the member centre, paid
 *          orders as Youzan pushes carrying the fan's openid);
 *   20:00  on the days a rule falls due for someone, and weekly: the nudge sweep runs
 *          (`POST /_local/run/nudge-sweep`), the hub's queues are let empty
 *          (`POST /_local/settle`), and the messages the WeChat stand-in received
 *          (`GET {stand-in}/_local/messages`) decide who was treated: eligible people who
 *          received the repurchase message convert with the treated probability.
 * Every 7 days and at the end the counter fold runs. The run ends with the clock at E (the
 * day after the last, noon), where the model's tiers and lifecycles are evaluated.
 *
 * The hub must run with the scenario's rule set (events/simulate-rules.json: a one-step
 * repurchase ladder, no staff lapse alert) and Youzan bound to the official account:
 *   HUB_RULES_FILE=events/simulate-rules.json HUB_ENGAGEMENT_POLICY='{"holdout":5000}' YOUZAN_WECHAT_APP_ID=<WECHAT_APP_ID> npm start
 */
import { loadConfig, type HubConfig } from '../config/index.ts';
import { addDays, DAY_MS, HOUR_MS, localDay, startOfLocalDay } from '../time.ts';
import { decrypt } from '../sources/wechat/crypto.ts';
import { hash32, Rng } from './rng.ts';
import { KeyedPool, Sender, type FailureSample, type RouteStats } from './http.ts';
import { adminHeaders, parseJson, setupChannels, type SimulateResult } from './index.ts';
import { phoneMaker, simOpenid, type OrderSpec, type Person, type WechatPushSpec } from './plan.ts';
import { registerRequest, wechatRequest, youzanBody, youzanRequest, type BuiltRequest, type WechatMode } from './payloads.ts';
import {
  computeTruth,
  freeDay,
  CONVERSION_DAYS,
  KEYWORDS,
  keywordOf,
  LADDER_BASE_P,
  LADDER_DAY,
  LADDER_TREATED_P,
  BIRTHDAY_P,
  inBirthdayWindow,
  Quota,
  planMonths,
  RULE_TEMPLATES,
  runEnd,
  type DayAction,
  type MonthsPlan,
  type MonthsTruth,
  type Observed,
  type SimRule,
  type TruthInput,
} from './months-model.ts';

export interface MonthsOptions {
  base: string;
  /** The WeChat stand-in (default WECHAT_API_BASE of the configuration). */
  standinUrl?: string;
  fans?: number;
  months?: number;
  seed?: string | number;
  concurrency?: number;
  retries?: number;
  timeoutMs?: number;
  wechatMode?: WechatMode;
  config?: HubConfig;
  onProgress?: (day: number, days: number) => void;
  log?: (line: string) => void;
}

export interface MonthsResult {
  base: string;
  seed: string;
  fans: number;
  months: number;
  days: number;
  tz: string;
  /** Local midnight of the first day and the end E, epoch ms; the local days covering the run. */
  start: number;
  end: number;
  from: string;
  to: string;
  channels: SimulateResult['channels'];
  /** The keyword texts sent and whether the push answer carried the configured reply. */
  replies: Record<string, { sent: number; answered: number; other: number }>;
  truth: MonthsTruth;
  requests: { total: number; failed: number; attempts: number; routes: Record<string, RouteStats> };
  failures: FailureSample[];
  elapsedMs: number;
}

const SLOT_SIZE = 100;
const SLOT_STAMP_SPREAD_S = 200;
const FIRST_SLOT = 10.5 * HOUR_MS;
const SWEEP_AT = 20 * HOUR_MS;
const NIGHTLY_AT = 3 * HOUR_MS;

/** The hub's clock over HTTP: its state, and moves forward (never back). */
class ClockClient {
  private offset = 0;
  constructor(
    private readonly sender: Sender,
    private readonly base: string,
  ) {}

  async read(): Promise<number> {
    const res = await this.sender.send('GET /_local/clock', () => ({ method: 'GET', path: '/_local/clock', headers: {} }));
    const state = parseJson(res.body);
    if (res.status !== 200 || typeof state?.now !== 'number') {
      throw new Error(`the hub at ${this.base} has no local clock (GET /_local/clock answered ${res.status}): the months run needs the local runtime`);
    }
    this.offset = Number(state.offsetMs ?? 0);
    return state.now;
  }

  /** The clock's now as last learnt (the wall clock plus its offset). */
  now(): number {
    return Date.now() + this.offset;
  }

  /** Moves the clock to `at`, or keeps it when it is already later. */
  async moveTo(at: number): Promise<number> {
    const target = Math.max(at, this.now() + 1000);
    const body = JSON.stringify({ at: target });
    const res = await this.sender.send('PUT /_local/clock', () => ({ method: 'PUT', path: '/_local/clock', headers: { 'content-type': 'application/json' }, body }));
    const state = parseJson(res.body);
    if (res.status !== 200 || typeof state?.now !== 'number') throw new Error(`PUT /_local/clock answered ${res.status}: ${res.body.slice(0, 200)}`);
    this.offset = Number(state.offsetMs ?? 0);
    return state.now;
  }
}

/** Sets the scenario's keyword auto-replies on the official account (PUT /keywords/{appId}), in KEYWORDS order: first match wins. */
async function setupKeywordRules(sender: Sender, cfg: HubConfig, log: (line: string) => void): Promise<void> {
  const path = `/keywords/${encodeURIComponent(cfg.WECHAT_APP_ID)}`;
  const body = JSON.stringify({ rules: KEYWORDS.map((k) => ({ keyword: k.keyword, match: k.match, reply: k.reply })) });
  const res = await sender.send('PUT /keywords/{appId}', () => ({ method: 'PUT', path, headers: adminHeaders(cfg, true), body }));
  if (!res.ok) throw new Error(`PUT ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
  log(`keywords  ${KEYWORDS.length} auto-reply rules on ${cfg.WECHAT_APP_ID}`);
}

/** The Content of a passive reply (plain or encrypted), or undefined for `success` / empty. */
function replyContent(body: string, cfg: HubConfig): string | undefined {
  let xml = body;
  const enc = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(body)?.[1];
  if (enc && cfg.WECHAT_AES_KEY) xml = decrypt(enc, { aesKey: cfg.WECHAT_AES_KEY, appId: cfg.WECHAT_APP_ID });
  return /<Content><!\[CDATA\[([\s\S]*?)\]\]><\/Content>/.exec(xml)?.[1];
}

export async function simulateMonths(options: MonthsOptions): Promise<MonthsResult> {
  const started = Date.now();
  const cfg = options.config ?? loadConfig({ env: process.env });
  const base = options.base.replace(/\/+$/, '');
  const standin = (options.standinUrl ?? cfg.WECHAT_API_BASE).replace(/\/+$/, '');
  const fans = options.fans ?? 600;
  const months = options.months ?? 6;
  const seed = String(options.seed ?? 42);
  const mode = options.wechatMode ?? cfg.WECHAT_MESSAGE_MODE;
  const log = options.log ?? (() => undefined);
  const tz = cfg.HUB_TIMEZONE;
  const sender = new Sender({ base, retries: options.retries ?? 4, timeoutMs: options.timeoutMs ?? 30_000 });
  const pool = new KeyedPool(Math.max(1, options.concurrency ?? 8));
  const clock = new ClockClient(sender, base);

  const hubNow = await clock.read();
  const start = startOfLocalDay(addDays(localDay(hubNow, tz), 1), tz);
  const { channels, ticketOf } = await setupChannels(sender, cfg, base, log);
  await setupKeywordRules(sender, cfg, log);
  const plan: MonthsPlan = planMonths({ fans, months, seed, start, tz });
  const days = plan.days;
  const end = runEnd(start, days);
  log(`months    ${fans} fans over ${days} days from ${localDay(start, tz)} (hub clock moved from ${new Date(hubNow).toISOString()})`);

  const label = `months:${seed}`;
  const phoneOf = phoneMaker(label);
  const runHash = hash32(`months-run:${seed}:${start}`);
  const persons: Person[] = plan.persons.map((p) => {
    const openid = simOpenid(label, p.idx);
    return {
      idx: p.idx,
      kind: 'fan',
      key: openid,
      channel: p.channel,
      openid,
      phone: phoneOf(p.idx),
      // Every member consents to marketing, so every eligible member is reachable but for the holdout.
      marketingConsent: true,
      ...(p.birthday ? { birthday: p.birthday } : {}),
      yzOpenId: `${10 + (hash32(`yz:${label}:${p.idx}`) % 90)}${String(hash32(`yz2:${label}:${p.idx}`)).padStart(24, '0').slice(-24)}`,
    };
  });
  const observed: Observed[] = persons.map((p) => ({ channel: p.channel, openid: p.openid!, orders: [] }));
  const texts: string[] = [];
  const menus: { event: 'CLICK' | 'VIEW'; key: string }[] = [];
  const replies: MonthsResult['replies'] = Object.fromEntries(KEYWORDS.map((k) => [k.keyword, { sent: 0, answered: 0, other: 0 }]));
  const eligible: TruthInput['rules'] = {
    repurchase: { conversionDays: CONVERSION_DAYS, trueEffect: LADDER_TREATED_P - LADDER_BASE_P, eligible: [] },
    birthday: { conversionDays: CONVERSION_DAYS, trueEffect: 0, eligible: [] },
  };
  const extra: [number, DayAction][][] = Array.from({ length: days }, () => []);
  const received: Record<SimRule, Map<string, number[]>> = { repurchase: new Map(), birthday: new Map() };
  let seen = 0;
  let orderSeq = 0;
  let msgSeq = 0;

  const nonceOf = (idx: number, at: number) => String(100_000_000 + (hash32(`nonce:${label}:${idx}:${at}`) % 900_000_000));
  const orderOf = (a: Extract<DayAction, { kind: 'order' }>, at: number): OrderSpec => {
    const stamp = new Date(at + 8 * HOUR_MS).toISOString().replace(/\D/g, '').slice(0, 14);
    const lines = a.lines.map((l) => ({ ...l, paidFen: l.priceFen * l.qty }));
    return { orderId: `E${stamp}${String(runHash % 10_000).padStart(4, '0')}${String(++orderSeq).padStart(5, '0')}`, lines, totalFen: a.fen, paidFen: a.fen, createdAt: at - 60_000, paidAt: at };
  };

  const build = (idx: number, a: DayAction, at: number): { route: string; req: BuiltRequest } => {
    const p = persons[idx]!;
    const pushOf = (spec: Omit<WechatPushSpec, 'createTime'>, ticket?: string) => ({
      route: 'POST /wechat/{appId}',
      req: wechatRequest(cfg, p.openid!, { ...spec, createTime: Math.floor(at / 1000) }, nonceOf(idx, at), ticket, mode),
    });
    switch (a.kind) {
      case 'follow':
        return p.channel === 'organic'
          ? pushOf({ msgType: 'event', event: 'subscribe', eventKey: '' })
          : pushOf({ msgType: 'event', event: 'subscribe', eventKey: `qrscene_${p.channel}`, ticketOf: p.channel }, ticketOf(p.channel));
      case 'text':
        return pushOf({ msgType: 'text', content: a.text, msgId: String(2_500_000_000_000_000_000n + BigInt(runHash) * 1_000_000n + BigInt(++msgSeq)) });
      case 'menu':
        return pushOf({ msgType: 'event', event: a.event, eventKey: a.key });
      case 'register':
        return { route: 'POST /members', req: registerRequest(cfg, p) };
      case 'order': {
        const body = youzanBody(cfg, orderOf(a, at), p, 'trade_TradePaid', `${label}:${runHash}:${orderSeq}`, true, true, at);
        return { route: 'POST /youzan/{clientId}', req: youzanRequest(cfg, body, 'trade_TradePaid') };
      }
    }
  };

  const accept = (idx: number, a: DayAction, at: number, body: string) => {
    const o = observed[idx]!;
    switch (a.kind) {
      case 'follow':
        o.firstFollowAt ??= at;
        break;
      case 'register':
        o.registeredAt ??= at;
        break;
      case 'order':
        o.orders.push({ at, fen: a.fen });
        break;
      case 'menu':
        menus.push({ event: a.event, key: a.key });
        break;
      case 'text': {
        texts.push(a.text);
        const k = keywordOf(a.text);
        if (k) {
          const r = replies[k]!;
          r.sent++;
          const content = replyContent(body, cfg);
          if (content === KEYWORDS.find((x) => x.keyword === k)!.reply) r.answered++;
          else if (content !== undefined) r.other++;
        }
        break;
      }
    }
  };

  const run = async (path: string) => {
    const res = await sender.send(`POST ${path}`, () => ({ method: 'POST', path, headers: {} }));
    if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
  };

  // Conversions of the ladder model draw from their own stream, so the plan stays seed-stable.
  const effectRng = new Rng(`scrm-simulate-months-effect:${seed}`);
  // Who converts: exactly ⌊n·p⌋ of each group (Quota), so the realised effect is the simulated one
  // whichever members the hub's random ids put in its holdout.
  const ladder = { treated: new Quota(LADDER_TREATED_P), untreated: new Quota(LADDER_BASE_P) };
  const birthday = { treated: new Quota(BIRTHDAY_P), untreated: new Quota(BIRTHDAY_P) };
  /** A conversion of eligibility on day d: an order 2–10 days later, on a free day (a ladder order also off the birthday window). */
  const convert = (idx: number, d: number, rule: SimRule) => {
    const pp = plan.persons[idx]!;
    const cd = [...Array(9).keys()].map((k) => d + 2 + ((k + effectRng.int(0, 8)) % 9)).find((x) => freeDay(days, pp.followDay, x) && (rule === 'birthday' || !inBirthdayWindow(pp, x)));
    const lines = [{ sku: 'SKU-0002', title: '保湿面霜 50g', qty: 1, priceFen: 21_900 }];
    if (cd !== undefined) extra[cd]!.push([idx, { kind: 'order', fen: 21_900, lines }]);
  };

  for (let d = 0; d < days; d++) {
    const dayStart = start + d * DAY_MS;
    if (d % 7 === 0) {
      await clock.moveTo(dayStart + NIGHTLY_AT);
      await run('/_local/run/nightly');
    }

    const todays = [...plan.byDay[d]!, ...extra[d]!];
    const slots = Math.ceil(todays.length / SLOT_SIZE);
    const spacing = Math.max((SLOT_STAMP_SPREAD_S + 10) * 1000, Math.min(10 * 60_000, (SWEEP_AT - FIRST_SLOT - 10 * 60_000) / Math.max(1, slots)));
    for (let s = 0; s < slots; s++) {
      const slotAt = await clock.moveTo(dayStart + FIRST_SLOT + s * spacing);
      const slot = todays.slice(s * SLOT_SIZE, (s + 1) * SLOT_SIZE);
      for (const [j, [idx, a]] of slot.entries()) {
        // Distinct seconds within the slot: WeChat tells event retries apart by sender and CreateTime.
        const at = slotAt - (SLOT_STAMP_SPREAD_S - 2 * j) * 1000;
        await pool.submit(persons[idx]!.key, async () => {
          const { route, req } = build(idx, a, at);
          const out = await sender.send(route, () => req);
          if (out.ok) accept(idx, a, a.kind === 'register' ? clock.now() : at, out.body);
        });
      }
      await pool.drain();
    }

    // The sweep runs on the days a rule falls due for someone (and weekly); due rows of other
    // rules wait for the next sweep, as they would for a late schedule.
    const dueToday =
      d % 7 === 6 ||
      observed.some((o, idx) => (o.orders.length === 1 && Math.floor((o.orders[0]!.at - start) / DAY_MS) + LADDER_DAY === d) || (plan.persons[idx]!.birthdayDay === d && o.registeredAt !== undefined));
    if (!dueToday) {
      options.onProgress?.(d + 1, days);
      continue;
    }
    const sweepAt = await clock.moveTo(dayStart + SWEEP_AT);
    await run('/_local/run/nudge-sweep');
    await run('/_local/settle');
    const listed = await fetch(`${standin}/_local/messages`, { signal: AbortSignal.timeout(30_000) });
    const messages = ((await listed.json()) as { messages?: { kind: string; touser: string; templateId?: string; at: number }[] }).messages ?? [];
    for (const m of messages.slice(seen)) {
      for (const [rule, tpl] of Object.entries(RULE_TEMPLATES) as [SimRule, string][]) {
        if (m.kind === 'template' && m.templateId === tpl) received[rule].set(m.touser, [...(received[rule].get(m.touser) ?? []), m.at]);
      }
    }
    seen = messages.length;
    const gotToday = (rule: SimRule, openid: string) => (received[rule].get(openid) ?? []).some((at) => at >= dayStart && at < dayStart + DAY_MS);

    // Eligibility falls due today; only windows the run observes in full count.
    if (d + CONVERSION_DAYS < days) {
      for (const [idx, o] of observed.entries()) {
        const pp = plan.persons[idx]!;
        const first = o.orders[0];
        if (first && o.orders.length === 1 && Math.floor((first.at - start) / DAY_MS) + LADDER_DAY === d) {
          const got = gotToday('repurchase', o.openid);
          eligible.repurchase.eligible.push({ openid: o.openid, at: sweepAt, received: got });
          if ((got ? ladder.treated : ladder.untreated).next()) convert(idx, d, 'repurchase');
        }
        if (pp.birthdayDay === d && o.registeredAt !== undefined) {
          const got = gotToday('birthday', o.openid);
          eligible.birthday.eligible.push({ openid: o.openid, at: sweepAt, received: got });
          // The same rate whether the message came or not: no effect. Gold buyers never buy in the
          // window (a birthday order would end the at-risk spell the audience below is made of).
          if (pp.buyer !== 'gold' && (got ? birthday.treated : birthday.untreated).next()) convert(idx, d, 'birthday');
        }
      }
    }
    if (d % 7 === 6) await run('/_local/run/counter-fold');
    options.onProgress?.(d + 1, days);
  }
  await clock.moveTo(end);
  await run('/_local/run/nightly');
  await run('/_local/run/counter-fold');
  await run('/_local/settle');

  const truth = computeTruth({ people: observed, end, tz, rules: eligible, texts, menus });
  return {
    base,
    seed,
    fans,
    months,
    days,
    tz,
    start,
    end,
    from: localDay(start, tz),
    to: localDay(end, tz),
    channels,
    replies,
    truth,
    requests: { total: sender.requests, failed: sender.failed, attempts: sender.attempts, routes: Object.fromEntries(sender.routes) },
    failures: sender.failures,
    elapsedMs: Date.now() - started,
  };
}
