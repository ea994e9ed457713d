/**
 * Audiences and campaigns against DynamoDB Local, the local SQS server and the WeChat stand-in:
 * the admin routes through the real handler (functions/audiences.ts), the paged jobs through real
 * queue receives (local/poller.ts pollOnce) into the real engagement sender, every page row
 * delivered twice. A few hundred members are written to the table; the expected audience and
 * what each of its members should receive are computed here, independently, from the facts the
 * test chose for them.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSEvent } from 'aws-lambda';
import { useLocalAws, type LocalAws, ddb, hubConfig, sqs, hubContext } from '../support/env.ts';
import { seededRandom } from '../support/random.ts';
import { queryAll, scanAll } from '../support/table.ts';
import { handler as audiencesHandler } from '../../functions/audiences.ts';
import { handler as senderHandler } from '../../functions/engagement-sender.ts';
import { createCampaign, membersCsvPage } from '../../lib/audiences/api.ts';
import { firstPages } from '../../lib/audiences/pages.ts';
import { requestErasure, runErasure } from '../../lib/privacy/erase.ts';
import { createChannel } from '../../lib/attribution/channels.ts';
import { memberKey } from '../../lib/store/entities/member.ts';
import { sentLogItem } from '../../lib/store/entities/sent-log.ts';
import { keys } from '../../lib/store/keys.ts';
import { createWechatApi } from '../../lib/wechat/client.ts';
import { memoryTokenCache } from '../../lib/wechat/token-cache.ts';
import type { WechatApi } from '../../lib/wechat/wire.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';
import { startWechatStandin, type WechatStandin } from '../../local/wechat-standin.ts';
import { pollOnce } from '../../local/poller.ts';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
/** Shanghai (UTC+8) wall clock → epoch ms. */
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
/** Noon in Shanghai: outside the default quiet hours (22:00–08:00). */
const NOON = sh(2026, 3, 10, 12);
/** The default policy's holdout: 500 of 10,000 buckets of sha256(memberId) (5 %, lib/config/engagement.ts). */
const inHoldout = (id: string) => createHash('sha256').update(id).digest().readUInt32BE(0) % 10_000 < 500;

let aws: LocalAws;
let standin: WechatStandin;
let api: WechatApi;
let rt: Runtime;
let APP: string;

// ---------------------------------------------------------------------------------------------
// The members: facts chosen here, the expectations computed from them

const CHANNELS = [
  { id: 'store-sh-01', kind: 'store' },
  { id: 'store-bj-02', kind: 'store' },
  { id: 'ad-spring', kind: 'ad' },
  { id: 'batch-can-1', kind: 'code_batch' },
] as const;
const STORE_CHANNELS = new Set(['store-sh-01', 'store-bj-02']);
const FIRST_TOUCHES = ['store-sh-01', 'store-bj-02', 'ad-spring', 'batch-can-1', 'organic', 'tmall'];
const TIERS = ['normal', 'silver', 'gold', 'gold', 'diamond'];
const LIFECYCLES = ['new', 'repeat', 'at_risk', 'at_risk', 'lapsed'];

interface Spec {
  id: string;
  tier: string;
  lifecycle: string;
  channel: string;
  consent: boolean;
  followed: boolean;
  /** A marketing message already went out today: the daily cap (1) is reached. */
  capped: boolean;
  merged: boolean;
}

function makeSpecs(n: number): Spec[] {
  const rnd = seededRandom(2323);
  const pickOf = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const specs: Spec[] = [];
  for (let i = 0; i < n; i++) {
    specs.push({
      id: `am-${i}`,
      tier: pickOf(TIERS),
      lifecycle: pickOf(LIFECYCLES),
      channel: pickOf(FIRST_TOUCHES),
      consent: rnd() >= 0.12,
      followed: rnd() >= 0.08,
      capped: rnd() < 0.2,
      merged: rnd() < 0.03,
    });
  }
  // Audience members of each outcome, so every guardrail is exercised whatever the draw gave:
  // 5 in the holdout, and outside it 3 at their daily cap, 2 without marketing consent, 2 unfollowed.
  const forced = (prefix: string, n: number, holdout: boolean, over: Partial<Spec>) => {
    for (let i = 0, found = 0; found < n; i++) {
      const id = `am-${prefix}-${i}`;
      if (inHoldout(id) !== holdout) continue;
      specs.push({ id, tier: 'gold', lifecycle: 'at_risk', channel: 'store-bj-02', consent: true, followed: true, capped: false, merged: false, ...over });
      found++;
    }
  };
  forced('h', 5, true, {});
  forced('c', 3, false, { capped: true });
  forced('n', 2, false, { consent: false });
  forced('u', 2, false, { followed: false });
  // Records merged into another with the audience's facts: never in it.
  forced('m', 2, false, { merged: true });
  return specs;
}

const SPECS = makeSpecs(380);
const openidOf = (id: string) => `o_${id.replace(/-/g, '_')}`;
/** "At-risk gold members who first came from store QR codes", computed from the facts. */
const AUDIENCE = SPECS.filter((s) => !s.merged && s.tier === 'gold' && s.lifecycle === 'at_risk' && STORE_CHANNELS.has(s.channel)).map((s) => s.id).sort();
/** What the sender's guardrails make of a marketing template to one audience member (in their order). */
function expectedOutcome(s: Spec): string {
  if (!s.followed) return 'unfollowed';
  if (!s.consent) return 'no_consent';
  if (inHoldout(s.id)) return 'holdout';
  if (s.capped) return 'cap_daily';
  return 'sent';
}

async function putMembers(): Promise<void> {
  for (const s of SPECS) {
    const item = {
      ...memberKey(s.id),
      memberId: s.id,
      version: 1,
      createdAt: NOON - 200 * DAY,
      updatedAt: NOON - 200 * DAY,
      status: 'member',
      consent: { marketing: s.consent, marketingAt: NOON - 200 * DAY, marketingChannel: 'h5' },
      wechat: { appId: APP, openid: openidOf(s.id), followed: s.followed },
      apps: { [APP]: { openid: openidOf(s.id), followed: s.followed } },
      firstTouch: { channel: s.channel, at: NOON - 200 * DAY },
      lastTouch: { channel: s.channel, at: NOON - 200 * DAY },
      points: 100,
      tier: s.tier,
      orderCount: 2,
      gmvFen: 600_000,
      lifecycle: s.lifecycle,
      h: { f: [], u: [], q: [], c: [], o: [] },
      credits: {},
      ...(s.merged ? { mergedInto: 'am-0' } : {}),
    };
    await ddb().send(new PutCommand({ TableName: aws.table, Item: item }));
    if (s.capped) {
      const row = { messageId: `earlier-${s.id}`, ruleId: 'repurchase', class: 'marketing' as const };
      await ddb().send(new PutCommand({ TableName: aws.table, Item: sentLogItem({ row, memberId: s.id, at: NOON - 2 * 3_600_000, via: 'template' }) }));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP and queue helpers

const ROUTES: [RegExp, string][] = [
  [/^\/audiences$/, '/audiences'],
  [/^\/audiences\/[^/]+$/, '/audiences/{id}'],
  [/^\/audiences\/[^/]+\/count$/, '/audiences/{id}/count'],
  [/^\/audiences\/[^/]+\/members\.csv$/, '/audiences/{id}/members.csv'],
  [/^\/campaigns$/, '/campaigns'],
  [/^\/campaigns\/[^/]+$/, '/campaigns/{id}'],
];

async function call(method: 'GET' | 'POST', path: string, o: { body?: unknown; qs?: Record<string, string> } = {}): Promise<APIGatewayProxyStructuredResultV2 & { json?: unknown }> {
  const route = ROUTES.find(([re]) => re.test(path))?.[1] ?? '$default';
  const routeKey = `${method} ${route}`;
  const id = /^\/(?:audiences|campaigns)\/([^/]+)/.exec(path)?.[1];
  const raw = new URLSearchParams(o.qs ?? {}).toString();
  const event = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: raw,
    headers: { authorization: `Bearer ${hubConfig().HUB_ADMIN_TOKEN}`, ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { queryStringParameters: o.qs } : {}),
    ...(id ? { pathParameters: { id } } : {}),
    ...(o.body !== undefined ? { body: JSON.stringify(o.body), isBase64Encoded: false } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'r',
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEventV2;
  const res = await audiencesHandler(event, hubContext(rt, 'audiences'));
  const type = String(res.headers?.['content-type'] ?? '');
  return { ...res, ...(type.startsWith('application/json') ? { json: JSON.parse(String(res.body)) } : {}) };
}

async function queueCounts(): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs().send(
    new GetQueueAttributesCommand({ QueueUrl: aws.queues.engagement.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

/** Page rows seen (by SQS message body) and how many times each was delivered. */
const pageDeliveries = new Map<string, number>();

/** The production sender on the file's runtime; every audience page row is sent to the queue once more (SQS at-least-once). */
async function sender(event: SQSEvent): Promise<unknown> {
  for (const r of event.Records) {
    const body = JSON.parse(r.body) as { ruleId?: string; messageId?: string };
    if (body.ruleId !== 'audience_page') continue;
    const seen = pageDeliveries.get(body.messageId!) ?? 0;
    pageDeliveries.set(body.messageId!, seen + 1);
    if (seen === 0) await sqs().send(new SendMessageCommand({ QueueUrl: aws.queues.engagement.url, MessageBody: r.body }));
  }
  return senderHandler(event, hubContext(rt, 'engagement-sender'));
}

/** Receives and handles until nothing is visible or in flight. */
async function drain(maxRounds = 400): Promise<number> {
  let received = 0;
  for (let round = 0; round < maxRounds; round++) {
    const r = await pollOnce({ sqs: sqs(), queueUrl: aws.queues.engagement.url, queueArn: aws.queues.engagement.arn, name: 'engagement-sender', handler: sender as never, waitSeconds: 0 });
    received += r.received;
    if (r.received === 0) {
      const c = await queueCounts();
      if (c.visible === 0 && c.inFlight === 0) return received;
    }
  }
  throw new Error('the engagement queue did not settle');
}

const sentTo = (id: string) => standin.messages().filter((m) => m.touser === openidOf(id));
const csvIds = (csv: string) => csv.trim().split('\r\n').slice(1).map((l) => l.split(',')[0]!);

beforeAll(async () => {
  aws = await useLocalAws();
  APP = hubConfig().WECHAT_APP_ID;
  standin = await startWechatStandin({ port: 0, apps: { [APP]: hubConfig().WECHAT_APP_SECRET } });
  api = createWechatApi({ appId: APP, appSecret: hubConfig().WECHAT_APP_SECRET, baseUrl: standin.url, tokenCache: memoryTokenCache(), timeoutMs: 2000 });
  rt = aws.runtime.with({ settings: { WECHAT_API_BASE: standin.url, HUB_TIMEZONE: TZ }, now: () => NOON, wechat: () => api });
  for (const c of CHANNELS) await createChannel(rt.store, api, { id: c.id, name: c.id, kind: c.kind }, NOON - 300 * DAY);
  await putMembers();
}, 120_000);

afterAll(async () => {
  await standin?.close();
});

// ---------------------------------------------------------------------------------------------

const FILTER = { lifecycle: ['at_risk'], tier: ['gold'], firstTouchFamily: ['store'] };

describe('audiences', () => {
  let audienceId: string;

  it('the generated members give every case of the campaign something to prove', () => {
    const outcomes = AUDIENCE.map((id) => expectedOutcome(SPECS.find((s) => s.id === id)!));
    for (const o of ['sent', 'holdout', 'cap_daily']) expect(outcomes.filter((x) => x === o).length).toBeGreaterThanOrEqual(3);
    expect(outcomes).toContain('no_consent');
    expect(outcomes).toContain('unfollowed');
    // Merged-away records with the audience's facts exist and must stay out.
    expect(SPECS.some((s) => s.merged && s.tier === 'gold' && s.lifecycle === 'at_risk' && STORE_CHANNELS.has(s.channel))).toBe(true);
  });

  it('POST /audiences validates the filter: 400 with the reason, nothing saved', async () => {
    const unknownTier = await call('POST', '/audiences', { body: { name: 'bad', filter: { tier: ['platinum'] } } });
    expect(unknownTier.statusCode).toBe(400);
    expect(unknownTier.json).toMatchObject({ error: 'invalid_filter', details: [expect.stringContaining('filter.tier.0')] });
    const range = await call('POST', '/audiences', { body: { name: 'bad', filter: { pointsMin: 9, pointsMax: 1 } } });
    expect(range.statusCode).toBe(400);
    expect(range.json).toMatchObject({ error: 'invalid_filter', details: ['filter.pointsMin: pointsMin is above pointsMax'] });
    expect((await scanAll(aws.table)).filter((i) => String(i.pk).startsWith('AUDIENCE#'))).toEqual([]);
  });

  it('POST /audiences saves it; GET /audiences/{id} reads it back; an unknown id is 404', async () => {
    const res = await call('POST', '/audiences', { body: { name: 'at-risk gold from stores', filter: FILTER } });
    expect(res.statusCode).toBe(201);
    const body = res.json as { id: string; name: string; filter: unknown; createdAt: string };
    expect(body).toMatchObject({ name: 'at-risk gold from stores', filter: FILTER, createdAt: new Date(NOON).toISOString() });
    audienceId = body.id;
    expect((await call('GET', `/audiences/${audienceId}`)).json).toEqual(body);
    expect((await call('GET', '/audiences/NOPE')).statusCode).toBe(404);
  });

  it('GET count: the estimate at once, the exact count once its paged run is through the queue', async () => {
    const first = await call('GET', `/audiences/${audienceId}/count`);
    expect(first.statusCode).toBe(200);
    // Few members: the estimate reads every segment, so it is exact too.
    expect(first.json).toMatchObject({ audienceId, estimate: AUDIENCE.length, exact: null, method: 'scan' });
    await drain();
    const second = await call('GET', `/audiences/${audienceId}/count`);
    expect(second.json).toMatchObject({ audienceId, estimate: AUDIENCE.length, exact: AUDIENCE.length, method: 'scan+job', run: { segmentsDone: 16, segments: 16 } });
  });

  it('members.csv lists exactly the audience (one page by default; the cursor pages through a smaller scan)', async () => {
    const res = await call('GET', `/audiences/${audienceId}/members.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers?.['x-next-cursor']).toBeUndefined();
    const body = String(res.body);
    expect(body.split('\r\n')[0]).toBe('memberId,status,tier,lifecycle,rfm,firstTouchChannel,firstTouchAt,points,lastInteractionAt');
    expect(csvIds(body).sort()).toEqual(AUDIENCE);

    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await membersCsvPage(rt, audienceId, cursor, { scanLimit: 10 });
      ids.push(...csvIds(page.csv));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(3);
    expect(ids.sort()).toEqual(AUDIENCE);
    expect((await call('GET', `/audiences/${audienceId}/members.csv`, { qs: { cursor: 'bm90LWEtY3Vyc29y' } })).statusCode).toBe(400);
  });

  it('a campaign goes through the sender: caps, holdout, consent and follow state respected, each page delivered twice, nothing sent twice', async () => {
    const bad = await call('POST', '/campaigns', { body: { name: 'x', audienceId, message: { url: 'https://example.com' } } });
    expect(bad.statusCode).toBe(400);
    expect((await call('POST', '/campaigns', { body: { name: 'x', audienceId: 'NOPE', message: { templateId: 'T' } } })).json).toMatchObject({ error: 'unknown_audience' });

    const before = standin.messages().length;
    const { id } = await createCampaign(rt, { name: 'win back', audienceId, message: { templateId: 'TPL_WINBACK', first: '好久不见', remark: '回来看看' } }, { pageSize: 25 });
    await drain();
    expect([...pageDeliveries.values()].every((n) => n === 2)).toBe(true);

    const model = new Map(AUDIENCE.map((mid) => [mid, expectedOutcome(SPECS.find((s) => s.id === mid)!)]));
    const expectedSent = [...model].filter(([, o]) => o === 'sent').map(([mid]) => mid).sort();
    const received = standin.messages().slice(before);
    // Exactly the model's recipients, once each, with the campaign's template.
    expect(received.map((m) => m.touser).sort()).toEqual(expectedSent.map(openidOf).sort());
    for (const m of received) expect(m).toMatchObject({ kind: 'template', templateId: 'TPL_WINBACK' });
    for (const [mid, o] of model) if (o === 'holdout' || o === 'cap_daily') expect(sentTo(mid)).toEqual([]);

    const report = (await call('GET', `/campaigns/${id}`)).json as Record<string, unknown>;
    const suppressed: Record<string, number> = {};
    for (const o of model.values()) if (o !== 'sent') suppressed[o] = (suppressed[o] ?? 0) + 1;
    expect(report).toEqual({
      id,
      name: 'win back',
      status: 'done',
      audienceId,
      ruleId: `campaign:${id}`,
      planned: AUDIENCE.length,
      sent: received.length,
      suppressed,
      deferred: 0,
      failed: 0,
      unknown: 0,
      pending: 0,
      erased: 0,
      createdAt: new Date(NOON).toISOString(),
      // The sender recorded eligibility for every decided row: sent and capped in the treated arm,
      // the holdout in its own, unfollowed and no-consent in neither; nobody has ordered since.
      lift: expect.objectContaining({
        rule: `campaign:${id}`,
        treated: { eligible: [...model.values()].filter((o) => o === 'sent' || o === 'cap_daily').length, converted: 0, rate: 0 },
        holdout: { eligible: [...model.values()].filter((o) => o === 'holdout').length, converted: 0, rate: 0 },
        verdict: 'no_effect_yet',
      }),
    });
    expect(report.sent).toBe(expectedSent.length);
    // One campaign marker per audience member, in the member's own partition (erased with it).
    for (const mid of AUDIENCE.slice(0, 5)) expect(await queryAll(aws.table, keys.memberPartition(mid), `CAMPAIGN#${id}`)).toHaveLength(1);

    // The whole campaign delivered again (a redrive of every page): nothing more is sent or planned.
    const again = await createCampaignPagesAgain(id);
    expect(again).toBeGreaterThan(0);
    await drain();
    expect(standin.messages().length).toBe(before + received.length);
    expect((await call('GET', `/campaigns/${id}`)).json).toMatchObject({ planned: AUDIENCE.length, sent: expectedSent.length, pending: 0 });

    // Erasing a recipient removes their campaign record; the report counts them as erased, not pending.
    const gone = expectedSent[0]!;
    await requestErasure(rt.store, rt.cfg, { memberId: gone, actor: 'admin:test', reason: 'test' }, NOON);
    expect((await runErasure({ store: rt.store, cfg: rt.cfg, now: () => NOON }, gone)).status).toBe('done');
    expect(await queryAll(aws.table, keys.memberPartition(gone))).toEqual([]);
    const afterErasure = (await call('GET', `/campaigns/${id}`)).json as Record<string, unknown>;
    expect(afterErasure).toMatchObject({ status: 'done', planned: AUDIENCE.length, sent: expectedSent.length - 1, pending: 0, erased: 1 });
    // The erased recipient's eligibility stays counted, without the member id.
    expect(afterErasure.lift).toEqual(report.lift);
  });

  it('POST /campaigns answers 202 and a campaign to nobody is done with nothing planned', async () => {
    const a = await call('POST', '/audiences', { body: { name: 'nobody', filter: { tier: ['diamond'], firstTouchFamily: ['wecom_contact'] } } });
    const aid = (a.json as { id: string }).id;
    const res = await call('POST', '/campaigns', { body: { name: 'empty', audienceId: aid, message: { text: '你好' } } });
    expect(res.statusCode).toBe(202);
    const { id, status } = res.json as { id: string; status: string };
    expect(status).toBe('planning');
    await drain();
    expect((await call('GET', `/campaigns/${id}`)).json).toMatchObject({ status: 'done', planned: 0, sent: 0, suppressed: {}, pending: 0 });
  });
});

/** Sends the first page of every segment of the campaign to the queue again; returns how many. */
async function createCampaignPagesAgain(campaignId: string): Promise<number> {
  const rows = firstPages('campaign', campaignId, campaignId, NOON, { pageSize: 25 });
  for (const r of rows) await sqs().send(new SendMessageCommand({ QueueUrl: aws.queues.engagement.url, MessageBody: JSON.stringify(r) }));
  return rows.length;
}
