/**
 * Faults on the write path, end to end through the real gateway of `startHub` (pollers off).
 *
 * One WeChat scenario — 1,400 distinct pushes for 300 users (follows through channel QR codes
 * and organic, QR scans, unfollows, text messages), sealed for the safe-mode account — is
 * delivered twice:
 *
 *   clean  prefix `clean_`, once each, in scenario order, no faults;
 *   fault  prefix `fault_`, plus 600 redeliveries (30 % of 2,000 deliveries), shuffled, while
 *          · 10 % of TransactWriteItems / GetItem / BatchGetItem HTTP attempts fail inside the
 *            SDK's retry loop (throughput exceeded, throttling, timeouts before and after the
 *            request reached DynamoDB, transaction conflicts), and 0.5 % of those calls fail
 *            past the SDK's retries, straight into the hub (test/support/faults.ts);
 *          · SQS SendMessage fails for a window of 40 sends, after the first 50 went through.
 *
 * Every delivery is retried like WeChat does (same signed request, up to 4 attempts, on anything
 * but 200; copies of one message one after the other, as WeChat resends only after a timeout)
 * and must end in 200. Then the faults are removed, the outbox sweep runs, and the
 * fault run must equal the clean run: same members (ids, versions and processing times
 * stripped), same counters (zeros equal absent; `organic` is shared by both runs, so its
 * counters are compared as differences), and exactly one welcome per first follow in the
 * engagement queue — none lost, none doubled, counted by messageId.
 *
 * Last, the engagement sender takes the fault run's welcomes while the WeChat stand-in answers
 * HTTP 503, errcode -1 (busy) and hangs past the client timeout (the message still lands) for some
 * sends: every welcome ends in a final state and no one receives a welcome twice.
 *
 * Last, copies of one first follow delivered at the same moment enqueue one welcome, and a read
 * throttled past the SDK's retries is answered 503.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { baseSettings, useLocalAws, type LocalAws, ddb, hubConfig, sqs } from '../support/env.ts';
import { failSqsSends, injectDynamoFaults, removeAllFaults, type FaultHandle } from '../support/faults.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { LOCAL_MAX_SKEW_SECONDS } from '../../lib/config/index.ts';

import { sendKey } from '../../lib/store/entities/send.ts';
import { sweepOutbox } from '../../lib/engagement/outbox.ts';
import { handler as senderHandler } from '../../functions/engagement-sender.ts';
import {
  counterTotals,
  deliver,
  drainQueue,
  memberByOpenid,
  prefixed,
  scenario,
  strip,
  subtractTotals,
  withDuplicates,
  type QueuedMessage,
  type ScenarioEvent,
} from './lib/wechat-driver.ts';
import { configuredAccount, signedPush } from '../support/wechat-client.ts';

const CHANNELS = ['ch_a', 'ch_b', 'ch_c', 'ch_d'] as const;
const BASE = scenario(1_400, 300, CHANNELS, 4242);
const CLEAN = prefixed(BASE, 'clean_', CHANNELS);
const FAULT_EVENTS = prefixed(BASE, 'fault_', CHANNELS);
const FAULT_DELIVERIES = withDuplicates(FAULT_EVENTS, 600, 77);
const PREFIXES = /(?:clean|fault)_/g;

let aws: LocalAws;
let hub: RunningHub;
const account = configuredAccount;

beforeAll(async () => {
  aws = await useLocalAws();
  // The scenario replays pushes dated in November 2025: the widest window the local runtime
  // allows (test/security covers the default window).
  hub = await startHub({
    port: 0,
    standinPort: 0,
    env: { ...baseSettings(aws), HUB_WEBHOOK_MAX_SKEW_SECONDS: String(LOCAL_MAX_SKEW_SECONDS) },
    clients: { ddb: aws.db, sqs: aws.sqs },
    queuePrefix: `flt${Date.now()}`,
    pollers: false,
    schedules: false,
    functions: ['wechat', 'outbox-sweep', 'engagement-sender'],
  });
});

afterAll(async () => {
  removeAllFaults(ddb());
  removeAllFaults(sqs());
  await hub?.stop();
});

/** Users with at least one follow in the scenario: each gets exactly one welcome. */
const followers = [...new Set(BASE.filter((e) => e.event === 'subscribe').map((e) => e.from))].sort();
const users = [...new Set(BASE.map((e) => e.from))].sort();

describe('2,000 WeChat deliveries under DynamoDB and SQS faults', () => {
  let queued: QueuedMessage[] = [];

  it('every delivery ends in 200 and the result equals a clean run', async () => {
    const shards = hubConfig().HUB_COUNTER_SHARDS;
    const organicBefore = await counterTotals(aws.table, 'organic', shards);

    const clean = await deliver(hub.url, CLEAN, account(), { concurrency: 8 });
    console.log('clean run answers:', JSON.stringify(clean.statusCounts));
    expect(clean.failed).toHaveLength(0);
    const organicAfterClean = await counterTotals(aws.table, 'organic', shards);

    const faults: FaultHandle[] = [
      injectDynamoFaults(ddb(), { seed: 101, rate: 0.1, layer: 'wire', timeoutMs: 60 }),
      injectDynamoFaults(ddb(), { seed: 202, rate: 0.005, layer: 'app', timeoutMs: 60 }),
      failSqsSends(sqs(), { after: 50, failures: 40 }),
    ];
    let faulted;
    try {
      faulted = await deliver(hub.url, FAULT_DELIVERIES, account(), { concurrency: 8, maxAttempts: 4, pauseBetweenRoundsMs: 200 });
    } finally {
      for (const f of faults) f.remove();
    }
    const injected = Object.fromEntries(faults.map((f) => [f.name, f.stats]));
    console.log('faults injected:', JSON.stringify(injected));
    console.log('fault run answers:', JSON.stringify(faulted.statusCounts), `attempts ${faulted.attempts} for ${FAULT_DELIVERIES.length} deliveries in ${faulted.elapsedMs} ms`);

    // The faults happened, the hub answered some of them with a retryable status, and every
    // delivery still ended in 200 within WeChat's attempts.
    expect(faults[0]!.stats.faults).toBeGreaterThan(100);
    expect(faults[2]!.stats.faults).toBe(40);
    expect(faulted.attempts).toBeGreaterThan(FAULT_DELIVERIES.length);
    expect(faulted.failed.map((d) => `${d.request.path} → ${d.statuses.join(',')}`)).toEqual([]);
    for (const status of Object.keys(faulted.statusCounts)) expect(['200', '500', '503']).toContain(status);

    // Whatever a commit left pending in the outbox is enqueued now.
    const swept = await sweepOutbox(hub.runtime, { minAgeMs: 0 });
    console.log('outbox sweep after the fault run:', JSON.stringify(swept));
    expect(swept.failed).toBe(0);

    // Members.
    const diffs: string[] = [];
    for (const u of users) {
      const a = strip(await memberByOpenid(aws.table, account().appId, `clean_${u}`), PREFIXES);
      const b = strip(await memberByOpenid(aws.table, account().appId, `fault_${u}`), PREFIXES);
      expect(a, `clean member ${u}`).toBeDefined();
      if (!isDeepStrictEqual(a, b)) diffs.push(`${u}: clean ${JSON.stringify(a)}\n   fault ${JSON.stringify(b)}`);
    }
    expect(diffs.slice(0, 5), `${diffs.length} members differ`).toEqual([]);

    // Counters.
    for (const ch of CHANNELS) {
      const c = await counterTotals(aws.table, `clean_${ch}`, shards);
      expect(Object.keys(c).length).toBeGreaterThan(0);
      expect(await counterTotals(aws.table, `fault_${ch}`, shards), ch).toEqual(c);
    }
    const organicAfterFault = await counterTotals(aws.table, 'organic', shards);
    const cleanOrganic = subtractTotals(organicAfterClean, organicBefore);
    expect(Object.keys(cleanOrganic).length).toBeGreaterThan(0);
    expect(subtractTotals(organicAfterFault, organicAfterClean)).toEqual(cleanOrganic);

    // The engagement queue: one welcome per first follow, per run.
    queued = await drainQueue(sqs(), hub.queues.engagement.url);
    const welcomes = queued.filter((m) => m.body.ruleId === 'welcome_follow');
    expect(queued.length - welcomes.length, 'only welcomes are planned by this scenario').toBe(0);
    for (const prefix of ['clean_', 'fault_']) {
      const mine = welcomes.filter((m) => String(m.body.openid).startsWith(prefix));
      const byMessageId = new Map<string, number>();
      for (const m of mine) byMessageId.set(String(m.body.messageId), (byMessageId.get(String(m.body.messageId)) ?? 0) + 1);
      const doubled = [...byMessageId].filter(([, n]) => n > 1);
      expect(doubled, `${prefix} welcomes enqueued more than once`).toEqual([]);
      expect(byMessageId.size, `${prefix} distinct welcomes`).toBe(followers.length);
      const openids = mine.map((m) => String(m.body.openid).slice(prefix.length)).sort();
      expect(openids).toEqual(followers);
    }
  });

  it('the sender delivers each welcome at most once while the WeChat API fails, and none is left unfinished', async () => {
    const welcomes = queued.filter((m) => m.body.ruleId === 'welcome_follow' && String(m.body.openid).startsWith('fault_'));
    expect(welcomes).toHaveLength(followers.length);
    hub.standin.clearMessages();
    hub.standin.setFault('/cgi-bin/message/custom/send', { type: 'http', status: 503 }, 12);
    // (45009 is not retried within the day: the sender defers it, test/integration/engagement-sender.test.ts.)
    hub.standin.setFault('/cgi-bin/message/custom/send', { type: 'errcode', errcode: -1, errmsg: 'system error' }, 12);
    hub.standin.setFault('/cgi-bin/message/custom/send', { type: 'hang', ms: 3_500, thenProcess: true }, 3);
    hub.standin.setFault('/cgi-bin/message/template/send', { type: 'http', status: 502 }, 5);

    // The sender runs as the welcome's own Lambda would: a few seconds after the follow.
    let clock = 0;
    const senderRuntime = hub.runtime.with({ now: () => clock });
    const send = (event: SQSEvent) => senderHandler(event, { hub: senderRuntime });
    const record = (m: QueuedMessage, receive: number): SQSRecord => ({
      messageId: m.sqsMessageId,
      receiptHandle: `local-${m.sqsMessageId}-${receive}`,
      body: JSON.stringify(m.body),
      attributes: {
        ApproximateReceiveCount: String(receive),
        SentTimestamp: String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: hub.queues.engagement.arn,
      awsRegion: 'us-east-1',
    });
    let pending = welcomes;
    for (let receive = 1; receive <= 6 && pending.length; receive++) {
      const again: QueuedMessage[] = [];
      for (const m of pending) {
        clock = Number(m.body.triggeredAt) + 3_000 + receive * 2_000;
        const event: SQSEvent = { Records: [record(m, receive)] };
        const out = await send(event);
        if (out.batchItemFailures.length) again.push(m);
      }
      pending = again;
    }
    expect(pending.map((m) => m.body.openid)).toEqual([]);
    // Hung requests finish on the stand-in's side after the client gave up: wait until it holds none.
    await hub.standin.settled();

    const statuses: Record<string, number> = {};
    const byOpenid = new Map<string, number>();
    for (const msg of hub.standin.messages()) byOpenid.set(msg.touser, (byOpenid.get(msg.touser) ?? 0) + 1);
    const problems: string[] = [];
    for (const m of welcomes) {
      const rec = (await ddb().send(new GetCommand({ TableName: aws.table, Key: sendKey(String(m.body.messageId)), ConsistentRead: true }))).Item;
      const status = String(rec?.status);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const received = byOpenid.get(String(m.body.openid)) ?? 0;
      if (!['sent', 'suppressed', 'unknown', 'failed'].includes(status)) problems.push(`${String(m.body.openid)}: status ${status}`);
      if (received > 1) problems.push(`${String(m.body.openid)}: received ${received} messages`);
      if (status === 'sent' && received !== 1) problems.push(`${String(m.body.openid)}: sent but received ${received}`);
      if (status === 'suppressed' && received !== 0) problems.push(`${String(m.body.openid)}: suppressed but received ${received}`);
    }
    console.log('welcome send outcomes:', JSON.stringify(statuses), `messages at the stand-in: ${hub.standin.messages().length}`);
    expect(problems.slice(0, 10), `${problems.length} problems`).toEqual([]);
    expect(statuses.sent ?? 0).toBeGreaterThan(0);
    hub.standin.clearFaults();
  });

  // Copies of one push processed at the same moment (WeChat resends after 5 s while a slow first
  // attempt still runs): the outbox row is claimed before it is sent, so it is enqueued once.
  it('copies of a first follow delivered at the same moment enqueue one welcome', async () => {
    const cfg = account();
    const before = await drainQueue(sqs(), hub.queues.engagement.url);
    expect(before).toEqual([]);
    const sends: Promise<Response>[] = [];
    const n = 20;
    for (let i = 0; i < n; i++) {
      const e: ScenarioEvent = { from: `race_u${i}`, createTime: 1_763_500_000 + i, msgType: 'event', event: 'subscribe', eventKey: 'qrscene_race_ch' };
      const req = signedPush(e, cfg);
      for (let copy = 0; copy < 3; copy++) sends.push(fetch(hub.url + req.path, { method: 'POST', body: req.body }));
    }
    const statuses = (await Promise.all(sends)).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const messages = await drainQueue(sqs(), hub.queues.engagement.url);
    expect(new Set(messages.map((m) => m.body.messageId)).size).toBe(n);
    expect(messages).toHaveLength(n);
  });

  // A storage error in the planning phase (identity BatchGetItem, member and channel GetItems)
  // that outlasts the SDK's retries is transient: 503 with retry-after, and WeChat's retry succeeds.
  it('a read throttled past the SDK retries is answered 503 transient, not 500', async () => {
    const fault = injectDynamoFaults(ddb(), { seed: 1, rate: 1, layer: 'app', commands: ['BatchGetItemCommand'], kinds: { throttle: 1 } });
    const e: ScenarioEvent = { from: 'read_fault_u1', createTime: 1_763_600_000, msgType: 'event', event: 'subscribe', eventKey: '' };
    const req = signedPush(e, account());
    let status: number;
    let body: string;
    try {
      const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body });
      status = res.status;
      body = await res.text();
    } finally {
      fault.remove();
    }
    const retry = await fetch(hub.url + req.path, { method: 'POST', body: req.body });
    expect(retry.status).toBe(200);
    await drainQueue(sqs(), hub.queues.engagement.url);
    expect(status).toBe(503);
    expect(JSON.parse(body)).toMatchObject({ error: 'transient' });
  });
});
