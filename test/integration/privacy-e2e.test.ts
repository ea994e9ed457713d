/**
 * Personal information (docs/privacy.md) end to end through the real runtime: HTTP gateway →
 * functions/members, functions/admin, the engagement sender and the `privacy` function → DynamoDB
 * Local and a local archive directory. Expectations come from the raw client (direct Queries of
 * the person's partitions, whole-table scans, the archive files) and from a copy of the table the
 * erasure never touches — never from the functions under test.
 *
 *   - the export (GET /me/data, GET /members/{id}/export) holds every item of the member's
 *     partitions, identities and orders as stored; audited without identifiers;
 *   - consent: a member without marketing consent receives transactional messages only; a
 *     withdrawal holds back a marketing message queued before it;
 *   - erasure: no identifier left in the table or the archive, order amounts kept without
 *     identifiers, the counters exactly those of the untouched copy; a re-follow is a new fan and
 *     a new registration works (no old dedupe marker answers for it);
 *   - an erasure interrupted by injected faults (after the collect step, inside the sweep)
 *     resumes to completion;
 *   - an unregistered fan gone from every account is erased after HUB_FAN_RETENTION_DAYS; a
 *     member is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { useTestHub } from '../support/hub.ts';
import { hubConfig } from '../support/env.ts';
import { foldCounters, getItem, scanAll } from '../support/table.ts';
import { configuredAccount, postPush, signedPush } from '../support/wechat-client.ts';
import { injectDynamoFaults } from '../support/faults.ts';
import { paidYouzanOrder } from '../support/orders.ts';
import { createTable } from '../../local/emulators.ts';
import { toRecord } from '../../local/poller.ts';
import { putItems } from '../../lib/store/snapshot.ts';
import { apply } from '../../lib/apply/apply.ts';
import { hashPhone } from '../../lib/members/phone.ts';
import { runNightly } from '../../lib/members/nightly.ts';
import { rebuild } from '../../lib/analytics/rebuild.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';
import type { OutboxRow } from '../../lib/events/messages.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- table items and response bodies are checked field by field
type Loose = any;
type Item = Record<string, Loose>;

const ARCHIVE = mkdtempSync(join(tmpdir(), 'hub-privacy-archive-'));
afterAll(() => rmSync(ARCHIVE, { recursive: true, force: true }));

// Marketing goes out at any hour to anyone in this file (no quiet hours, no holdout, generous caps):
// whatever holds a message back here is the consent.
const POLICY = JSON.stringify({ quietHours: null, holdout: 0, dailyCap: 20, weeklyCap: 50 });
const hub = useTestHub({
  queuePrefix: 'pipl',
  replaysHistory: true,
  archiveDir: ARCHIVE,
  functions: ['wechat', 'members', 'admin', 'engagement-sender', 'privacy'],
  env: { HUB_ENGAGEMENT_POLICY: POLICY, HUB_FAN_RETENTION_DAYS: '30' },
});

const cfg = () => hubConfig();
const DAY = 86_400_000;
const appId = () => cfg().WECHAT_APP_ID;
const admin = () => ({ authorization: `Bearer ${cfg().HUB_ADMIN_TOKEN}` });

// ---------- doors ----------

async function follow(openid: string, createTime: number, scene?: string, event: 'subscribe' | 'unsubscribe' | 'SCAN' = 'subscribe') {
  const eventKey = event === 'subscribe' && scene ? `qrscene_${scene}` : (scene ?? '');
  const res = await postPush(hub.url, signedPush({ from: openid, createTime, msgType: 'event', event, eventKey }, configuredAccount()), { 'content-type': 'text/xml' });
  expect(res).toEqual({ status: 200, body: 'success' });
}

async function register(openid: string, phone: string, extra: Record<string, unknown> = {}) {
  const body = { appId: appId(), oauthCode: `local:${openid}`, phone, phoneCode: `local-phone:${phone}`, name: '李雷', birthday: '1990-05-01', ...extra };
  const res = await fetch(`${hub.url}/members`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Item };
}

async function session(openid: string): Promise<string> {
  const res = await fetch(`${hub.url}/sessions`, { method: 'POST', body: JSON.stringify({ appId: appId(), oauthCode: `local:${openid}` }), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Item };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const orderEvent = (openid: string, orderId: string, at: number, fen: number): HubEvent =>
  paidYouzanOrder({
    eventId: `test:pipl:${orderId}`,
    shopId: 'pipl-shop',
    orderId,
    at,
    fen,
    lines: [{ lineId: `${orderId}-1`, sku: 'SKU-PIPL', quantity: 1, paidFen: fen }],
    buyer: [{ kind: 'wechat_openid', value: `${appId()}:${openid}` }],
  });

/** Hands one planned message to the engagement sender as its queue would. */
let sqsSeq = 0;
async function deliver(row: OutboxRow): Promise<void> {
  const record: SQSRecord = toRecord({ MessageId: `pipl-${++sqsSeq}`, ReceiptHandle: `rh-${sqsSeq}`, Body: JSON.stringify(row) }, 'arn:aws:sqs:local:000000000000:engagement');
  const res = await hub.invokeConsumer('engagement-sender', { Records: [record] });
  expect(res && 'batchItemFailures' in res ? res.batchItemFailures : []).toEqual([]);
}

const message = (memberId: string, openid: string, cls: 'marketing' | 'transactional', id: string): OutboxRow => ({
  messageId: `pipl-msg-${id}`,
  memberId,
  ruleId: cls === 'marketing' ? 'repurchase' : 'points_order',
  step: id,
  class: cls,
  destination: 'member',
  payload: cls === 'marketing' ? { templateId: 'TPL_REPURCHASE', text: '新品上市' } : { templateId: 'TPL_POINTS_CHANGE', points: 5, balance: 5 },
  appId: appId(),
  openid,
  triggeredAt: Date.now(),
  createdAt: Date.now(),
});

async function sentTo(openid: string): Promise<Item[]> {
  const res = await fetch(`${hub.standin.url}/_local/messages`);
  return ((await res.json()) as { messages: Item[] }).messages.filter((m) => m.touser === openid);
}

// ---------- the raw table ----------

async function rawQuery(input: { pk?: string; gsi1pk?: string }): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await hub.aws.db.send(
      new QueryCommand({
        TableName: hub.aws.table,
        ...(input.gsi1pk ? { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': input.gsi1pk } } : { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': input.pk }, ConsistentRead: true }),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...((res.Items ?? []) as Item[]));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

const keyOf = (i: Item) => `${String(i.pk)} | ${String(i.sk)}`;

async function memberIdOf(openid: string): Promise<string | undefined> {
  const row = await getItem<Item>(hub.aws.table, { pk: `IDENT#wechat_openid#${appId()}:${openid}`, sk: '#' });
  return row?.memberId as string | undefined;
}

/** Runs the privacy function until no erasure is left running (at most `runs` times). */
async function runPrivacy(runs = 3): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const out = (await hub.runScheduled('privacy')) as { running: number; done: number };
    if (out.running === out.done) return;
  }
}

/** Every line of every archive file. */
function archiveLines(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(ARCHIVE, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ndjson')) out.push(...readFileSync(join(entry.parentPath, entry.name), 'utf8').split('\n').filter((l) => l.trim()));
  }
  return out;
}

/** The attribution aggregates (counter shards and rollups) of a table: key → metric → n, zeros dropped. */
async function aggregates(table: string): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const it of await scanAll<Item>(table)) {
    const pk = String(it.pk);
    if (!pk.startsWith('COUNT#') && !pk.startsWith('ROLLUP#')) continue;
    const metrics = Object.fromEntries(Object.entries(it).filter(([k, v]) => typeof v === 'number' && v !== 0 && k !== 'expiresAt'));
    if (Object.keys(metrics).length) out[keyOf(it)] = metrics as Record<string, number>;
  }
  return out;
}

// ---------- the people of this file ----------

const A = { openid: 'oPipl_Alice_0000000001', phone: '13912340001' };
const B = { openid: 'oPipl_Bob_000000000002', phone: '13912340002' };
const C = { openid: 'oPipl_Carol_00000000003', phone: '13912340003' };
const now = Date.now();
const t = (minutesAgo: number) => Math.floor((now - minutesAgo * 60_000) / 1000);
let aliceId = '';
let bobId = '';

describe('consent at registration and the sender', () => {
  beforeAll(async () => {
    await follow(A.openid, t(50), 'pipl_ch');
    const a = await register(A.openid, A.phone, { privacyPolicyVersion: '2026-01', marketingConsent: true });
    expect(a.status).toBe(200);
    aliceId = a.body.memberId as string;
    await follow(B.openid, t(49), 'pipl_ch');
    const b = await register(B.openid, B.phone, { privacyPolicyVersion: '2026-01' });
    expect(b.status).toBe(200);
    bobId = b.body.memberId as string;
    await apply(orderEvent(A.openid, 'PIPL-A-1', now - 40 * 60_000, 12_800), hub.runtime);
  });

  it('records the policy version and the marketing consent with time and channel, on the profile and as a consent record', async () => {
    const alice = await getItem<Item>(hub.aws.table, { pk: `MEMBER#${aliceId}`, sk: '#PROFILE' });
    expect(alice!.consent).toMatchObject({ policyVersion: '2026-01', marketing: true, marketingChannel: 'register' });
    expect(alice!.consent.policyAcceptedAt).toBe(alice!.consent.marketingAt);
    const bob = await getItem<Item>(hub.aws.table, { pk: `MEMBER#${bobId}`, sk: '#PROFILE' });
    expect(bob!.consent).toMatchObject({ policyVersion: '2026-01', marketing: false, marketingChannel: 'register' });
    const records = await rawQuery({ pk: `MEMBER#${aliceId}` });
    expect(records.filter((r) => String(r.sk).startsWith('CONSENT#')).map((r) => [r.marketing, r.channel, r.policyVersion])).toEqual([[true, 'register', '2026-01']]);
  });

  it('a member without marketing consent receives transactional messages only (no_consent recorded)', async () => {
    await deliver(message(bobId, B.openid, 'marketing', 'b-m1'));
    await deliver(message(bobId, B.openid, 'transactional', 'b-t1'));
    const got = await sentTo(B.openid);
    expect(got.map((m) => m.templateId)).toEqual(['TPL_POINTS_CHANGE']);
    const suppressed = (await rawQuery({ pk: `MEMBER#${bobId}` })).filter((r) => String(r.sk).startsWith('SUPPRESS#'));
    expect(suppressed.map((r) => [r.messageId, r.reason])).toEqual([['pipl-msg-b-m1', 'no_consent']]);
    expect(await getItem<Item>(hub.aws.table, { pk: 'SEND#pipl-msg-b-m1', sk: '#' })).toMatchObject({ status: 'suppressed', reason: 'no_consent' });
    expect(await getItem<Item>(hub.aws.table, { pk: 'SEND#pipl-msg-b-t1', sk: '#' })).toMatchObject({ status: 'sent' });
  });

  it('a member with consent receives marketing; a withdrawal holds back a marketing message queued before it, transactional ones still go', async () => {
    await deliver(message(aliceId, A.openid, 'marketing', 'a-m1'));
    expect((await sentTo(A.openid)).map((m) => m.templateId)).toEqual(['TPL_REPURCHASE']);
    const queued = message(aliceId, A.openid, 'marketing', 'a-m2'); // planned while consent was given
    const token = await session(A.openid);
    const res = await call('POST', '/me/consent', bearer(token), { marketing: false });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ memberId: aliceId, marketing: false });
    await deliver(queued);
    await deliver(message(aliceId, A.openid, 'transactional', 'a-t1'));
    expect((await sentTo(A.openid)).map((m) => m.templateId)).toEqual(['TPL_REPURCHASE', 'TPL_POINTS_CHANGE']);
    expect(await getItem<Item>(hub.aws.table, { pk: 'SEND#pipl-msg-a-m2', sk: '#' })).toMatchObject({ status: 'suppressed', reason: 'no_consent' });
    const history = (await rawQuery({ pk: `MEMBER#${aliceId}` })).filter((r) => String(r.sk).startsWith('CONSENT#'));
    expect(history.map((r) => [r.marketing, r.channel])).toEqual([
      [true, 'register'],
      [false, 'me'],
    ]);
    expect((await getItem<Item>(hub.aws.table, { pk: `MEMBER#${aliceId}`, sk: '#PROFILE' }))!.consent).toMatchObject({ marketing: false, marketingChannel: 'me', policyVersion: '2026-01' });
  });

  it('refuses a consent change without a session (401) or with a bad body (400), writing nothing', async () => {
    const before = (await rawQuery({ pk: `MEMBER#${aliceId}` })).length;
    expect((await call('POST', '/me/consent', {}, { marketing: true })).status).toBe(401);
    const token = await session(A.openid);
    const bad = await call('POST', '/me/consent', bearer(token), { marketing: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
    expect((await rawQuery({ pk: `MEMBER#${aliceId}` })).length).toBe(before);
  });
});

describe('access and copy: GET /me/data and GET /members/{id}/export', () => {
  it('holds every item of the member partition, identities and orders as stored (a direct Query of each)', async () => {
    const token = await session(A.openid);
    const res = await call('GET', '/me/data', bearer(token));
    expect(res.status).toBe(200);
    const exported = new Map<string, Item>();
    for (const items of Object.values(res.body.sections as Record<string, Item[]>)) for (const i of items) exported.set(keyOf(i), i);
    const direct = [...(await rawQuery({ pk: `MEMBER#${aliceId}` })), ...(await rawQuery({ gsi1pk: `MIDENT#${aliceId}` })), ...(await rawQuery({ gsi1pk: `MORDERS#${aliceId}` }))];
    // What the key schema holds for Alice by now: profile, lot and ledger, due nudges, consent records, suppression, sent log, the lift report's eligibility of her marketing messages, identities, order.
    const prefixes = new Set(direct.map((i) => (String(i.pk).startsWith('MEMBER#') ? String(i.sk).split('#')[0] || '#PROFILE' : String(i.pk).split('#')[0])));
    expect([...prefixes].sort()).toEqual(['#PROFILE', 'CONSENT', 'DUE', 'IDENT', 'LEDGER', 'LIFT', 'LOT', 'ORDER', 'SENT', 'SUPPRESS'].sort());
    for (const item of direct) expect(exported.get(keyOf(item)), keyOf(item)).toEqual(item);
    // The send records of her messages, by their keys.
    for (const id of ['a-m1', 'a-m2', 'a-t1']) expect(exported.get(`SEND#pipl-msg-${id} | #`)).toEqual(await getItem(hub.aws.table, { pk: `SEND#pipl-msg-${id}`, sk: '#' }));
    // Nothing of anyone else: every exported item names her.
    for (const [k, item] of exported) expect(JSON.stringify(item).includes(aliceId) || JSON.stringify(item).includes(A.openid), k).toBe(true);
    expect(res.body.profile).toMatchObject({ memberId: aliceId, status: 'member', phone: '139****0001', consent: { marketing: false } });
    expect(Object.keys(res.body.sections)).toEqual(expect.arrayContaining(['member profile', 'points ledger', 'points lot', 'consent record', 'identity', 'order', 'send record', 'sent log (caps)', 'suppression']));
    expect(JSON.stringify(res.body)).not.toContain(A.phone);
  });

  it('an admin export needs a reason, answers the same items and is audited with the member id only', async () => {
    expect((await call('GET', `/members/${aliceId}/export`, admin())).status).toBe(400);
    expect((await call('GET', `/members/${aliceId}/export?reason=ticket-1`, {})).status).toBe(401);
    expect((await call('GET', `/members/NO_SUCH_MEMBER/export?reason=ticket-1`, admin())).status).toBe(404);
    const res = await call('GET', `/members/${aliceId}/export?reason=${encodeURIComponent('ticket PIPL-42')}`, admin());
    expect(res.status).toBe(200);
    const token = await session(A.openid);
    const mine = await call('GET', '/me/data', bearer(token));
    expect(res.body.sections).toEqual(mine.body.sections);
    const audits = (await scanAll<Item>(hub.aws.table)).filter((i) => String(i.pk).startsWith('AUDIT#') && i.memberId === aliceId && i.action === 'export');
    expect(audits.map((a) => [a.actor, a.reason])).toEqual(expect.arrayContaining([['admin:admin-token', 'ticket PIPL-42'], ['member', 'access request (GET /me/data)']]));
    for (const a of audits) {
      expect(JSON.stringify(a)).not.toContain(A.openid);
      expect(a.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 1000 * 86_400);
    }
  });
});

describe('erasure', () => {
  const tokens = () => [aliceId, A.openid, hashPhone(A.phone, cfg().PHONE_HASH_SECRET)];
  let twin = '';
  /** The archive as S3 would keep it: a copy taken before the erasure, never rewritten. */
  const UNREWRITTEN = mkdtempSync(join(tmpdir(), 'hub-privacy-s3-'));
  afterAll(() => rmSync(UNREWRITTEN, { recursive: true, force: true }));

  beforeAll(async () => {
    // Counters folded, then a QR scan whose credit delta is still pending when the erasure runs.
    await foldCounters(hub.aws.table);
    await follow(A.openid, t(10), 'pipl_scan', 'SCAN');
    const pending = (await scanAll<Item>(hub.aws.table)).filter((i) => String(i.pk).startsWith('DELTA#') && String(i.sk).includes(aliceId));
    expect(pending.length).toBeGreaterThan(0);
    // The untouched twin: the table as it is now, folded without any erasure.
    twin = `${hub.aws.table}-twin`;
    await createTable(hub.aws.db, twin);
    await putItems({ db: hub.aws.db, table: twin }, await scanAll<Item>(hub.aws.table));
    await foldCounters(twin);
    await hub.runtime.archive.flush();
    cpSync(ARCHIVE, UNREWRITTEN, { recursive: true });
  });

  it('POST /members/{id}/erase needs a reason; then answers 202 and the same erasure again', async () => {
    expect((await call('POST', `/members/${aliceId}/erase`, admin(), {})).status).toBe(400);
    // A phone number typed into the reason is masked before it reaches the job, the audit and the log.
    const first = await call('POST', `/members/${aliceId}/erase`, admin(), { reason: 'ticket PIPL-43 (caller 13912340001)' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ memberId: aliceId, status: 'running' });
    const again = await call('POST', `/members/${aliceId}/erase`, admin(), { reason: 'ticket PIPL-43 (caller 13912340001)' });
    expect(again.body).toEqual(first.body);
  });

  it('leaves no identifier of the person in the table, keeps the order amounts without identifiers', async () => {
    await runPrivacy();
    const job = await getItem<Item>(hub.aws.table, { pk: `ERASE#${aliceId}`, sk: '#' });
    expect(job).toMatchObject({ status: 'done', requestedBy: 'admin:admin-token', reason: 'ticket PIPL-43 (caller 139****0001)' });
    const items = await scanAll<Item>(hub.aws.table);
    for (const item of items) {
      const text = JSON.stringify(item);
      const pk = String(item.pk);
      const owned = pk === `ERASE#${aliceId}` || (pk.startsWith('AUDIT#') && item.memberId === aliceId);
      for (const token of tokens()) {
        if (owned && token === aliceId) continue;
        expect(text.includes(token), `${keyOf(item)} holds ${token}`).toBe(false);
      }
    }
    // The erasure job and the audit name the member id, nothing else of the person.
    expect(Object.keys(job!).sort()).toEqual(['completedAt', 'counts', 'memberId', 'pk', 'reason', 'requestedAt', 'requestedBy', 'runs', 'sk', 'status', 'step', 'version'].sort());
    const order = await getItem<Item>(hub.aws.table, { pk: 'ORDER#youzan#pipl-shop#PIPL-A-1', sk: '#' });
    expect(order).toMatchObject({ paidFen: 12_800, totalFen: 12_800, status: 'paid' });
    expect(order!.memberId).toBeUndefined();
    expect(order!.gsi1pk).toBeUndefined();
    expect(await memberIdOf(A.openid)).toBeUndefined();
  });

  it('leaves the attribution counters exactly as without the erasure (the pending delta re-keyed, then folded)', async () => {
    const deltas = (await scanAll<Item>(hub.aws.table)).filter((i) => String(i.pk).startsWith('DELTA#'));
    expect(deltas.some((d) => String(d.sk).includes('#erased-'))).toBe(true);
    await foldCounters(hub.aws.table);
    expect(await aggregates(hub.aws.table)).toEqual(await aggregates(twin));
  });

  it('removes the person from the local archive and leaves a tombstone of digests', () => {
    const lines = archiveLines();
    expect(lines.length).toBeGreaterThan(0);
    for (const token of tokens()) expect(lines.filter((l) => l.includes(token)), token).toEqual([]);
    expect(lines.filter((l) => l.includes('"type":"member.erased"'))).toHaveLength(1);
  });

  it('a rebuild from an archive that could not be rewritten honours the tombstone: the person does not come back', async () => {
    // The tombstone reaches S3 like any record; the person's old records stay there until the lifecycle deletes them.
    const tombstone = archiveLines().filter((l) => l.includes('"type":"member.erased"'));
    const day = (JSON.parse(tombstone[0]!) as { dt: string }).dt;
    mkdirSync(join(UNREWRITTEN, 'events', 'source=members', `dt=${day}`), { recursive: true });
    writeFileSync(join(UNREWRITTEN, 'events', 'source=members', `dt=${day}`, 'part-tombstone.ndjson'), `${tombstone.join('\n')}\n`);
    expect(readdirSync(UNREWRITTEN, { recursive: true }).length).toBeGreaterThan(0);
    const target = `${hub.aws.table}-rebuilt`;
    await createTable(hub.aws.db, target);
    const from = new Date(now - DAY).toISOString().slice(0, 10);
    const to = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const r = await rebuild({ archiveDir: UNREWRITTEN, range: { from, to }, live: { db: hub.aws.db, table: hub.aws.table }, target: { db: hub.aws.db, table: target }, cfg: cfg() });
    expect(r.applied).toBeGreaterThan(0);
    const rebuilt = await scanAll<Item>(target);
    // Bob (not erased) is rebuilt; nothing of Alice is.
    expect(rebuilt.some((i) => JSON.stringify(i).includes(B.openid))).toBe(true);
    for (const item of rebuilt) for (const token of [A.openid, hashPhone(A.phone, cfg().PHONE_HASH_SECRET)]) expect(JSON.stringify(item).includes(token), keyOf(item)).toBe(false);
  });

  it('the old session finds nobody; the admin view is 404', async () => {
    const token = await session(A.openid);
    expect((await call('GET', '/me', bearer(token))).status).toBe(404);
    expect((await call('GET', '/me/data', bearer(token))).status).toBe(404);
    expect((await call('GET', `/members/${aliceId}`, admin())).status).toBe(404);
  });

  it('a re-follow after erasure is a new fan, and registering again makes a new member', async () => {
    await follow(A.openid, t(5), 'pipl_ch');
    const newId = await memberIdOf(A.openid);
    expect(newId).toBeDefined();
    expect(newId).not.toBe(aliceId);
    const fan = await getItem<Item>(hub.aws.table, { pk: `MEMBER#${newId}`, sk: '#PROFILE' });
    expect(fan).toMatchObject({ status: 'fan', fanChannel: 'pipl_ch' });
    expect(fan!.h.r).toBeUndefined();
    expect(await getItem(hub.aws.table, { pk: `MEMBER#${aliceId}`, sk: '#PROFILE' })).toBeUndefined();
    // The same registration as before (same caller, same phone: the same event id) is applied anew.
    const again = await register(A.openid, A.phone, { privacyPolicyVersion: '2026-01' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ memberId: newId, status: 'member' });
  });
});

describe('an interrupted erasure resumes to completion', () => {
  let carolId = '';
  beforeAll(async () => {
    await follow(C.openid, t(30), 'pipl_ch');
    const c = await register(C.openid, C.phone, { marketingConsent: true });
    expect(c.status).toBe(200);
    carolId = c.body.memberId as string;
    await apply(orderEvent(C.openid, 'PIPL-C-1', now - 20 * 60_000, 5_000), hub.runtime);
  });

  it('fails after the collect step and inside the sweep, and finishes on the next runs', async () => {
    const token = await session(C.openid);
    const req = await call('DELETE', '/me', bearer(token));
    expect(req.status).toBe(202);
    expect(req.body).toMatchObject({ memberId: carolId, status: 'running' });

    // Every delete fails: the run stops in the identities step, the collected identifiers saved.
    const deletes = injectDynamoFaults(hub.aws.db, { seed: 1, rate: 1, commands: ['DeleteItemCommand'], kinds: { throttle: 1 }, layer: 'app' });
    await expect(hub.runScheduled('privacy')).rejects.toThrow();
    deletes.remove();
    const stopped = await getItem<Item>(hub.aws.table, { pk: `ERASE#${carolId}`, sk: '#' });
    expect(stopped).toMatchObject({ status: 'running', step: 1, runs: 1 });
    expect(stopped!.tokens).toEqual(expect.arrayContaining([carolId, C.openid]));
    expect(await memberIdOf(C.openid)).toBe(carolId);

    // Every Scan fails: the next run deletes identities and the person's items, then stops in the sweep.
    const scans = injectDynamoFaults(hub.aws.db, { seed: 2, rate: 1, commands: ['ScanCommand'], kinds: { throttle: 1 }, layer: 'app' });
    await expect(hub.runScheduled('privacy')).rejects.toThrow();
    scans.remove();
    const midway = await getItem<Item>(hub.aws.table, { pk: `ERASE#${carolId}`, sk: '#' });
    expect(midway).toMatchObject({ status: 'running', step: 3, runs: 2 });
    expect(await memberIdOf(C.openid)).toBeUndefined();

    await runPrivacy();
    const done = await getItem<Item>(hub.aws.table, { pk: `ERASE#${carolId}`, sk: '#' });
    expect(done).toMatchObject({ status: 'done', runs: 3, requestedBy: 'member' });
    expect(done!.tokens).toBeUndefined();
    const phoneHash = hashPhone(C.phone, cfg().PHONE_HASH_SECRET);
    for (const item of await scanAll<Item>(hub.aws.table)) {
      const text = JSON.stringify(item);
      expect(text.includes(C.openid), keyOf(item)).toBe(false);
      expect(text.includes(phoneHash), keyOf(item)).toBe(false);
      if (String(item.pk) !== `ERASE#${carolId}` && !String(item.pk).startsWith('AUDIT#')) expect(text.includes(carolId), keyOf(item)).toBe(false);
    }
    expect(await getItem<Item>(hub.aws.table, { pk: 'ORDER#youzan#pipl-shop#PIPL-C-1', sk: '#' })).toMatchObject({ paidFen: 5_000 });
    // A run with nothing left to do changes nothing.
    const before = await scanAll<Item>(hub.aws.table);
    await runPrivacy(1);
    expect((await scanAll<Item>(hub.aws.table)).length).toBe(before.length);
  });
});

describe('fan retention: an unregistered fan gone from every account', () => {
  const D = { openid: 'oPipl_Dave_000000000004' };
  const E = { openid: 'oPipl_Erin_000000000005', phone: '13912340005' };

  it('is erased HUB_FAN_RETENTION_DAYS after the last unfollow; a member who unfollowed is kept', async () => {
    await follow(D.openid, t(20), 'pipl_ch');
    await follow(D.openid, t(19), undefined, 'unsubscribe');
    await follow(E.openid, t(18), 'pipl_ch');
    expect((await register(E.openid, E.phone)).status).toBe(200);
    await follow(E.openid, t(17), undefined, 'unsubscribe');
    const daveId = (await memberIdOf(D.openid))!;
    const erinId = (await memberIdOf(E.openid))!;
    const deps = { db: hub.aws.db, table: hub.aws.table, cfg: hub.runtime.cfg };
    // One day before the end of the grace period nothing is due; one day after it the fan's erasure is requested.
    const early = await runNightly({ ...deps, now: () => t(19) * 1000 + 29 * DAY });
    expect(early.erasures).toBe(0);
    expect(await getItem(hub.aws.table, { pk: `ERASE#${daveId}`, sk: '#' })).toBeUndefined();
    const late = await runNightly({ ...deps, now: () => t(19) * 1000 + 31 * DAY });
    expect(late.erasures).toBe(1);
    expect(await getItem<Item>(hub.aws.table, { pk: `ERASE#${daveId}`, sk: '#' })).toMatchObject({ requestedBy: 'retention', status: 'running' });
    await runPrivacy();
    expect(await getItem<Item>(hub.aws.table, { pk: `ERASE#${daveId}`, sk: '#' })).toMatchObject({ status: 'done' });
    expect(await memberIdOf(D.openid)).toBeUndefined();
    for (const item of await scanAll<Item>(hub.aws.table)) expect(JSON.stringify(item).includes(D.openid), keyOf(item)).toBe(false);
    expect(await getItem(hub.aws.table, { pk: `ERASE#${erinId}`, sk: '#' })).toBeUndefined();
    expect(await memberIdOf(E.openid)).toBe(erinId);
  });
});
