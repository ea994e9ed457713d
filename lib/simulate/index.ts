import type { ChannelRow } from '../attribution/query.ts';
/**
 * simulate(): drives a month of realistic traffic through a running hub's real, signed webhooks
 * and its admin API, and returns its own ground truth so the result can be checked against the
 * attribution API.
 *
 *   1. setup: creates the channels (an existing one answers 409 and is kept), reads their QR
 *      tickets, creates a code batch for the pack-in card channel and downloads its codes;
 *   2. traffic: the planned actions (plan.ts) in time order with bounded concurrency, one person's
 *      actions strictly one after another;
 *   3. tallies: per first-touch channel, what the hub accepted — first follows, registrations of
 *      those people, paid orders linked to them (count and GMV), unfollows, QR re-scans and
 *      redeemed code scans.
 */
import { loadConfig, type HubConfig } from '../config/index.ts';
import { HOUR_MS, localDay } from '../time.ts';
import { planSimulation, type Action, type Person, type Plan } from './plan.ts';
import { CHANNELS, CODE_BATCH_CHANNEL, CODE_PRODUCT, CREATED_CHANNELS } from './scenario.ts';
import { KeyedPool, Sender, type FailureSample, type RouteStats } from './http.ts';
import {
  codeAsSubmitted,
  jdBody,
  jdRequest,
  registerRequest,
  scanRequest,
  syntheticTicket,
  tmallBody,
  tmallRequest,
  wechatRequest,
  youzanBody,
  youzanRequest,
  type BuiltRequest,
  type WechatMode,
} from './payloads.ts';

export { planSimulation } from './plan.ts';
export type { Plan, Action, Person } from './plan.ts';

export interface SimulateOptions {
  /** The hub, e.g. http://127.0.0.1:3000 */
  base: string;
  fans?: number;
  days?: number;
  seed?: string | number;
  concurrency?: number;
  retries?: number;
  timeoutMs?: number;
  /** WeChat message encryption mode of the official account (default safe). */
  wechatMode?: WechatMode;
  /** End of the simulated window (default: the start of the current hour). */
  now?: number;
  /** Secrets and names (default: loadConfig from the environment with the local defaults). */
  config?: HubConfig;
  /** Called after every traffic request (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Setup narration. */
  log?: (line: string) => void;
}

export interface ChannelTally {
  /** People whose first follow came through this channel. */
  firstFollows: number;
  /** Registrations of people first touched by this channel. */
  registrations: number;
  /** Paid orders linked to people first touched by this channel, and their paid amount. */
  orders: number;
  gmvFen: number;
  unfollows: number;
  qrScans: number;
  /** Code scans the hub answered `redeemed`. */
  codeScans: number;
}

export interface SimulateResult {
  base: string;
  dashboardUrl: string;
  seed: string;
  fans: number;
  days: number;
  /** Local days (HUB_TIMEZONE) that cover every event, for the attribution API. */
  from: string;
  to: string;
  /** End of the simulated window, epoch ms. */
  anchor: number;
  channels: { id: string; name: string; kind: string; created: boolean }[];
  batch?: { batchId: string; count: number };
  /** Ground truth per first-touch channel (the created ones, organic, tmall, jd, youzan). */
  tallies: Record<string, ChannelTally>;
  people: { fans: number; scanners: number; tmall: number; jd: number; youzan: number };
  requests: { total: number; failed: number; attempts: number; failureRate: number; routes: Record<string, RouteStats> };
  failures: FailureSample[];
  /** Platform events carried by the traffic requests (a TMC array carries several). */
  events: number;
  /** Outcome counts of the code scans. */
  scanResults: Record<string, number>;
  /** Actions not sent because their setup failed (e.g. scans without a code batch). */
  skipped: number;
  elapsedMs: number;
  trafficMs: number;
  eventsPerSecond: number;
}

const ROUTE = {
  wechat: 'POST /wechat/{appId}',
  register: 'POST /members',
  scan: 'POST /codes/scan',
  tmall: 'POST /tmall/{appKey}',
  jd: 'POST /jd/{appKey}',
  youzan: 'POST /youzan/{clientId}',
} as const;

export const emptyTally = (): ChannelTally => ({ firstFollows: 0, registrations: 0, orders: 0, gmvFen: 0, unfollows: 0, qrScans: 0, codeScans: 0 });

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `rel="next"` target of a Link header. */
function nextLink(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return m?.[1];
}

export async function simulate(options: SimulateOptions): Promise<SimulateResult> {
  const started = Date.now();
  const cfg = options.config ?? loadConfig({ env: process.env });
  const base = options.base.replace(/\/+$/, '');
  const fans = options.fans ?? 20_000;
  const days = options.days ?? 30;
  const seed = String(options.seed ?? 42);
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const mode = options.wechatMode ?? cfg.WECHAT_MESSAGE_MODE;
  const log = options.log ?? (() => undefined);
  const anchor = options.now ?? Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const tz = cfg.HUB_TIMEZONE;

  const plan: Plan = planSimulation({ fans, days, seed, anchor, tz });
  const sender = new Sender({ base, retries: options.retries ?? 4, timeoutMs: options.timeoutMs ?? 15_000 });
  const admin = adminHeaders(cfg);
  const adminJson = adminHeaders(cfg, true);

  // ---- Setup: channels, tickets, code batch, codes.
  const { channels, ticketOf } = await setupChannels(sender, cfg, base, log);

  let codes: string[] = [];
  let batch: SimulateResult['batch'];
  const batchCount = Math.max(50, Math.ceil(plan.codesNeeded * 1.5));
  const batchBody = JSON.stringify({ sku: CODE_PRODUCT.sku, name: CODE_PRODUCT.name, points: CODE_PRODUCT.points, channel: CODE_BATCH_CHANNEL, count: batchCount, region: CODE_PRODUCT.region });
  const created = await sender.send('POST /codes/batches', () => ({ method: 'POST', path: '/codes/batches', headers: adminJson, body: batchBody }));
  const batchId = created.ok ? parseJson(created.body)?.batchId : undefined;
  if (typeof batchId === 'string') {
    batch = { batchId, count: batchCount };
    let path: string | undefined = `/codes/batches/${encodeURIComponent(batchId)}/codes.csv?limit=${Math.min(batchCount, 50_000)}`;
    while (path) {
      const page = path;
      const res = await sender.send('GET /codes/batches/{id}/codes.csv', () => ({ method: 'GET', path: page, headers: admin }));
      if (!res.ok) break;
      const rows = res.body.split(/\r?\n/).slice(1).filter(Boolean);
      codes.push(...rows.map((r) => r.split(',')[0]!));
      path = nextLink(res.headers?.get('link'));
    }
    log(`codes     batch ${batchId}: ${codes.length} codes for ${CODE_BATCH_CHANNEL}`);
  } else {
    log(`codes     batch not created: ${created.status} ${created.body.slice(0, 200)}`);
  }
  // Planned code k → a shuffled row, so one person's codes are rarely consecutive serials.
  if (codes.length) {
    const rows = codes.map((c, i) => ({ c, k: (Math.imul(i + 1, 2654435761) >>> 0) ^ plan.runHash }));
    rows.sort((a, b) => a.k - b.k);
    codes = rows.map((r) => r.c);
  }

  // ---- Traffic.
  const tallies: Record<string, ChannelTally> = {};
  for (const id of [...CHANNELS.map((c) => c.id), 'tmall', 'jd', 'youzan']) tallies[id] = emptyTally();
  const tallyOf = (p: Person) => (tallies[p.channel] ??= emptyTally());
  const registered = new Set<number>();
  const scanResults: Record<string, number> = {};
  let events = 0;
  let skipped = 0;
  let done = 0;
  const total = plan.actions.length;
  const trafficStart = Date.now();

  const requestFor = (a: Action, p: Person): { route: string; build: () => BuiltRequest; events: number } | undefined => {
    switch (a.kind) {
      case 'wechat': {
        const ticket = a.push.ticketOf ? ticketOf(a.push.ticketOf) : undefined;
        const req = wechatRequest(cfg, p.openid ?? '', a.push, a.nonce, ticket, mode);
        return { route: ROUTE.wechat, build: () => req, events: 1 };
      }
      case 'register': {
        const req = registerRequest(cfg, p);
        return { route: ROUTE.register, build: () => req, events: 1 };
      }
      case 'scan': {
        const code = codes[a.code.index];
        if (code === undefined) return undefined;
        const req = scanRequest(cfg, p, codeAsSubmitted(code, a.code));
        return { route: ROUTE.scan, build: () => req, events: 1 };
      }
      case 'tmall': {
        const body = tmallBody(a.messages, p);
        return { route: ROUTE.tmall, build: () => tmallRequest(cfg, body), events: a.messages.length };
      }
      case 'jd': {
        const body = jdBody(a.order, p, a.state, a.modified, a.messageId);
        return { route: ROUTE.jd, build: () => jdRequest(cfg, body), events: 1 };
      }
      case 'youzan': {
        const body = youzanBody(cfg, a.order, p, a.type, a.msgId, a.withOpenid, registered.has(p.idx), a.at);
        const req = youzanRequest(cfg, body, a.type);
        return { route: ROUTE.youzan, build: () => req, events: 1 };
      }
    }
  };

  const run = async (a: Action): Promise<void> => {
    const p = plan.persons[a.person]!;
    const r = requestFor(a, p);
    if (!r) {
      skipped++;
      return;
    }
    const out = await sender.send(r.route, r.build);
    events += r.events;
    if (!out.ok) return;
    let scanResult: string | undefined;
    if (a.kind === 'scan') {
      const result = parseJson(out.body)?.result;
      scanResult = typeof result === 'string' ? result : 'unreadable';
      scanResults[scanResult] = (scanResults[scanResult] ?? 0) + 1;
    }
    const t = tallyOf(p);
    for (const e of a.effects) {
      switch (e.type) {
        case 'firstFollow':
          t.firstFollows++;
          break;
        case 'unfollow':
          t.unfollows++;
          break;
        case 'qrScan':
          t.qrScans++;
          break;
        case 'register':
          t.registrations++;
          registered.add(p.idx);
          break;
        case 'orderPaid':
          t.orders++;
          t.gmvFen += e.fen;
          break;
        case 'codeScan':
          if (scanResult === 'redeemed') t.codeScans++;
          break;
      }
    }
  };

  const pool = new KeyedPool(concurrency);
  for (const a of plan.actions) {
    await pool.submit(plan.persons[a.person]!.key, async () => {
      try {
        await run(a);
      } finally {
        done++;
        options.onProgress?.(done, total);
      }
    });
  }
  await pool.drain();
  const finished = Date.now();
  const trafficMs = finished - trafficStart;

  const people = { fans: 0, scanners: 0, tmall: 0, jd: 0, youzan: 0 };
  for (const p of plan.persons) people[p.kind === 'fan' ? 'fans' : p.kind === 'scanner' ? 'scanners' : p.kind]++;
  const routes: Record<string, RouteStats> = Object.fromEntries(sender.routes);
  const today = localDay(finished, tz);
  return {
    base,
    dashboardUrl: `${base}/dashboard`,
    seed,
    fans,
    days,
    from: plan.fromDay,
    to: today > plan.toDay ? today : plan.toDay,
    anchor,
    channels,
    ...(batch ? { batch } : {}),
    tallies,
    people,
    requests: {
      total: sender.requests,
      failed: sender.failed,
      attempts: sender.attempts,
      failureRate: sender.requests ? sender.failed / sender.requests : 0,
      routes,
    },
    failures: sender.failures,
    events,
    scanResults,
    skipped,
    elapsedMs: finished - started,
    trafficMs,
    eventsPerSecond: trafficMs > 0 ? (events * 1000) / trafficMs : 0,
  };
}

/** The admin API's headers for the hub's admin token (`json`: with a JSON body). */
export function adminHeaders(cfg: Pick<HubConfig, 'HUB_ADMIN_TOKEN'>, json = false): Record<string, string> {
  return { authorization: `Bearer ${cfg.HUB_ADMIN_TOKEN}`, ...(json ? { 'content-type': 'application/json' } : {}) };
}

/** Creates the scenario's channels through the admin API (an existing one answers 409 and is kept) and reads their QR tickets. */
export async function setupChannels(sender: Sender, cfg: HubConfig, base: string, log: (line: string) => void): Promise<{ channels: SimulateResult['channels']; ticketOf: (channel: string) => string }> {
  const admin = adminHeaders(cfg);
  const adminJson = adminHeaders(cfg, true);
  const channels: SimulateResult['channels'] = [];
  for (const c of CREATED_CHANNELS) {
    const body = JSON.stringify({ id: c.id, name: c.name, kind: c.kind, ...(c.welcomeText ? { welcomeText: c.welcomeText } : {}) });
    const res = await sender.send('POST /channels', () => ({ method: 'POST', path: '/channels', headers: adminJson, body }), [409]);
    if (res.status === 0 && channels.length === 0) {
      throw new Error(`the hub at ${base} does not answer (${res.body}); is \`npm start\` running?`);
    }
    channels.push({ id: c.id, name: c.name, kind: c.kind, created: res.status === 201 });
    log(`channel   ${c.id} (${c.kind}) ${res.status === 201 ? 'created' : res.status === 409 ? 'exists' : `failed: ${res.status} ${res.body.slice(0, 200)}`}`);
  }
  const tickets = new Map<string, string>();
  const listed = await sender.send('GET /channels', () => ({ method: 'GET', path: '/channels', headers: admin }));
  const list = parseJson(listed.body)?.channels;
  if (Array.isArray(list)) {
    for (const item of list as { channelId?: string; qr?: { ticket?: string } }[]) {
      if (item.channelId && item.qr?.ticket) tickets.set(item.channelId, item.qr.ticket);
    }
  }
  return { channels, ticketOf: (channel: string) => tickets.get(channel) ?? syntheticTicket(channel) };
}

/** A row of the hub's channel table (the attribution API's own type). */
export type AttributionRow = ChannelRow;

/** The hub's channel table for a range (GET /attribution/channels). */
export async function fetchAttribution(base: string, adminToken: string, from: string, to: string, model: 'first_touch' | 'last_touch' = 'first_touch'): Promise<AttributionRow[]> {
  const url = `${base.replace(/\/+$/, '')}/attribution/channels?${new URLSearchParams({ from, to, model }).toString()}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET /attribution/channels answered ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { channels?: AttributionRow[] };
  return body.channels ?? [];
}
