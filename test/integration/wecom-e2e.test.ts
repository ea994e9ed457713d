/**
 * The WeCom callback end to end through the real runtime: HTTP gateway → the wecom function →
 * apply → DynamoDB Local. URL verification, redeliveries, refusals that write nothing, unknown
 * callbacks, and contact changes in every arrival order giving one and the same member.
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { encrypt, msgSignature } from '../../lib/sources/wechat/crypto.ts';
import { postPush } from '../support/wechat-client.ts';
import { contactXml, signedCallback, signedContact, type ContactSpec } from '../support/wecom-client.ts';
import { getItem, itemCount, memberByIdentity } from '../support/table.ts';
import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { omitKeys } from '../support/compare.ts';
import { shuffle } from '../support/random.ts';

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'wecom', functions: ['wecom'] });

const cfg = () => hubConfig();
const post = (req: { path: string; body: string }) => postPush(hub.url, req, { 'content-type': 'text/xml' });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- stored items are checked field by field
type Loose = any;
const memberOf = (externalUserId: string) => memberByIdentity<Loose>(hub.aws.table, 'wecom_external_userid', `${cfg().WECOM_CORP_ID}:${externalUserId}`);

describe('WeCom callback end to end', () => {
  it('answers the URL verification with the decrypted echostr, and 401 / 404 otherwise', async () => {
    const c = cfg();
    const ts = String(Math.floor(Date.now() / 1000));
    const echostr = encrypt('4960937428716356011', { aesKey: c.WECOM_AES_KEY!, appId: c.WECOM_CORP_ID! });
    const sig = msgSignature(c.WECOM_TOKEN!, ts, 'n1', echostr);
    const q = (s: string) => `msg_signature=${s}&timestamp=${ts}&nonce=n1&echostr=${encodeURIComponent(echostr)}`;
    const ok = await fetch(`${hub.url}/wecom/${c.WECOM_CORP_ID}?${q(sig)}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('4960937428716356011');
    const bad = await fetch(`${hub.url}/wecom/${c.WECOM_CORP_ID}?${q('0'.repeat(40))}`);
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain('4960937428716356011');
    const other = await fetch(`${hub.url}/wecom/ww0000000000000000?${q(sig)}`);
    expect(other.status).toBe(404);
  });

  it('an add creates the person once, with the guide and the contact way; a redelivery changes nothing', async () => {
    const spec: ContactSpec = { change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmE2E_add_1', createTime: 1_764_000_000, state: 'cw_store_01', welcomeCode: 'WC1' };
    const first = await post(signedContact(spec));
    expect(first).toEqual({ status: 200, body: 'success' });
    const before = await itemCount(hub.aws.table);
    const m = await memberOf('wmE2E_add_1');
    expect(m.wecom).toEqual({ corpId: cfg().WECOM_CORP_ID, externalUserId: 'wmE2E_add_1', guides: { guide_li: { addedAt: 1_764_000_000_000, state: 'cw_store_01' } } });
    expect(m.firstTouch).toEqual({ channel: 'cw_store_01', at: 1_764_000_000_000 });
    const again = await post(signedContact(spec));
    expect(again).toEqual({ status: 200, body: 'success' });
    expect(await itemCount(hub.aws.table)).toBe(before);
    expect(await memberOf('wmE2E_add_1')).toEqual(m);
    const eventId = `wecom:${cfg().WECOM_CORP_ID}:add_external_contact|guide_li|wmE2E_add_1|1764000000`;
    expect(await getItem(hub.aws.table, dedupeKey(eventId))).toBeDefined();
  });

  it('records an unknown callback and answers success', async () => {
    const xml = `<xml><ToUserName>${cfg().WECOM_CORP_ID}</ToUserName><FromUserName>sys</FromUserName><CreateTime>1764000100</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrx</ChatId></xml>`;
    const before = await itemCount(hub.aws.table);
    expect(await post(signedCallback(xml, '1764000100'))).toEqual({ status: 200, body: 'success' });
    expect(await itemCount(hub.aws.table)).toBeGreaterThan(before);
    const again = await itemCount(hub.aws.table);
    expect(await post(signedCallback(xml, '1764000100'))).toEqual({ status: 200, body: 'success' });
    expect(await itemCount(hub.aws.table)).toBe(again);
  });

  it('refuses a bad signature (401) and a contact change without ExternalUserID (400), writing nothing', async () => {
    const spec: ContactSpec = { change: 'add_external_contact', userId: 'guide_li', externalUserId: 'wmE2E_bad', createTime: 1_764_000_200 };
    const before = await itemCount(hub.aws.table);
    const req = signedContact(spec);
    const forged = await post({ ...req, path: req.path.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'f'.repeat(40)}`) });
    expect(forged.status).toBe(401);
    const noExternal = contactXml(spec).replace(/<ExternalUserID>.*<\/ExternalUserID>/, '');
    const bad = await post(signedCallback(noExternal, '1764000200'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'missing_field' });
    expect(await itemCount(hub.aws.table)).toBe(before);
    expect(await memberOf('wmE2E_bad')).toBeUndefined();
  });

  it('gives one and the same member whatever order the contact changes arrive in', async () => {
    const story = (ext: string): ContactSpec[] => [
      { change: 'add_half_external_contact', userId: 'guide_wang', externalUserId: ext, createTime: 1_764_001_000, state: 'cw_poster' },
      { change: 'add_external_contact', userId: 'guide_wang', externalUserId: ext, createTime: 1_764_001_010, state: 'cw_poster' },
      { change: 'add_external_contact', userId: 'guide_zhao', externalUserId: ext, createTime: 1_764_001_020 },
      { change: 'del_follow_user', userId: 'guide_zhao', externalUserId: ext, createTime: 1_764_001_030 },
      { change: 'edit_external_contact', userId: 'guide_wang', externalUserId: ext, createTime: 1_764_001_040 },
    ];
    const shuffled = story('wmE2E_ord_c');
    shuffle(shuffled, 19);
    const orders = [story('wmE2E_ord_a'), [...story('wmE2E_ord_b')].reverse(), shuffled];
    for (const order of orders) for (const spec of [...order, order[0]!]) expect((await post(signedContact(spec))).status).toBe(200);
    const strip = (m: Loose) => omitKeys(m, ['pk', 'sk', 'memberId', 'createdAt', 'updatedAt', 'version', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'wecom']);
    const [a, b, c] = await Promise.all(['wmE2E_ord_a', 'wmE2E_ord_b', 'wmE2E_ord_c'].map(memberOf));
    expect(a.wecom.guides).toEqual({
      guide_wang: { addedAt: 1_764_001_010_000, state: 'cw_poster' },
      guide_zhao: { addedAt: 1_764_001_020_000, removedAt: 1_764_001_030_000, removedBy: 'customer' },
    });
    expect(a.firstTouch).toEqual({ channel: 'cw_poster', at: 1_764_001_000_000 });
    for (const other of [b, c]) {
      expect(other.wecom.guides).toEqual(a.wecom.guides);
      expect(strip(other)).toEqual(strip(a));
    }
  });
});
