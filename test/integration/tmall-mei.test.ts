/**
 * Tmall 会员通 SPI (POST /tmall/mei/{appKey}) on the local runtime, and issue 17 done-when (b): a
 * Tmall trade's member gets `ouid` from the detail call (`taobao.trade.simple.get`, TMC pull) and
 * merges with the 会员通-bound member of the same person — in either order, with the bind
 * repeated. Payloads: events/tmall (create+pay, simple.get with ouid, the SPI request body).
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { itemCount, survivorByIdentity } from '../support/table.ts';
import { postCommerce, signedTmall, topSignedQuery, type Reply } from '../support/commerce-client.ts';
import { consumeEngagement, receiveEngagement } from '../support/engagement-queue.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import type { TmcPullResult } from '../../lib/sources/tmall/pull.ts';
import { eventFixture, tmcFixtureMessages } from '../support/tmc-fixtures.ts';

const hub = useTestHub({ queuePrefix: 'mei', functions: ['tmc-pull', 'tmall-mei', 'members', 'tmall', 'engagement-sender'], env: { TMALL_MEI_SPI_ENABLED: 'true' } });
const fixture = eventFixture;
const pull = async () => (await hub.runScheduled('tmc-pull')) as TmcPullResult;
const OUID = 'AAHFzK2nAAeGwJedwSFu9Ab1';
const OPEN_UID = 'AAGq5d-EAAeG3JedwSFpZMe1';
const PHONE = '13912345678';
const registerBody = () => JSON.parse(fixture('tmall/tmall-mei-crm-member-register-request.json')) as Record<string, string>;

interface SpiOptions {
  secret?: string;
  at?: number;
  appKey?: string;
}

/** A 奇门-signed SPI call: method, format and v in the signed query, the JSON body signed with them. */
function spi(method: string, body: Record<string, unknown>, o: SpiOptions = {}): Promise<Reply> {
  const cfg = hub.runtime.cfg;
  const raw = JSON.stringify(body);
  const query = topSignedQuery({ appKey: cfg.TMALL_APP_KEY, secret: o.secret ?? cfg.TMALL_APP_SECRET, at: o.at ?? Date.now(), body: raw, extra: { method, format: 'json', v: '2.0' } });
  return postCommerce(hub.url, { path: `/tmall/mei/${o.appKey ?? cfg.TMALL_APP_KEY}?${new URLSearchParams(query)}`, body: raw });
}
const wechatSurvivor = () => survivorByIdentity(hub.aws.table, 'wechat_openid', `${hub.runtime.cfg.WECHAT_APP_ID}:oMei_wechat_1`);
const answer = (r: Reply) => JSON.parse(r.text) as Record<string, unknown>;

async function registerOnWechat(openid: string, phone: string): Promise<string> {
  const res = await fetch(`${hub.url}/members`, {
    method: 'POST',
    body: JSON.stringify({ appId: hub.runtime.cfg.WECHAT_APP_ID, oauthCode: `local:${openid}`, phone, phoneCode: `local-phone:${phone}` }),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
  return String(((await res.json()) as { memberId: string }).memberId);
}

describe('Tmall 会员通 SPI', () => {
  it('refuses a bad or stale signature, an unknown method and a foreign app key, writing nothing', async () => {
    const before = await itemCount(hub.aws.table);
    const cases: [Promise<Reply>, number, string][] = [
      [spi('tmall.mei.crm.member.register', registerBody(), { secret: 'not-the-secret' }), 401, 'bad_signature'],
      [spi('tmall.mei.crm.member.register', registerBody(), { at: Date.now() - 3_600_000 }), 401, 'bad_signature'],
      [spi('tmall.mei.crm.member.unbind', registerBody()), 400, 'unsupported_method'],
      [spi('tmall.mei.crm.member.register', registerBody(), { appKey: '99999999' }), 404, 'not_found'],
    ];
    for (const [reply, status, code] of cases) {
      const r = await reply;
      expect(r.status).toBe(status);
      expect(answer(r)).toMatchObject({ error: code });
    }
    expect(await itemCount(hub.aws.table)).toBe(before);
  });

  it('is a 404 while TMALL_MEI_SPI_ENABLED is off', async () => {
    const saved = hub.runtime;
    hub.reconfigure({ settings: { TMALL_MEI_SPI_ENABLED: 'false' } });
    try {
      const r = await spi('tmall.mei.crm.member.bind.query', registerBody());
      expect(r.status).toBe(404);
      expect(answer(r)).toMatchObject({ error: 'not_found' });
    } finally {
      hub.restore(saved);
    }
  });

  it('done-when (b): the trade member (ouid from the detail call) merges with the 会员通-bound member of the same phone', async () => {
    // The shopper is a WeChat member with this phone; then buys on Tmall (the thin TMC message only names buyer_open_uid).
    const wechatMember = await registerOnWechat('oMei_wechat_1', PHONE);
    const simple = parseJsonLossless(fixture('tmall/taobao-trade-simple-get-response-ouid.json')) as { trade_simple_get_response: { trade: Record<string, unknown> } };
    hub.top.addTrade(simple.trade_simple_get_response.trade);
    hub.top.enqueue(tmcFixtureMessages('tmall/taobao-tmc-consume-response-create-pay.json'));
    expect(await pull()).toMatchObject({ applied: 2, confirmed: 2 });
    const buyer = (await survivorByIdentity(hub.aws.table, 'tmall_ouid', OUID))!;
    expect(buyer.memberId).not.toBe(wechatMember);
    expect((await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', OPEN_UID))!.memberId).toBe(buyer.memberId);

    // Before the bind: the phone's member is bindable, the ouid's record is no programme member yet.
    expect(answer(await spi('tmall.mei.crm.member.bind.query', registerBody()))).toEqual({ bind_code: 'SUC', bindable: true, mobile: PHONE });

    // The shopper joins the brand's membership on Tmall: ouid + phone → one member. The older record
    // survives: the buyer's, first seen at the trade (2024-11-11), before the WeChat registration.
    const first = await spi('tmall.mei.crm.member.register', registerBody());
    expect(first.status).toBe(200);
    const survivor = (await wechatSurvivor())!;
    expect(survivor.memberId).toBe(buyer.memberId);
    expect(answer(first)).toEqual({ bind_code: 'SUC', member_id: survivor.memberId });
    for (const [kind, value] of [['tmall_ouid', OUID], ['tmall_buyer_open_uid', OPEN_UID], ['tmall_omid', registerBody()['omid']!], ['wechat_openid', `${hub.runtime.cfg.WECHAT_APP_ID}:oMei_wechat_1`]] as const) {
      expect((await survivorByIdentity(hub.aws.table, kind, value))!.memberId).toBe(survivor.memberId);
    }
    // 478.00 paid → 478 points at 1 point per yuan, carried over by the merge; a member of the programme.
    expect(survivor).toMatchObject({ status: 'member', points: 478, phoneMasked: '139****5678' });

    // The member centre retries the same bind (a new timestamp and signature): the same answer, nothing changes.
    const items = await itemCount(hub.aws.table);
    const again = await spi('tmall.mei.crm.member.register', registerBody(), { at: Date.now() + 1000 });
    expect(answer(again)).toEqual({ bind_code: 'SUC', member_id: survivor.memberId });
    expect(await itemCount(hub.aws.table)).toBe(items);
    expect(await wechatSurvivor()).toMatchObject({ memberId: survivor.memberId, points: 478, version: survivor.version });

    expect(answer(await spi('tmall.mei.crm.member.bind.query', registerBody()))).toEqual({ bind_code: 'E02', bindable: false });
    expect(answer(await spi('tmall.mei.crm.query', { seller_name: 'x', mobile: PHONE }))).toEqual({ query_code: 'SUC', member: { point: 478, level: survivor.tier, mobile: PHONE } });
  });

  it('bind first, trade after: the trade joins the bound member by the detail call\'s ouid', async () => {
    const ouid = 'AAHmeiOrder2AeGwJedwSFu9Ab2';
    const tid = '3872941520738429777';
    expect(answer(await spi('tmall.mei.crm.query', { ouid }))).toEqual({ query_code: 'E01' });
    const bound = await spi('tmall.mei.crm.bind', { ...registerBody(), ouid, omid: undefined, mobile: '13712345670' });
    const memberId = answer(bound)['member_id'];
    expect(answer(bound)).toMatchObject({ bind_code: 'SUC' });
    hub.top.addTrade({ tid, status: 'WAIT_SELLER_SEND_GOODS', buyer_open_uid: 'AAGmeiOrder2open', ouid, payment: '20.00', modified: '2024-11-21 09:00:05' });
    hub.top.enqueue({
      id: '7338450211904429777',
      topic: 'taobao_trade_TradeBuyerPay',
      pub_time: '2024-11-21 09:00:05',
      user_id: '2207512345678',
      content: `{"buyer_open_uid":"AAGmeiOrder2open","oid":${tid},"payment":"20.00","status":"WAIT_SELLER_SEND_GOODS","tid":${tid},"type":"fixed"}`,
    });
    expect(await pull()).toMatchObject({ applied: 1, confirmed: 1 });
    const m = (await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', 'AAGmeiOrder2open'))!;
    expect(m).toMatchObject({ memberId, status: 'member', points: 20 });
    expect(answer(await spi('tmall.mei.crm.query', { ouid }))).toEqual({ query_code: 'SUC', member: { point: 20, level: m.tier } });
  });

  it('a bind whose ouid belongs to a record of another phone is not bindable (E02), nothing written', async () => {
    const ouid = 'AAHmeiConflict3eGwJedwSFu9A';
    expect(answer(await spi('tmall.mei.crm.member.register', { ouid, mobile: '13612345671' }))).toMatchObject({ bind_code: 'SUC' });
    const before = await itemCount(hub.aws.table);
    expect(answer(await spi('tmall.mei.crm.bind', { ouid, mobile: '13612345672' }))).toMatchObject({ bind_code: 'E02', bindable: false });
    expect(await itemCount(hub.aws.table)).toBe(before);
  });

  it('a relayed trade gets its ouid after the reply (tmall_detail_lookup) and joins the 会员通-bound member, once', async () => {
    const ouid = 'AAHmeiRelay4eGwJedwSFu9Ab4';
    const openUid = 'AAGmeiRelay4open';
    const tid = '3872941520738429444';
    const bound = answer(await spi('tmall.mei.crm.member.register', { ouid, mobile: '13512345674' }));
    expect(bound).toMatchObject({ bind_code: 'SUC' });
    hub.top.addTrade({ tid, status: 'WAIT_SELLER_SEND_GOODS', buyer_open_uid: openUid, ouid, payment: '35.00', modified: '2024-11-22 08:00:05' });
    const message = { id: '7338450211904429444', topic: 'taobao_trade_TradeBuyerPay', pub_time: '2024-11-22 08:00:05', user_id: '2207512345678', content: `{"buyer_open_uid":"${openUid}","oid":${tid},"payment":"35.00","status":"WAIT_SELLER_SEND_GOODS","tid":${tid},"type":"fixed"}` };
    const relayed = await postCommerce(hub.url, signedTmall(JSON.stringify(message)));
    expect(relayed).toEqual({ status: 200, text: '{"flag":"success"}' });
    // Answered without asking TOP: the thin trade belongs to a member of its own until the lookup.
    const detailCalls = () => hub.top.calls().filter((c) => c.method === 'taobao.trade.simple.get' && c.params['tid'] === tid);
    expect(detailCalls()).toEqual([]);
    const thin = (await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', openUid))!;
    expect(thin.memberId).not.toBe(bound['member_id']);
    const rows = (await receiveEngagement(hub)).filter((r) => (JSON.parse(r.body) as { ruleId: string }).ruleId === 'tmall_detail_lookup');
    expect(rows.map((r) => (JSON.parse(r.body) as { payload: unknown }).payload)).toEqual([{ shopId: '2207512345678', tid, buyerOpenUid: openUid }]);
    // The lookup, then its redelivery: one detail call each, the join applied once.
    await consumeEngagement(hub, rows);
    await consumeEngagement(hub, rows.map((r) => ({ ...r, messageId: `${r.messageId}-again` })));
    expect(detailCalls()).toHaveLength(2);
    const joined = (await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', openUid))!;
    expect((await survivorByIdentity(hub.aws.table, 'tmall_ouid', ouid))!.memberId).toBe(joined.memberId);
    expect(joined).toMatchObject({ status: 'member', points: 35, phoneMasked: '135****5674' });
  });
});
