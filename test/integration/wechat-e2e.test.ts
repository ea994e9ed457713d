/**
 * End to end through the real runtime: HTTP gateway → functions/wechat → apply → DynamoDB Local
 * → outbox → local SQS. Duplicates, SQS failing after the commit, and a shuffled replay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { useLocalAws, type LocalAws } from '../support/env.ts';
import { startHub, type RunningHub } from '../../local/hub.ts';
import { config } from '../../lib/config/index.ts';
import { ddb, sqs, setClients, makeSqs } from '../../lib/store/client.ts';
import { keys } from '../../lib/store/keys.ts';
import { signedPush, type PushSpec } from '../support/wechat-client.ts';

let aws: LocalAws;
let hub: RunningHub;

beforeAll(async () => {
  aws = await useLocalAws();
  hub = await startHub({ port: 0, standinPort: 0, table: aws.table, queuePrefix: `e2e${Date.now()}`, pollers: false, schedules: false, functions: ['wechat'] });
});
afterAll(async () => {
  await hub?.stop();
});

const cfg = () => config();
async function post(spec: PushSpec, mode: 'plain' | 'safe' = 'plain') {
  const req = signedPush(spec, { appId: cfg().WECHAT_APP_ID, token: cfg().WECHAT_TOKEN, aesKey: cfg().WECHAT_AES_KEY }, mode);
  const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } });
  return { status: res.status, body: await res.text() };
}

async function memberByOpenid(openid: string) {
  const ident = await ddb().send(new GetCommand({ TableName: aws.table, Key: keys.identity('wechat_openid', `${cfg().WECHAT_APP_ID}:${openid}`) }));
  if (!ident.Item) return undefined;
  return (await ddb().send(new GetCommand({ TableName: aws.table, Key: keys.member(String(ident.Item.memberId)) }))).Item;
}

async function drainQueue(client: SQSClient, url: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    const ms = r.Messages ?? [];
    if (!ms.length) break;
    out.push(...ms.map((m) => JSON.parse(m.Body!) as Record<string, unknown>));
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ms.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return out;
}

describe('WeChat push end to end', () => {
  it('answers URL verification only with a valid signature', async () => {
    const { sha1Signature } = await import('../../lib/wechat/signature.ts');
    const sig = sha1Signature(cfg().WECHAT_TOKEN, '1700000000', 'n1');
    const ok = await fetch(`${hub.url}/wechat/${cfg().WECHAT_APP_ID}?signature=${sig}&timestamp=1700000000&nonce=n1&echostr=hello123`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello123');
    const bad = await fetch(`${hub.url}/wechat/${cfg().WECHAT_APP_ID}?signature=${'0'.repeat(40)}&timestamp=1700000000&nonce=n1&echostr=hello123`);
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain('hello123');
  });

  it('a channel follow creates the fan, counts it once, and enqueues one welcome — duplicates change nothing', async () => {
    const spec: PushSpec = { from: 'oE2E_follow_1', createTime: 1_763_000_000, msgType: 'event', event: 'subscribe', eventKey: 'qrscene_store_01', ticket: 'T1' };
    const first = await post(spec, 'safe');
    expect(first).toEqual({ status: 200, body: 'success' });
    const again = await post(spec, 'safe');
    expect(again).toEqual({ status: 200, body: 'success' });
    const m = await memberByOpenid('oE2E_follow_1');
    expect(m).toMatchObject({ status: 'fan', fanChannel: 'store_01', firstTouch: { channel: 'store_01', at: 1_763_000_000_000 } });
    expect(m!.wechat.followed).toBe(true);
    const day = '2025-11-13';
    const shardRows = await Promise.all(
      Array.from({ length: cfg().HUB_COUNTER_SHARDS }, (_, s) =>
        ddb().send(new GetCommand({ TableName: aws.table, Key: keys.counter('store_01', s, 'first', day) })),
      ),
    );
    expect(shardRows.reduce((n, r) => n + Number(r.Item?.newFans ?? 0), 0)).toBe(1);
    const messages = await drainQueue(sqs(), hub.queues.engagement.url);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ ruleId: 'welcome_follow', class: 'transactional', openid: 'oE2E_follow_1', memberId: m!.memberId });
  });

  it('rejects a tampered body with 401 and writes nothing', async () => {
    const spec: PushSpec = { from: 'oE2E_tamper', createTime: 1_763_000_100, msgType: 'event', event: 'subscribe' };
    const req = signedPush(spec, { appId: cfg().WECHAT_APP_ID, token: 'wrong-token', aesKey: cfg().WECHAT_AES_KEY });
    const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'bad_signature' });
    expect(await memberByOpenid('oE2E_tamper')).toBeUndefined();
  });

  it('rejects entity-bearing XML with 400 and oversized bodies with 413', async () => {
    const spec: PushSpec = { from: 'oE2E_xxe', createTime: 1_763_000_200, msgType: 'text', content: 'hi', msgId: '1' };
    const req = signedPush(spec, { appId: cfg().WECHAT_APP_ID, token: cfg().WECHAT_TOKEN, aesKey: cfg().WECHAT_AES_KEY });
    const xxe = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + req.body.replace('hi', '&x;');
    expect((await fetch(hub.url + req.path, { method: 'POST', body: xxe })).status).toBe(400);
    const big = req.body.replace('hi', 'x'.repeat(70_000));
    expect((await fetch(hub.url + req.path, { method: 'POST', body: big })).status).toBe(413);
    expect(await memberByOpenid('oE2E_xxe')).toBeUndefined();
  });

  it('when SQS fails right after the commit, the retry delivers the message exactly once', async () => {
    const failing = makeSqs({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const real = sqs();
    setClients({ sqs: failing });
    const spec: PushSpec = { from: 'oE2E_sqsfail', createTime: 1_763_000_300, msgType: 'event', event: 'subscribe', eventKey: '' };
    const first = await post(spec);
    expect(first.status).toBe(503);
    const m = await memberByOpenid('oE2E_sqsfail');
    expect(m?.status).toBe('fan'); // committed before the queue failed
    setClients({ sqs: real });
    const retry = await post(spec);
    expect(retry).toEqual({ status: 200, body: 'success' });
    const third = await post(spec);
    expect(third.status).toBe(200);
    const messages = await drainQueue(real, hub.queues.engagement.url);
    expect(messages.filter((x) => x.openid === 'oE2E_sqsfail')).toHaveLength(1);
  });
});

describe('shuffled replay with duplicates', () => {
  it('1,000 mixed events with 30 % duplicates in shuffled order end in the same members and counters as a clean run', async () => {
    const events = scenario(700, 42);
    const withDupes = [...events, ...pick(events, 300, 7)];
    shuffle(withDupes, 99);
    // Clean run on one prefix, shuffled run on another: same facts, different openids.
    await runAll(events.map((e) => ({ ...e, from: `clean_${e.from}` })));
    await runAll(withDupes.map((e) => ({ ...e, from: `shuf_${e.from}` })));
    const users = [...new Set(events.map((e) => e.from))];
    for (const u of users) {
      const a = await memberByOpenid(`clean_${u}`);
      const b = await memberByOpenid(`shuf_${u}`);
      expect(strip(b)).toEqual(strip(a));
    }
    const totals = async (prefixChannel: string) => {
      const out: Record<string, number> = {};
      for (let s = 0; s < cfg().HUB_COUNTER_SHARDS; s++) {
        const r = await ddb().send(
          new QueryCommand({ TableName: aws.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.counterPartition(prefixChannel, s) } }),
        );
        for (const it of r.Items ?? []) for (const [k, v] of Object.entries(it)) if (typeof v === 'number') out[`${it.sk}:${k}`] = (out[`${it.sk}:${k}`] ?? 0) + v;
      }
      // A credit moved away leaves a zero on its old day: equal to absent.
      for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
      return out;
    };
    for (const ch of ['ch_a', 'ch_b', 'ch_c']) {
      expect(await totals(`shuf_${ch}`)).toEqual(await totals(`clean_${ch}`));
      expect(Object.keys(await totals(`clean_${ch}`)).length).toBeGreaterThan(0);
    }
  }, 240_000);
});

type Ev = PushSpec;
function scenario(n: number, seed: number): Ev[] {
  const rnd = mulberry(seed);
  const out: Ev[] = [];
  const channels = ['ch_a', 'ch_b', 'ch_c'];
  for (let i = 0; i < n; i++) {
    const user = `u${Math.floor(rnd() * 150)}`;
    const t = 1_763_000_000 + Math.floor(rnd() * 86_400 * 5);
    const ch = channels[Math.floor(rnd() * 3)]!;
    const r = rnd();
    if (r < 0.35) out.push({ from: user, createTime: t, msgType: 'event', event: 'subscribe', eventKey: rnd() < 0.3 ? '' : `qrscene_${ch}` });
    else if (r < 0.55) out.push({ from: user, createTime: t, msgType: 'event', event: 'SCAN', eventKey: ch });
    else if (r < 0.7) out.push({ from: user, createTime: t, msgType: 'event', event: 'unsubscribe' });
    else out.push({ from: user, createTime: t, msgType: 'text', content: 'hello', msgId: String(10_000_000_000_000_000n + BigInt(i)) });
  }
  return out;
}
async function runAll(evs: Ev[]) {
  const prefix = evs[0]!.from.split('_')[0]!;
  const fixed = evs.map((e) => ({ ...e, eventKey: e.eventKey ? e.eventKey.replace(/(ch_[abc])/, `${prefix}_$1`) : e.eventKey }));
  for (let i = 0; i < fixed.length; i += 8) {
    const res = await Promise.all(fixed.slice(i, i + 8).map((e) => post(e)));
    for (const r of res) expect(r.status).toBe(200);
  }
}
function strip(m: Record<string, unknown> | undefined) {
  if (!m) return m;
  const { memberId: _a, createdAt: _b, updatedAt: _c, version: _d, pk: _e, sk: _f, wechat, h, credits, firstTouch, lastTouch, fanChannel, ...rest } = m as Record<string, unknown> & { wechat: { openid: string } };
  const unprefix = (x: unknown) => JSON.parse(JSON.stringify(x ?? null).replace(/(clean|shuf)_/g, ''));
  return { ...rest, wechat: unprefix(wechat), h: unprefix(h), credits: unprefix(credits), firstTouch: unprefix(firstTouch), lastTouch: unprefix(lastTouch), fanChannel: unprefix(fanChannel) };
}
function pick<T>(xs: T[], n: number, seed: number): T[] {
  const rnd = mulberry(seed);
  return Array.from({ length: n }, () => xs[Math.floor(rnd() * xs.length)]!);
}
function shuffle<T>(xs: T[], seed: number): void {
  const rnd = mulberry(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}
function mulberry(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
