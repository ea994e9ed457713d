/**
 * Lift against the holdout (docs/design.md#lift) on DynamoDB Local, the local SQS server and the
 * WeChat stand-in: members made by the real write path (follows, unfollows, paid orders through
 * lib/apply), marketing rows of a rule and of a campaign received from SQS by the production
 * sender handler, the report read through the attribution API handler.
 *
 * The rows meet every guardrail: sent, capped (a second marketing message the same day),
 * deferred by quiet hours and decided again twice, held back as holdout, and unfollowed (in no
 * arm). The orders arrive twice and shuffled, some before any eligibility exists. The expected
 * report is an independent model of the raw inputs: the arm from the member id's bucket, the
 * eligibility time from the clock of the first delivery, the conversion from the distinct paid
 * orders' times. An erasure afterwards leaves the report unchanged and no record naming the person.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSEvent } from 'aws-lambda';
import { useLocalAws, ddb, sqs, hubContext, type LocalAws } from '../support/env.ts';
import { getItem, queryAll, scanAll } from '../support/table.ts';
import { sendKey } from '../../lib/store/entities/send.ts';
import { paidYouzanOrder } from '../support/orders.ts';
import { seededRandom, shuffle } from '../support/random.ts';
import { apply, type ApplyDeps } from '../../lib/apply/apply.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { keys } from '../../lib/store/keys.ts';
import { bucketOf } from '../../lib/ids.ts';
import { HOLDOUT_BUCKETS } from '../../lib/config/engagement.ts';
import { messageIdOf, type OutboxRow } from '../../lib/engagement/outbox.ts';
import { sendOne, type SenderDeps } from '../../lib/engagement/send/flow.ts';
import { newcombe } from '../../lib/insight/stats.ts';
import { requestErasure, runErasure } from '../../lib/privacy/erase.ts';
import { handler as senderHandler } from '../../functions/engagement-sender.ts';
import { handler as apiHandler } from '../../functions/attribution-api.ts';
import { createWechatApi } from '../../lib/wechat/client.ts';
import type { WechatApi } from '../../lib/wechat/wire.ts';
import { memoryTokenCache } from '../../lib/wechat/token-cache.ts';
import { startWechatStandin, type WechatStandin } from '../../local/wechat-standin.ts';
import { pollOnce } from '../../local/poller.ts';
import type { Runtime } from '../../lib/runtime/runtime.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
/** Shanghai (UTC+8) wall clock → epoch ms. */
const sh = (d: number, h: number, mi = 0) => Date.UTC(2025, 2, d, h - 8, mi);
/** 30 % holdout: both arms get enough members from a few dozen. */
const HOLDOUT = 3000;
const CAMPAIGN = 'campaign:spring';
const CAMPAIGN_DAYS = 7;
const RULE_DAYS = 14;
const N_MEMBERS = 36;

let aws: LocalAws;
let standin: WechatStandin;
let api: WechatApi;
let rt: Runtime;
let clock = sh(1, 9);

/** ChangeMessageVisibility passed through; the deferrals' handles kept so the morning can make them visible. */
const held: { QueueUrl: string; ReceiptHandle: string }[] = [];
const sqsSpy = {
  send(cmd: unknown) {
    if (cmd instanceof ChangeMessageVisibilityCommand) held.push({ QueueUrl: cmd.input.QueueUrl!, ReceiptHandle: cmd.input.ReceiptHandle! });
    return sqs().send(cmd as never);
  },
} as unknown as Pick<SQSClient, 'send'>;

interface Person {
  openid: string;
  memberId: string;
  unfollowed: boolean;
}
const people: Person[] = [];
/** Every order event, once (the model's input); applied twice and shuffled. */
const orderEvents: HubEvent[] = [];
/** The model's record of each marketing row: when it was first decided. */
const decided: { row: OutboxRow; firstAt: number }[] = [];

const APP = () => rt.cfg.WECHAT_APP_ID;
const applyDeps = (): ApplyDeps => ({ db: ddb(), table: aws.table, cfg: rt.cfg, now: () => clock, drainer: async () => {} });
const buyerOf = (openid: string) => [
  { kind: 'youzan_open_id' as const, value: `yz_${openid}` },
  { kind: 'wechat_openid' as const, value: `${APP()}:${openid}` },
];

function marketingRow(p: Person, ruleId: string, step: string): OutboxRow {
  const r = {
    memberId: p.memberId,
    ruleId,
    step,
    class: 'marketing' as const,
    destination: 'member' as const,
    payload: { templateId: 'TPL_REPURCHASE', text: '春季新品', percentOff: 10 },
    appId: APP(),
    openid: p.openid,
    triggeredAt: clock,
    createdAt: clock,
  };
  return { ...r, messageId: messageIdOf(r) };
}

const handler = (event: SQSEvent) => senderHandler(event, { hub: rt });
const DECIDED = new Set(['sent', 'suppressed', 'deferred', 'failed', 'unknown']);

/**
 * Receives and handles until every row of `rows` has been decided (its send record in a decided
 * state): a message sent to the emulator may turn visible a tick later, so an empty receive alone
 * does not mean "done". Long polls of 1 s once the first empty receive came.
 */
async function drainUntilDecided(rows: readonly OutboxRow[]): Promise<void> {
  let empty = false;
  for (let round = 0; round < 60; round++) {
    const r = await pollOnce({ sqs: sqs(), queueUrl: aws.queues.engagement.url, queueArn: aws.queues.engagement.arn, name: 'engagement-sender', handler: handler as never, waitSeconds: empty ? 1 : 0 });
    empty = r.received === 0;
    const states = await Promise.all(rows.map((x) => getItem(aws.table, sendKey(x.messageId))));
    if (states.every((st) => st !== undefined && DECIDED.has(String(st.status)))) return;
  }
  throw new Error('the sender did not decide every row');
}

/** After the night: until every deferred row of `rows` went out. */
async function drainUntilSent(rows: readonly OutboxRow[]): Promise<void> {
  for (let round = 0; round < 60; round++) {
    await pollOnce({ sqs: sqs(), queueUrl: aws.queues.engagement.url, queueArn: aws.queues.engagement.arn, name: 'engagement-sender', handler: handler as never, waitSeconds: 1 });
    const states = await Promise.all(rows.map((x) => getItem(aws.table, sendKey(x.messageId))));
    if (states.every((st) => st?.status !== 'deferred')) return;
  }
  throw new Error('the deferred rows did not go out');
}

/** Enqueues the rows through SQS at `at` and lets the production handler decide them; the model notes the first decision. */
async function deliver(rows: OutboxRow[], at: number): Promise<void> {
  clock = at;
  for (const r of rows) {
    await sqs().send(new SendMessageCommand({ QueueUrl: aws.queues.engagement.url, MessageBody: JSON.stringify(r) }));
    decided.push({ row: r, firstAt: at });
  }
  await drainUntilDecided(rows);
}

async function applyShuffled(events: HubEvent[], seed: number): Promise<void> {
  const twice = [...events, ...events];
  shuffle(twice, seed);
  for (const e of twice) await apply(e, applyDeps());
}

function liftEvent(qs: Record<string, string>): APIGatewayProxyEventV2 {
  const raw = new URLSearchParams(qs).toString();
  return {
    version: '2.0',
    routeKey: 'GET /insight/lift',
    rawPath: '/insight/lift',
    rawQueryString: raw,
    headers: { authorization: `Bearer ${rt.cfg.HUB_ADMIN_TOKEN}` },
    queryStringParameters: qs,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path: '/insight/lift', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'r',
      routeKey: 'GET /insight/lift',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
async function lift(qs: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = (await apiHandler(liftEvent(qs), hubContext(rt))) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode ?? 0, json: JSON.parse(res.body ?? 'null') };
}

/** The independent model: per rule, the arms' eligible and converted counts from the raw inputs. */
function model(ruleId: string, days: number) {
  const paid = new Map<string, Map<string, number>>();
  for (const e of orderEvents) {
    if (e.type !== 'order') continue;
    const openid = e.buyer.find((b) => b.kind === 'wechat_openid')!.value.split(':')[1]!;
    (paid.get(openid) ?? paid.set(openid, new Map()).get(openid)!).set(e.orderId, e.paidAt!);
  }
  const arms = { treated: { eligible: 0, converted: 0 }, holdout: { eligible: 0, converted: 0 } };
  const first = new Map<string, number>();
  for (const d of decided) if (d.row.ruleId === ruleId && !first.has(d.row.messageId)) first.set(d.row.messageId, d.firstAt);
  for (const [messageId, at] of first) {
    const row = decided.find((d) => d.row.messageId === messageId)!.row;
    const p = people.find((x) => x.memberId === row.memberId)!;
    if (p.unfollowed) continue;
    const arm = bucketOf(p.memberId, HOLDOUT_BUCKETS) < HOLDOUT ? arms.holdout : arms.treated;
    arm.eligible++;
    if ([...(paid.get(p.openid)?.values() ?? [])].some((t) => t >= at && t < at + days * DAY)) arm.converted++;
  }
  return arms;
}

function expectReport(r: Record<string, unknown>, ruleId: string, days: number): void {
  const m = model(ruleId, days);
  const rate = (a: { eligible: number; converted: number }) => a.converted / a.eligible;
  expect(r).toMatchObject({ rule: ruleId, conversionDays: days, treated: { ...m.treated, rate: rate(m.treated) }, holdout: { ...m.holdout, rate: rate(m.holdout) } });
  expect(r.absoluteLift).toBeCloseTo(rate(m.treated) - rate(m.holdout), 12);
  const ci = newcombe(m.treated, m.holdout);
  expect(r.ci95).toEqual(ci);
  expect(r.verdict).toBe(ci.low > 0 ? 'positive' : ci.high < 0 ? 'negative' : 'no_effect_yet');
}

beforeAll(async () => {
  aws = await useLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'lift-rules-'));
  const rulesFile = join(dir, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify({ lift: { conversionDays: RULE_DAYS, byRule: { [CAMPAIGN]: { conversionDays: CAMPAIGN_DAYS } } } }));
  const app = aws.runtime.cfg.WECHAT_APP_ID;
  standin = await startWechatStandin({ port: 0, apps: { [app]: aws.runtime.cfg.WECHAT_APP_SECRET } });
  api = createWechatApi({ appId: app, appSecret: aws.runtime.cfg.WECHAT_APP_SECRET, baseUrl: standin.url, tokenCache: memoryTokenCache(), timeoutMs: 2000 });
  rt = aws.runtime.with({
    settings: { WECHAT_API_BASE: standin.url, HUB_TIMEZONE: TZ, HUB_RULES_FILE: rulesFile, HUB_ENGAGEMENT_POLICY: JSON.stringify({ holdout: HOLDOUT }) },
    now: () => clock,
    wechat: () => api,
    clients: { sqs: sqsSpy },
  });
  if (rt.cfg.policy.holdout !== HOLDOUT || rt.cfg.rules.lift.byRule[CAMPAIGN]?.conversionDays !== CAMPAIGN_DAYS) throw new Error('the runtime does not carry the test policy and rules');

  // People: a follow each (the real write path makes the member and its identity); two unfollow.
  for (let i = 0; i < N_MEMBERS; i++) {
    const openid = `o_lift_${i}`;
    clock = sh(1, 9) - 30 * DAY + i * 60_000;
    await apply({ type: 'wechat.follow', source: 'wechat', appId: APP(), openid, eventId: `lift:f:${i}`, occurredAt: clock, scene: null } as HubEvent, applyDeps());
    const owner = await queryAll(aws.table, identityKey('wechat_openid', `${APP()}:${openid}`).pk);
    people.push({ openid, memberId: String(owner[0]!.memberId), unfollowed: i >= N_MEMBERS - 2 });
  }
  for (const p of people.filter((x) => x.unfollowed)) {
    await apply({ type: 'wechat.unfollow', source: 'wechat', appId: APP(), openid: p.openid, eventId: `lift:u:${p.openid}`, occurredAt: sh(1, 8) } as HubEvent, applyDeps());
  }

  // Orders: 0–3 per person, paid between 5 days before and 20 days after the first sends.
  const rnd = seededRandom(23);
  for (const p of people) {
    const n = Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const at = sh(1, 9) + Math.floor((rnd() * 25 - 5) * DAY);
      orderEvents.push(paidYouzanOrder({ eventId: `lift:o:${p.openid}:${k}`, shopId: '12345678', orderId: `LIFT${p.openid}${k}`, at, fen: 9_900, buyer: buyerOf(p.openid) }));
    }
  }
  const early = orderEvents.filter((_, i) => i % 3 === 0);
  const late = orderEvents.filter((_, i) => i % 3 !== 0);
  // A third of the orders arrive (twice) before any eligibility is recorded.
  clock = sh(1, 9);
  await applyShuffled(early, 1);

  // Day 1 10:00: the campaign to everyone (sent, or holdout; unfollowed in no arm).
  await deliver(people.map((p) => marketingRow(p, CAMPAIGN, 'spring')), sh(1, 10));
  // Day 1 15:00: the rule to the first third: capped (the campaign went out this morning) or holdout.
  await deliver(people.slice(0, 12).map((p) => marketingRow(p, 'repurchase', 'a')), sh(1, 15));
  // Day 1 23:00: the rule to the second third: deferred by quiet hours (or holdout).
  const night = people.slice(12, 24).map((p) => marketingRow(p, 'repurchase', 'b'));
  await deliver(night, sh(1, 23));
  // 02:00: duplicate deliveries decided again, still deferred.
  clock = sh(2, 2);
  const senderDeps: SenderDeps = { db: ddb(), table: aws.table, now: () => clock, wechat: api, policy: rt.cfg.policy, tz: TZ };
  for (const r of night) await sendOne(r, senderDeps);
  // 08:00: the held messages come back and go out.
  clock = sh(2, 8);
  for (const h of held.splice(0)) await sqs().send(new ChangeMessageVisibilityCommand({ ...h, VisibilityTimeout: 0 }));
  await drainUntilSent(night);

  // The rest of the orders, twice, shuffled, and the early ones once more.
  clock = sh(28, 9);
  await applyShuffled([...late, ...early], 2);
});

afterAll(async () => {
  await standin?.close();
});

describe('eligibility at decision time', () => {
  it('one record per marketing message, in its arm, with the first decision; unfollowed in neither arm', async () => {
    const records = (await scanAll(aws.table)).filter((i) => String(i.pk).startsWith('MEMBER#') && String(i.sk).startsWith('LIFT#'));
    const expected = new Map<string, { arm: string; eligibleAt: number }>();
    for (const d of decided) {
      const p = people.find((x) => x.memberId === d.row.memberId)!;
      if (!p.unfollowed && !expected.has(d.row.messageId)) expected.set(d.row.messageId, { arm: bucketOf(p.memberId, HOLDOUT_BUCKETS) < HOLDOUT ? 'holdout' : 'treated', eligibleAt: d.firstAt });
    }
    expect(records).toHaveLength(expected.size);
    for (const r of records) expect(r, String(r.messageId)).toMatchObject(expected.get(String(r.messageId))!);
    // The decisions recorded: every guardrail outcome appears, and a deferred row kept its first one.
    const decisions = new Set(records.map((r) => `${String(r.ruleId)}:${String(r.arm)}:${String(r.decision)}`));
    expect(decisions).toEqual(new Set([`${CAMPAIGN}:treated:send`, `${CAMPAIGN}:holdout:holdout`, 'repurchase:treated:cap_daily', 'repurchase:holdout:holdout', 'repurchase:treated:defer']));
    // The night rows were sent in the morning (decided three times, recorded once).
    const treatedNight = records.filter((r) => r.decision === 'defer');
    expect(treatedNight.length).toBeGreaterThan(0);
    for (const r of treatedNight) expect(standin.messages().some((m) => m.clientMsgId === r.messageId)).toBe(true);
  });
});

describe('GET /insight/lift', () => {
  it('equals the independent model, for a rule, a campaign, and all rules', async () => {
    const rule = await lift({ rule: 'repurchase', from: '2025-03-01', to: '2025-03-02' });
    expect(rule.status).toBe(200);
    expectReport(rule.json, 'repurchase', RULE_DAYS);
    const campaign = await lift({ rule: CAMPAIGN, from: '2025-03-01', to: '2025-03-01' });
    expectReport(campaign.json, CAMPAIGN, CAMPAIGN_DAYS);
    expect(campaign.json.treated.eligible + campaign.json.holdout.eligible).toBe(N_MEMBERS - 2);
    expect(campaign.json.holdout.eligible).toBeGreaterThan(0);
    expect(campaign.json.treated.eligible).toBeGreaterThan(0);

    const all = await lift({ from: '2025-03-01', to: '2025-03-31' });
    expect(all.json.rules.map((r: { rule: string }) => r.rule)).toEqual([CAMPAIGN, 'repurchase']);
    expectReport(all.json.rules[0], CAMPAIGN, CAMPAIGN_DAYS);
    expectReport(all.json.rules[1], 'repurchase', RULE_DAYS);
    // A range with no eligibility: empty arms, no verdict but "not yet".
    const none = await lift({ rule: 'birthday', from: '2025-02-01', to: '2025-02-28' });
    expect(none.json).toMatchObject({ treated: { eligible: 0, converted: 0, rate: null }, holdout: { eligible: 0, rate: null }, verdict: 'no_effect_yet', neededMore: null });
  });

  it('bad input is a 400 with the reason', async () => {
    expect((await lift({ from: '2025-03-01' })).json).toMatchObject({ error: 'bad_date' });
    expect((await lift({ rule: 'x#y', from: '2025-03-01', to: '2025-03-02' })).json).toMatchObject({ error: 'bad_rule' });
    expect((await lift({ rule: 'x#y', from: '2025-03-01', to: '2025-03-02' })).status).toBe(400);
  });

  it('an erasure leaves the numbers as they were and no record naming the person', async () => {
    const before = await lift({ from: '2025-03-01', to: '2025-03-31' });
    // A treated person with an order in the window, and a holdout one.
    const victims = [people.find((p) => !p.unfollowed && bucketOf(p.memberId, HOLDOUT_BUCKETS) >= HOLDOUT)!, people.find((p) => !p.unfollowed && bucketOf(p.memberId, HOLDOUT_BUCKETS) < HOLDOUT)!];
    for (const v of victims) {
      await requestErasure(aws.runtime.store, rt.cfg, { memberId: v.memberId, actor: 'admin:test', reason: 'test' }, clock);
      expect((await runErasure({ store: aws.runtime.store, cfg: rt.cfg, now: () => clock }, v.memberId)).status).toBe('done');
    }
    const after = await lift({ from: '2025-03-01', to: '2025-03-31' });
    expect(after.json).toEqual(before.json);
    const items = await scanAll(aws.table);
    for (const v of victims) {
      expect(await queryAll(aws.table, keys.memberPartition(v.memberId), 'LIFT#')).toEqual([]);
      // The erasure's own job and audit entry keep the member id (docs/privacy.md#erasure), nothing else.
      expect(items.filter((i) => JSON.stringify(i).includes(v.memberId) && !/^(ERASE|AUDIT)#/.test(String(i.pk)))).toEqual([]);
    }
    expect(items.filter((i) => String(i.pk).startsWith('LIFTERASED#')).length).toBeGreaterThanOrEqual(2);
  });
});
