/**
 * The attribution API on DynamoDB Local: counter figures for several channels × 2 shards × several
 * days written as credit deltas and folded by the real fold into counters and rollups; the JSON, daily and CSV answers equal values computed
 * independently here; bad input is a 400 with a reason, no token a 401; and every read is a
 * bounded Query (a middleware on the client records each command: no Scan).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { useLocalAws, hubConfig, hubContext } from '../support/env.ts';
import { makeDynamo } from '../../lib/store/client.ts';
import { LOCAL_AWS } from '../../local/emulators.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';
import { channelDaily, channelMetrics } from '../../lib/attribution/query.ts';
import { ATTRIBUTION_CSV_COLUMNS } from '../../lib/attribution/csv.ts';
import { handler } from '../../functions/attribution-api.ts';
import { getEvent } from '../support/http-event.ts';
import { expectedChannels, expectedDaily, makeCounters, SEED_SHARDS, writeSeed, type CounterSeed } from '../browser/seed.ts';

const aws = await useLocalAws();

const TODAY = '2024-06-30';
const FROM = '2024-06-01';
const TO = TODAY;

/** Command names sent through the runtime's client. */
const sent: string[] = [];
let counters: CounterSeed[] = [];

let rt: Runtime;

beforeAll(async () => {
  const client = makeDynamo({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  rt = aws.runtime.with({ clients: { ddb: client } });
  counters = makeCounters(TODAY);
  await writeSeed(counters);
  sent.length = 0;
});

const TOKEN = () => hubConfig().HUB_ADMIN_TOKEN;

const ROUTES: [RegExp, string][] = [
  [/^\/attribution\/channels$/, 'GET /attribution/channels'],
  [/^\/attribution\/channels\.csv$/, 'GET /attribution/channels.csv'],
  [/^\/attribution\/channels\/[^/]+\/daily$/, 'GET /attribution/channels/{id}/daily'],
];

/** An API Gateway v2 event as the HTTP API sends it. */
function event(path: string, qs: Record<string, string> = {}, headers: Record<string, string> = { authorization: `Bearer ${TOKEN()}` }): APIGatewayProxyEventV2 {
  const routeKey = ROUTES.find(([re]) => re.test(path))?.[1] ?? '$default';
  const id = /^\/attribution\/channels\/([^/]+)\/daily$/.exec(path)?.[1];
  return getEvent(path, { routeKey, qs, headers, ...(id ? { pathParameters: { id: decodeURIComponent(id) } } : {}) });
}

async function call(path: string, qs?: Record<string, string>, headers?: Record<string, string>) {
  const res = (await handler(event(path, qs, headers), hubContext(rt))) as APIGatewayProxyStructuredResultV2;
  const ct = String(res.headers?.['content-type'] ?? '');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  const json: any = /json/.test(ct) ? JSON.parse(res.body ?? 'null') : undefined;
  return { status: res.statusCode, headers: res.headers ?? {}, text: res.body ?? '', json };
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

const SHARDS = () => hubConfig().HUB_COUNTER_SHARDS;

describe('GET /attribution/channels', () => {
  it('answers the contract shape with values equal to the independent sums (first touch by default)', async () => {
    const r = await call('/attribution/channels', { from: FROM, to: TO });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['from', 'to', 'model', 'channels']);
    expect(r.json).toMatchObject({ from: FROM, to: TO, model: 'first_touch' });
    const want = expectedChannels(counters, FROM, TO, 'first');
    expect(r.json.channels).toEqual(want);
    // the contract fields, in order, then the extras
    expect(Object.keys(r.json.channels[0])).toEqual([
      'channel', 'name', 'newFans', 'unfollows', 'convertedFans', 'conversionRate', 'sameDayConversions',
      'medianHoursToConvert', 'newMembers', 'scans', 'orders', 'gmvFen', 'kind', 'qrScans', 'newContacts', 'lostContacts',
      'referredMembers', 'referringMembers', 'kFactor',
    ]);
    // sanity of the fixture: real numbers, an empty listed channel, the active built-in, no idle built-ins
    const ids = r.json.channels.map((c: { channel: string }) => c.channel);
    expect(ids).toEqual(['ad-douyin', 'qr-bj-mall', 'qr-new-empty', 'qr-sh-flagship', 'tmall']);
    const sh = r.json.channels.find((c: { channel: string }) => c.channel === 'qr-sh-flagship');
    expect(sh.newFans).toBeGreaterThan(20);
    expect(sh.medianHoursToConvert).not.toBeNull();
    expect(r.json.channels.find((c: { channel: string }) => c.channel === 'qr-new-empty')).toMatchObject({
      newFans: 0, conversionRate: 0, medianHoursToConvert: null, gmvFen: 0, name: '新建渠道（无数据）',
    });
    expect(r.json.channels.find((c: { channel: string }) => c.channel === 'tmall')).toMatchObject({ name: '天猫', kind: 'platform' });
  });

  it('reads the last-touch counters for model=last_touch', async () => {
    const r = await call('/attribution/channels', { from: FROM, to: TO, model: 'last_touch' });
    expect(r.status).toBe(200);
    expect(r.json.model).toBe('last_touch');
    expect(r.json.channels).toEqual(expectedChannels(counters, FROM, TO, 'last'));
    const first = await call('/attribution/channels', { from: FROM, to: TO, model: 'first_touch' });
    expect(first.json.channels).not.toEqual(r.json.channels);
  });

  it('honours the range bounds exactly (inclusive days, data outside left out)', async () => {
    for (const [from, to] of [
      ['2024-06-28', '2024-06-30'],
      ['2024-06-30', '2024-06-30'],
      ['2024-05-01', '2024-05-31'], // holds only the far-back day
      ['2023-07-01', '2024-06-30'], // 366 days
    ] as const) {
      const r = await call('/attribution/channels', { from, to });
      expect(r.status, `${from}..${to}`).toBe(200);
      expect(r.json.channels, `${from}..${to}`).toEqual(expectedChannels(counters, from, to, 'first'));
    }
  });

  it('makes one gsi1 Query for the channels and one Query per rollup period, never a Scan', async () => {
    sent.length = 0;
    // June 2024 whole: the channel list and the month's rollup partition.
    const res = await channelMetrics(rt, { from: FROM, to: TO, model: 'first_touch' });
    expect(res.requests).toBe(2);
    expect(sent.length).toBe(res.requests);
    expect(new Set(sent)).toEqual(new Set(['QueryCommand']));
    // 2024-05-20..2024-06-12: May's 12 days (12 ≤ 1 + 19 left out) and June's 12 (12 ≤ 1 + 18).
    sent.length = 0;
    const part = await channelMetrics(rt, { from: '2024-05-20', to: '2024-06-12', model: 'first_touch' });
    expect(part.requests).toBe(1 + 12 + 12);
    expect(part.channels).toEqual(expectedChannels(counters, '2024-05-20', '2024-06-12', 'first'));
    // 2024-06-03..2024-06-30: the month less June 1 and 2.
    sent.length = 0;
    const most = await channelMetrics(rt, { from: '2024-06-03', to: TO, model: 'last_touch' });
    expect(most.requests).toBe(1 + 3);
    expect(most.channels).toEqual(expectedChannels(counters, '2024-06-03', TO, 'last'));
    expect(sent.length).toBe(most.requests);
    expect(new Set(sent)).toEqual(new Set(['QueryCommand']));
    expect(SEED_SHARDS.every((s) => s < SHARDS())).toBe(true);

    sent.length = 0;
    const daily = await channelDaily(rt, 'qr-bj-mall', { from: FROM, to: TO, model: 'last' });
    expect(daily.requests).toBe(1 + SHARDS());
    expect(sent.filter((n) => n === 'QueryCommand')).toHaveLength(SHARDS());
    expect(sent.filter((n) => n === 'GetItemCommand')).toHaveLength(1); // the channel item (the SDK names the wire command)
    expect(sent).not.toContain('ScanCommand');
  });
});

describe('GET /attribution/channels/{id}/daily', () => {
  it('lists every day of the range, zeros included, equal to the independent per-day sums', async () => {
    for (const model of ['first', 'last'] as const) {
      for (const ch of ['qr-sh-flagship', 'ad-douyin', 'tmall', 'qr-new-empty']) {
        const r = await call(`/attribution/channels/${ch}/daily`, { from: FROM, to: TO, model: `${model}_touch` });
        expect(r.status).toBe(200);
        expect(Object.keys(r.json)).toEqual(['channel', 'from', 'to', 'model', 'days']);
        expect(r.json).toMatchObject({ channel: ch, from: FROM, to: TO, model: `${model}_touch` });
        expect(r.json.days).toHaveLength(30);
        expect(r.json.days).toEqual(expectedDaily(counters, ch, FROM, TO, model));
      }
    }
    const r = await call('/attribution/channels/qr-sh-flagship/daily', { from: FROM, to: TO });
    expect(r.json.days.some((d: { newFans: number }) => d.newFans === 0)).toBe(true);
    // 2024-06-27 carries no counter item at all
    expect(r.json.days.find((d: { day: string }) => d.day === '2024-06-27')).toEqual({
      day: '2024-06-27',
      newFans: 0, unfollows: 0, convertedFans: 0, conversionRate: 0, sameDayConversions: 0,
      medianHoursToConvert: null, newMembers: 0, scans: 0, orders: 0, gmvFen: 0, qrScans: 0, newContacts: 0, lostContacts: 0,
      referredMembers: 0, referringMembers: 0, kFactor: null,
    });
  });

  it('sums of the daily rows equal the channel row (additive metrics)', async () => {
    const table = await call('/attribution/channels', { from: FROM, to: TO });
    const daily = await call('/attribution/channels/qr-bj-mall/daily', { from: FROM, to: TO });
    const row = table.json.channels.find((c: { channel: string }) => c.channel === 'qr-bj-mall');
    for (const k of ['newFans', 'unfollows', 'convertedFans', 'sameDayConversions', 'newMembers', 'scans', 'orders', 'gmvFen', 'qrScans', 'newContacts', 'lostContacts']) {
      expect(daily.json.days.reduce((s: number, d: Record<string, number>) => s + d[k]!, 0), k).toBe(row[k]);
    }
  });

  it('404 for a channel that does not exist, 400 for an id that cannot be a key', async () => {
    expect((await call('/attribution/channels/nope/daily', { from: FROM, to: TO })).status).toBe(404);
    const bad = await call('/attribution/channels/a%23b/daily', { from: FROM, to: TO });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('bad_channel');
  });
});

describe('GET /attribution/channels.csv', () => {
  it('is the table as CSV: BOM, header, quoted names, the same numbers as the JSON', async () => {
    for (const model of ['first', 'last'] as const) {
      const r = await call('/attribution/channels.csv', { from: FROM, to: TO, model: `${model}_touch` });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(r.headers['content-disposition']).toBe(`attachment; filename="attribution_${model}_touch_${FROM}_${TO}.csv"`);
      expect(r.text.charCodeAt(0)).toBe(0xfeff);
      expect(r.text).toContain('"北京, ""朝阳"" 商场"');
      const rows = parseCsv(r.text.slice(1));
      expect(rows[0]).toEqual([...ATTRIBUTION_CSV_COLUMNS]);
      const want = expectedChannels(counters, FROM, TO, model);
      expect(rows.slice(1)).toEqual(
        want.map((w) => [
          w.channel, w.name, w.kind,
          String(w.newFans), String(w.unfollows), String(w.convertedFans), String(w.conversionRate), String(w.sameDayConversions),
          w.medianHoursToConvert === null ? '' : String(w.medianHoursToConvert),
          String(w.newMembers), String(w.scans), String(w.qrScans), String(w.orders), String(w.gmvFen),
          `${Math.floor(w.gmvFen / 100)}.${String(w.gmvFen % 100).padStart(2, '0')}`,
          String(w.newContacts), String(w.lostContacts),
        ]),
      );
    }
  });
});

describe('bad requests', () => {
  it('401 without the admin token or with a wrong one', async () => {
    for (const path of ['/attribution/channels', '/attribution/channels.csv', '/attribution/channels/qr-bj-mall/daily']) {
      const none = await call(path, { from: FROM, to: TO }, {});
      expect(none.status).toBe(401);
      expect(none.json.error).toBe('unauthorized');
      const wrong = await call(path, { from: FROM, to: TO }, { authorization: 'Bearer wrong-token-123' });
      expect(wrong.status).toBe(401);
    }
  });

  it('400 for a range over 366 days', async () => {
    for (const path of ['/attribution/channels', '/attribution/channels.csv', '/attribution/channels/qr-bj-mall/daily']) {
      const r = await call(path, { from: '2023-06-30', to: '2024-06-30' }); // 367 days (2024 is a leap year)
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error: 'range_too_long' });
      expect(r.json.message).toMatch(/367 days/);
    }
  });

  it.each([
    [{ to: TO }, 'bad_date'],
    [{ from: FROM }, 'bad_date'],
    [{ from: '2024-02-30', to: TO }, 'bad_date'],
    [{ from: '2024-6-01', to: TO }, 'bad_date'],
    [{ from: 'yesterday', to: TO }, 'bad_date'],
    [{ from: FROM, to: '2024-06-31' }, 'bad_date'],
    [{ from: TO, to: FROM }, 'bad_range'],
  ])('400 for dates %j', async (qs, code) => {
    const r = await call('/attribution/channels', qs as Record<string, string>);
    expect(r.status).toBe(400);
    expect(r.json.error).toBe(code);
    expect(r.json.message).toEqual(expect.any(String));
  });

  it('400 for an unknown model', async () => {
    for (const model of ['linear', 'first', 'FIRST_TOUCH']) {
      const r = await call('/attribution/channels', { from: FROM, to: TO, model });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('bad_model');
      expect(r.json.message).toMatch(/first_touch or last_touch/);
    }
    expect((await call('/attribution/channels.csv', { from: FROM, to: TO, model: 'x' })).status).toBe(400);
    expect((await call('/attribution/channels/tmall/daily', { from: FROM, to: TO, model: 'x' })).status).toBe(400);
  });

  it('routes by raw path when the route key is the default one', async () => {
    const e = event('/attribution/channels.csv', { from: FROM, to: TO });
    const res = (await handler({ ...e, routeKey: '$default' }, hubContext(rt))) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    const d = event('/attribution/channels/tmall/daily', { from: FROM, to: TO });
    const daily = (await handler({ ...d, routeKey: '$default', pathParameters: {} }, hubContext(rt))) as APIGatewayProxyStructuredResultV2;
    expect(JSON.parse(daily.body ?? '{}').channel).toBe('tmall');
  });
});
