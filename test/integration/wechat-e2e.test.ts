/**
 * End to end through the real runtime: HTTP gateway → functions/wechat → apply → DynamoDB Local
 * → outbox → local SQS. Duplicates, SQS failing after the commit, and a shuffled replay.
 */
import { hubConfig, sqs } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';

import { makeSqs } from '../../lib/store/client.ts';
import { LOCAL_AWS } from '../../local/emulators.ts';
import { configuredAccount, postPush, pushXml, signedPush, signedXml, type PushSpec } from '../support/wechat-client.ts';
import { counterAt, counterTotals, getItem, memberByOpenid as readMember, queryAll } from '../support/table.ts';
import { keys } from '../../lib/store/keys.ts';
import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { drainQueue } from '../support/queues.ts';
import { omitKeys, mapStrings } from '../support/compare.ts';
import { pick, seededRandom, shuffle } from '../support/random.ts';

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'e2e', functions: ['wechat'] });

const cfg = () => hubConfig();
const post = (spec: PushSpec, mode?: 'plain' | 'safe') => postPush(hub.url, signedPush(spec, configuredAccount(), mode), { 'content-type': 'text/xml' });
const memberByOpenid = (openid: string) => readMember(hub.aws.table, openid);

describe('WeChat push end to end', () => {
  it('answers URL verification only with a valid signature', async () => {
    const { sha1Signature } = await import('../../lib/sources/wechat/signature.ts');
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
    const m = await memberByOpenid('oE2E_follow_1');
    expect(m).toMatchObject({ status: 'fan', fanChannel: 'store_01', firstTouch: { channel: 'store_01', at: 1_763_000_000_000 } });
    expect(m!.wechat.followed).toBe(true);
    expect(m!.h.f).toEqual([[1_763_000_000_000, 'store_01']]);
    const day = '2025-11-13';
    expect((await counterAt(hub.aws.table, 'store_01', 'first', day)).newFans ?? 0).toBe(1);

    // WeChat's retry of the same push: one effect. Everything the follow wrote is compared
    // whole — the member item (version included), every item of its partition, the identity
    // row, the channel's counters and the dedupe marker — before and after.
    const state = async () => ({
      member: await memberByOpenid('oE2E_follow_1'),
      partition: await queryAll(hub.aws.table, keys.memberPartition(String(m!.memberId))),
      identity: await getItem(hub.aws.table, identityKey('wechat_openid', `${cfg().WECHAT_APP_ID}:oE2E_follow_1`)),
      counters: await counterTotals(hub.aws.table, 'store_01'),
      marker: await getItem(hub.aws.table, dedupeKey('wechat:evt:gh_hub|oE2E_follow_1|1763000000|subscribe|qrscene_store_01')),
    });
    const before = await state();
    expect(before.partition.length).toBeGreaterThanOrEqual(1);
    expect(before.marker).toMatchObject({ type: 'wechat.follow', memberId: m!.memberId });
    const again = await post(spec, 'safe');
    expect(again).toEqual({ status: 200, body: 'success' });
    expect(await state()).toEqual(before);
    const messages = await drainQueue(hub.queues.engagement.url);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ ruleId: 'welcome_follow', class: 'transactional', openid: 'oE2E_follow_1', memberId: m!.memberId });
  });

  it('rejects a tampered body with 401 and writes nothing', async () => {
    const spec: PushSpec = { from: 'oE2E_tamper', createTime: 1_763_000_100, msgType: 'event', event: 'subscribe' };
    const req = signedPush(spec, { ...configuredAccount(), token: 'wrong-token' });
    const res = await fetch(hub.url + req.path, { method: 'POST', body: req.body });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'bad_signature' });
    expect(await memberByOpenid('oE2E_tamper')).toBeUndefined();
  });

  it('rejects entity-bearing XML with 400 and oversized bodies with 413', async () => {
    // Safe mode (the configured account has a key): only a correctly sealed push reaches the parser.
    const account = configuredAccount();
    expect(account.aesKey).toBeDefined();
    const spec: PushSpec = { from: 'oE2E_xxe', createTime: Math.floor(Date.now() / 1000), msgType: 'text', content: 'hi', msgId: '1' };
    const ts = String(spec.createTime);
    const seal = (xml: string, nonce: string) => signedXml(xml, spec.from, account, 'safe', nonce, ts);
    const doctype = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
    // An entity in the sealed message itself, and a DOCTYPE on the (validly signed) envelope.
    const inner = seal(doctype + pushXml(spec).replace('hi', '&x;'), 'xxe1');
    const refused = async (path: string, body: string) => {
      const res = await fetch(hub.url + path, { method: 'POST', body });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error };
    };
    expect(await refused(inner.path, inner.body)).toEqual({ status: 400, error: 'bad_xml' });
    const outer = seal(pushXml(spec), 'xxe2');
    expect(await refused(outer.path, doctype + outer.body)).toEqual({ status: 400, error: 'bad_xml' });
    // A sealed push over 64 KiB.
    const big = seal(pushXml({ ...spec, content: 'x'.repeat(70_000) }), 'big1');
    expect(big.body.length).toBeGreaterThan(65_536);
    expect((await fetch(hub.url + big.path, { method: 'POST', body: big.body })).status).toBe(413);
    expect(await memberByOpenid('oE2E_xxe')).toBeUndefined();
  });

  it('when SQS fails right after the commit, the push is answered success and a retry delivers the message exactly once', async () => {
    const failing = makeSqs({ ...LOCAL_AWS, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const saved = hub.runtime;
    hub.reconfigure({ clients: { sqs: failing } });
    const spec: PushSpec = { from: 'oE2E_sqsfail', createTime: 1_763_000_300, msgType: 'event', event: 'subscribe', eventKey: '' };
    // WeChat must not show "该公众号暂时无法提供服务": the commit holds, the outbox keeps the row.
    const first = await post(spec);
    expect(first).toEqual({ status: 200, body: 'success' });
    const m = await memberByOpenid('oE2E_sqsfail');
    expect(m?.status).toBe('fan'); // committed before the queue failed
    hub.restore(saved);
    const retry = await post(spec);
    expect(retry).toEqual({ status: 200, body: 'success' });
    const third = await post(spec);
    expect(third.status).toBe(200);
    const messages = await drainQueue(hub.queues.engagement.url, sqs());
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
    // A credit moved away leaves a zero on its old day: equal to absent.
    const totals = (prefixChannel: string) => counterTotals(hub.aws.table, prefixChannel);
    for (const ch of ['ch_a', 'ch_b', 'ch_c']) {
      expect(await totals(`shuf_${ch}`)).toEqual(await totals(`clean_${ch}`));
      expect(Object.keys(await totals(`clean_${ch}`)).length).toBeGreaterThan(0);
    }
  }, 240_000);
});

type Ev = PushSpec;
function scenario(n: number, seed: number): Ev[] {
  const rnd = seededRandom(seed);
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
    const res = await Promise.all(fixed.slice(i, i + 8).map((e) => postAsWechat(e)));
    for (const r of res) expect(r.status).toBe(200);
  }
}
/**
 * A push as WeChat delivers it: an answer other than 200 (a 503 when concurrent pushes of one
 * person contend past the 3.5 s reply budget) is retried, at most 3 times
 * (docs/platforms.md#wechat-passive-replies).
 */
async function postAsWechat(e: Ev): Promise<{ status: number; body: string }> {
  let res = await post(e);
  for (let retry = 0; retry < 3 && res.status === 503; retry++) res = await post(e);
  return res;
}
function strip(m: Record<string, unknown> | undefined) {
  if (!m) return m;
  // The review index entry (a fan gone from the account is reviewed when its retention ends) names the
  // member id and its shard: the day it is filed under must agree, the id-derived parts cannot.
  const { wechat, h, credits, firstTouch, lastTouch, fanChannel, gsi1pk, ...rest } = omitKeys(m, ['memberId', 'createdAt', 'updatedAt', 'version', 'pk', 'sk', 'gsi1sk']);
  const unprefix = (x: unknown) => mapStrings(x ?? null, (text) => text.replace(/(clean|shuf)_/g, ''));
  const reviewDay = typeof gsi1pk === 'string' ? gsi1pk.replace(/#\d+$/, '') : gsi1pk;
  return { ...rest, reviewDay, wechat: unprefix(wechat), h: unprefix(h), credits: unprefix(credits), firstTouch: unprefix(firstTouch), lastTouch: unprefix(lastTouch), fanChannel: unprefix(fanChannel) };
}
