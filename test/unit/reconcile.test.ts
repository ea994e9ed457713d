import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTopStandin, type TopStandin } from '../../local/top-standin.ts';
import { startYouzanStandin, type YouzanStandin } from '../../local/youzan-standin.ts';
import { reconcileWindows } from '../../lib/sources/commerce/reconcile.ts';
import { TopClient } from '../../lib/sources/tmall/top-client.ts';
import { normaliseSoldTrade } from '../../lib/sources/tmall/normalise.ts';
import { YouzanApiError, YouzanClient } from '../../lib/sources/youzan/api-client.ts';
import { normaliseSoldOrder, normaliseYouzanPush } from '../../lib/sources/youzan/normalise.ts';
import { formatChinaTime, parseChinaTime } from '../../lib/sources/commerce/time.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';

const cst = (t: string) => parseChinaTime(t, 'test');
const MIN = 60_000;

describe('reconcileWindows', () => {
  // Hand-computed: [cursor − overlap, target) in steps of the window, the last one cut at the target.
  it.each([
    { cursor: 100 * MIN, target: 160 * MIN, max: 30 * MIN, overlap: 10 * MIN, want: [[90, 120], [120, 150], [150, 160]] },
    { cursor: 100 * MIN, target: 100 * MIN, max: 30 * MIN, overlap: 10 * MIN, want: [[90, 100]] },
    { cursor: 100 * MIN, target: 105 * MIN, max: 60 * MIN, overlap: 0, want: [[100, 105]] },
    { cursor: 100 * MIN, target: 95 * MIN, max: 30 * MIN, overlap: 0, want: [] },
    { cursor: 5 * MIN, target: 20 * MIN, max: 30 * MIN, overlap: 10 * MIN, want: [[0, 20]] },
  ])('cursor $cursor, target $target, window $max, overlap $overlap', ({ cursor, target, max, overlap, want }) => {
    expect(reconcileWindows(cursor, target, max, overlap)).toEqual(want.map(([a, b]) => [a! * MIN, b! * MIN]));
  });

  it('refuses a window that is not positive', () => {
    expect(() => reconcileWindows(0, 10, 0, 0)).toThrow(/positive/);
  });
});

describe('taobao.trades.sold.increment.get through the TOP client and stand-in', () => {
  let top: TopStandin;
  beforeEach(async () => {
    top = await startTopStandin({ port: 0, appKey: '12345678', secret: 'helloworld', session: 'seller-session' });
  });
  afterEach(async () => {
    await top.close();
  });
  const client = (session = 'seller-session') => new TopClient({ appKey: '12345678', secret: 'helloworld', baseUrl: top.url, session });
  const trade = (n: number, modified: string) => ({ tid: String(3872941520738429000n + BigInt(n)), status: 'WAIT_SELLER_SEND_GOODS', payment: '1.00', modified });

  it('reads every page from the last one back to the first and returns each trade of the window once', async () => {
    for (let i = 0; i < 7; i++) top.addTrade(trade(i, formatChinaTime(cst('2024-11-11 00:00:00') + i * MIN)));
    top.addTrade(trade(99, '2024-11-11 01:00:00'));
    const got = await client().getTradesSoldIncrement(cst('2024-11-11 00:00:00'), cst('2024-11-11 00:30:00'), { pageSize: 3 });
    expect(got.map((t) => t['tid']).sort()).toEqual(Array.from({ length: 7 }, (_, i) => String(3872941520738429000n + BigInt(i))));
    // 7 trades in pages of 3: a first call for the count, then pages 3, 2, 1.
    expect(top.calls().map((c) => c.params['page_no'])).toEqual(['1', '3', '2', '1']);
    expect(top.calls().every((c) => c.params['session'] === 'seller-session' && c.params['start_modified'] === '2024-11-11 00:00:00')).toBe(true);
  });

  it('a wrong session is a permanent TOP error; a window over a day is refused before any call', async () => {
    await expect(client('other').getTradesSoldIncrement(cst('2024-11-11 00:00:00'), cst('2024-11-11 00:30:00'))).rejects.toMatchObject({ topCode: '27', permanent: true });
    await expect(client().getTradesSoldIncrement(0, 86_400_001)).rejects.toThrow(RangeError);
    expect(top.calls()).toHaveLength(1);
  });

  it('the fullinfo fixture trade becomes the paid order event of the seller, keyed by tid, modified and status', () => {
    const doc = parseJsonLossless(readFileSync(new URL('../../events/tmall/taobao-trade-fullinfo-get-response.json', import.meta.url), 'utf8')) as {
      trade_fullinfo_get_response: { trade: unknown };
    };
    const e = normaliseSoldTrade(doc.trade_fullinfo_get_response.trade, '2207512345678')!;
    expect(e).toMatchObject({
      eventId: `tmall:trade:3872941520738429512:${cst('2024-11-11 00:01:40')}:WAIT_SELLER_SEND_GOODS`,
      shopId: '2207512345678',
      orderId: '3872941520738429512',
      status: 'paid',
      totalFen: 51_800,
      paidFen: 47_800,
      paidAt: cst('2024-11-11 00:01:39'),
      buyer: [{ kind: 'tmall_buyer_open_uid', value: 'AAGq5d-EAAeG3JedwSFpZMe1' }],
      topic: 'taobao.trades.sold.increment.get',
    });
    expect(e.lines.map((l) => [l.lineId, l.paidFen])).toEqual([
      ['3872941520739429512', 27_692],
      ['3872941520740429512', 20_108],
    ]);
  });
});

describe('youzan.trades.sold.get through the Youzan client and stand-in', () => {
  let yz: YouzanStandin;
  let clock = cst('2024-11-11 00:10:00');
  beforeEach(async () => {
    clock = cst('2024-11-11 00:10:00');
    yz = await startYouzanStandin({ port: 0, clientId: 'cid', clientSecret: 'secret', kdtId: '12345678', now: () => clock });
  });
  afterEach(async () => {
    await yz.close();
  });
  const order = (tid: string, update: string) => ({ full_order_info: { order_info: { tid, status: 'TRADE_SUCCESS', pay_time: '2024-11-11 00:00:01', update_time: update }, pay_info: { payment: '10.00' } } });

  it('takes one token for its calls and reads the orders updated in the window', async () => {
    yz.addOrder(order('E1', '2024-11-11 00:01:00'));
    yz.addOrder(order('E2', '2024-11-11 00:02:00'));
    yz.addOrder(order('E3', '2024-11-11 00:09:00'));
    const c = new YouzanClient({ clientId: 'cid', clientSecret: 'secret', kdtId: '12345678', baseUrl: yz.url, now: () => clock });
    const page = await c.tradesSoldPage(cst('2024-11-11 00:00:00'), cst('2024-11-11 00:05:00'), 1);
    expect(page.total).toBe(2);
    expect(page.orders.map((o) => (o['full_order_info'] as { order_info: { tid: string } }).order_info.tid)).toEqual(['E2', 'E1']);
    await c.tradesSoldPage(cst('2024-11-11 00:05:00'), cst('2024-11-11 00:10:00'), 1);
    expect(yz.calls().map((x) => x.path)).toEqual(['/auth/token', '/api/youzan.trades.sold.get/4.0.4', '/api/youzan.trades.sold.get/4.0.4']);
    expect(yz.calls()[0]!.body).toEqual({ authorize_type: 'silent', client_id: 'cid', client_secret: 'secret', grant_id: '12345678' });
  });

  it('a wrong secret and a server fault are YouzanApiErrors: the first permanent, the second retryable', async () => {
    const bad = new YouzanClient({ clientId: 'cid', clientSecret: 'nope', kdtId: '12345678', baseUrl: yz.url, now: () => clock });
    await expect(bad.tradesSoldPage(0, 1000, 1)).rejects.toMatchObject({ name: 'YouzanApiError', retryable: false });
    const c = new YouzanClient({ clientId: 'cid', clientSecret: 'secret', kdtId: '12345678', baseUrl: yz.url, now: () => clock });
    yz.failNext(1);
    const err = await c.tradesSoldPage(0, 1000, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(YouzanApiError);
    expect(err).toMatchObject({ retryable: true });
  });

  it('an expired token is fetched again', async () => {
    const c = new YouzanClient({ clientId: 'cid', clientSecret: 'secret', kdtId: '12345678', baseUrl: yz.url, now: () => clock });
    await c.tradesSoldPage(0, 1000, 1);
    clock += 8 * 86_400_000;
    await c.tradesSoldPage(0, 1000, 1);
    expect(yz.calls().filter((x) => x.path === '/auth/token')).toHaveLength(2);
  });
});

describe('Youzan buyer identities', () => {
  const paid = JSON.parse(readFileSync(new URL('../../events/youzan/youzan-push-trade-paid.json', import.meta.url), 'utf8')) as { rawBody: string };
  const msg = JSON.parse(decodeURIComponent((JSON.parse(paid.rawBody) as { msg: string }).msg.replace(/\+/g, ' '))) as {
    full_order_info: { buyer_info: Record<string, unknown> };
  };

  it('outer_user_id is an openid of the configured app only when YOUZAN_WECHAT_APP_ID names it', () => {
    expect(normaliseYouzanPush(paid.rawBody, { wechatAppId: 'wxapp' }).event!.buyer).toContainEqual({ kind: 'wechat_openid', value: 'wxapp:oHIuujmVb-Rl-jrGsrSqSNPTAP-A' });
    expect(normaliseYouzanPush(paid.rawBody).event!.buyer.map((b) => b.kind)).toEqual(['youzan_open_id', 'youzan_outer_user_id']);
  });

  it('a union_id becomes a wechat_unionid identity; a sold order is keyed by tid, update time and status', () => {
    const entry = { full_order_info: { ...msg.full_order_info, buyer_info: { ...msg.full_order_info.buyer_info, union_id: 'oUnion123' } } };
    const r = normaliseSoldOrder(entry, '12345678');
    expect(r.event!.buyer).toEqual([
      { kind: 'youzan_open_id', value: 'LnhGm4rh576452722916618240' },
      { kind: 'wechat_unionid', value: 'oUnion123' },
      { kind: 'youzan_outer_user_id', value: '12345678:oHIuujmVb-Rl-jrGsrSqSNPTAP-A' },
    ]);
    expect(r.event!.eventId).toBe(`youzan:trade:E20241111000102034500012:${cst('2024-11-11 00:01:40')}:WAIT_SELLER_SEND_GOODS`);
    expect(r.phone).toBe('13700000000');
    expect(JSON.stringify(r.event)).not.toContain('13700000000');
  });
});
