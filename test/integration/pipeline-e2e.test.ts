/**
 * The whole pipeline with the local runtime's SQS pollers running, as `npm start` runs it:
 * signed WeChat follow → welcome (customer-service message) sent by the engagement sender;
 * code scan → points notice (template message) → WeChat's TEMPLATESENDJOBFINISH receipt for
 * that msgid updates the send record. Each message reaches the WeChat stand-in exactly once.
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { getItem, identityOwner } from '../support/table.ts';
import { untilQueueEmpty } from '../support/queues.ts';
import { configuredAccount, postPush, signedPush, signedXml, type PushSpec } from '../support/wechat-client.ts';

import { sendByMsgIdKey, sendKey } from '../../lib/store/entities/send.ts';
import { wechatTokenKey } from '../../lib/store/entities/token.ts';

const hub = useTestHub({ queuePrefix: 'pipe', pollers: true });
const admin = { authorization: `Bearer ${'local-admin-token'}`, 'content-type': 'application/json' };

async function push(spec: PushSpec) {
  const res = await postPush(hub.url, signedPush(spec, configuredAccount(), 'safe'));
  expect(res.status).toBe(200);
  return res.body;
}

/** Creates a code batch through the admin API and scans its first code as `openid` (OAuth code on the stand-in). */
async function scanNewBatch(batch: { sku: string; name: string; points: number; channel: string; count: number }, openid: string) {
  // A batch names a channel marketing created (else 400 unknown_channel).
  const channel = await fetch(`${hub.url}/channels`, { method: 'POST', headers: admin, body: JSON.stringify({ id: batch.channel, name: batch.channel, kind: 'code_batch' }) });
  expect([201, 409]).toContain(channel.status);
  const created = await fetch(`${hub.url}/codes/batches`, { method: 'POST', headers: admin, body: JSON.stringify(batch) });
  expect(created.status).toBe(201);
  const { batchId } = (await created.json()) as { batchId: string };
  const csv = await (await fetch(`${hub.url}/codes/batches/${batchId}/codes.csv`, { headers: admin })).text();
  const code = csv.split('\r\n')[1]!.split(',')[0]!;
  const scan = await fetch(`${hub.url}/codes/scan`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: hubConfig().WECHAT_APP_ID, oauthCode: `local:${openid}`, code }),
  });
  return { code, reply: (await scan.json()) as Record<string, unknown> };
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pipeline with pollers', () => {
  it('a follow through a channel QR gets that channel’s welcome text, once', async () => {
    const created = await fetch(`${hub.url}/channels`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id: 'mall_west', name: 'West mall', kind: 'wechat_qr', welcomeText: '欢迎来到西区门店！' }),
    });
    expect(created.status).toBe(201);
    const now = Math.floor(Date.now() / 1000);
    const spec: PushSpec = { from: 'oPipe_1', createTime: now, msgType: 'event', event: 'subscribe', eventKey: 'qrscene_mall_west', ticket: 'T' };
    expect(await push(spec)).toBe('success');
    expect(await push(spec)).toBe('success'); // WeChat's retry
    const sent = await until(() => {
      const m = hub.standin.messages().filter((x) => x.touser === 'oPipe_1');
      return m.length ? m : undefined;
    }, 'the welcome message');
    // Both deliveries have been answered; once the engagement queue holds nothing (received,
    // sent and deleted by the poller), a doubled message would be at the stand-in.
    await untilQueueEmpty(hub.queues.engagement.url);
    await hub.standin.settled();
    const all = hub.standin.messages().filter((x) => x.touser === 'oPipe_1');
    expect(all).toHaveLength(1);
    expect(sent[0]!.kind).toBe('custom');
    expect(JSON.stringify(sent[0]!.body)).toContain('欢迎来到西区门店！');
  });

  it('a code scan by a follower sends a points notice, and its delivery receipt updates the send record', async () => {
    // Template messages only reach followers: the scanner follows first (organic).
    expect(await push({ from: 'oPipe_2', createTime: Math.floor(Date.now() / 1000) - 60, msgType: 'event', event: 'subscribe' })).toBe('success');
    const { reply } = await scanNewBatch({ sku: 'SKU-1', name: '面霜', points: 50, channel: 'pack_card', count: 3 }, 'oPipe_2');
    expect(reply).toMatchObject({ result: 'redeemed', points: 50, balance: 50 });
    const notice = await until(() => hub.standin.messages().find((x) => x.touser === 'oPipe_2' && x.kind === 'template'), 'the points notice');
    expect(BigInt(notice.msgid!)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    // The sender links the msgid to its send record right after WeChat answered.
    const link = await until<Record<string, unknown>>(
      () => getItem(hub.aws.table, sendByMsgIdKey(hubConfig().WECHAT_APP_ID, notice.msgid!)),
      'the msgid link',
    );
    const messageId = String(link.idempotencyKey);
    const xml = `<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[oPipe_2]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>${notice.msgid}</MsgID><Status><![CDATA[failed:user block]]></Status></xml>`;
    const cfg = hubConfig();
    // The account has an EncodingAESKey: the receipt comes sealed (safe mode).
    const receipt = signedXml(xml, 'oPipe_2', configuredAccount(), 'safe', 'r1', String(Math.floor(Date.now() / 1000)));
    expect(await postPush(hub.url, receipt)).toEqual({ status: 200, body: 'success' });
    expect(await getItem(hub.aws.table, sendKey(messageId))).toMatchObject({ status: 'sent', receipt: 'user_blocked' });
    // One stable_token for every caller (OAuth exchange aside), shared through the table.
    const token = await getItem(hub.aws.table, wechatTokenKey(cfg.WECHAT_APP_ID));
    expect(typeof token?.token).toBe('string');
    expect(Number(token?.tokenExpiresAtMs)).toBeGreaterThan(Date.now());
    expect(hub.standin.calls('/cgi-bin/stable_token').length).toBe(1);
  });

  it('a scanner who does not follow the account gets no message, and the suppression is recorded', async () => {
    const { code, reply } = await scanNewBatch({ sku: 'SKU-2', name: '精华', points: 20, channel: 'pack_card', count: 1 }, 'oPipe_3');
    expect(reply.result).toBe('redeemed');
    const memberId = String(await identityOwner(hub.aws.table, 'wechat_openid', `${hubConfig().WECHAT_APP_ID}:oPipe_3`));
    const { messageIdOf } = await import('../../lib/engagement/outbox.ts');
    const code2 = code.toUpperCase().replace(/[^0-9A-Z]/g, '');
    const messageId = messageIdOf({ memberId, ruleId: 'points_scan', step: code2 });
    const record = await until(async () => {
      const item = await getItem(hub.aws.table, sendKey(messageId));
      return item?.status === 'suppressed' ? item : undefined;
    }, 'the suppression');
    expect(record).toMatchObject({ status: 'suppressed', reason: 'unfollowed' });
    expect(hub.standin.messages().filter((m) => m.touser === 'oPipe_3')).toEqual([]);
  });
});
