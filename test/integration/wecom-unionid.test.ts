/**
 * A WeCom contact joins the person's WeChat records by unionid: the add is answered without
 * asking WeCom; `externalcontact/get` is asked after the reply through the engagement queue (the
 * stand-in answers it in WeCom's wire format) and its unionid is applied as `wecom.unionid`.
 * A person who first adds a guide through a contact way and later follows an official account
 * is one member, with the contact way as first touch.
 */
import { describe, expect, it } from 'vitest';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { receiveRecords } from '../support/queues.ts';
import { useTestHub } from '../support/hub.ts';
import { signedPush, postPush } from '../support/wechat-client.ts';
import { signedContact } from '../support/wecom-client.ts';
import { survivorByIdentity, type Item } from '../support/table.ts';
import { hubConfig } from '../support/env.ts';

const A = { appId: 'wxa1a1a1a1a1a1a1a1', kind: 'official', name: '伟嘉', token: 'TokenOfAccountA0123', appSecret: 'secret-a' };
const M = { appId: 'wxm3m3m3m3m3m3m3m3', kind: 'miniprogram', name: '会员中心', appSecret: 'secret-m' };

const hub = useTestHub({
  queuePrefix: 'wecomu',
  replaysHistory: true,
  functions: ['wechat', 'wecom', 'engagement-sender'],
  env: { WECHAT_APP_ID: A.appId, HUB_WECHAT_APPS: JSON.stringify([A, M]) },
});

/** Receives every message waiting in the engagement queue (not yet handled). */
const receiveAll = () => receiveRecords(hub.aws.sqs, hub.queues.engagement.url);

/** Hands the lookup records to the engagement sender, one batch each, and deletes them. */
async function consumeLookups() {
  const records = (await receiveAll()).filter((r) => ['unionid_lookup', 'wecom_contact_lookup'].includes((JSON.parse(r.body) as { ruleId: string }).ruleId));
  for (const record of records) {
    const res = await hub.invokeConsumer('engagement-sender', { Records: [record] });
    expect(res && 'batchItemFailures' in res ? res.batchItemFailures : []).toEqual([]);
    await hub.aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: hub.queues.engagement.url, Entries: [{ Id: '0', ReceiptHandle: record.receiptHandle }] }));
  }
  return records.map((r) => (JSON.parse(r.body) as { ruleId: string }).ruleId).sort();
}

describe('WeCom contact joined by unionid', () => {
  it('a guide added through a contact way, then an official-account follow: one member, the contact way first touch', async () => {
    const corpId = hubConfig().WECOM_CORP_ID!;
    const t = 1_765_000_000;
    hub.standin.setWecomContact('wmU_person_1', { unionid: 'U_wecom_1', name: '小王' });
    hub.standin.setUser('oU_person_1', { appId: A.appId, unionid: 'U_wecom_1' });
    const add = await postPush(hub.url, signedContact({ change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmU_person_1', createTime: t, state: 'cw_guide_li' }));
    expect(add).toEqual({ status: 200, body: 'success' });
    // The add was answered without asking WeCom.
    expect(hub.standin.calls('/cgi-bin/externalcontact/get')).toEqual([]);
    const follow = await postPush(hub.url, signedPush({ from: 'oU_person_1', createTime: t + 600, msgType: 'event', event: 'subscribe' }, A, undefined, '424242'));
    expect(follow.status).toBe(200);
    const before = await survivorByIdentity<Item>(hub.aws.table, 'wecom_external_userid', `${corpId}:wmU_person_1`);
    const fan = await survivorByIdentity<Item>(hub.aws.table, 'wechat_openid', `${A.appId}:oU_person_1`);
    expect(before!.memberId).not.toBe(fan!.memberId);

    expect(await consumeLookups()).toEqual(['unionid_lookup', 'wecom_contact_lookup']);
    const [byWecom, byWechat, byUnionid] = await Promise.all([
      survivorByIdentity<Item>(hub.aws.table, 'wecom_external_userid', `${corpId}:wmU_person_1`),
      survivorByIdentity<Item>(hub.aws.table, 'wechat_openid', `${A.appId}:oU_person_1`),
      survivorByIdentity<Item>(hub.aws.table, 'wechat_unionid', 'U_wecom_1'),
    ]);
    expect(byWechat!.memberId).toBe(byWecom!.memberId);
    expect(byUnionid!.memberId).toBe(byWecom!.memberId);
    expect(byWecom!.unionid).toBe('U_wecom_1');
    expect(byWecom!.firstTouch).toEqual({ channel: 'cw_guide_li', at: t * 1000 });
    expect(byWecom!.wecom.guides).toEqual({ guide_li: { addedAt: t * 1000, state: 'cw_guide_li' } });
    expect(hub.standin.calls('/cgi-bin/externalcontact/get')).toHaveLength(1);
  });

  it('a contact without a unionid (no developer id bound) stays its own member; no retry', async () => {
    const corpId = hubConfig().WECOM_CORP_ID!;
    hub.standin.setWecomContact('wmU_person_2', {});
    const add = await postPush(hub.url, signedContact({ change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmU_person_2', createTime: 1_765_001_000 }));
    expect(add.status).toBe(200);
    expect(await consumeLookups()).toEqual(['wecom_contact_lookup']);
    const m = await survivorByIdentity<Item>(hub.aws.table, 'wecom_external_userid', `${corpId}:wmU_person_2`);
    expect(m!.unionid).toBeUndefined();
  });
});
