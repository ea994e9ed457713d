import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTopStandin, type TopStandin } from '../../local/top-standin.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { signTopParams } from '../../lib/sources/tmall/sign.ts';
import { normaliseTmcMessage, parseTmcMessages } from '../../lib/sources/tmall/normalise.ts';
import { formatChinaTime } from '../../lib/sources/commerce/time.ts';
import { isRetryableTopError, TopApiError, TopClient, topResponseKey } from '../../lib/sources/tmall/top-client.ts';
import { UpstreamApiError } from '../../lib/errors.ts';

const APP_KEY = '12345678';
const SECRET = 'helloworld';
const A = '2107654321098765432';
const B = '2107654321098765433';
const C = '2107654321098765434';

const tmcFixture = parseTmcMessages(readFileSync(new URL('../../events/tmall/taobao-tmc-consume-response-create-pay.json', import.meta.url), 'utf8'));
const simpleTrade = (
  parseJsonLossless(readFileSync(new URL('../../events/tmall/taobao-trade-simple-get-response-ouid.json', import.meta.url), 'utf8')) as {
    trade_simple_get_response: { trade: Record<string, unknown> };
  }
).trade_simple_get_response.trade;

let standin: TopStandin;
beforeEach(async () => {
  standin = await startTopStandin({ port: 0, appKey: APP_KEY, secret: SECRET, trades: [simpleTrade] });
});
afterEach(async () => {
  await standin.close();
});

const client = (over: Partial<ConstructorParameters<typeof TopClient>[0]> = {}) =>
  new TopClient({ appKey: APP_KEY, secret: SECRET, baseUrl: standin.url, session: 'seller-session', ...over });

async function rejection(p: Promise<unknown>): Promise<TopApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TopApiError);
    expect(err).toBeInstanceOf(UpstreamApiError);
    return err as TopApiError;
  }
  throw new Error('expected a TopApiError');
}

describe('TOP client against the stand-in over HTTP', () => {
  it('consume → confirm → the next consume returns only the unconfirmed', async () => {
    standin.enqueue(
      [A, B, C].map((id, i) => ({
        id,
        topic: 'taobao_trade_TradeBuyerPay',
        pub_time: '2024-11-11 00:01:40',
        content: `{"tid":${id},"oid":${id},"payment":"${i + 1}.00","status":"WAIT_SELLER_SEND_GOODS","buyer_open_uid":"u${i}"}`,
      })),
    );
    const top = client();
    const first = await top.consumeMessages({ quantity: 100 });
    expect(first.map((m) => m.id)).toEqual([A, B, C]);
    expect(first.map((m) => m.user_id)).toEqual(['2207512345678', '2207512345678', '2207512345678']);
    const events = first.map((m) => normaliseTmcMessage(m));
    expect(events.map((e) => (e?.type === 'order' ? [e.eventId, e.orderId, e.paidFen] : null))).toEqual([
      [`tmall:${A}`, A, 100],
      [`tmall:${B}`, B, 200],
      [`tmall:${C}`, C, 300],
    ]);

    expect(await top.confirmMessages([A, C])).toBe(true);
    expect(standin.confirmed()).toEqual([A, C]);
    expect(standin.pending().map((m) => m.id)).toEqual([B]);

    const second = await top.consumeMessages();
    expect(second.map((m) => m.id)).toEqual([B]);
    expect(await top.confirmMessages(second.map((m) => m.id))).toBe(true);
    expect(await top.consumeMessages()).toEqual([]);
    expect(standin.confirmed()).toEqual([A, C, B]);
    expect(standin.calls().every((c) => c.error === undefined)).toBe(true);
  });

  it('unconfirmed messages are delivered again; quantity limits a batch', async () => {
    standin.enqueue(tmcFixture.map((m) => ({ ...m, content: m.content as string })));
    const top = client();
    const once = await top.consumeMessages();
    const twice = await top.consumeMessages();
    expect(twice).toEqual(once);
    expect(once).toEqual(tmcFixture); // the fixture's messages come back field for field

    standin.enqueue(Array.from({ length: 12 }, (_, i) => ({ id: String(9000 + i), topic: 't', content: '{}' })));
    expect((await top.consumeMessages({ quantity: 10 })).length).toBe(10);
    expect(standin.calls().at(-1)?.params['quantity']).toBe('10');
  });

  it('answers in TOP JSON: 19-digit ids as JSON numbers', async () => {
    standin.enqueue({ id: A, topic: 'taobao_trade_TradeSuccess', content: '{"tid":1}' });
    const params = client().buildParams('taobao.tmc.messages.consume', { group_name: 'default', quantity: 10 });
    const res = await fetch(standin.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(text).toContain(`"id":${A}`);
    expect(text).toMatch(/^\{"tmc_messages_consume_response":\{"messages":\{"tmc_message":\[/);
    expect((JSON.parse(text) as { tmc_messages_consume_response: { messages: { tmc_message: Array<{ id: number }> } } }).tmc_messages_consume_response.messages.tmc_message[0]!.id).toBe(
      Number(B), // what a naive JSON.parse would confirm: the neighbouring id
    );
  });

  it('trade.simple.get returns the trade with the ouid and a string tid', async () => {
    const trade = await client().getTradeSimple('3872941520738429512');
    expect(trade).toEqual({
      tid: '3872941520738429512',
      status: 'TRADE_FINISHED',
      buyer_open_uid: 'AAGq5d-EAAeG3JedwSFpZMe1',
      ouid: 'AAHFzK2nAAeGwJedwSFu9Ab1',
      payment: '478.00',
      modified: '2024-11-20 10:02:33',
    });
    const call = standin.calls().at(-1)!;
    expect(call.method).toBe('taobao.trade.simple.get');
    expect(call.params['session']).toBe('seller-session');
    expect(call.params['fields']).toContain('ouid');
  });

  it.each(['md5', 'hmac', 'hmac-sha256'] as const)('the stand-in accepts sign_method %s', async (signMethod) => {
    standin.enqueue({ id: A, topic: 't', content: '{}' });
    expect((await client({ signMethod }).consumeMessages()).map((m) => m.id)).toEqual([A]);
  });

  it('wrong secret → permanent invalid-signature error', async () => {
    const err = await rejection(client({ secret: 'wrong' }).consumeMessages());
    expect(err.topCode).toBe('25');
    expect(err.retryable).toBe(false);
    expect(err.permanent).toBe(true);
    expect(err.api).toBe('taobao.tmc.messages.consume');
    expect(err.message).toMatch(/Invalid signature/);
  });

  it('a parameter changed after signing is refused like TOP does', async () => {
    const params = client().buildParams('taobao.tmc.messages.consume', { group_name: 'default', quantity: 10 });
    params['quantity'] = '200';
    const res = await fetch(standin.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    expect(await res.text()).toMatch(/^\{"error_response":\{"code":25,"msg":"Invalid signature"/);
  });

  it('system parameters in the query string are signed together with the form', async () => {
    const sys = { method: 'taobao.tmc.messages.confirm', app_key: APP_KEY, timestamp: formatChinaTime(Date.now()), format: 'json', v: '2.0', sign_method: 'md5' };
    standin.enqueue({ id: A, topic: 't', content: '{}' });
    const form = { s_message_ids: A };
    const sign = signTopParams({ ...sys, ...form }, SECRET, 'md5');
    const res = await fetch(`${standin.url}?${new URLSearchParams({ ...sys, sign }).toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    expect(await res.text()).toMatch(/"is_success":true/);
    expect(standin.confirmed()).toEqual([A]);
  });

  it('a stale client clock → retryable invalid-timestamp error', async () => {
    const err = await rejection(client({ now: () => Date.now() - 20 * 60_000 }).consumeMessages());
    expect(err.topCode).toBe('31');
    expect(err.retryable).toBe(true);
  });

  it('wrong app key → permanent', async () => {
    const err = await rejection(client({ appKey: '87654321' }).consumeMessages());
    expect([err.topCode, err.retryable]).toEqual(['29', false]);
  });

  it('an unknown trade → permanent isv.trade-not-exist', async () => {
    const err = await rejection(client().getTradeSimple('1'));
    expect([err.topCode, err.subCode, err.errcode, err.retryable]).toEqual(['15', 'isv.trade-not-exist', 'isv.trade-not-exist', false]);
  });

  it('an unknown method → permanent', async () => {
    const err = await rejection(client().call('taobao.item.seller.get', { fields: 'num_iid' }));
    expect([err.topCode, err.retryable]).toEqual(['22', false]);
  });

  it('confirm of a bad id → permanent isv.invalid-parameter', async () => {
    const err = await rejection(client().confirmMessages(['12x']));
    expect([err.subCode, err.retryable]).toEqual(['isv.invalid-parameter', false]);
  });

  it('a closed port → retryable network error', async () => {
    const url = standin.url;
    await standin.close();
    const err = await rejection(new TopClient({ appKey: APP_KEY, secret: SECRET, baseUrl: url, timeoutMs: 2000 }).consumeMessages());
    expect([err.topCode, err.retryable]).toEqual(['network', true]);
    standin = await startTopStandin({ port: 0, appKey: APP_KEY, secret: SECRET });
  });
});

describe('TOP client with a scripted fetch', () => {
  const scripted = (status: number, body: string) =>
    new TopClient({ appKey: APP_KEY, secret: SECRET, baseUrl: 'http://top.invalid/router/rest', fetch: async () => new Response(body, { status }) });

  it('HTTP 5xx → retryable; non-JSON → retryable; 4xx without error_response → permanent', async () => {
    expect((await rejection(scripted(502, 'bad gateway').consumeMessages())).retryable).toBe(true);
    expect((await rejection(scripted(200, '<html>').consumeMessages())).retryable).toBe(true);
    expect((await rejection(scripted(404, '{}').consumeMessages())).retryable).toBe(false);
  });

  it('throttling and isp errors → retryable', async () => {
    const throttled = '{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count","sub_msg":"This ban will last for 1 more seconds"}}';
    const e1 = await rejection(scripted(200, throttled).consumeMessages());
    expect([e1.topCode, e1.subCode, e1.retryable]).toEqual(['7', 'accesscontrol.limited-by-app-access-count', true]);
    const e2 = await rejection(scripted(200, '{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.top-remote-connection-timeout"}}').consumeMessages());
    expect(e2.retryable).toBe(true);
  });

  it('an empty consume answer is an empty list; confirm reports is_success', async () => {
    expect(await scripted(200, '{"tmc_messages_consume_response":{"request_id":"x"}}').consumeMessages()).toEqual([]);
    expect(await scripted(200, '{"tmc_messages_confirm_response":{"is_success":false}}').confirmMessages(['1'])).toBe(false);
  });

  it('builds the documented system parameters', () => {
    const params = new TopClient({ appKey: APP_KEY, secret: SECRET, now: () => Date.UTC(2016, 0, 1, 4, 0, 0) }).buildParams(
      'taobao.item.seller.get',
      { fields: 'num_iid,title,nick,price,num', num_iid: '11223344' },
      { session: 'test' },
    );
    // The official TOP md5 example: the same inputs give the published sign.
    expect(params).toEqual({
      fields: 'num_iid,title,nick,price,num',
      num_iid: '11223344',
      method: 'taobao.item.seller.get',
      app_key: '12345678',
      timestamp: '2016-01-01 12:00:00',
      format: 'json',
      v: '2.0',
      sign_method: 'md5',
      session: 'test',
      sign: '66987CB115214E59E6EC978214934FB8',
    });
  });
});

describe('error classification', () => {
  it.each([
    ['7', undefined, true],
    ['10', undefined, true],
    ['31', undefined, true],
    ['15', 'isp.remote-service-error', true],
    ['15', 'accesscontrol.limited-by-api-access-count', true],
    ['15', 'isv.item-not-exist', false],
    ['15', 'isv.api-call-limited', true],
    ['15', 'isv.item-quantity-limit', false],
    ['15', 'isv.invalid-parameter', false],
    ['25', undefined, false],
    ['27', undefined, false],
    ['11', undefined, false],
    ['15', undefined, false],
  ] as const)('code %s sub %s → retryable %s', (code, sub, retryable) => {
    expect(isRetryableTopError(code, sub)).toBe(retryable);
  });

  it('response keys', () => {
    expect(topResponseKey('taobao.tmc.messages.consume')).toBe('tmc_messages_consume_response');
    expect(topResponseKey('taobao.trade.simple.get')).toBe('trade_simple_get_response');
    expect(topResponseKey('tmall.mei.crm.member.sync.privy')).toBe('tmall_mei_crm_member_sync_privy_response');
  });
});
