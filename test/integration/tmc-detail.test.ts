/**
 * The TMC pull fetches each new trade's CRM detail (`taobao.trade.simple.get`, the seller's
 * session) for its `ouid`: a Tmall buyer, known by the thin message only as `buyer_open_uid`,
 * joins the shop member of the same `ouid` (taobao_opencrm_MemberJoinPrivate). A failed detail
 * call never holds the message back: the thin event is applied.
 * Payloads: the documented fixtures of events/tmall (join, create+pay, simple.get with ouid).
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { getItem, survivorByIdentity } from '../support/table.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { orderKey } from '../../lib/store/entities/order.ts';
import type { TmcPullResult } from '../../lib/sources/tmall/pull.ts';
import { eventFixture, tmcFixtureMessages } from '../support/tmc-fixtures.ts';

const hub = useTestHub({ queuePrefix: 'tmd', functions: ['tmc-pull'] });
const fixture = eventFixture;
const pull = async () => (await hub.runScheduled('tmc-pull')) as TmcPullResult;
const OUID = 'AAHFzK2nAAeGwJedwSFu9Ab1';
const OPEN_UID = 'AAGq5d-EAAeG3JedwSFpZMe1';

describe('Tmall trade detail', () => {
  it('the thin trade gets its ouid from taobao.trade.simple.get and joins the shop member of that ouid', async () => {
    const simple = parseJsonLossless(fixture('tmall/taobao-trade-simple-get-response-ouid.json')) as { trade_simple_get_response: { trade: Record<string, unknown> } };
    hub.top.addTrade(simple.trade_simple_get_response.trade);
    hub.top.enqueue(tmcFixtureMessages('tmall/tmall-tmc-opencrm-member-join-private.json'));
    expect(await pull()).toMatchObject({ applied: 1, confirmed: 1 });
    const joined = (await survivorByIdentity(hub.aws.table, 'tmall_ouid', OUID))!;

    hub.top.enqueue(tmcFixtureMessages('tmall/taobao-tmc-consume-response-create-pay.json'));
    expect(await pull()).toMatchObject({ applied: 2, confirmed: 2 });
    const details = hub.top.calls().filter((c) => c.method === 'taobao.trade.simple.get');
    // One detail call per trade and run, as the seller.
    expect(details.map((c) => [c.params['tid'], c.params['session']])).toEqual([['3872941520738429512', hub.runtime.cfg.TMALL_SESSION_KEY]]);
    // The default TMC group is consumed and confirmed without a group_name, as documented.
    const tmcCalls = hub.top.calls().filter((c) => c.method.startsWith('taobao.tmc.'));
    expect(tmcCalls.length).toBeGreaterThan(0);
    expect(tmcCalls.filter((c) => 'group_name' in c.params)).toEqual([]);
    const buyer = (await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', OPEN_UID))!;
    expect(buyer.memberId).toBe(joined.memberId);
    expect(buyer).toMatchObject({ points: 478 });
    expect(await getItem(hub.aws.table, orderKey('tmall', '2207512345678', '3872941520738429512'))).toMatchObject({ memberId: joined.memberId, paidFen: 47_800, pointsEarned: 478 });
  });

  it('a trade whose detail call fails is applied thin', async () => {
    hub.top.enqueue({
      id: '7338450211904429901',
      topic: 'taobao_trade_TradeBuyerPay',
      pub_time: '2024-11-12 10:00:00',
      content: '{"buyer_open_uid":"AAG-no-detail","oid":3872941520738429901,"payment":"12.00","status":"WAIT_SELLER_SEND_GOODS","tid":3872941520738429901,"type":"fixed"}',
    });
    expect(await pull()).toMatchObject({ applied: 1, confirmed: 1, failed: 0 });
    expect(hub.top.calls().filter((c) => c.method === 'taobao.trade.simple.get' && c.params['tid'] === '3872941520738429901')).toHaveLength(1);
    expect(await survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', 'AAG-no-detail')).toMatchObject({ points: 12 });
  });
});
