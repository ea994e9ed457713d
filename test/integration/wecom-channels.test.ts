/**
 * WeCom channels, welcomes and staff alerts end to end on the local runtime (HTTP gateway, the
 * real handlers, DynamoDB Local, local SQS, the WeCom stand-in in WeCom's wire format). The test
 * drives the queue consumers itself, so it decides when a message is handled and when it is
 * delivered again.
 *
 * Story, expected values written out by hand: marketing creates the contact-way channel
 * `cw_guide_li` (staff guide_li); a person adds guide_li through it (WeCom delivers the add
 * twice), later follows official account A with no scene and registers. One member; first touch
 * cw_guide_li; on cw_guide_li (first-touch model) newContacts 1, lostContacts 0, newMembers 1;
 * the follow is organic's newFans 1. One welcome with the channel's text. A lapse alert about
 * that member reaches guide_li once, however often SQS delivers it.
 */
import { describe, expect, it } from 'vitest';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { useTestHub } from '../support/hub.ts';
import { receiveRecords } from '../support/queues.ts';
import { signedPush, postPush } from '../support/wechat-client.ts';
import { signedContact } from '../support/wecom-client.ts';
import { getItem, survivorByIdentity, type Item } from '../support/table.ts';
import { hubConfig } from '../support/env.ts';
import { apply } from '../../lib/apply/apply.ts';
import { sendKey } from '../../lib/store/entities/send.ts';
import { DAY_MS } from '../../lib/time.ts';
import { staffRates } from '../../lib/store/entities/staff-rate.ts';
import { sendStaffAlerts } from '../../lib/wecom/staff-alerts.ts';
import type { OutboxRow } from '../../lib/events/messages.ts';

const A = { appId: 'wxa1a1a1a1a1a1a1a1', kind: 'official', name: '伟嘉', token: 'TokenOfAccountA0123', appSecret: 'secret-a' };
const M = { appId: 'wxm3m3m3m3m3m3m3m3', kind: 'miniprogram', name: '会员中心', appSecret: 'secret-m' };
const ADMIN = { authorization: 'Bearer local-admin-token', 'content-type': 'application/json' };

const hub = useTestHub({
  queuePrefix: 'wecomch',
  functions: ['wechat', 'wecom', 'members', 'admin', 'engagement-sender', 'staff-alerts-sender', 'attribution-api', 'counter-fold', 'nudge-sweep'],
  env: { WECHAT_APP_ID: A.appId, HUB_WECHAT_APPS: JSON.stringify([A, M]), WECOM_STAFF_FALLBACK_USERIDS: 'ops_wang,ops_zhou' },
});

type Row = { ruleId: string; messageId: string; memberId: string; payload: Record<string, unknown> };
const rowOf = (r: SQSRecord) => JSON.parse(r.body) as Row;

/** Hands each record to a consumer (one batch each), expects it handled, deletes it. */
async function consume(fn: string, url: string, records: readonly SQSRecord[]) {
  for (const record of records) {
    const res = await hub.invokeConsumer(fn, { Records: [record] });
    expect(res && 'batchItemFailures' in res ? res.batchItemFailures : []).toEqual([]);
    await hub.aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: '0', ReceiptHandle: record.receiptHandle }] }));
  }
}
const engagement = async () => receiveRecords(hub.aws.sqs, hub.queues.engagement.url);
const consumeEngagement = (records: readonly SQSRecord[]) => consume('engagement-sender', hub.queues.engagement.url, records);
const wecomSent = (kind: 'wecom_welcome' | 'wecom_app') => hub.standin.messages().filter((m) => m.kind === kind);
const nowS = () => Math.floor(Date.now() / 1000);
const day = (d: number) => new Date(Date.now() + d * DAY_MS).toISOString().slice(0, 10);

async function createChannel(body: Record<string, unknown>) {
  const res = await fetch(`${hub.url}/channels`, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('WeCom contact-way channels, welcomes and staff alerts', () => {
  it('creates a contact way for a wecom_contact channel and refuses a state WeCom would not take', async () => {
    const created = await createChannel({ id: 'cw_guide_li', name: '李导购活码', kind: 'wecom_contact', staff: ['guide_li'], welcomeText: '您好，我是李导购，欢迎加我！' });
    expect(created.status).toBe(201);
    const way = created.body.wecom as { configId: string; qrCode: string; staff: string[] };
    expect(way.staff).toEqual(['guide_li']);
    expect(way.qrCode).toMatch(/^https:\/\/wework\.qpic\.cn\//);
    const calls = hub.standin.calls('/cgi-bin/externalcontact/add_contact_way');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ type: 1, scene: 2, state: 'cw_guide_li', user: ['guide_li'] });
    const listed = (await (await fetch(`${hub.url}/channels`, { headers: ADMIN })).json()) as { channels: { channelId: string; wecom?: unknown }[] };
    expect(listed.channels.find((c) => c.channelId === 'cw_guide_li')?.wecom).toEqual(way);

    const tooLong = await createChannel({ id: 'cw_' + 'x'.repeat(28), name: '太长', kind: 'wecom_contact', staff: ['guide_li'] });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toBe('state_too_long');
    const noStaff = await createChannel({ id: 'cw_nostaff', name: '无成员', kind: 'wecom_contact' });
    expect(noStaff.status).toBe(400);
    expect((await createChannel({ id: 'guide_zhao', name: '赵导购', kind: 'guide' })).status).toBe(201);
    // Nothing more reached WeCom.
    expect(hub.standin.calls('/cgi-bin/externalcontact/add_contact_way')).toHaveLength(1);
  });

  it('a guide added through the contact way, then a follow and a registration: one member, the contact way first touch, one welcome', async () => {
    const corpId = hubConfig().WECOM_CORP_ID!;
    hub.standin.setWecomContact('wmC_person_1', { unionid: 'U_cw_1', name: '小陈' });
    hub.standin.setUser('oC_person_1', { appId: A.appId, unionid: 'U_cw_1' });
    const t = nowS();
    const add = signedContact({ change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmC_person_1', createTime: t, state: 'cw_guide_li', welcomeCode: 'WELCOME_CW_1' });
    expect(await postPush(hub.url, add)).toEqual({ status: 200, body: 'success' });
    // WeCom delivers the add again (no answer in time, say).
    expect(await postPush(hub.url, add)).toEqual({ status: 200, body: 'success' });

    const records = await engagement();
    const welcomes = records.filter((r) => rowOf(r).ruleId === 'wecom_welcome');
    expect(welcomes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(welcomes.map((r) => rowOf(r).messageId)).size).toBe(1);
    await consumeEngagement(records);
    // SQS delivers the welcome once more.
    await consumeEngagement(welcomes.slice(0, 1));
    const sent = wecomSent('wecom_welcome');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.touser).toBe('WELCOME_CW_1');
    expect(sent[0]!.body).toMatchObject({ welcome_code: 'WELCOME_CW_1', text: { content: '您好，我是李导购，欢迎加我！' } });
    expect(hub.standin.calls('/cgi-bin/externalcontact/send_welcome_msg')).toHaveLength(1);
    expect(await getItem(hub.aws.table, sendKey(rowOf(welcomes[0]!).messageId))).toMatchObject({ status: 'sent', via: 'wecom_welcome' });

    const follow = signedPush({ from: 'oC_person_1', createTime: t + 60, msgType: 'event', event: 'subscribe' }, A, undefined, '515151');
    expect((await postPush(hub.url, follow)).status).toBe(200);
    await consumeEngagement(await engagement());
    const reg = await fetch(`${hub.url}/members`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: A.appId, oauthCode: 'local:oC_person_1', phone: '13800138031', phoneCode: 'local-phone:13800138031' }),
    });
    expect(reg.status).toBe(200);
    await consumeEngagement(await engagement());

    const [byWecom, byWechat] = await Promise.all([
      survivorByIdentity<Item>(hub.aws.table, 'wecom_external_userid', `${corpId}:wmC_person_1`),
      survivorByIdentity<Item>(hub.aws.table, 'wechat_openid', `${A.appId}:oC_person_1`),
    ]);
    expect(byWechat!.memberId).toBe(byWecom!.memberId);
    expect(byWecom!.status).toBe('member');
    expect(byWecom!.firstTouch).toEqual({ channel: 'cw_guide_li', at: t * 1000 });

    await hub.runScheduled('counter-fold');
    const res = await fetch(`${hub.url}/attribution/channels?from=${day(-1)}&to=${day(1)}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { channels: Record<string, unknown>[] }).channels;
    expect(rows.find((r) => r.channel === 'cw_guide_li')).toMatchObject({ kind: 'wecom_contact', newContacts: 1, lostContacts: 0, newMembers: 1, newFans: 0 });
    expect(rows.find((r) => r.channel === 'organic')).toMatchObject({ newFans: 1, newContacts: 0, newMembers: 0 });
    const csv = await (await fetch(`${hub.url}/attribution/channels.csv?from=${day(-1)}&to=${day(1)}`, { headers: ADMIN })).text();
    const header = csv.slice(1).split('\r\n')[0]!.split(',');
    const line = csv.split('\r\n').find((l) => l.startsWith('cw_guide_li,'))!.split(',');
    expect(line[header.indexOf('newContacts')]).toBe('1');
    expect(line[header.indexOf('lostContacts')]).toBe('0');
  });

  it('a lapse alert about a member with a guide reaches that guide once, however often SQS delivers it', async () => {
    const now = Date.now();
    // A gold member (¥6,000 paid) whose last order is 181 days old: the lapse alert is due.
    const paidAt = now - 181 * DAY_MS;
    await apply(
      {
        type: 'order', source: 'youzan', platform: 'youzan', eventId: 'test:wecom:lapse:1', occurredAt: paidAt, shopId: 'shop1', orderId: 'WL1', status: 'paid',
        platformStatus: 'WAIT_SELLER_SEND_GOODS', totalFen: 600_000, paidFen: 600_000, paidAt, lines: [], topic: 'trade_TradePaid',
        buyer: [{ kind: 'wechat_openid', value: `${A.appId}:oC_person_1` }],
      },
      hub.runtime,
    );
    await consumeEngagement(await engagement());
    await hub.runScheduled('nudge-sweep');
    const staffUrl = hub.queues['staff-alerts'].url;
    const alerts = await receiveRecords(hub.aws.sqs, staffUrl);
    expect(alerts.map((r) => rowOf(r).ruleId)).toEqual(['lapse_alert']);
    const before = wecomSent('wecom_app').length;
    await consume('staff-alerts-sender', staffUrl, alerts);
    await consume('staff-alerts-sender', staffUrl, alerts);
    const sent = wecomSent('wecom_app').slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.touser).toBe('guide_li');
    expect(sent[0]!.body).toMatchObject({ msgtype: 'text', agentid: Number(hubConfig().WECOM_AGENT_ID) });
    expect(String((sent[0]!.body.text as { content: string }).content)).toContain('流失预警');
    expect(await getItem(hub.aws.table, sendKey(rowOf(alerts[0]!).messageId))).toMatchObject({ status: 'sent', via: 'wecom_app' });
  });

  it('a welcome WeCom refuses (the code already used) is recorded as failed, not retried', async () => {
    hub.standin.setWecomContact('wmC_person_2', {});
    const t = nowS();
    // The same WelcomeCode as the first person's: WeCom answers 41051.
    const add = signedContact({ change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmC_person_2', createTime: t, state: 'cw_guide_li', welcomeCode: 'WELCOME_CW_1' });
    expect((await postPush(hub.url, add)).status).toBe(200);
    const records = await engagement();
    const welcome = records.find((r) => rowOf(r).ruleId === 'wecom_welcome')!;
    await consumeEngagement(records);
    expect(await getItem(hub.aws.table, sendKey(rowOf(welcome).messageId))).toMatchObject({ status: 'failed', reason: 'welcome_code_used', errcode: '41051' });
    expect(wecomSent('wecom_welcome')).toHaveLength(1);
  });

  it('a welcome whose code is past its 20 s is recorded as expired without calling WeCom', async () => {
    hub.standin.setWecomContact('wmC_person_3', {});
    const calls = hub.standin.calls('/cgi-bin/externalcontact/send_welcome_msg').length;
    // Delivered a minute after the event (inside the callback window, past the code's 20 s).
    const add = signedContact({ change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmC_person_3', createTime: nowS() - 60, state: 'cw_guide_li', welcomeCode: 'WELCOME_CW_3' });
    expect((await postPush(hub.url, add)).status).toBe(200);
    const records = await engagement();
    const welcome = records.find((r) => rowOf(r).ruleId === 'wecom_welcome')!;
    await consumeEngagement(records);
    expect(await getItem(hub.aws.table, sendKey(rowOf(welcome).messageId))).toMatchObject({ status: 'failed', reason: 'welcome_code_expired' });
    expect(hub.standin.calls('/cgi-bin/externalcontact/send_welcome_msg')).toHaveLength(calls);
  });

  it('an alert about a member without a guide goes to the fallback staff; a member nobody can be told about is recorded', async () => {
    const at = Date.now() - 200 * DAY_MS;
    const order = (id: string) => ({
      type: 'order' as const, source: 'youzan' as const, platform: 'youzan' as const, eventId: `test:wecom:fallback:${id}`, occurredAt: at, shopId: 'shop1', orderId: id, status: 'paid' as const,
      platformStatus: 'WAIT_SELLER_SEND_GOODS', totalFen: 100, paidFen: 100, paidAt: at, lines: [], topic: 'trade_TradePaid',
      buyer: [{ kind: 'youzan_open_id' as const, value: `yz_fallback_${id}` }],
    });
    const { memberId } = await apply(order('F1'), hub.runtime);
    const row = (messageId: string): OutboxRow => ({ messageId, memberId: memberId!, ruleId: 'lapse_alert', step: '1', class: 'transactional', destination: 'staff', payload: { tier: 'gold', days: 180 }, triggeredAt: at, createdAt: at });
    const record = (id: string) => ({ messageId: `sqs-${id}`, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;
    const before = wecomSent('wecom_app').length;
    const out = await sendStaffAlerts([{ msg: row('test-fallback-1'), record: record('1') }], hub.runtime);
    expect(out.get('sqs-1')).toMatchObject({ kind: 'done' });
    const sent = wecomSent('wecom_app').slice(before);
    expect(sent.map((m) => m.touser)).toEqual(['ops_wang|ops_zhou']);

    const nobody = hub.runtime.with({ settings: { WECOM_STAFF_FALLBACK_USERIDS: undefined } });
    const none = await sendStaffAlerts([{ msg: row('test-fallback-2'), record: record('2') }], nobody);
    expect(none.get('sqs-2')).toEqual({ kind: 'done', outcome: { status: 'suppressed', reason: 'no_staff_recipient' } });
    expect(await getItem(hub.aws.table, sendKey('test-fallback-2'))).toMatchObject({ status: 'suppressed', reason: 'no_staff_recipient' });
    expect(wecomSent('wecom_app').slice(before)).toHaveLength(1);
  });

  it('the per-staff send budget holds a minute and an hour limit, whichever is reached first', async () => {
    const corp = hubConfig().WECOM_CORP_ID!;
    const hour = Date.UTC(2026, 0, 5, 3);
    const limits = { perMinute: 2, perHour: 3 };
    const store = hub.runtime.store;
    // Minute 0: two fit, the third waits for minute 1.
    expect(await staffRates.take(store, corp, 'budget_li', hour + 1_000, limits)).toEqual({ ok: true });
    expect(await staffRates.take(store, corp, 'budget_li', hour + 2_000, limits)).toEqual({ ok: true });
    expect(await staffRates.take(store, corp, 'budget_li', hour + 3_000, limits)).toEqual({ ok: false, retryAt: hour + 60_000 });
    // Minute 1: the hour's third fits; minute 2: the hour is full until the next hour.
    expect(await staffRates.take(store, corp, 'budget_li', hour + 61_000, limits)).toEqual({ ok: true });
    expect(await staffRates.take(store, corp, 'budget_li', hour + 121_000, limits)).toEqual({ ok: false, retryAt: hour + 3_600_000 });
    // Another staff member has a budget of their own.
    expect(await staffRates.take(store, corp, 'budget_wang', hour + 3_000, limits)).toEqual({ ok: true });
  });
});
