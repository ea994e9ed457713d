/**
 * The scheduled TMC pull against the TOP stand-in (real HTTP, real TOP signatures) and
 * DynamoDB Local: consume → apply → confirm only what committed. A confirm lost after the
 * commit and a transient storage failure on one message both end in exactly one effect.
 */
import { hubConfig, hubContext } from '../support/env.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { getItem, memberByIdentity, queryAll, scanAll, type Item } from '../support/table.ts';
import type { StandinMessageInput, TopStandin } from '../../local/top-standin.ts';

import { TopApiError } from '../../lib/sources/tmall/top-client.ts';
import { makeDynamo } from '../../lib/store/client.ts';
import { LOCAL_AWS } from '../../local/emulators.ts';
import { keys, type Key } from '../../lib/store/keys.ts';
import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { identityKey } from '../../lib/store/entities/identity.ts';
import { orderKey } from '../../lib/store/entities/order.ts';
import { parseChinaTime } from '../../lib/sources/commerce/time.ts';
import type { TmcPullResult } from '../../lib/sources/tmall/pull.ts';
import { handler } from '../../functions/tmc-pull.ts';

// The runtime starts the TOP stand-in (local/top-runtime.ts) on a free port and points
// TOP_API_BASE at it, with the configured Tmall app key and secret.
const hub = useTestHub({ queuePrefix: 'tmc', functions: ['tmc-pull'] });
let top: TopStandin;

beforeAll(() => {
  top = hub.top;
  expect(hub.runtime.cfg.TOP_API_BASE).toBe(top.url);
  expect(hubConfig().TOP_API_BASE).toBe(top.url);
});

const SHOP = '2207512345678';
const pull = async () => (await hub.runScheduled('tmc-pull')) as TmcPullResult;
const NO_COUNTS = { consumed: 0, applied: 0, duplicates: 0, ignored: 0, rejected: 0, failed: 0, deferred: 0, confirmed: 0, confirmFailed: 0 };
/** A whole pull result: the counts given, every other count 0. */
const pullResult = (r: Partial<TmcPullResult> & Pick<TmcPullResult, 'rounds' | 'stoppedBy'>): TmcPullResult => ({ ...NO_COUNTS, ...r });

const get = (key: Key): Promise<Item | undefined> => getItem(hub.aws.table, key);
const memberByOpenUid = (openUid: string) => memberByIdentity(hub.aws.table, 'tmall_buyer_open_uid', openUid);
const ledgerOf = (memberId: string) => queryAll(hub.aws.table, keys.memberPartition(memberId), 'LEDGER#');

async function allItems(): Promise<Item[]> {
  return (await scanAll(hub.aws.table)).sort((a, b) => `${String(a.pk)}|${String(a.sk)}`.localeCompare(`${String(b.pk)}|${String(b.sk)}`));
}

/** A thin TMC trade message as TOP sends it (ids as JSON numbers inside the content text). */
function trade(id: string, topic: string, tid: string, status: string, payment: string, buyer: string, pubTime: string): StandinMessageInput {
  return {
    id,
    topic,
    pub_time: pubTime,
    user_id: SHOP,
    content: `{"buyer_open_uid":"${buyer}","oid":${tid},"payment":"${payment}","status":"${status}","tid":${tid},"type":"fixed"}`,
  };
}

describe('tmc-pull', () => {
  it('applies and confirms consumed messages; an unknown topic is acknowledged, a broken message is rejected and acknowledged', async () => {
    const tid = '3872941520738500001';
    const ids = ['7338450211905000001', '7338450211905000002', '7338450211905000003', '7338450211905000004'];
    top.enqueue([
      trade(ids[0]!, 'taobao_trade_TradeCreate', tid, 'WAIT_BUYER_PAY', '88.00', 'AAG-pull-1', '2026-11-01 10:00:00'),
      trade(ids[1]!, 'taobao_trade_TradeBuyerPay', tid, 'WAIT_SELLER_SEND_GOODS', '88.00', 'AAG-pull-1', '2026-11-01 10:02:00'),
      { id: ids[2]!, topic: 'taobao_item_ItemUpdate', content: '{"num_iid":712345678901,"changed_fields":"price"}' },
      { id: ids[3]!, topic: 'taobao_trade_TradeBuyerPay', pub_time: '2026-11-01 10:03:00', content: '{"payment":"1.00","status":"WAIT_SELLER_SEND_GOODS"}' },
    ]);
    const out = await pull();
    expect(out).toEqual(pullResult({ rounds: 2, consumed: 4, applied: 2, ignored: 1, rejected: 1, confirmed: 4, stoppedBy: 'empty' }));
    // 19-digit ids arrive as JSON numbers and are confirmed exactly.
    expect(top.confirmed()).toEqual(ids);
    expect(top.pending()).toEqual([]);
    const order = await get(orderKey('tmall', SHOP, tid));
    expect(order).toMatchObject({ status: 'paid', paidFen: 8_800, totalFen: 8_800, paidAt: parseChinaTime('2026-11-01 10:02:00', 't'), pointsEarned: 88 });
    const m = await memberByOpenUid('AAG-pull-1');
    expect(m).toMatchObject({ points: 88, orderCount: 1, gmvFen: 8_800 });
    expect(order!.memberId).toBe(m!.memberId);
    for (const id of ids.slice(0, 2)) expect(await get(dedupeKey(`tmall:${id}`))).toMatchObject({ type: 'order' });
    for (const id of ids.slice(2)) expect(await get(dedupeKey(`tmall:${id}`))).toBeUndefined();

    // Nothing left: the next pull consumes nothing.
    expect(await pull()).toMatchObject({ rounds: 1, consumed: 0, confirmed: 0, stoppedBy: 'empty' });
  });

  it('a confirm lost after the commit: the redelivered messages change nothing and are confirmed then', async () => {
    const tid = '3872941520738500002';
    const ids = ['7338450211905000011', '7338450211905000012', '7338450211905000013'];
    top.enqueue([
      trade(ids[0]!, 'taobao_trade_TradeBuyerPay', tid, 'WAIT_SELLER_SEND_GOODS', '120.50', 'AAG-pull-2', '2026-11-02 09:00:00'),
      trade(ids[1]!, 'taobao_trade_TradeSellerShip', tid, 'WAIT_BUYER_CONFIRM_GOODS', '120.50', 'AAG-pull-2', '2026-11-03 09:00:00'),
      {
        id: ids[2]!,
        topic: 'taobao_refund_RefundSuccess',
        pub_time: '2026-11-04 09:00:00',
        user_id: SHOP,
        content: `{"buyer_open_uid":"AAG-pull-2","modified":"2026-11-04 09:00:00","oid":${tid},"refund_fee":"20.50","refund_id":241123882211290001,"tid":${tid}}`,
      },
    ]);
    const realFetch = globalThis.fetch;
    let dropped = 0;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      if (typeof init?.body === 'string' && init.body.includes('method=taobao.tmc.messages.confirm') && dropped === 0) {
        dropped += 1;
        throw new TypeError('fetch failed: the connection dropped');
      }
      return realFetch(input, init);
    }) as typeof fetch;
    let first: TmcPullResult;
    try {
      first = await pull();
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(dropped).toBe(1);
    expect(first).toMatchObject({ consumed: 3, applied: 3, duplicates: 0, confirmed: 0, confirmFailed: 3, stoppedBy: 'confirm_failed' });
    expect(top.pending().map((p) => p.id)).toEqual(ids);
    const m = await memberByOpenUid('AAG-pull-2');
    expect(m).toMatchObject({ points: 100, orderCount: 1, gmvFen: 12_050 });
    expect(await get(orderKey('tmall', SHOP, tid))).toMatchObject({ status: 'shipped', paidFen: 12_050, refundedFen: 2_050, pointsEarned: 120, pointsClawed: 20 });
    const before = await allItems();

    const second = await pull();
    expect(second).toEqual(pullResult({ rounds: 2, consumed: 3, duplicates: 3, confirmed: 3, stoppedBy: 'empty' }));
    expect(top.pending()).toEqual([]);
    expect(top.confirmed().slice(-3)).toEqual(ids);
    // Same table, item for item: order, member, refund row, lots, ledger, counters, markers.
    expect(await allItems()).toEqual(before);
    expect((await ledgerOf(String(m!.memberId))).map((l) => Number(l.delta)).sort((a, b) => a - b)).toEqual([-20, 120]);
  });

  it('a transient DynamoDB failure on one message: it stays unconfirmed, the others are confirmed, the next pull applies it', async () => {
    const ids = ['7338450211905000021', '7338450211905000022', '7338450211905000023'];
    const tids = ['3872941520738500021', '3872941520738500022', '3872941520738500023'];
    top.enqueue(ids.map((id, i) => trade(id, 'taobao_trade_TradeBuyerPay', tids[i]!, 'WAIT_SELLER_SEND_GOODS', `${(i + 1) * 10}.00`, `AAG-pull-3${i}`, '2026-11-05 12:00:00')));

    // Fails every TransactWriteItems that carries the second message's dedupe marker while armed
    // (apply retries a transient failure itself, so the fault lasts for the whole first pull).
    const target = `DEDUPE#tmall:${ids[1]}`;
    let armed = true;
    let injected = 0;
    const faulty = makeDynamo({ ...LOCAL_AWS, endpoint: hub.aws.dynamoEndpoint });
    faulty.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TransactItems?: unknown[] };
        if (armed && input.TransactItems && JSON.stringify(input.TransactItems).includes(target)) {
          injected += 1;
          throw Object.assign(new Error('injected: internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectTransactFault' },
    );
    const saved = hub.runtime;
    hub.reconfigure({ clients: { ddb: faulty } });
    let first: TmcPullResult;
    try {
      first = await pull();
    } finally {
      hub.restore(saved);
    }
    expect(injected).toBeGreaterThanOrEqual(1);
    expect(first).toMatchObject({ consumed: 4, applied: 2, failed: 1, deferred: 1, confirmed: 2, confirmFailed: 0, stoppedBy: 'no_progress' });
    expect(top.pending().map((p) => p.id)).toEqual([ids[1]]);
    expect(top.confirmed().slice(-2).sort()).toEqual([ids[0], ids[2]]);
    expect(await get(orderKey('tmall', SHOP, tids[1]!))).toBeUndefined();
    expect(await get(dedupeKey(`tmall:${ids[1]}`))).toBeUndefined();
    expect(await get(identityKey('tmall_buyer_open_uid', 'AAG-pull-31'))).toBeUndefined();
    expect(await memberByOpenUid('AAG-pull-30')).toMatchObject({ points: 10 });
    expect(await memberByOpenUid('AAG-pull-32')).toMatchObject({ points: 30 });

    armed = false;
    faulty.destroy();
    const injectedBefore = injected;
    const second = await pull();
    expect(injected).toBe(injectedBefore);
    expect(second).toMatchObject({ consumed: 1, applied: 1, failed: 0, confirmed: 1, stoppedBy: 'empty' });
    expect(top.pending()).toEqual([]);
    expect(await get(orderKey('tmall', SHOP, tids[1]!))).toMatchObject({ status: 'paid', paidFen: 2_000, pointsEarned: 20 });
    expect(await memberByOpenUid('AAG-pull-31')).toMatchObject({ points: 20, orderCount: 1 });
  });

  it('stops starting work when the invocation is nearly out of time; what it did is confirmed, the rest waits', async () => {
    const tid = '3872941520738500031';
    const ids = ['7338450211905000031', '7338450211905000032', '7338450211905000033', '7338450211905000034'];
    const topics: [string, string][] = [
      ['taobao_trade_TradeCreate', 'WAIT_BUYER_PAY'],
      ['taobao_trade_TradeBuyerPay', 'WAIT_SELLER_SEND_GOODS'],
      ['taobao_trade_TradeSellerShip', 'WAIT_BUYER_CONFIRM_GOODS'],
      ['taobao_trade_TradeSuccess', 'TRADE_FINISHED'],
    ];
    top.enqueue(ids.map((id, i) => trade(id, topics[i]![0], tid, topics[i]![1], '66.00', 'AAG-pull-4', `2026-11-0${6 + i} 08:00:00`)));

    // Under the 15 s reserve from the start: nothing is consumed.
    expect(await handler({}, { ...hubContext(hub.runtime), getRemainingTimeInMillis: () => 14_000 })).toMatchObject({ rounds: 0, consumed: 0, stoppedBy: 'time' });
    expect(top.pending()).toHaveLength(4);

    // Enough time for the consume and two messages (one order: applied in arrival order).
    let calls = 0;
    const out = await handler({}, { ...hubContext(hub.runtime), getRemainingTimeInMillis: () => (++calls <= 3 ? 30_000 : 5_000) });
    expect(out).toMatchObject({ rounds: 1, consumed: 4, applied: 2, deferred: 2, confirmed: 2, stoppedBy: 'time' });
    expect(top.pending().map((p) => p.id)).toEqual(ids.slice(2));
    expect(await get(orderKey('tmall', SHOP, tid))).toMatchObject({ status: 'paid' });

    expect(await pull()).toMatchObject({ consumed: 2, applied: 2, confirmed: 2, stoppedBy: 'empty' });
    expect(top.pending()).toEqual([]);
    expect(await get(orderKey('tmall', SHOP, tid))).toMatchObject({ status: 'completed', paidFen: 6_600, pointsEarned: 66 });
  });

  it('fails the invocation when TOP cannot be reached at all, and leaves the messages where they are', async () => {
    top.enqueue(trade('7338450211905000041', 'taobao_trade_TradeCreate', '3872941520738500041', 'WAIT_BUYER_PAY', '5.00', 'AAG-pull-5', '2026-11-10 08:00:00'));
    const saved = hub.runtime;
    hub.reconfigure({ settings: { TOP_API_BASE: 'http://127.0.0.1:9/router/rest' } });
    try {
      await expect(pull()).rejects.toBeInstanceOf(TopApiError);
    } finally {
      hub.restore(saved);
    }
    expect(top.pending().map((p) => p.id)).toEqual(['7338450211905000041']);
    expect(await pull()).toMatchObject({ consumed: 1, applied: 1, confirmed: 1, stoppedBy: 'empty' });
  });
});
