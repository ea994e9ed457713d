/**
 * The dashboard in a real browser (Chromium through playwright-core): the page and the
 * attribution API are served by a small node:http server that hands API Gateway v2 events to
 * the real handlers, over a DynamoDB Local table seeded with counter items. The page must show
 * exactly the API's numbers, follow the first/last-touch switch and the date range, sort, drill
 * down, download the CSV, and load nothing from outside. A screenshot goes to
 * test-results/dashboard.png.
 *
 * Chromium: CHROMIUM_PATH, else chromium (or Chrome) on PATH (./chromium.ts). Without it the
 * suite FAILS when CI or HUB_REQUIRE_BROWSER=1 is set (.ci/run sets it) and is reported as
 * skipped, with the install command, on a developer machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { activeRuntime, hubConfig, hubContext, useLocalAws } from '../support/env.ts';
import type { HubContext } from '../../lib/runtime/middleware.ts';

import { writeDashboardModule } from '../../scripts/build-dashboard.ts';
import { COHORT_PEOPLE, expectedCohortCells, expectedInsight, makeCounters, makeInsight, writeCohortSeed, writeInsightSeed, writeLiftSeed, writeSeed, type InsightSeed, type LiftSeedCounts } from './seed.ts';
import { formatArm, formatInterval, formatPoints, VERDICT_LABELS } from '../../lib/dashboard/format.ts';
import { TOP_WORDS } from '../../lib/dashboard/insight.ts';
import { findChromium, INSTALL_HINT } from './chromium.ts';

const lookup = findChromium();
if (!lookup.found && lookup.required) {
  throw new Error(`the dashboard browser test needs Chromium (${lookup.reason}): ${INSTALL_HINT}. It is required when CI or HUB_REQUIRE_BROWSER=1 is set.`);
}
if (!lookup.found) console.warn(`[dashboard browser test] SKIPPED: ${lookup.reason}; ${INSTALL_HINT}`);
const HAVE_CHROMIUM = lookup.found;
const CHROMIUM = lookup.found ? lookup.path : '';

const OUT_DIR = resolve('test-results');

type Handler = (event: APIGatewayProxyEventV2, context: HubContext) => Promise<APIGatewayProxyStructuredResultV2>;

type Fn = 'dashboard' | 'api' | 'insight';

const ROUTES: { re: RegExp; routeKey: string; fn: Fn; param?: string }[] = [
  { re: /^\/dashboard$/, routeKey: 'GET /dashboard', fn: 'dashboard' },
  { re: /^\/attribution\/channels$/, routeKey: 'GET /attribution/channels', fn: 'api' },
  { re: /^\/attribution\/channels\.csv$/, routeKey: 'GET /attribution/channels.csv', fn: 'api' },
  { re: /^\/attribution\/accounts$/, routeKey: 'GET /attribution/accounts', fn: 'api' },
  { re: /^\/attribution\/cohorts$/, routeKey: 'GET /attribution/cohorts', fn: 'api' },
  { re: /^\/attribution\/channels\/([^/]+)\/daily$/, routeKey: 'GET /attribution/channels/{id}/daily', fn: 'api', param: 'id' },
  { re: /^\/insight\/lift$/, routeKey: 'GET /insight/lift', fn: 'api' },
  { re: /^\/insight\/menus$/, routeKey: 'GET /insight/menus', fn: 'insight' },
  { re: /^\/insight\/keywords$/, routeKey: 'GET /insight/keywords', fn: 'insight' },
];

/** A minimal HTTP API: request → API Gateway v2 event → handler → response. */
function serve(handlers: Record<Fn, Handler>, log: string[]): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      log.push(`${req.method} ${url.pathname}${url.search}`);
      const route = ROUTES.find((r) => r.re.test(url.pathname));
      if (!route || req.method !== 'GET') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      const m = route.re.exec(url.pathname)!;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const qs = Object.fromEntries(url.searchParams);
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: route.routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(url.search ? { queryStringParameters: qs } : {}),
        ...(route.param ? { pathParameters: { [route.param]: decodeURIComponent(m[1]!) } } : {}),
        requestContext: {
          accountId: '000000000000',
          apiId: 'browser-test',
          domainName: '127.0.0.1',
          domainPrefix: '127',
          http: { method: 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
          requestId: String(log.length),
          routeKey: route.routeKey,
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
        isBase64Encoded: false,
      };
      const out = await handlers[route.fn](event, hubContext(activeRuntime()));
      res.writeHead(out.statusCode ?? 200, out.headers as Record<string, string>).end(out.body ?? '');
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

interface Row {
  channel: string;
  name: string;
  [k: string]: string | number | null;
}

const COLUMN_KEYS = ['newFans', 'unfollows', 'convertedFans', 'conversionRate', 'sameDayConversions', 'medianHoursToConvert', 'newMembers', 'scans', 'orders', 'gmvFen', 'newContacts', 'lostContacts', 'referredMembers', 'kFactor'];

describe.skipIf(!HAVE_CHROMIUM)('dashboard in Chromium', () => {
  let server: Server;
  let base = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let today = '';
  let liftSeed: Record<string, LiftSeedCounts> = {};
  const serverLog: string[] = [];
  const browserProblems: string[] = [];
  const foreignRequests: string[] = [];
  let insightAccounts: [string, string] = ['', ''];
  let insightSeeds: InsightSeed[] = [];

  const token = () => hubConfig().HUB_ADMIN_TOKEN;
  const shift = (day: string, n: number) => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
  };

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${token()}` } });
    expect(res.status, path).toBe(200);
    return (/json/.test(res.headers.get('content-type') ?? '') ? res.json() : res.text()) as Promise<T>;
  }

  /** Waits until the page shows the table of this range and model. */
  async function ready(from: string, to: string, model: string): Promise<void> {
    await page.waitForSelector(`body[data-state="ready"][data-query="${from}|${to}|${model}"]`, { timeout: 15_000 });
  }

  /** The table as the page renders it: raw values from data-value, in display order. */
  async function tableRows(): Promise<Row[]> {
    return page.$$eval('#channels tbody tr[data-channel]', (trs) =>
      trs.map((tr) => {
        const row: Record<string, string> = { channel: tr.getAttribute('data-channel') ?? '' };
        tr.querySelectorAll('td[data-key]').forEach((td) => (row[td.getAttribute('data-key')!] = td.getAttribute('data-value') ?? ''));
        return row as unknown as Row;
      }),
    );
  }

  /** The heatmap as the page renders it: `<cohort>|<channel>` → raw figures of each filled cell. */
  async function heatmapCells(): Promise<Map<string, { value: number; acquired: number; shade: number }>> {
    const cells = await page.$$eval('#cohorts tbody tr[data-cohort] td.cell', (tds) =>
      tds.map((td) => [`${td.parentElement!.getAttribute('data-cohort')}|${td.getAttribute('data-channel')}`, Number(td.getAttribute('data-value')), Number(td.getAttribute('data-acquired')), Number(td.getAttribute('data-shade'))] as const),
    );
    return new Map(cells.map(([k, value, acquired, shade]) => [k, { value, acquired, shade }]));
  }

  /** Waits until the heatmap shows this query. */
  async function cohortReady(from: string, to: string, granularity: string, horizon: number): Promise<void> {
    await page.waitForSelector(`body[data-cohort-state="ready"][data-cohort-query="${from}|${to}|${granularity}|${horizon}"]`, { timeout: 15_000 });
  }

  /** Page rows equal API rows (order-insensitive), value by value. */
  function expectSameNumbers(shown: Row[], apiRows: Row[]): void {
    const byId = new Map(shown.map((r) => [r.channel, r]));
    expect([...byId.keys()].sort()).toEqual(apiRows.map((r) => r.channel).sort());
    for (const a of apiRows) {
      const s = byId.get(a.channel)!;
      expect(s.name, a.channel).toBe(a.name);
      for (const k of COLUMN_KEYS) expect(s[k], `${a.channel}.${k}`).toBe(a[k] === null ? '' : String(a[k]));
    }
  }

  beforeAll(async () => {
    await useLocalAws();
    // The page module is generated: build it from lib/dashboard/ before importing the function.
    await writeDashboardModule();
    const dashboard = (await import('../../functions/dashboard.ts')).handler as Handler;
    const attribution = (await import('../../functions/attribution-api.ts')).handler as Handler;
    const keywords = (await import('../../functions/keywords.ts')).handler as Handler;

    today = new Intl.DateTimeFormat('en-CA', { timeZone: hubConfig().HUB_TIMEZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    await writeSeed(makeCounters(today));
    liftSeed = await writeLiftSeed(today);
    const cfg = hubConfig();
    insightAccounts = [cfg.WECHAT_APP_ID, cfg.wechatApps.find((a) => a.kind === 'official' && a.appId !== cfg.WECHAT_APP_ID)?.appId ?? 'wxseedother000001'];
    insightSeeds = makeInsight(today, insightAccounts);
    await writeInsightSeed(insightSeeds);
    await writeCohortSeed(COHORT_PEOPLE, today);

    ({ server, base } = await serve({ dashboard, api: attribution, insight: keywords }, serverLog));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1, acceptDownloads: true, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') browserProblems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => browserProblems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  });

  it('serves one self-contained page with a strict CSP', async () => {
    const res = await fetch(`${base}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    expect(html).toContain(`content="${hubConfig().HUB_TIMEZONE}"`);
    // no external script, stylesheet or CDN; the only link is the inline (data:) favicon
    expect(/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/cdn/i.test(html)).toBe(false);
    expect(html.includes('Chart.js')).toBe(true); // chart.js inlined (its licence notice kept)
  });

  it('asks for the token, refuses a wrong one, then shows the API numbers', async () => {
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.getAttribute('body', 'data-state')).toBe('signed-out');
    expect(serverLog.filter((l) => l.includes('/attribution/'))).toHaveLength(0);

    await page.fill('#token', 'not-the-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('scrm-hub.adminToken'))).toBeNull();

    await page.fill('#token', token());
    await page.click('#login-form button[type=submit]');
    const from = shift(today, -29);
    await ready(from, today, 'first_touch');
    expect(await page.inputValue('#from')).toBe(from);
    expect(await page.inputValue('#to')).toBe(today);

    const want = await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}`);
    expect(want.channels.length).toBeGreaterThanOrEqual(5);
    expectSameNumbers(await tableRows(), want.channels);

    // default order: new fans, descending
    const shown = await tableRows();
    const fans = shown.map((r) => Number(r.newFans));
    expect(fans).toEqual([...fans].sort((a, b) => b - a));

    // formatting: ¥ with 2 decimals, the raw fen kept in data-value
    const gmv = await page.$eval('#channels tbody tr[data-channel="qr-sh-flagship"] td[data-key="gmvFen"]', (td) => ({ text: td.textContent, raw: td.getAttribute('data-value') }));
    const fen = Number(gmv.raw);
    expect(fen).toBeGreaterThan(0);
    expect(gmv.text).toBe(`¥${Math.floor(fen / 100).toLocaleString('en-US')}.${String(fen % 100).padStart(2, '0')}`);

    // referral numbers per channel: the referred members and the K-factor (2 decimals, — without referrers)
    expect(await page.$$eval('#channels th[data-key="referredMembers"], #channels th[data-key="kFactor"]', (ths) => ths.map((th) => th.textContent))).toEqual(['老带新Referred', 'K 值K-factor']);
    for (const r of await tableRows()) {
      const cell = await page.$eval(`#channels tbody tr[data-channel="${r.channel}"] td[data-key="kFactor"]`, (td) => td.textContent);
      expect(cell, r.channel).toBe(r.kFactor === '' ? '—' : Number(r.kFactor).toFixed(2));
    }

    // totals
    const kpi = await page.$$eval('#kpis .kpi', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-key'), Number(e.getAttribute('data-value'))])));
    for (const k of ['newFans', 'convertedFans', 'newMembers', 'orders', 'gmvFen']) {
      expect(kpi[k], k).toBe(want.channels.reduce((s, r) => s + Number(r[k]), 0));
    }

    // the drill-down starts on the channel with the most new fans
    const top = shown[0]!.channel;
    expect(await page.getAttribute('body', 'data-selected')).toBe(top);
    const topRow = want.channels.find((r) => r.channel === top)!;
    const funnel = await page.$$eval('#funnel .step', (els) => els.map((e) => [e.getAttribute('data-key'), Number(e.getAttribute('data-value'))]));
    expect(funnel).toEqual([
      ['newFans', topRow.newFans],
      ['convertedFans', topRow.convertedFans],
      ['orders', topRow.orders],
    ]);
    const daily = await api<{ days: { day: string; newFans: number; convertedFans: number }[] }>(`/attribution/channels/${top}/daily?from=${from}&to=${today}`);
    const trend = await page.$$eval('#trend table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-day'), Number(tr.children[1]!.textContent), Number(tr.children[2]!.textContent)]));
    expect(trend).toEqual(daily.days.map((d) => [d.day, d.newFans, d.convertedFans]));
    expect(await page.$eval('#trend', (c) => (c as HTMLCanvasElement).width)).toBeGreaterThan(100);
  });

  it('shows the lift of each marketing rule against the holdout, as the API answers it', async () => {
    const from = shift(today, -29);
    await page.waitForSelector(`body[data-lift="ready"][data-lift-query="${from}|${today}"]`, { timeout: 15_000 });
    const want = await api<{ rules: { rule: string; treated: { eligible: number; converted: number; rate: number | null }; holdout: { eligible: number; converted: number; rate: number | null }; absoluteLift: number | null; ci95: { low: number; high: number } | null; verdict: 'positive' | 'negative' | 'no_effect_yet'; message: string }[] }>(
      `/insight/lift?from=${from}&to=${today}`,
    );
    // The API's counts are the seed's (independent of the report code).
    expect(Object.fromEntries(want.rules.map((r) => [r.rule, { treated: { eligible: r.treated.eligible, converted: r.treated.converted }, holdout: { eligible: r.holdout.eligible, converted: r.holdout.converted } }]))).toEqual(liftSeed);
    const shown = await page.$$eval('#lift tbody tr[data-rule]', (trs) =>
      trs.map((tr) => ({
        rule: tr.getAttribute('data-rule'),
        verdict: tr.getAttribute('data-verdict'),
        cells: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-key]')).map((td) => [td.getAttribute('data-key'), { value: td.getAttribute('data-value'), text: td.querySelector('.verdict')?.textContent ?? td.textContent }])),
        message: tr.querySelector('.verdict-message')?.textContent,
      })),
    );
    expect(shown.map((r) => r.rule)).toEqual(want.rules.map((r) => r.rule));
    for (const [i, r] of want.rules.entries()) {
      const s = shown[i]!;
      expect(s.verdict, r.rule).toBe(r.verdict);
      expect(s.cells.treated, r.rule).toEqual({ value: `${r.treated.converted}/${r.treated.eligible}`, text: formatArm(r.treated) });
      expect(s.cells.holdout, r.rule).toEqual({ value: `${r.holdout.converted}/${r.holdout.eligible}`, text: formatArm(r.holdout) });
      expect(s.cells.absoluteLift, r.rule).toEqual({ value: String(r.absoluteLift), text: formatPoints(r.absoluteLift) });
      expect(s.cells.ci95, r.rule).toEqual({ value: `${r.ci95!.low}|${r.ci95!.high}`, text: formatInterval(r.ci95) });
      expect(s.cells.verdict!.text, r.rule).toBe(VERDICT_LABELS[r.verdict]);
      expect(s.message, r.rule).toBe(r.message);
    }
    // The seeded effect: the birthday rule converts 50 % against 10 %; the campaign has none to show.
    expect(shown.find((r) => r.rule === 'birthday')!.verdict).toBe('positive');
    expect(shown.find((r) => r.rule === 'campaign:seed-spring')!.verdict).toBe('no_effect_yet');
    // hand-checked formatting: +12.35 pp for a 0.12345 difference
    expect(formatPoints(0.12345)).toBe('+12.35 pp');
    expect(formatInterval({ low: -0.0052, high: 0.0521 })).toBe('[-0.52, +5.21] pp');
  });

  it('lists the configured accounts from the API, all accounts (brand scope) by default, and follows the switcher', async () => {
    const from = shift(today, -29);
    await page.waitForSelector('body[data-accounts]', { timeout: 15_000 });
    const { accounts } = await api<{ accounts: { appId: string; name: string; default: boolean }[] }>('/attribution/accounts');
    // The hub's configured accounts, written out from its configuration: the default account first.
    const cfg = hubConfig();
    expect(accounts.map((a) => a.appId)).toEqual(cfg.wechatApps.filter((a) => a.kind === 'official').map((a) => a.appId).sort((a, b) => Number(b === cfg.WECHAT_APP_ID) - Number(a === cfg.WECHAT_APP_ID)));
    expect(serverLog).toContain('GET /attribution/accounts');
    const options = await page.$$eval('#account option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    expect(options).toEqual([['', '全部账号 All accounts'], ...accounts.map((a) => [a.appId, `${a.name} · ${a.appId}`])]);
    expect(await page.$eval('#account', (s) => (s as HTMLSelectElement).value)).toBe('');
    expect(serverLog.some((l) => l.startsWith('GET /attribution/channels?') && l.includes('scope=brand') && !l.includes('appId='))).toBe(true);

    const one = accounts[0]!.appId;
    await page.selectOption('#account', one);
    await page.waitForSelector(`body[data-state="ready"][data-account="${one}"]`, { timeout: 15_000 });
    await ready(from, today, 'first_touch');
    expect(serverLog.some((l) => l.startsWith('GET /attribution/channels?') && l.includes('scope=account') && l.includes(`appId=${one}`))).toBe(true);
    const want = await api<{ scope: string; channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}&model=first_touch&scope=account&appId=${one}`);
    expectSameNumbers(await tableRows(), want.channels);

    await page.selectOption('#account', '');
    await page.waitForSelector('body[data-state="ready"][data-account=""]', { timeout: 15_000 });
    expectSameNumbers(await tableRows(), (await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}&model=first_touch&scope=brand`)).channels);
  });

  /** The menus and keywords view as the page renders it, keyed like expectedInsight. */
  async function insightShown() {
    const menus = await page.$$eval('#menus tbody tr[data-event]', (trs) => trs.map((tr) => [JSON.stringify([tr.getAttribute('data-app'), tr.getAttribute('data-event'), tr.getAttribute('data-menu-key')]), Number(tr.querySelector('td[data-key="count"]')!.getAttribute('data-value'))] as const));
    const keywords = await page.$$eval('#keywords tbody tr[data-keyword]', (trs) =>
      trs.map((tr) => [JSON.stringify([tr.getAttribute('data-app'), tr.getAttribute('data-keyword')]), { count: Number(tr.querySelector('td[data-key="count"]')!.getAttribute('data-value')), replies: Number(tr.querySelector('td[data-key="replies"]')!.getAttribute('data-value')) }] as const),
    );
    const words = await page.$$eval('#words tbody tr[data-word]', (trs) => trs.map((tr) => [tr.getAttribute('data-word')!, Number(tr.querySelector('td[data-key="count"]')!.getAttribute('data-value'))] as [string, number]));
    return { menus: new Map(menus), keywords: new Map(keywords), words };
  }

  it('shows menus and keywords for the range and account: the seeded numbers, as the API answers them', async () => {
    const from = shift(today, -29);
    for (const appId of ['', insightAccounts[0]]) {
      if (appId !== '') await page.selectOption('#account', appId);
      await page.waitForSelector(`body[data-insight="ready"][data-insight-query="${from}|${today}|${appId}"]`, { timeout: 15_000 });
      const want = expectedInsight(insightSeeds, from, today, appId, TOP_WORDS);
      const shown = await insightShown();
      expect(shown.menus).toEqual(want.menus);
      expect(shown.keywords).toEqual(want.keywords);
      expect(shown.words).toEqual(want.words);
      // The day 40 days back is outside the range; both accounts count in the brand view.
      expect(want.menus.size).toBe(appId === '' ? 8 : 4);
      const api1 = await api<{ rows: { count: number }[] }>(`/insight/menus?from=${from}&to=${today}${appId ? `&appId=${appId}` : ''}`);
      expect(api1.rows.reduce((s, r) => s + r.count, 0)).toBe([...want.menus.values()].reduce((s, n) => s + n, 0));
      // Reply rate: replies ÷ messages, one decimal.
      const kw = JSON.stringify([insightAccounts[0], '投诉']);
      expect(await page.$eval(`#keywords tbody tr[data-app="${insightAccounts[0]}"][data-keyword="投诉"] td[data-key="replyRate"]`, (td) => td.textContent)).toBe('0.0%');
      expect(want.keywords.get(kw)!.replies).toBe(0);
    }
    expect(serverLog.some((l) => l.startsWith('GET /insight/keywords?') && l.includes(`limit=${TOP_WORDS}`) && l.includes(`appId=${insightAccounts[0]}`))).toBe(true);
    await page.selectOption('#account', '');
    await page.waitForSelector(`body[data-insight="ready"][data-insight-query="${from}|${today}|"]`, { timeout: 15_000 });
  });

  it('sorts by a clicked header, both directions', async () => {
    await page.click('#channels th[data-key="newFans"]');
    let rows = await tableRows();
    expect(rows.map((r) => Number(r.newFans))).toEqual(rows.map((r) => Number(r.newFans)).sort((a, b) => a - b));
    expect(await page.getAttribute('#channels th[data-key="newFans"]', 'aria-sort')).toBe('ascending');

    await page.click('#channels th[data-key="gmvFen"]');
    rows = await tableRows();
    expect(rows.map((r) => Number(r.gmvFen))).toEqual(rows.map((r) => Number(r.gmvFen)).sort((a, b) => b - a));
    expect(await page.getAttribute('#channels th[data-key="gmvFen"]', 'aria-sort')).toBe('descending');
    expect(await page.getAttribute('#channels th[data-key="newFans"]', 'aria-sort')).toBeNull();

    await page.click('#channels th[data-key="medianHoursToConvert"]');
    await page.click('#channels th[data-key="medianHoursToConvert"]'); // ascending: nulls still last
    rows = await tableRows();
    const med = rows.map((r) => r.medianHoursToConvert as string);
    const present = med.filter((v) => v !== '').map(Number);
    expect(present).toEqual([...present].sort((a, b) => a - b));
    expect(med.slice(present.length).every((v) => v === '')).toBe(true);

    await page.click('#channels th[data-key="newFans"]'); // a new column starts descending
    expect(await page.getAttribute('#channels th[data-key="newFans"]', 'aria-sort')).toBe('descending');
  });

  it('follows the first/last-touch switch as the API does', async () => {
    const from = shift(today, -29);
    const first = await tableRows();
    await page.click('#model [data-model="last_touch"]');
    await ready(from, today, 'last_touch');
    const want = await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}&model=last_touch`);
    const shown = await tableRows();
    expectSameNumbers(shown, want.channels);
    expect(shown).not.toEqual(first);
    expect(serverLog.some((l) => l.startsWith('GET /attribution/channels?') && l.includes('model=last_touch'))).toBe(true);

    await page.click('#model [data-model="first_touch"]');
    await ready(from, today, 'first_touch');
    expectSameNumbers(await tableRows(), (await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}&model=first_touch`)).channels);
  });

  it('follows the date range, and refuses an inverted one without calling the API', async () => {
    const from = shift(today, -59);
    await page.fill('#from', from);
    await ready(from, today, 'first_touch');
    const want = await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${today}`);
    expectSameNumbers(await tableRows(), want.channels);
    const narrow = await api<{ channels: Row[] }>(`/attribution/channels?from=${shift(today, -29)}&to=${today}`);
    const sum = (rows: Row[]) => rows.reduce((s, r) => s + Number(r.newFans), 0);
    expect(sum(want.channels)).toBeGreaterThan(sum(narrow.channels)); // the day 45 days back is now inside

    const to = shift(today, -3);
    await page.fill('#to', to);
    await ready(from, to, 'first_touch');
    expectSameNumbers(await tableRows(), (await api<{ channels: Row[] }>(`/attribution/channels?from=${from}&to=${to}`)).channels);

    const calls = serverLog.length;
    await page.fill('#from', shift(to, 1));
    await page.waitForSelector('body[data-state="error"]');
    expect(await page.textContent('#status')).toMatch(/From is after To/);
    expect(serverLog.length).toBe(calls);

    await page.click('[data-preset="30"]');
    await ready(shift(today, -29), today, 'first_touch');
  });

  it('drills down into a clicked channel', async () => {
    const from = shift(today, -29);
    await page.click('#channels tbody tr[data-channel="qr-bj-mall"]');
    await page.waitForSelector('body[data-state="ready"][data-selected="qr-bj-mall"]');
    await page.waitForSelector('#trend table[data-channel="qr-bj-mall"]', { state: 'attached' });
    expect(await page.getAttribute('#channels tbody tr[data-channel="qr-bj-mall"]', 'aria-selected')).toBe('true');
    const daily = await api<{ days: { day: string; newFans: number; convertedFans: number }[] }>(`/attribution/channels/qr-bj-mall/daily?from=${from}&to=${today}`);
    const trend = await page.$$eval('#trend table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-day'), Number(tr.children[1]!.textContent), Number(tr.children[2]!.textContent)]));
    expect(trend).toHaveLength(30);
    expect(trend).toEqual(daily.days.map((d) => [d.day, d.newFans, d.convertedFans]));
    expect(await page.textContent('#funnel-channel')).toContain('qr-bj-mall');
  });

  it('downloads the CSV with the token', async () => {
    const from = shift(today, -29);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
    expect(download.suggestedFilename()).toBe(`attribution_first_touch_${from}_${today}.csv`);
    const file = await download.path();
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const res = await fetch(`${base}/attribution/channels.csv?from=${from}&to=${today}&model=first_touch`, { headers: { authorization: `Bearer ${token()}` } });
    const want = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(want)).toBe(true);
    expect(want.toString('utf8')).toContain('上海旗舰店 门店码');
  });

  it('shows the cohort heatmap: GMV per acquired person per month and channel, shaded by it, and the top-20 % share', async () => {
    // The last 6 months up to today: from the first day of the month 5 months back.
    const [y, m] = today.split('-').map(Number) as [number, number];
    const from = new Date(Date.UTC(y, m - 6, 1)).toISOString().slice(0, 10);
    await cohortReady(from, today, 'month', 90);
    const want = expectedCohortCells(COHORT_PEOPLE, today);
    const shown = await heatmapCells();
    expect(new Map([...shown].map(([k, c]) => [k, { acquired: c.acquired, gmvPerAcquiredFen: c.value }]))).toEqual(want.cells);
    // The cell text is the yuan amount; the darkest cell is the highest value.
    const best = [...want.cells].sort((a, b) => b[1].gmvPerAcquiredFen - a[1].gmvPerAcquiredFen)[0]!;
    expect(shown.get(best[0])!.shade).toBe(0.85);
    for (const [k, c] of shown) if (k !== best[0]) expect(c.shade, k).toBeLessThan(0.85);
    const [bestCohort, bestChannel] = best[0].split('|') as [string, string];
    const fen = best[1].gmvPerAcquiredFen;
    expect(await page.$eval(`#cohorts tr[data-cohort="${bestCohort}"] td[data-channel="${bestChannel}"]`, (td) => td.firstChild?.textContent)).toBe(
      `¥${Math.floor(fen / 100).toLocaleString('en-US')}.${String(fen % 100).padStart(2, '0')}`,
    );
    // Column headers: the channels' names from the channel table.
    expect(await page.$eval('#cohorts thead th[data-channel="qr-sh-flagship"] .zh', (th) => th.textContent)).toBe('上海旗舰店 门店码');
    const shares = await page.$$eval('#cohorts tfoot td[data-channel]', (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-channel'), Number(td.getAttribute('data-top-share'))])));
    expect(shares).toEqual(want.topShare);
    expect(await page.textContent('#cohort-note')).toContain(`¥${(want.threshold / 100).toLocaleString('en-US')}.00`);

    // Weeks, and another horizon: the page shows what the API answers.
    for (const [button, granularity, horizon] of [
      ['[data-granularity="week"]', 'week', 90],
      ['[data-horizon="30"]', 'week', 30],
    ] as const) {
      await page.click(`#cohort-card ${button}`);
      const weekFrom = shift(today, -77);
      await cohortReady(weekFrom, today, granularity, horizon);
      const api_ = await api<{ rows: { cohort: string; channel: string; acquired: number; gmvPerAcquiredFen: number }[] }>(`/attribution/cohorts?from=${weekFrom}&to=${today}&granularity=${granularity}&horizon=${horizon}`);
      expect(api_.rows.length).toBeGreaterThan(0);
      const cells = await heatmapCells();
      expect(new Map([...cells].map(([k, c]) => [k, [c.acquired, c.value]]))).toEqual(new Map(api_.rows.map((r) => [`${r.cohort}|${r.channel}`, [r.acquired, r.gmvPerAcquiredFen]])));
    }
    await page.click('#cohort-card [data-granularity="month"]');
    await page.click('#cohort-card [data-horizon="90"]');
    await cohortReady(from, today, 'month', 90);
  });

  it('keeps the token for the tab, and loads nothing from outside', async () => {
    await page.reload();
    await ready(shift(today, -29), today, 'first_touch');
    expect(await page.isHidden('#login')).toBe(true);

    mkdirSync(OUT_DIR, { recursive: true });
    await page.click('#channels tbody tr[data-channel="qr-sh-flagship"]');
    await page.waitForSelector('body[data-state="ready"][data-selected="qr-sh-flagship"]');
    await page.screenshot({ path: join(OUT_DIR, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(OUT_DIR, 'dashboard.png'))).toBe(true);

    expect(foreignRequests).toEqual([]);
    // The wrong-token attempt logs a 401 resource error; anything else (CSP, script errors) fails.
    expect(browserProblems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});
