/**
 * The engagement sender against DynamoDB Local, the local SQS server and the WeChat stand-in:
 * real queue receives (local/poller.ts pollOnce) into the real handler, with the clock and the
 * WeChat client injected. Every guardrail is proven by what the stand-in recorded.
 *
 * ChangeMessageVisibility goes through a recording wrapper: in `immediate` mode it asks SQS for
 * visibility 0 (the test does not wait out backoffs), in `hold` mode it forwards the real delay
 * and `release()` later plays "the delay is over". The requested delays are asserted.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { useLocalAws, type LocalAws, ddb, hubConfig, sqs, hubContext } from '../support/env.ts';
import { getItem, queryAll } from '../support/table.ts';


import { keys } from '../../lib/store/keys.ts';
import { sendByMsgIdKey, sendKey } from '../../lib/store/entities/send.ts';
import { memberKey } from '../../lib/store/entities/member.ts';
import { bucketOf } from '../../lib/ids.ts';
import { messageIdOf, type OutboxRow } from '../../lib/engagement/outbox.ts';
import { DEFAULT_POLICY, HOLDOUT_BUCKETS } from '../../lib/config/engagement.ts';
import { sendOne, type SenderDeps } from '../../lib/engagement/send/flow.ts';
import { sweepOutbox } from '../../lib/engagement/outbox.ts';
import { redrive } from '../../lib/store/sqs-redrive.ts';
import { handler as productionHandler } from '../../functions/engagement-sender.ts';
import { createWechatApi } from '../../lib/wechat/client.ts';
import type { WechatApi } from '../../lib/wechat/wire.ts';
import { memoryTokenCache } from '../../lib/wechat/token-cache.ts';
import { startWechatStandin, type WechatStandin } from '../../local/wechat-standin.ts';
import { pollOnce } from '../../local/poller.ts';
import { QUEUES } from '../../lib/queues.ts';

const TZ = 'Asia/Shanghai';
const TEMPLATE = '/cgi-bin/message/template/send';
const CUSTOM = '/cgi-bin/message/custom/send';
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Shanghai (UTC+8) wall clock → epoch ms. */
const sh = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
const NOON = sh(2025, 3, 10, 12);

let aws: LocalAws;
let standin: WechatStandin;
let api: WechatApi;
let clock = NOON;
let APP: string;

// ---------------------------------------------------------------------------------------------
// SQS visibility wrapper

type Mode = 'immediate' | 'hold';
const visibility = {
  mode: 'immediate' as Mode,
  requested: [] as number[],
  held: [] as { QueueUrl: string; ReceiptHandle: string }[],
  reset(mode: Mode = 'immediate') {
    this.mode = mode;
    this.requested = [];
    this.held = [];
  },
  /** The held delays are over: make those messages visible now. */
  async release() {
    for (const h of this.held.splice(0)) await sqs().send(new ChangeMessageVisibilityCommand({ ...h, VisibilityTimeout: 0 }));
  },
};
const sqsSpy = {
  send(cmd: unknown) {
    if (cmd instanceof ChangeMessageVisibilityCommand) {
      const input = cmd.input;
      visibility.requested.push(input.VisibilityTimeout ?? -1);
      if (visibility.mode === 'hold') {
        visibility.held.push({ QueueUrl: input.QueueUrl!, ReceiptHandle: input.ReceiptHandle! });
        return sqs().send(cmd);
      }
      return sqs().send(new ChangeMessageVisibilityCommand({ ...input, VisibilityTimeout: 0 }));
    }
    return sqs().send(cmd as never);
  },
} as unknown as Pick<SQSClient, 'send'>;

// ---------------------------------------------------------------------------------------------
// Helpers

const openidOf = (memberId: string) => `o_${memberId.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** A member id in (or out of) the default 5 % holdout. */
function memberId(tag: string, inHoldout = false): string {
  for (let i = 0; ; i++) {
    const id = `m-${tag}-${i}`;
    if ((bucketOf(id, HOLDOUT_BUCKETS) < DEFAULT_POLICY.holdout) === inHoldout) return id;
  }
}

async function putMember(id: string, over: Record<string, unknown> = {}): Promise<void> {
  const item = {
    ...memberKey(id),
    memberId: id,
    version: 1,
    createdAt: NOON - 90 * DAY,
    updatedAt: NOON - 90 * DAY,
    status: 'fan',
    wechat: { appId: APP, openid: openidOf(id), followed: true },
    firstTouch: { channel: 'organic', at: NOON - 90 * DAY },
    lastTouch: { channel: 'organic', at: NOON - 90 * DAY },
    points: 0,
    tier: 'normal',
    orderCount: 0,
    gmvFen: 0,
    lifecycle: 'new',
    h: { f: [], u: [], q: [], c: [], o: [] },
    credits: {},
    ...over,
  };
  await ddb().send(new PutCommand({ TableName: aws.table, Item: item }));
}

function row(member: string, over: Partial<OutboxRow> = {}): OutboxRow {
  const r = {
    memberId: member,
    ruleId: 'repurchase',
    step: 'd30',
    class: 'marketing' as const,
    destination: 'member' as const,
    payload: { templateId: 'TPL_REPURCHASE', text: '好久不见，回来看看新品', link: 'https://example.com/member', percentOff: 10 },
    appId: APP,
    openid: openidOf(member),
    triggeredAt: clock,
    createdAt: clock,
    ...over,
  };
  return { ...r, messageId: over.messageId ?? messageIdOf(r) };
}

async function enqueue(r: OutboxRow | string, copies = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < copies; i++) {
    const res = await sqs().send(new SendMessageCommand({ QueueUrl: aws.queues.engagement.url, MessageBody: typeof r === 'string' ? r : JSON.stringify(r) }));
    ids.push(res.MessageId!);
  }
  return ids;
}

type Handler = (event: SQSEvent) => Promise<unknown>;
let handler: Handler;
/** The production handler on the file's runtime with the real clock and configuration. */
let production: Handler;

/**
 * Receives and handles until the queue is settled: nothing visible, and nothing in flight but the
 * messages the `hold` mode holds back. (A message made visible again with visibility 0 turns
 * visible on the emulator's next timer tick, so an empty receive alone does not mean "done".)
 * Returns the batches' sizes and failures.
 */
async function drain(h: Handler = handler, maxRounds = 40): Promise<{ received: number; failed: number }> {
  let received = 0;
  let failed = 0;
  for (let round = 0; round < maxRounds; round++) {
    const r = await pollOnce({
      sqs: sqs(),
      queueUrl: aws.queues.engagement.url,
      queueArn: aws.queues.engagement.arn,
      name: 'engagement-sender',
      handler: h as never,
      waitSeconds: 0,
    });
    received += r.received;
    failed += r.failed;
    if (r.received === 0 && (await queueCounts(aws.queues.engagement.url)).inFlight <= visibility.held.length) break;
  }
  return { received, failed };
}

const callsTo = (path: string, member: string) => standin.calls(path).filter((c) => (c.body as { touser?: string } | undefined)?.touser === openidOf(member));
const sentTo = (member: string) => standin.messages().filter((m) => m.touser === openidOf(member));
const sendRecord = (messageId: string) => getItem(aws.table, sendKey(messageId));
const memberRows = (member: string, prefix: 'SENT#' | 'SUPPRESS#') => queryAll(aws.table, keys.memberPartition(member), prefix);
/** The claim a worker left when it died during its WeChat call (`via`, at `callAt`), lease expired. */
async function putDeadClaim(r: OutboxRow, via: 'template' | 'custom', callAt: number): Promise<void> {
  const claim = { status: 'sending', attempts: 1, claimToken: 'dead-worker', leaseUntil: clock - 1, callVia: via, callAt, callClientMsgId: r.messageId, callAppId: APP, callOpenid: openidOf(r.memberId) };
  await ddb().send(new PutCommand({ TableName: aws.table, Item: { ...sendKey(r.messageId), ...claim } }));
}
async function queueCounts(url: string) {
  const { Attributes } = await sqs().send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}
const deps = (): SenderDeps => ({ db: ddb(), table: aws.table, now: () => clock, wechat: api, policy: DEFAULT_POLICY, tz: TZ });

beforeAll(async () => {
  aws = await useLocalAws();
  APP = hubConfig().WECHAT_APP_ID;
  standin = await startWechatStandin({ port: 0, apps: { [APP]: hubConfig().WECHAT_APP_SECRET } });
  api = createWechatApi({ appId: APP, appSecret: hubConfig().WECHAT_APP_SECRET, baseUrl: standin.url, tokenCache: memoryTokenCache(), timeoutMs: 400 });
  const configured = aws.runtime.with({ settings: { WECHAT_API_BASE: standin.url, HUB_TIMEZONE: TZ } });
  production = (event) => productionHandler(event, hubContext(configured, 'engagement-sender'));
  const rt = configured.with({ now: () => clock, wechat: () => api, clients: { sqs: sqsSpy } });
  if (rt.cfg.HUB_TIMEZONE !== TZ || JSON.stringify(rt.cfg.policy) !== JSON.stringify(DEFAULT_POLICY)) throw new Error('the sender runtime is not on the test time zone and policy');
  handler = (event) => productionHandler(event, { hub: rt });
});
afterAll(async () => {
  await standin?.close();
});
beforeEach(() => {
  clock = NOON;
  visibility.reset();
  standin.clearFaults();
});

// ---------------------------------------------------------------------------------------------

describe('exactly once per messageId', () => {
  it('a message delivered 3 times is sent once (production handler, real clock and config)', async () => {
    const m = memberId('dup');
    await putMember(m);
    const r = row(m, { ruleId: 'points_scan', step: 'lot-1', class: 'transactional', payload: { templateId: 'TPL_POINTS_CHANGE', points: 5, balance: 105 }, triggeredAt: Date.now() });
    await enqueue(r, 3);
    const first = await drain(production);
    expect(first).toEqual({ received: 3, failed: 0 });
    await enqueue(r); // a later redelivery (outbox sweep, redrive)
    expect(await drain(production)).toEqual({ received: 1, failed: 0 });

    const sent = sentTo(m);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'template', templateId: 'TPL_POINTS_CHANGE', clientMsgId: r.messageId });
    expect(sent[0]!.body.data).toEqual({ points: { value: '5' }, balance: { value: '105' } });
    const rec = await sendRecord(r.messageId);
    expect(rec).toMatchObject({ status: 'sent', via: 'template', attempts: 1, msgid: sent[0]!.msgid, idempotencyKey: r.messageId });
    // msgids beyond 2^53 survive as strings, and the receipt lookup finds the send record.
    expect(sent[0]!.msgid).toMatch(/^2000000000000000\d{3}$/);
    const byMsg = await ddb().send(new GetCommand({ TableName: aws.table, Key: sendByMsgIdKey(APP, sent[0]!.msgid!) }));
    expect(byMsg.Item).toMatchObject({ idempotencyKey: r.messageId, messageId: r.messageId, memberId: m });
    expect(await memberRows(m, 'SENT#')).toHaveLength(1);
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('concurrent deliveries of one message: one claim wins, the others send nothing', async () => {
    const m = memberId('race');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_order', step: 'o-1', payload: { templateId: 'TPL_POINTS_CHANGE', points: 9 } });
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => sendOne(r, deps())));
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(1);
    for (const o of outcomes.filter((x) => x.status !== 'sent')) {
      // Either it saw the finished record, or the live claim (and would come back after the lease).
      expect(['duplicate', 'retry']).toContain(o.status);
      if (o.status === 'retry') expect(o.reason).toBe('in_flight');
    }
    expect(await sendOne(r, deps())).toEqual({ status: 'duplicate', existing: 'sent' });
    expect(sentTo(m)).toHaveLength(1);
  });

  it('a worker that died after calling WeChat: the template is resent with the same client_msg_id, and WeChat dedupes it', async () => {
    const m = memberId('stale-tpl');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 's-1', payload: { templateId: 'TPL_POINTS_CHANGE', points: 3 } });
    // The dead worker's call reached WeChat ...
    const first = await api.sendTemplate({ touser: openidOf(m), templateId: 'TPL_POINTS_CHANGE', data: { points: { value: '3' } }, clientMsgId: r.messageId });
    // ... and it left its claim behind, lease expired.
    await putDeadClaim(r, 'template', clock - 3 * 60_000);
    // The resumed call times out too: still pending, and the window keeps counting from the first call.
    standin.setFault(TEMPLATE, { type: 'hang', ms: 600 }, 1);
    expect(await sendOne(r, deps())).toMatchObject({ status: 'retry', errcode: 'timeout' });
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'retry', callVia: 'template', callAt: clock - 3 * 60_000, callClientMsgId: r.messageId });
    const out = await sendOne(r, deps());
    expect(out).toEqual({ status: 'sent', via: 'template', msgid: first.msgid });
    expect(sentTo(m)).toHaveLength(1);
    const rec = await sendRecord(r.messageId);
    expect(rec).toMatchObject({ status: 'sent', attempts: 3, msgid: first.msgid });
    expect(rec?.callVia).toBeUndefined();
  });

  it('a worker that died during a customer-service send, or a template past the 10-minute dedupe: unknown, never resent', async () => {
    for (const [tag, via, age] of [
      ['stale-cs', 'custom', 60_000],
      ['stale-old', 'template', 11 * 60_000],
    ] as const) {
      const m = memberId(tag);
      await putMember(m, { lastInteractionAt: clock - HOUR });
      const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once' });
      await putDeadClaim(r, via, clock - age);
      const before = standin.calls().length;
      const out = await sendOne(r, deps());
      expect(out.status).toBe('unknown');
      expect(standin.calls().length).toBe(before);
      expect(await sendRecord(r.messageId)).toMatchObject({ status: 'unknown' });
      expect(await sendOne(r, deps())).toEqual({ status: 'duplicate', existing: 'unknown' });
      // Counted for the caps: the member may have received it.
      expect(await memberRows(m, 'SENT#')).toHaveLength(1);
    }
  });

  it('a live claim held by another delivery is retried after the lease, not sent', async () => {
    const m = memberId('busy');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'busy', payload: { templateId: 'TPL_POINTS_CHANGE', points: 1 } });
    await ddb().send(new PutCommand({ TableName: aws.table, Item: { ...sendKey(r.messageId), status: 'sending', attempts: 1, claimToken: 'other', leaseUntil: clock + 90_000 } }));
    expect(await sendOne(r, deps())).toEqual({ status: 'retry', reason: 'in_flight', delaySeconds: 91 });
    expect(sentTo(m)).toHaveLength(0);
  });
});

describe('failures and retries', () => {
  it('a retryable 5xx, then success: sent once, after the backoff the handler asked for', async () => {
    const m = memberId('5xx');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: '5xx', payload: { templateId: 'TPL_POINTS_CHANGE', points: 2 } });
    standin.setFault(TEMPLATE, { type: 'http', status: 503 }, 1);
    await enqueue(r);
    const d = await drain();
    expect(d).toEqual({ received: 2, failed: 1 });
    expect(visibility.requested).toEqual([30]); // base backoff for the first receive
    expect(callsTo(TEMPLATE, m)).toHaveLength(2);
    expect(sentTo(m)).toHaveLength(1);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'sent', attempts: 2, lastErrcode: 'http_503' });
  });

  it('WeChat busy (-1) on a customer-service send, then success: sent once', async () => {
    const m = memberId('busy-cs');
    await putMember(m, { lastInteractionAt: clock - HOUR });
    const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: '注册成功', templateId: 'TPL_MEMBER_WELCOME' } });
    standin.setFault(CUSTOM, { type: 'errcode', errcode: -1, errmsg: 'system error' }, 1);
    await enqueue(r);
    expect(await drain()).toEqual({ received: 2, failed: 1 });
    expect(sentTo(m).map((s) => s.kind)).toEqual(['custom']);
  });

  it('a template answer that never arrives is retried with the same client_msg_id: one message', async () => {
    const m = memberId('hang-tpl');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'hang', payload: { templateId: 'TPL_POINTS_CHANGE', points: 4 } });
    // WeChat processes the call after the client gave up.
    standin.setFault(TEMPLATE, { type: 'hang', ms: 700, thenProcess: true }, 1);
    await enqueue(r);
    await drain();
    // The first call was answered after the client gave up: wait until the stand-in has handled it.
    await standin.settled();
    expect(callsTo(TEMPLATE, m)).toHaveLength(2);
    expect(sentTo(m)).toHaveLength(1);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'sent', msgid: sentTo(m)[0]!.msgid });
  });

  it('a customer-service answer that never arrives is not resent (at-most-once): unknown', async () => {
    const m = memberId('hang-cs');
    await putMember(m, { lastInteractionAt: clock - HOUR });
    const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: '注册成功' } });
    standin.setFault(CUSTOM, { type: 'hang', ms: 600, thenProcess: true }, 1);
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    await standin.settled(); // the hung call has been handled on WeChat's side
    expect(sentTo(m)).toHaveLength(1); // WeChat did send it; the hub did not send it again
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'unknown', reason: 'custom_send_timeout' });
  });

  it('a permanent recipient error (43004) is recorded failed and not retried', async () => {
    const m = memberId('43004');
    await putMember(m); // the hub still believes the member follows
    standin.unsubscribe(openidOf(m));
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'x', payload: { templateId: 'TPL_POINTS_CHANGE', points: 1 } });
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(callsTo(TEMPLATE, m)).toHaveLength(1);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'failed', reason: 'recipient', errcode: '43004' });
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a malformed body is recorded and dropped, never retried', async () => {
    const [notJson] = await enqueue('this is not json');
    const [notRow] = await enqueue(JSON.stringify({ messageId: 'x', class: 'promo' }));
    expect(await drain()).toEqual({ received: 2, failed: 0 });
    expect(await sendRecord(`malformed#${notJson}`)).toMatchObject({ status: 'failed', reason: 'malformed_body', body: 'this is not json' });
    expect((await sendRecord(`malformed#${notRow}`))?.issues).toMatch(/class/);
    expect(await queueCounts(aws.queues.engagement.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('an account-level failure (40164 IP not whitelisted) lands in the DLQ after maxReceiveCount; redrive brings it back and it is sent once', async () => {
    const m = memberId('dlq');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'dlq', payload: { templateId: 'TPL_POINTS_CHANGE', points: 7 } });
    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 40164, errmsg: 'invalid ip, not in whitelist' }, 1000);
    await enqueue(r);
    const d = await drain();
    // Every attempt failed; the emulator also counts each ChangeMessageVisibility as a receive
    // (test/integration/emulators.test.ts), so fewer handler attempts than maxReceiveCount run here.
    expect(d.failed).toBe(d.received);
    expect(d.received).toBeGreaterThanOrEqual(2);
    expect(d.received).toBeLessThanOrEqual(QUEUES.engagement.maxReceiveCount);
    // Exponential backoff from ApproximateReceiveCount: 30 s × 2^(count−1).
    expect(visibility.requested).toHaveLength(d.received);
    expect(visibility.requested[0]).toBe(30);
    for (const s of visibility.requested) expect(Math.log2(s / 30) % 1).toBe(0);
    for (let i = 1; i < visibility.requested.length; i++) expect(visibility.requested[i]!).toBeGreaterThan(visibility.requested[i - 1]!);
    expect(await queueCounts(aws.queues.engagement.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toMatchObject({ visible: 1 });
    expect(sentTo(m)).toHaveLength(0);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'retry', lastErrcode: '40164', attempts: d.received });

    // The operator fixes the whitelist, then redrives (the CLI, against the local endpoint).
    standin.clearFaults();
    const name = aws.queues.engagement.url.split('/').pop()!;
    const { stdout } = await promisify(execFile)('node_modules/.bin/tsx', ['scripts/redrive.ts', '--queue', name, '--max', '10', '--endpoint', aws.sqsEndpoint], {
      env: process.env,
      timeout: 30_000,
    });
    expect(stdout).toMatch(/received 1, moved 1, failed 0/);
    expect(stdout).toMatch(/left in the dead-letter queue: 0 visible/);
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(sentTo(m)).toHaveLength(1);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'sent', attempts: d.received + 1 });
  });

  it('redrive is bounded by max and keeps bodies and attributes', async () => {
    const { dlqUrl, url } = aws.queues.engagement;
    for (const body of ['{"n":1}', '{"n":2}', '{"n":3}']) {
      await sqs().send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: { class: { DataType: 'String', StringValue: 'marketing' } } }));
    }
    const r = await redrive({ sqs: sqs(), queue: url, dlq: dlqUrl, max: 2, waitSeconds: 0 });
    expect(r).toMatchObject({ received: 2, moved: 2, failed: 0, notDeleted: 0, sourceUrl: url, dlqUrl });
    const rest = await redrive({ sqs: sqs(), queue: url.split('/').pop()!, waitSeconds: 0 });
    expect(rest).toMatchObject({ received: 1, moved: 1, dlqUrl });
    const got = await sqs().send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    expect((got.Messages ?? []).map((x) => x.Body).sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(got.Messages?.[0]?.MessageAttributes?.class?.StringValue).toBe('marketing');
    for (const x of got.Messages ?? []) await sqs().send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: x.ReceiptHandle! }));
  });
});

describe('guardrails, as recorded by the stand-in', () => {
  it('caps: 1 marketing message per local day, 3 per rolling 7 days; transactional ones exempt', async () => {
    const m = memberId('caps');
    await putMember(m); // no recent interaction: templates
    const step = async (at: number, s: string, cls: 'marketing' | 'transactional' = 'marketing') => {
      clock = at;
      const r = row(m, { step: s, class: cls, ruleId: cls === 'marketing' ? 'repurchase' : 'points_scan' });
      await enqueue(r);
      await drain();
      return r;
    };
    const a = await step(sh(2025, 3, 10, 9), 'a'); // day 1: sent
    const b = await step(sh(2025, 3, 10, 20), 'b'); // day 1: cap_daily
    const t = await step(sh(2025, 3, 10, 21), 't', 'transactional'); // exempt
    const c = await step(sh(2025, 3, 11, 8, 30), 'c'); // day 2 (the local day turned at 16:00 UTC)
    const d = await step(sh(2025, 3, 12, 12), 'd'); // day 3: third in 7 days
    const e = await step(sh(2025, 3, 13, 12), 'e'); // day 4: cap_weekly
    const f = await step(sh(2025, 3, 17, 9, 1), 'f'); // a left the rolling week at 09:00 on day 8

    expect(sentTo(m).map((x) => x.clientMsgId)).toEqual([a, t, c, d, f].map((x) => x.messageId));
    const sup = await memberRows(m, 'SUPPRESS#');
    expect(sup.map((x) => [x.messageId, x.reason])).toEqual([
      [b.messageId, 'cap_daily'],
      [e.messageId, 'cap_weekly'],
    ]);
    expect(await sendRecord(b.messageId)).toMatchObject({ status: 'suppressed', reason: 'cap_daily' });
    expect(await sendRecord(e.messageId)).toMatchObject({ status: 'suppressed', reason: 'cap_weekly' });
    expect((await memberRows(m, 'SENT#')).map((x) => x.class)).toEqual(['marketing', 'transactional', 'marketing', 'marketing', 'marketing']);
  });

  it('quiet hours: marketing at 23:30 is held until 08:00 local, transactional goes at once', async () => {
    visibility.reset('hold');
    const m = memberId('quiet');
    await putMember(m);
    clock = sh(2025, 3, 10, 23, 30);
    const mk = row(m, { step: 'night' });
    const tx = row(m, { step: 'night-points', class: 'transactional', ruleId: 'points_order', payload: { templateId: 'TPL_POINTS_CHANGE', points: 8 } });
    await enqueue(mk);
    await enqueue(tx);
    expect(await drain()).toEqual({ received: 2, failed: 1 });
    expect(sentTo(m).map((x) => x.clientMsgId)).toEqual([tx.messageId]);
    expect(visibility.requested).toEqual([8.5 * 3600]);
    expect(await sendRecord(mk.messageId)).toMatchObject({ status: 'deferred', deferUntil: sh(2025, 3, 11, 8) });
    // Held: nothing to receive now (the emulator's ApproximateNumberOfMessages also counts in-flight ones).
    expect(await pollOnce({ sqs: sqs(), queueUrl: aws.queues.engagement.url, queueArn: aws.queues.engagement.arn, name: 'probe', handler: handler as never, waitSeconds: 0 })).toEqual({ received: 0, failed: 0 });
    expect((await queueCounts(aws.queues.engagement.url)).inFlight).toBe(1);

    // A duplicate delivery still at night is deferred again, not dropped (sendOne directly: the
    // emulator counts every ChangeMessageVisibility as a receive, so SQS rounds are kept few here).
    clock = sh(2025, 3, 11, 2);
    expect(await sendOne(mk, deps())).toEqual({ status: 'retry', reason: 'quiet_hours', delaySeconds: 6 * 3600 });
    expect(await sendRecord(mk.messageId)).toMatchObject({ status: 'deferred', attempts: 2 });
    expect(sentTo(m)).toHaveLength(1);

    clock = sh(2025, 3, 11, 8);
    await visibility.release();
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(sentTo(m).map((x) => x.clientMsgId)).toEqual([tx.messageId, mk.messageId]);
    const sent = await memberRows(m, 'SENT#');
    expect(sent.map((x) => x.at)).toEqual([sh(2025, 3, 10, 23, 30), sh(2025, 3, 11, 8)]);
  });

  it('holdout: no marketing for the control group, recorded as suppressed; transactional still sent', async () => {
    const m = memberId('holdout', true);
    await putMember(m, { lastInteractionAt: clock - HOUR });
    const mk = row(m, { step: 'h1' });
    const tx = row(m, { step: 'h2', class: 'transactional', ruleId: 'welcome_register' });
    await enqueue(mk);
    await enqueue(tx);
    await drain();
    expect(sentTo(m)).toHaveLength(1);
    expect(sentTo(m)[0]).toMatchObject({ kind: 'custom' });
    const sup = await memberRows(m, 'SUPPRESS#');
    expect(sup).toHaveLength(1);
    expect(sup[0]).toMatchObject({ messageId: mk.messageId, reason: 'holdout', class: 'marketing', ruleId: 'repurchase' });
    expect(await sendRecord(mk.messageId)).toMatchObject({ status: 'suppressed', reason: 'holdout' });
  });

  it('windows: customer-service inside 48 h, template outside, suppressed without a template; the follow welcome only within 60 s', async () => {
    const tx = { class: 'transactional' as const, ruleId: 'welcome_register', step: 'once' };
    const cases = {
      recent: { member: { lastInteractionAt: clock - 47 * HOUR }, row: tx, expect: 'custom' },
      old: { member: { lastInteractionAt: clock - 49 * HOUR }, row: tx, expect: 'template' },
      oldTextOnly: { member: { lastInteractionAt: clock - 49 * HOUR }, row: { ...tx, payload: { text: '注册成功' } }, expect: 'outside_window' },
      followed30s: {
        member: { lastInteractionAt: clock - 30_000, h: { f: [[clock - 30_000, 'store_01']], u: [], q: [], c: [], o: [] } },
        row: { class: 'transactional' as const, ruleId: 'welcome_follow', step: 'once', triggeredAt: clock - 30_000, payload: { text: '欢迎关注！', link: 'https://example.com/member' } },
        expect: 'custom',
      },
      followed90s: {
        member: { lastInteractionAt: clock - 90_000, h: { f: [[clock - 90_000, 'store_01']], u: [], q: [], c: [], o: [] } },
        row: { class: 'transactional' as const, ruleId: 'welcome_follow', step: 'once', triggeredAt: clock - 90_000, payload: { text: '欢迎关注！' } },
        expect: 'outside_window',
      },
      unfollowed: { member: { lastInteractionAt: clock - HOUR, wechat: { appId: APP, openid: 'x', followed: false } }, row: tx, expect: 'unfollowed' },
      staff: { member: {}, row: { ...tx, destination: 'staff' as const, ruleId: 'lapse_alert' }, expect: 'wrong_queue' },
    } as const;
    const rows = new Map<string, OutboxRow>();
    for (const [tag, c] of Object.entries(cases)) {
      const m = memberId(`win-${tag}`);
      const memberOver: Record<string, unknown> = { ...c.member };
      if (memberOver.wechat) memberOver.wechat = { appId: APP, openid: openidOf(m), followed: false };
      await putMember(m, memberOver);
      const r = row(m, c.row as Partial<OutboxRow>);
      rows.set(tag, r);
      await enqueue(r);
    }
    await drain();
    for (const [tag, c] of Object.entries(cases)) {
      const r = rows.get(tag)!;
      const sent = sentTo(r.memberId);
      if (c.expect === 'custom' || c.expect === 'template') {
        expect(sent.map((s) => s.kind), tag).toEqual([c.expect]);
        expect(await sendRecord(r.messageId), tag).toMatchObject({ status: 'sent', via: c.expect });
      } else {
        expect(sent, tag).toHaveLength(0);
        expect(await sendRecord(r.messageId), tag).toMatchObject({ status: 'suppressed', reason: c.expect });
        expect((await memberRows(r.memberId, 'SUPPRESS#')).map((x) => x.reason), tag).toEqual([c.expect]);
      }
    }
    const welcome = sentTo(rows.get('followed30s')!.memberId)[0]!;
    expect(welcome.body).toMatchObject({ msgtype: 'text', text: { content: '欢迎关注！\nhttps://example.com/member' } });
  });

  it('45015 on a customer-service send falls back to a template once', async () => {
    const m = memberId('45015');
    await putMember(m, { lastInteractionAt: clock - HOUR });
    const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once' });
    standin.setFault(CUSTOM, { type: 'errcode', errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' }, 1);
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(sentTo(m).map((s) => s.kind)).toEqual(['template']);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'sent', via: 'template', fallback: true });

    // Without a template in the payload: suppressed outside_window.
    const m2 = memberId('45015-text');
    await putMember(m2, { lastInteractionAt: clock - HOUR });
    const r2 = row(m2, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: 'hi' } });
    standin.setFault(CUSTOM, { type: 'errcode', errcode: 45015 }, 1);
    expect(await sendOne(r2, deps())).toEqual({ status: 'suppressed', reason: 'outside_window' });
    expect(sentTo(m2)).toHaveLength(0);
  });
});

describe('WeChat limits: quotas, typed templates and windows as the stand-in enforces them', () => {
  /** The sweep as functions/outbox-sweep runs it, on the test clock. */
  const sweep = () => sweepOutbox(aws.runtime.with({ now: () => clock }), {});
  /** 2025-03-11 00:00 Shanghai: the local day after NOON. */
  const NEXT_DAY = sh(2025, 3, 11, 0);

  it('45009 (daily quota) defers to the next local day with the reason; the sweep sends it then; never the DLQ', async () => {
    const m = memberId('45009');
    await putMember(m);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'q9', payload: { templateId: 'TPL_POINTS_CHANGE', points: 3 } });
    standin.setFault(TEMPLATE, { type: 'errcode', errcode: 45009, errmsg: 'reach max api daily quota limit' }, 1);
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'deferred', deferReason: 'daily_quota', deferUntil: NEXT_DAY, lastErrcode: '45009' });
    expect(sentTo(m)).toHaveLength(0);

    // A copy delivered before the day is over waits too: WeChat is not called again.
    clock = NEXT_DAY - HOUR;
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(callsTo(TEMPLATE, m)).toHaveLength(1);
    expect((await sweep()).drained).toBe(0);

    clock = NEXT_DAY + 31_000;
    expect((await sweep()).drained).toBeGreaterThanOrEqual(1);
    await drain();
    expect(sentTo(m).map((s) => s.kind)).toEqual(['template']);
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'sent', via: 'template' });
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('45047 (window count used up) with no template defers to the end of the window, then is decided again', async () => {
    const m = memberId('45047');
    const lastAt = clock - HOUR;
    await putMember(m, { lastInteractionAt: lastAt, lastInteractionKind: 'message' });
    const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: '注册成功' } });
    standin.setFault(CUSTOM, { type: 'errcode', errcode: 45047, errmsg: 'out of response count limit' }, 1);
    await enqueue(r);
    expect(await drain()).toEqual({ received: 1, failed: 0 });
    expect(await sendRecord(r.messageId)).toMatchObject({ status: 'deferred', deferReason: 'window_quota', deferUntil: lastAt + 48 * HOUR, lastErrcode: '45047' });
    // The person writes again before the old window ends: a new window; the message goes out when it is due.
    await putMember(m, { lastInteractionAt: lastAt + 47 * HOUR, lastInteractionKind: 'message' });
    clock = lastAt + 48 * HOUR + 31_000;
    await sweep();
    await drain();
    expect(sentTo(m).map((s) => s.kind)).toEqual(['custom']);
    expect(await queueCounts(aws.queues.engagement.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a category template: typed keys rendered within limits are accepted; without a mapping WeChat answers 47003, recorded failed with the key', async () => {
    standin.defineTemplate('TPL_CAT_POINTS', ['thing1', 'number2', 'phrase3']);
    const templates = { TPL_CAT_POINTS: { thing1: '{{product}}扫码积分', number2: '{{points}}', phrase3: '已到账' } };
    const m = memberId('cat-ok');
    await putMember(m);
    const payload = { templateId: 'TPL_CAT_POINTS', points: 50, balance: 120, product: '臻萃焕颜紧致修护精华面霜礼盒限定版' };
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'cat', payload });
    expect(await sendOne(r, { ...deps(), templates })).toMatchObject({ status: 'sent', via: 'template' });
    expect(sentTo(m)[0]!.body.data).toEqual({ thing1: { value: '臻萃焕颜紧致修护精华面霜礼盒限定版扫码…' }, number2: { value: '50' }, phrase3: { value: '已到账' } });

    const m2 = memberId('cat-raw');
    await putMember(m2);
    const r2 = row(m2, { class: 'transactional', ruleId: 'points_scan', step: 'cat', payload });
    const out = await sendOne(r2, deps());
    expect(out).toMatchObject({ status: 'failed', errcode: '47003' });
    expect((out as { reason: string }).reason).toContain('data.thing1.value is empty');
    expect(await sendRecord(r2.messageId)).toMatchObject({ status: 'failed', errcode: '47003' });
    expect(sentTo(m2)).toHaveLength(0);

    // A mapping whose value cannot fit its key fails before WeChat is called.
    const m3 = memberId('cat-bad');
    await putMember(m3);
    const r3 = row(m3, { class: 'transactional', ruleId: 'points_scan', step: 'cat', payload });
    const bad = await sendOne(r3, { ...deps(), templates: { TPL_CAT_POINTS: { ...templates.TPL_CAT_POINTS, number2: '{{points}} 积分' } } });
    expect(bad).toMatchObject({ status: 'failed', errcode: 'template_data_invalid' });
    expect(callsTo(TEMPLATE, m3)).toHaveLength(0);
  });

  it('no template possible: a subscription message (bizsend) when the person accepted it, else suppressed', async () => {
    const payload = { templateId: '', subscribeTemplateId: 'SUB_POINTS', points: 8, balance: 30 };
    const m = memberId('sub-ok');
    await putMember(m, { subscriptions: { SUB_POINTS: { accepts: 1, sends: 0, lastAcceptAt: clock - HOUR } } });
    standin.grantSubscription(openidOf(m), 'SUB_POINTS', 1);
    const r = row(m, { class: 'transactional', ruleId: 'points_scan', step: 'sub', payload });
    expect(await sendOne(r, deps())).toMatchObject({ status: 'sent', via: 'subscribe' });
    expect(sentTo(m).map((x) => [x.kind, x.templateId])).toEqual([['subscribe', 'SUB_POINTS']]);
    expect(standin.calls('/cgi-bin/message/subscribe/bizsend')).toHaveLength(1);

    // Used (WeChat reported the send) or never accepted: no channel left.
    const m2 = memberId('sub-used');
    await putMember(m2, { subscriptions: { SUB_POINTS: { accepts: 1, sends: 1, lastAcceptAt: clock - HOUR } } });
    expect(await sendOne(row(m2, { class: 'transactional', ruleId: 'points_scan', step: 'sub', payload }), deps())).toEqual({ status: 'suppressed', reason: 'outside_window' });
    // The hub believes there is a credit, WeChat does not: 43101, failed, not retried.
    const m3 = memberId('sub-refused');
    await putMember(m3, { subscriptions: { SUB_POINTS: { accepts: 1, sends: 0, lastAcceptAt: clock - HOUR } } });
    expect(await sendOne(row(m3, { class: 'transactional', ruleId: 'points_scan', step: 'sub', payload }), deps())).toMatchObject({ status: 'failed', errcode: '43101' });
  });

  it('windows enforced by the stand-in: the hub sends a customer-service message only inside them', async () => {
    standin.enforceWindows(true);
    try {
      const cases = [
        { tag: 'msg-1h', kind: 'message', ago: HOUR, expect: 'custom' },
        { tag: 'click-30s', kind: 'menu_click', ago: 30_000, expect: 'custom' },
        { tag: 'click-1h', kind: 'menu_click', ago: HOUR, expect: 'template' },
        { tag: 'follow-2m', kind: 'follow', ago: 120_000, expect: 'template' },
      ] as const;
      for (const c of cases) {
        const m = memberId(`enf-${c.tag}`);
        await putMember(m, { lastInteractionAt: clock - c.ago, lastInteractionKind: c.kind });
        // The stand-in keeps WeChat's own (real) clock.
        standin.interact(openidOf(m), c.kind, Date.now() - c.ago);
        const r = row(m, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: '注册成功', templateId: 'TPL_MEMBER_WELCOME' } });
        expect(await sendOne(r, deps()), c.tag).toMatchObject({ status: 'sent', via: c.expect });
        // No refused customer-service call: the hub did not try outside the window.
        expect(callsTo(CUSTOM, m).length, c.tag).toBe(c.expect === 'custom' ? 1 : 0);
      }
      // A VIEW an hour ago opened nothing: the stand-in was told of no interaction; the hub has none either.
      const v = memberId('enf-view');
      await putMember(v);
      const rv = row(v, { class: 'transactional', ruleId: 'welcome_register', step: 'once', payload: { text: '注册成功' } });
      expect(await sendOne(rv, deps())).toEqual({ status: 'suppressed', reason: 'outside_window' });
      // The stand-in itself refuses outside the window: 45015.
      const res = await api.sendCustom({ touser: openidOf(v), msgtype: 'text', text: { content: 'x' } }).catch((e: unknown) => e);
      expect(res).toMatchObject({ errcode: 45015 });
    } finally {
      standin.enforceWindows(false);
    }
  });
});
