/**
 * WeChat's 5-second answer and the welcome, through the local runtime (gateway → the real
 * webhook handler → DynamoDB Local, the local SQS server, the WeChat stand-in):
 *   - the welcome as the passive reply to the follow push: shown once, WeChat's retry of the push
 *     is answered `success`, nothing is queued;
 *   - SQS failing right after the commit (an injector wrapping the hub's real SQS client): the
 *     push is still answered `success`, and the outbox sweep sends exactly one welcome;
 *   - a deadline on apply attempts: with the budget spent, no second attempt starts (503 while
 *     WeChat still listens);
 *   - unfollow: the member keeps points and purchases, `unfollowedAt` is shown, marketing stops;
 *   - MASSSENDJOBFINISH: the documented push recorded once on the send that issued the mass send;
 *   - user tags from hub segments: batchtagging through the engagement queue, 50 openids a call.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import { useTestHub } from '../support/hub.ts';
import { configuredAccount, postPush, signedPush, signedXml, type PushSpec } from '../support/wechat-client.ts';
import { readWechatFixture } from '../support/wechat-fixtures.ts';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { failSqsSends, injectDynamoFaults } from '../support/faults.ts';
import { drainQueue } from '../support/queues.ts';
import { getItem, identityOwner } from '../support/table.ts';
import { ddb, hubConfig } from '../support/env.ts';
import { decrypt } from '../../lib/sources/wechat/crypto.ts';
import { parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { sweepOutbox, messageIdOf } from '../../lib/engagement/outbox.ts';
import { sendByMsgIdKey, sendKey } from '../../lib/store/entities/send.ts';
import { outboxKey } from '../../lib/store/entities/outbox.ts';
import { syncTags } from '../../lib/engagement/tags.ts';
import { memberKey } from '../../lib/store/entities/member.ts';

const dir = mkdtempSync(join(tmpdir(), 'hub-rules-'));
const PASSIVE_RULES = join(dir, 'passive.json');
writeFileSync(PASSIVE_RULES, JSON.stringify({ welcomeOnFollow: { enabled: true, text: '欢迎关注，这是被动回复！', passiveReply: true } }));

const hub = useTestHub({ queuePrefix: 'wxmsg' });
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function push(spec: PushSpec) {
  return postPush(hub.url, signedPush(spec, configuredAccount(), 'safe'));
}

/** The text of a safe-mode passive reply (decrypted with the account's key), or the plain body. */
function replyText(body: string): { msgType?: string | undefined; content?: string | undefined; raw: string } {
  if (!body.startsWith('<xml>')) return { raw: body };
  const { appId, aesKey } = configuredAccount();
  if (!aesKey) throw new Error('the test account runs in safe mode');
  const inner = parseWechatXml(decrypt(parseWechatXml(body).Encrypt!, { aesKey, appId }));
  return { msgType: inner.MsgType, content: inner.Content, raw: body };
}

/** Sends what the engagement queue holds through the real sender handler. */
async function runSender(): Promise<void> {
  const messages = await drainQueue(hub.queues.engagement.url, hub.aws.sqs);
  if (messages.length === 0) return;
  const event: SQSEvent = {
    Records: messages.map((body, i) => ({
      messageId: `m${i}-${Date.now()}`,
      receiptHandle: `r${i}`,
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'local', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: hub.queues.engagement.arn,
      awsRegion: 'us-east-1',
    })),
  };
  await hub.invokeConsumer('engagement-sender', event);
}

const memberOf = async (openid: string) => String(await identityOwner(hub.aws.table, 'wechat_openid', `${hubConfig().WECHAT_APP_ID}:${openid}`));

describe('the welcome as a passive reply', () => {
  it('the follow push is answered with the welcome once; WeChat’s retry gets success; nothing is queued or sent', async () => {
    const saved = hub.runtime;
    hub.reconfigure({ settings: { HUB_RULES_FILE: PASSIVE_RULES } });
    try {
      const spec: PushSpec = { from: 'oPassive_1', createTime: nowSeconds(), msgType: 'event', event: 'subscribe', eventKey: '' };
      const first = await push(spec);
      expect(first.status).toBe(200);
      const reply = replyText(first.body);
      expect(reply.msgType).toBe('text');
      expect(reply.content).toBe(`欢迎关注，这是被动回复！\n${hubConfig().HUB_MEMBER_CENTRE_URL}`);
      // WeChat's retries of the same push (it did not get the first answer in time).
      expect(await push(spec)).toEqual({ status: 200, body: 'success' });
      expect(await push(spec)).toEqual({ status: 200, body: 'success' });
      expect(await drainQueue(hub.queues.engagement.url, hub.aws.sqs)).toEqual([]);
      expect(hub.standin.messages().filter((m) => m.touser === 'oPassive_1')).toEqual([]);
      // A second follow later (re-follow) is not a first follow: success, no welcome.
      expect(await push({ ...spec, createTime: spec.createTime + 5 })).toEqual({ status: 200, body: 'success' });
    } finally {
      hub.restore(saved);
    }
  });
});

describe('the 5-second budget', () => {
  it('SQS fails right after the commit: the push is answered success; the outbox sweep sends exactly one welcome', async () => {
    const fault = failSqsSends(hub.aws.sqs, { after: 0, failures: 1 });
    try {
      const spec: PushSpec = { from: 'oSqsDown_1', createTime: nowSeconds(), msgType: 'event', event: 'subscribe', eventKey: '' };
      expect(await push(spec)).toEqual({ status: 200, body: 'success' });
      expect(fault.stats.faults).toBe(1);
    } finally {
      fault.remove();
    }
    const memberId = await memberOf('oSqsDown_1');
    const messageId = messageIdOf({ memberId, ruleId: 'welcome_follow', step: 'once' });
    // The row is still pending (its index attribute is present) and nothing reached the queue.
    expect(await getItem(hub.aws.table, outboxKey(messageId))).toMatchObject({ gsi1pk: expect.any(String) });
    expect(await drainQueue(hub.queues.engagement.url, hub.aws.sqs)).toEqual([]);

    const swept = await sweepOutbox(hub.runtime, { minAgeMs: 0 });
    expect(swept.failed).toBe(0);
    await runSender();
    // A second sweep finds nothing left; a late retry of the push drains nothing new.
    expect((await sweepOutbox(hub.runtime, { minAgeMs: 0 })).drained).toBe(0);
    await runSender();
    const sent = hub.standin.messages().filter((m) => m.touser === 'oSqsDown_1');
    expect(sent.map((m) => m.kind)).toEqual(['custom']);
    expect(await getItem(hub.aws.table, sendKey(messageId))).toMatchObject({ status: 'sent', via: 'custom' });
  });

  it('past the reply budget no second apply attempt starts: 503 while WeChat still waits', async () => {
    // Every commit fails with a conflict, and each reading of the clock advances it 2 s: the
    // first attempt ends past the 3.5 s budget.
    const saved = hub.runtime;
    let t = Date.now();
    hub.reconfigure({ now: () => (t += 2_000) });
    const fault = injectDynamoFaults(hub.aws.db, { seed: 7, rate: 1, layer: 'app', commands: ['TransactWriteItemsCommand'], kinds: { conflict: 1 } });
    try {
      const res = await push({ from: 'oBudget_1', createTime: nowSeconds(), msgType: 'event', event: 'subscribe', eventKey: '' });
      expect(res.status).toBe(503);
      expect((JSON.parse(res.body) as { error: string }).error).toBe('reply_budget');
      expect(fault.stats.byCommand.TransactWriteItemsCommand).toBe(1);
    } finally {
      fault.remove();
      hub.restore(saved);
    }
  });
});

describe('mass-send results (MASSSENDJOBFINISH)', () => {
  it('the documented push is recorded once on the send that issued the mass send, found by its msg id', async () => {
    const app = hubConfig().WECHAT_APP_ID;
    // The documented push, with a current CreateTime (the hub refuses one 300 s from the push timestamp).
    const now = nowSeconds();
    const xml = readWechatFixture('event-masssendjobfinish.official.xml').replace('<CreateTime>1394524295</CreateTime>', `<CreateTime>${now}</CreateTime>`);
    // The send that issued the mass send, and the msgid row its sender wrote when WeChat answered msg_id 1988.
    const messageId = 'mass-campaign-spring';
    await ddb().send(new PutCommand({ TableName: hub.aws.table, Item: { ...sendKey(messageId), status: 'sent', via: 'mass', msgid: '1988', idempotencyKey: messageId } }));
    await ddb().send(new PutCommand({ TableName: hub.aws.table, Item: { ...sendByMsgIdKey(app, '1988'), idempotencyKey: messageId, messageId } }));
    // A mass send of another account with the same msg id is not this one.
    await ddb().send(new PutCommand({ TableName: hub.aws.table, Item: { ...sendKey('other-account-send'), status: 'sent', msgid: '1988', idempotencyKey: 'other-account-send' } }));
    await ddb().send(new PutCommand({ TableName: hub.aws.table, Item: { ...sendByMsgIdKey('wx_other_account', '1988'), idempotencyKey: 'other-account-send' } }));

    const pushOnce = (nonce: string) => postPush(hub.url, signedXml(xml, 'oR5Gjjl_eiZoUpGozMo7dbBJ362A', configuredAccount(), 'safe', nonce, String(now)));
    expect(await pushOnce('mass-1')).toEqual({ status: 200, body: 'success' });
    const expected = { status: 'sent', rawStatus: 'sendsuccess', totalCount: 100, filterCount: 80, sentCount: 75, errorCount: 5 };
    const first = await getItem(hub.aws.table, sendKey(messageId));
    expect(first).toMatchObject({ status: 'sent', receipt: 'sent', receiptAt: now * 1000, massResult: expected });
    // WeChat's retry (another delivery of the same push) changes nothing.
    expect(await pushOnce('mass-2')).toEqual({ status: 200, body: 'success' });
    expect(await getItem(hub.aws.table, sendKey(messageId))).toStrictEqual(first);
    expect(await getItem(hub.aws.table, sendKey('other-account-send'))).not.toHaveProperty('massResult');
    // The mass-send helper that signs the push is not a member.
    expect(await identityOwner(hub.aws.table, 'wechat_openid', `${app}:oR5Gjjl_eiZoUpGozMo7dbBJ362A`)).toBeUndefined();
  });

  it('a result for a msg id no send issued is acknowledged and writes nothing about a send', async () => {
    const xml = readWechatFixture('event-masssendjobfinish.official.xml')
      .replace('<MsgID>1988</MsgID>', '<MsgID>777000111</MsgID>')
      .replace('<CreateTime>1394524295</CreateTime>', `<CreateTime>${nowSeconds()}</CreateTime>`);
    const res = await postPush(hub.url, signedXml(xml, 'oR5Gjjl_eiZoUpGozMo7dbBJ362A', configuredAccount(), 'safe', 'mass-3', String(nowSeconds())));
    expect(res).toEqual({ status: 200, body: 'success' });
    expect(await getItem(hub.aws.table, sendByMsgIdKey(hubConfig().WECHAT_APP_ID, '777000111'))).toBeUndefined();
  });
});

describe('WeChat user tags synced from hub segments', () => {
  const TAG_RULES = join(dir, 'tags.json');
  writeFileSync(TAG_RULES, JSON.stringify({ tagSync: [{ segment: 'lifecycle:prospect', tagId: 134 }] }));

  it('a follower in the rule’s segment is tagged through the engagement queue, once; nothing is asked on the webhook path', async () => {
    const saved = hub.runtime;
    hub.reconfigure({ settings: { HUB_RULES_FILE: TAG_RULES } });
    try {
      const app = hubConfig().WECHAT_APP_ID;
      const calls = () => hub.standin.calls('/cgi-bin/tags/members/batchtagging');
      const before = calls().length;
      expect((await push({ from: 'oTag_1', createTime: nowSeconds(), msgType: 'event', event: 'subscribe' })).status).toBe(200);
      // Answered and committed: WeChat has not been asked yet.
      expect(calls().length).toBe(before);
      await runSender();
      expect(hub.standin.tagsOf(app, 'oTag_1')).toEqual([134]);
      const made = calls().slice(before);
      expect(made.map((c) => c.body)).toEqual([{ tagid: 134, openid_list: ['oTag_1'] }]);
      // A later event of the same member plans no second tag.
      expect((await push({ from: 'oTag_1', createTime: nowSeconds(), msgType: 'text', content: '你好', msgId: '880001' })).status).toBe(200);
      await runSender();
      expect(calls().length).toBe(before + 1);
      const member = await getItem(hub.aws.table, memberKey(await memberOf('oTag_1')));
      expect(member?.wechatTags).toEqual([`${app}:134`]);
    } finally {
      hub.restore(saved);
    }
  });

  it('the stand-in answers batchtagging in WeChat’s format and refuses more than 50 openids with 40032; the client slices 120 openids into 50 + 50 + 20', async () => {
    const cfg = hubConfig();
    const tokenRes = await fetch(`${cfg.WECHAT_API_BASE}/cgi-bin/stable_token`, { method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: cfg.WECHAT_APP_ID, secret: cfg.WECHAT_APP_SECRET }) });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const tag = (openids: string[], tagid = 7) =>
      fetch(`${cfg.WECHAT_API_BASE}/cgi-bin/tags/members/batchtagging?access_token=${token}`, { method: 'POST', body: JSON.stringify({ openid_list: openids, tagid }) }).then((r) => r.json());
    const ids = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
    expect(await tag(ids(50, 'oFifty_'))).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await tag(ids(51, 'oFiftyOne_'))).toEqual({ errcode: 40032, errmsg: 'invalid openid list size rid: standin' });
    expect(hub.standin.tagsOf(cfg.WECHAT_APP_ID, 'oFiftyOne_000')).toEqual([]);
    expect(await tag(['oX_1'], 0)).toEqual({ errcode: 45159, errmsg: 'invalid tag rid: standin' });

    // The engagement handler, with the hub's own client: 120 openids (one twice) → three calls of ≤ 50.
    const before = hub.standin.calls('/cgi-bin/tags/members/batchtagging').length;
    const openids = [...ids(120, 'oMany_'), 'oMany_000'];
    const row = { messageId: 'tag-many', memberId: 'm', ruleId: 'wechat_tag_sync', step: 's', class: 'transactional' as const, destination: 'member' as const, payload: { tagId: 9, openids }, appId: cfg.WECHAT_APP_ID, triggeredAt: Date.now(), createdAt: Date.now() };
    const waited: string[] = [];
    expect(await syncTags(row, () => hub.runtime.wechat(cfg.WECHAT_APP_ID), async (k) => void waited.push(k))).toBe('tagged');
    const sizes = hub.standin.calls('/cgi-bin/tags/members/batchtagging').slice(before).map((c) => (c.body as { openid_list: string[] }).openid_list.length);
    expect(sizes).toEqual([50, 50, 20]);
    expect(waited).toEqual([cfg.WECHAT_APP_ID, cfg.WECHAT_APP_ID, cfg.WECHAT_APP_ID]);
    expect(hub.standin.tagsOf(cfg.WECHAT_APP_ID, 'oMany_119')).toEqual([9]);
    // More than 50 at once never leaves the client.
    await expect(hub.runtime.wechat(cfg.WECHAT_APP_ID).batchTagging(9, ids(51, 'oC_'))).rejects.toThrow(/invalid batchtagging/);
  });
});
