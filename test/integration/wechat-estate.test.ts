/**
 * The brand's WeChat estate on the local runtime: two official accounts (A in safe mode, B in
 * plain mode) and one mini program (M), all in HUB_WECHAT_APPS. Pushes are signed with each
 * account's own token and key; the unionid is learnt after the reply, through the engagement
 * queue (the test drives the consumer, so it decides when a lookup runs).
 *
 * Expected values are written out by hand from the scenario (docs/design.md#wechat-accounts):
 * one follow of A through a_spring, one of B through b_spring, a mini program registration.
 */
import { describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { useTestHub } from '../support/hub.ts';
import { signedPush, postPush } from '../support/wechat-client.ts';
import { counterTotals, getItem, memberByIdentity, queryAll, survivorByIdentity, type Item } from '../support/table.ts';
import { consumeEngagement, receiveEngagement } from '../support/engagement-queue.ts';
import { lookupUnionid } from '../../lib/apply/unionid.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { sendKey } from '../../lib/store/entities/send.ts';

const A = { appId: 'wxa1a1a1a1a1a1a1a1', kind: 'official', name: '伟嘉', token: 'TokenOfAccountA0123', aesKey: 'A'.repeat(22) + 'a'.repeat(21), appSecret: 'secret-a' };
const B = { appId: 'wxb2b2b2b2b2b2b2b2', kind: 'official', name: '宝路', token: 'TokenOfAccountB0123', appSecret: 'secret-b' };
const M = { appId: 'wxm3m3m3m3m3m3m3m3', kind: 'miniprogram', name: '会员中心', appSecret: 'secret-m' };

const hub = useTestHub({
  queuePrefix: 'estate',
  functions: ['wechat', 'members', 'engagement-sender', 'admin', 'attribution-api', 'counter-fold'],
  env: { WECHAT_APP_ID: A.appId, HUB_WECHAT_APPS: JSON.stringify([A, B, M]) },
});

const nowS = () => Math.floor(Date.now() / 1000);
const ADMIN = { authorization: 'Bearer local-admin-token', 'content-type': 'application/json' };

let nonces = 0;
async function follow(app: typeof A | typeof B, openid: string, createTime: number, scene?: string) {
  // A fresh nonce per push: two runs of one scenario reuse the push times.
  const req = signedPush({ from: openid, createTime, msgType: 'event', event: 'subscribe', ...(scene ? { eventKey: `qrscene_${scene}` } : {}) }, app, undefined, String(7_000_000 + ++nonces));
  const r = await postPush(hub.url, req);
  expect(r.status).toBe(200);
}

const receiveAll = () => receiveEngagement(hub);
const consume = (records: Awaited<ReturnType<typeof receiveAll>>) => consumeEngagement(hub, records);
const isLookup = (r: { body: string }) => (JSON.parse(r.body) as { ruleId: string }).ruleId === 'unionid_lookup';
const lookupOf = (r: { body: string }) => JSON.parse(r.body) as { appId: string; openid: string };

const member = (appId: string, openid: string) => survivorByIdentity<Item>(hub.aws.table, 'wechat_openid', `${appId}:${openid}`);
const identitiesOf = async (memberId: string) => {
  const rows = await queryAll(hub.aws.table, `MEMBER#${memberId}`, 'MERGE#');
  const merged = rows.map((r) => String(r.loser));
  const ids: string[] = [];
  for (const id of [memberId, ...merged]) {
    const { db, table } = hub.aws;
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const res = await db.send(new QueryCommand({ TableName: table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': `MIDENT#${id}` } }));
    ids.push(...(res.Items ?? []).map((i) => String(i.gsi1sk)));
  }
  return ids.sort();
};

async function attribution(scope: 'brand' | 'account', extra: Record<string, string> = {}) {
  const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  const qs = new URLSearchParams({ from: day(-2), to: day(2), scope, ...extra });
  // The test hub runs no schedules: fold the credit deltas as POST /_local/run/counter-fold would.
  await hub.runScheduled('counter-fold');
  const res = await fetch(`${hub.url}/attribution/channels?${qs}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as { scope: string; channels: { channel: string; newFans: number; convertedFans: number; newMembers: number; appId?: string }[] };
}
const row = (r: Awaited<ReturnType<typeof attribution>>, channel: string) => r.channels.find((c) => c.channel === channel);

describe('the WeChat estate: two official accounts and a mini program', () => {
  it('routes /wechat/{appId} per official account: a mini program or unknown appid is 404', async () => {
    const t = nowS();
    const onM = signedPush({ from: 'o_route', createTime: t, msgType: 'event', event: 'subscribe' }, { appId: M.appId, token: A.token });
    expect((await postPush(hub.url, onM)).status).toBe(404);
    const unknown = signedPush({ from: 'o_route', createTime: t, msgType: 'event', event: 'subscribe' }, { appId: 'wxunknown00000000', token: A.token });
    expect((await postPush(hub.url, unknown)).status).toBe(404);
    // A's token does not open B's door.
    const wrongToken = signedPush({ from: 'o_route', createTime: t, msgType: 'event', event: 'subscribe' }, { appId: B.appId, token: A.token });
    expect((await postPush(hub.url, wrongToken)).status).toBe(401);
  });

  it('(b) the same scene id on A and B is two channels', async () => {
    for (const body of [{ id: 'spring', name: 'A 春季', kind: 'wechat_qr' }, { id: 'spring', name: 'B 春季', kind: 'wechat_qr', appId: B.appId }]) {
      const res = await fetch(`${hub.url}/channels`, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
    }
    const dup = await fetch(`${hub.url}/channels`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: 'spring', name: 'again', kind: 'wechat_qr', appId: B.appId }) });
    expect(dup.status).toBe(409);
    const onM = await fetch(`${hub.url}/channels`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: 'spring2', name: 'M', kind: 'wechat_qr', appId: M.appId }) });
    expect(onM.status).toBe(400);
    // The QR codes were made on each account with the bare scene.
    expect(hub.standin.qrCodes().filter((q) => q.scene === 'spring').map((q) => q.appId).sort()).toEqual([A.appId, B.appId].sort());

    const t = nowS() - 30;
    await follow(A, 'o_spring_a', t, 'spring');
    await follow(B, 'o_spring_b', t, 'spring');
    const brand = await attribution('brand');
    expect(row(brand, 'spring')?.newFans).toBe(1);
    expect(row(brand, `${B.appId}:spring`)).toMatchObject({ newFans: 1, appId: B.appId });
    const onlyB = await attribution('brand', { appId: B.appId });
    expect(onlyB.channels.map((c) => c.channel)).toEqual([`${B.appId}:spring`]);
    await consume(await receiveAll());
  });

  it('(a) follow A through a_spring, follow B through b_spring, register in the mini program: one member, three addresses, one unionid', async () => {
    hub.standin.setUser('p1_a', { appId: A.appId, unionid: 'U_person_1' });
    hub.standin.setUser('p1_b', { appId: B.appId, unionid: 'U_person_1' });
    hub.standin.setUser('p1_m', { appId: M.appId, unionid: 'U_person_1' });
    const t = nowS() - 120;
    await follow(A, 'p1_a', t, 'a_spring');
    await follow(B, 'p1_b', t + 60, 'b_spring');
    // Two records until the unionid is known (the follows were answered without asking WeChat).
    expect((await member(A.appId, 'p1_a'))?.memberId).not.toBe((await member(B.appId, 'p1_b'))?.memberId);
    const asked = hub.standin.calls('/cgi-bin/user/info').length;
    await consume(await receiveAll());
    expect(hub.standin.calls('/cgi-bin/user/info').map((c) => c.query.openid).slice(asked).sort()).toEqual(['p1_a', 'p1_b']);

    const res = await fetch(`${hub.url}/members`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: M.appId, loginCode: 'local:p1_m', phone: '13800138001', phoneCode: 'local-phone:13800138001', name: '小明' }),
    });
    expect(res.status).toBe(200);

    const m = (await member(M.appId, 'p1_m'))!;
    expect((await member(A.appId, 'p1_a'))?.memberId).toBe(m.memberId);
    expect((await member(B.appId, 'p1_b'))?.memberId).toBe(m.memberId);
    expect(m.unionid).toBe('U_person_1');
    expect(m.status).toBe('member');
    expect(Object.keys(m.apps as object).sort()).toEqual([A.appId, B.appId, M.appId].sort());
    expect(m.apps[A.appId]).toMatchObject({ openid: 'p1_a', followed: true, firstFollowAt: t * 1000, lastInteractionKind: 'follow' });
    expect(m.apps[B.appId]).toMatchObject({ openid: 'p1_b', followed: true, firstFollowAt: (t + 60) * 1000 });
    expect(m.apps[M.appId]).toMatchObject({ openid: 'p1_m', followed: false });
    const ids = await identitiesOf(m.memberId);
    expect(ids.filter((i) => i.startsWith('wechat_openid#')).sort()).toEqual([`wechat_openid#${A.appId}:p1_a`, `wechat_openid#${B.appId}:p1_b`, `wechat_openid#${M.appId}:p1_m`].sort());
    expect(ids.filter((i) => i.startsWith('wechat_unionid#'))).toEqual(['wechat_unionid#U_person_1']);
    expect(await getItem(hub.aws.table, identityKey('wechat_unionid', 'U_person_1'))).toBeDefined();

    // Brand view: one new fan (a_spring, the first touch), converted; b_spring counts the person only per account.
    const brand = await attribution('brand');
    expect(brand.scope).toBe('brand');
    expect(row(brand, 'a_spring')).toMatchObject({ newFans: 1, convertedFans: 1, newMembers: 1 });
    expect(row(brand, `${B.appId}:b_spring`)).toMatchObject({ newFans: 0, convertedFans: 0, newMembers: 0 });
    const account = await attribution('account');
    expect(row(account, 'a_spring')).toMatchObject({ newFans: 1, convertedFans: 1 });
    expect(row(account, `${B.appId}:b_spring`)).toMatchObject({ newFans: 1, convertedFans: 0 });
  });

  it('(c) a person with a different unionid is never merged', async () => {
    hub.standin.setUser('p2_a', { appId: A.appId, unionid: 'U_person_2' });
    hub.standin.setUser('p2_b', { appId: B.appId, unionid: 'U_person_2' });
    const t = nowS() - 90;
    await follow(A, 'p2_a', t, 'a_spring');
    await follow(B, 'p2_b', t + 10, 'b_spring');
    await consume(await receiveAll());
    const p2 = (await member(A.appId, 'p2_a'))!;
    const p1 = (await member(A.appId, 'p1_a'))!;
    expect((await member(B.appId, 'p2_b'))?.memberId).toBe(p2.memberId);
    expect(p2.memberId).not.toBe(p1.memberId);
    expect(p2.unionid).toBe('U_person_2');

    // WeChat naming person 1's A address with person 2's unionid links nothing.
    hub.standin.setUser('p1_a', { appId: A.appId, unionid: 'U_person_2' });
    const out = await lookupUnionid({ appId: A.appId, openid: 'p1_a', triggeredAt: t * 1000 }, hub.runtime);
    expect(out).toEqual({ status: 'conflict' });
    expect((await member(A.appId, 'p1_a'))?.memberId).toBe(p1.memberId);
    expect((await member(A.appId, 'p1_a'))?.unionid).toBe('U_person_1');
    expect(await memberByIdentity(hub.aws.table, 'wechat_unionid', 'U_person_2')).toMatchObject({ memberId: p2.memberId });
  });

  it('(d) a unionid that arrives late merges, and the counters equal those of a run where it arrived first', async () => {
    const t = nowS() - 200;
    const run = async (prefix: string, late: boolean) => {
      const a = `${prefix}_a`;
      const b = `${prefix}_b`;
      hub.standin.setUser(a, { appId: A.appId, unionid: `U_${prefix}` });
      hub.standin.setUser(b, { appId: B.appId, unionid: `U_${prefix}` });
      await follow(A, a, t, `${prefix}_qa`);
      if (!late) await consume(await receiveAll());
      await follow(B, b, t + 30, `${prefix}_qb`);
      await follow(A, a, t + 40, `${prefix}_qa2`);
      const records = await receiveAll();
      // Late: B's lookup before A's, both after every follow.
      await consume(late ? [...records].sort((x, y) => (isLookup(x) && lookupOf(x).appId === B.appId ? -1 : isLookup(y) && lookupOf(y).appId === B.appId ? 1 : 0)) : records);
      return (await member(A.appId, a))!;
    };
    const first = await run('early', false);
    const late = await run('late', true);
    expect((await member(B.appId, 'late_b'))?.memberId).toBe(late.memberId);
    expect((await member(B.appId, 'early_b'))?.memberId).toBe(first.memberId);
    expect(late.unionid).toBe('U_late');
    const totals = async (prefix: string) => ({
      qa: await counterTotals(hub.aws.table, `${prefix}_qa`),
      qa2: await counterTotals(hub.aws.table, `${prefix}_qa2`),
      qb: await counterTotals(hub.aws.table, `${B.appId}:${prefix}_qb`),
    });
    const early = await totals('early');
    expect(await totals('late')).toEqual(early);
    // Hand-computed: one brand new fan on A's first channel, one later-account fan on B's.
    const day = Object.keys(early.qa)[0]!.split(':')[0]!.split('#')[1];
    expect(early.qa).toEqual({ [`first#${day}:newFans`]: 1, [`last#${day}:newFans`]: 1 });
    expect(early.qb).toEqual({ [`first#${day}:laterAccountFans`]: 1, [`last#${day}:laterAccountFans`]: 1 });
    expect(early.qa2).toEqual({});
    // The two records are the same but for the run's names.
    const strip = (m: Item) => JSON.parse(JSON.stringify({ unionid: m.unionid, status: m.status, apps: m.apps, wechat: m.wechat, firstTouch: m.firstTouch, lastTouch: m.lastTouch, fanSince: m.fanSince, fanChannel: m.fanChannel, h: m.h }).replace(/early|late/g, 'RUN')) as unknown;
    expect(strip(late)).toEqual(strip(first));
  });

  it('signs the member in with a short-lived session: GET /me is the merged member, from any of its apps', async () => {
    const p1 = (await member(A.appId, 'p1_a'))!;
    const post = (body: unknown) => fetch(`${hub.url}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{ appId: M.appId, loginCode: 'local:p1_m' }, { appId: B.appId, oauthCode: 'local:p1_b' }]) {
      const res = await post(body);
      expect(res.status).toBe(200);
      const { token, expiresAt } = (await res.json()) as { token: string; expiresAt: number };
      expect(expiresAt - Date.now()).toBeGreaterThan(7_100_000);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(7_200_000);
      const meRes = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(meRes.status).toBe(200);
      // No order, no points: silver (¥1,000) is 100,000 fen away, nothing expires.
      expect(await meRes.json()).toEqual({
        memberId: p1.memberId,
        status: 'member',
        tier: 'normal',
        tierProgress: { gmvFen: 0, next: 'silver', nextThresholdFen: 100_000, remainingFen: 100_000 },
        points: 0,
        nextExpiry: null,
        lifecycle: 'prospect',
        phone: p1.phoneMasked,
      });
      // A token with its payload changed does not verify.
      const [payload, sig] = token.split('.');
      const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), o: 'p2_a' })).toString('base64url')}.${sig}`;
      expect((await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    }
    expect((await fetch(`${hub.url}/me`)).status).toBe(401);
    expect((await post({ appId: 'wxnotconfigured00', loginCode: 'local:p1_m' })).status).toBe(400);
    expect((await post({ appId: M.appId, oauthCode: 'local:p1_m' })).status).toBe(400);
  });

  it('an unfollow of A stops every queued marketing send through A at once; a transactional one goes through B; unfollowedAt per account', async () => {
    hub.standin.setUser('p5_a', { appId: A.appId, unionid: 'U_person_5' });
    hub.standin.setUser('p5_b', { appId: B.appId, unionid: 'U_person_5' });
    const t = nowS() - 200;
    await follow(A, 'p5_a', t);
    await follow(B, 'p5_b', t + 10);
    await consume(await receiveAll()); // the unionid lookups merge the two records; the welcomes go
    const memberId = String((await member(A.appId, 'p5_a'))?.memberId);
    expect((await member(B.appId, 'p5_b'))?.memberId).toBe(memberId);

    // Queued before the unfollow: two marketing sends and a points notice, all planned for A.
    const planned = [
      { messageId: 'p5-mkt-1', class: 'marketing', ruleId: 'spring_promo', payload: { text: '春季新品上市' } },
      { messageId: 'p5-mkt-2', class: 'marketing', ruleId: 'spring_promo_tpl', payload: { templateId: 'TPL_PROMO', text: '会员日' } },
      { messageId: 'p5-tx-1', class: 'transactional', ruleId: 'points_order', payload: { templateId: 'TPL_POINTS_CHANGE', points: 5, balance: 15 } },
    ].map((r) => ({ ...r, memberId, step: 's1', destination: 'member', appId: A.appId, openid: 'p5_a', triggeredAt: Date.now(), createdAt: Date.now() }));
    for (const r of planned) await hub.aws.sqs.send(new SendMessageCommand({ QueueUrl: hub.queues.engagement.url, MessageBody: JSON.stringify(r) }));

    const unfollowAt = nowS() - 5;
    const unfollow = signedPush({ from: 'p5_a', createTime: unfollowAt, msgType: 'event', event: 'unsubscribe' }, A, undefined, String(7_100_000 + ++nonces));
    expect((await postPush(hub.url, unfollow)).status).toBe(200);
    const before = hub.standin.messages().length;
    await consume(await receiveAll());

    for (const id of ['p5-mkt-1', 'p5-mkt-2']) expect(await getItem(hub.aws.table, sendKey(id))).toMatchObject({ status: 'suppressed', reason: 'unfollowed' });
    const sent = hub.standin.messages().slice(before);
    // Nothing reached A; the points notice reached the person through B, which they still follow.
    expect(sent.filter((m) => m.appId === A.appId)).toEqual([]);
    expect(sent.map((m) => [m.appId, m.touser, m.kind, m.templateId])).toEqual([[B.appId, 'p5_b', 'template', 'TPL_POINTS_CHANGE']]);
    expect(await getItem(hub.aws.table, sendKey('p5-tx-1'))).toMatchObject({ status: 'sent', via: 'template' });

    // The member view: A unfollowed at the push's time, B still followed.
    const view = await fetch(`${hub.url}/members/${memberId}`, { headers: ADMIN });
    expect(view.status).toBe(200);
    const body = (await view.json()) as { accounts: { appId: string; openid: string; followed: boolean; unfollowedAt?: number }[] };
    expect(body.accounts.map((a) => [a.appId, a.openid, a.followed, a.unfollowedAt ?? null]).sort()).toEqual(
      [
        [A.appId, 'p5_a', false, unfollowAt * 1000],
        [B.appId, 'p5_b', true, null],
      ].sort(),
    );
  });

  it('refuses an appId that is not configured on the member routes (400)', async () => {
    const res = await fetch(`${hub.url}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appId: 'wxnotconfigured00', loginCode: 'local:x', phone: '13800138009', phoneCode: 'local-phone:13800138009' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('unknown_app');
    const wrongKind = await fetch(`${hub.url}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appId: M.appId, oauthCode: 'local:x', phone: '13800138009', phoneCode: 'local-phone:13800138009' }) });
    expect(wrongKind.status).toBe(400);
  });
});
