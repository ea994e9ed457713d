/**
 * Reconciliation end to end: trades that exist on the platforms but were never pushed (the TOP
 * and Youzan stand-ins' `POST /_local/trades`) → `POST /_local/run/reconcile` on the gateway →
 * functions/reconcile → the same apply path as the pushes → DynamoDB Local. Counted once after a
 * second run and after a late push of the same trade; a platform error leaves the cursor.
 *
 * The trades are the documented payloads of events/: the `taobao.trade.fullinfo.get` trade (the
 * same Trade structure `taobao.trades.sold.increment.get` returns) and the `full_order_info` of
 * the Youzan TradePaid push (the structure `youzan.trades.sold.get` lists). The hub's clock is set
 * just after them, so the first run's windows reach back to them.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { hubConfig } from '../support/env.ts';
import { useTestHub } from '../support/hub.ts';
import { getItem, queryAll, survivorByIdentity, type Item } from '../support/table.ts';
import { postCommerce, signedTmall, signedYouzan } from '../support/commerce-client.ts';
import { MemoryMetrics } from '../support/metrics.ts';
import { keys } from '../../lib/store/keys.ts';
import { orderKey } from '../../lib/store/entities/order.ts';
import { reconcileCursorKey } from '../../lib/store/entities/reconcile.ts';
import { parseJsonLossless } from '../../lib/sources/commerce/json.ts';
import { parseChinaTime } from '../../lib/sources/commerce/time.ts';
import type { ReconcileRun, SourceRun } from '../../lib/sources/commerce/reconcile.ts';
import type { IdentityKind } from '../../lib/events/hub-event.ts';

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'rec', functions: ['tmall', 'youzan', 'reconcile'] });

const fixture = (path: string) => readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8');
const cst = (text: string) => parseChinaTime(text, 'test');

const SELLER = '2207512345678';
const KDT = '12345678';
const TID = '3872941520738429512';
const YZ_TID = 'E20241111000102034500012';
/** Just after both trades were last modified (2024-11-11 00:01:40 China time). */
const CLOCK = cst('2024-11-11 00:06:40');

/** The fullinfo fixture's trade, as JSON text with its ids exact. */
function tmallTrade(): string {
  const doc = parseJsonLossless(fixture('tmall/taobao-trade-fullinfo-get-response.json')) as { trade_fullinfo_get_response: { trade: unknown } };
  return stringify(doc.trade_fullinfo_get_response.trade)!;
}

/** The Youzan TradePaid fixture: its raw body (for this hub's client id), its type and its decoded `{full_order_info}`. */
function youzanPaid(): { body: string; type: string; order: Record<string, unknown> } {
  const f = JSON.parse(fixture('youzan/youzan-push-trade-paid.json')) as { rawBody: string; headers: Record<string, string> };
  const body = f.rawBody.replace('"client_id":"6a0b1b2c3d4e5f6a7b"', `"client_id":"${hubConfig().YOUZAN_CLIENT_ID}"`);
  const msg = (JSON.parse(body) as { msg: string }).msg;
  return { body, type: f.headers['Event-Type']!, order: JSON.parse(decodeURIComponent(msg.replace(/\+/g, ' '))) as Record<string, unknown> };
}

async function placeTrade(standinUrl: string, json: string): Promise<void> {
  const res = await fetch(new URL('/_local/trades', standinUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  expect(res.status).toBe(200);
}

async function runReconcile(): Promise<ReconcileRun & { skipped: string[] }> {
  const res = await fetch(`${hub.url}/_local/run/reconcile`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as ReconcileRun & { skipped: string[] };
}

const sourceOf = (run: ReconcileRun, platform: string): SourceRun => run.sources.find((s) => s.platform === platform)!;
const memberBy = (kind: IdentityKind, value: string) => survivorByIdentity(hub.aws.table, kind, value);
const ledgerOf = (m: Item) => queryAll(hub.aws.table, keys.memberPartition(String(m.memberId)), 'LEDGER#');

describe('reconcile: trades no push delivered', () => {
  it('a Tmall and a Youzan trade never pushed become paid orders with their points, once, after a second run and after late pushes', async () => {
    const metrics = new MemoryMetrics();
    const saved = hub.runtime;
    hub.reconfigure({ now: () => CLOCK, metrics });
    try {
      await placeTrade(hub.top.url, tmallTrade());
      const yz = youzanPaid();
      await placeTrade(hub.youzan.url, JSON.stringify(yz.order));

      const first = await runReconcile();
      expect(first.skipped).toEqual([]);
      expect(sourceOf(first, 'tmall')).toMatchObject({ shopId: SELLER, stoppedBy: 'caught_up', applied: 1, duplicates: 0, gaps: [{ orderId: TID, status: 'paid' }] });
      expect(sourceOf(first, 'youzan')).toMatchObject({ shopId: KDT, stoppedBy: 'caught_up', applied: 1, duplicates: 0, gaps: [{ orderId: YZ_TID, status: 'paid' }] });
      expect(first.gaps).toBe(2);
      expect(metrics.of('ReconcileGaps')).toEqual([{ name: 'ReconcileGaps', dims: {}, value: 2 }]);

      // Hand-computed from the fixtures: payment ¥478.00 → 47 800 fen, 1 point per yuan.
      const tmallOrder = await getItem(hub.aws.table, orderKey('tmall', SELLER, TID));
      expect(tmallOrder).toMatchObject({ status: 'paid', platformStatus: 'WAIT_SELLER_SEND_GOODS', totalFen: 51_800, paidFen: 47_800, paidAt: cst('2024-11-11 00:01:39'), pointsEarned: 478 });
      expect(tmallOrder!.lines).toHaveLength(2);
      const yzOrder = await getItem(hub.aws.table, orderKey('youzan', KDT, YZ_TID));
      expect(yzOrder).toMatchObject({ status: 'paid', totalFen: 51_800, paidFen: 47_800, paidAt: cst('2024-11-11 00:01:39'), pointsEarned: 478 });
      const tm = (await memberBy('tmall_buyer_open_uid', 'AAGq5d-EAAeG3JedwSFpZMe1'))!;
      const ym = (await memberBy('youzan_open_id', 'LnhGm4rh576452722916618240'))!;
      expect(tm).toMatchObject({ points: 478, orderCount: 1, gmvFen: 47_800 });
      expect(ym).toMatchObject({ points: 478, orderCount: 1, gmvFen: 47_800 });
      const cursors = {
        tmall: await getItem(hub.aws.table, reconcileCursorKey('tmall', SELLER)),
        youzan: await getItem(hub.aws.table, reconcileCursorKey('youzan', KDT)),
      };
      // Windows end a minute before the clock (the searches lag the pushes).
      expect(cursors.tmall).toMatchObject({ cursorAt: CLOCK - 60_000, version: first.sources[0]!.windows });
      expect(cursors.youzan).toMatchObject({ cursorAt: CLOCK - 60_000 });

      // A second run re-reads the overlap: the same snapshots are duplicates, nothing is a gap.
      const second = await runReconcile();
      expect(second.gaps).toBe(0);
      expect(sourceOf(second, 'tmall')).toMatchObject({ windows: 1, duplicates: 1, applied: 0, gaps: [] });
      expect(sourceOf(second, 'youzan')).toMatchObject({ windows: 1, duplicates: 1, applied: 0, gaps: [] });
      expect(metrics.of('ReconcileGaps')).toHaveLength(1);

      // The late pushes of the same trades change no points.
      expect(await postCommerce(hub.url, signedTmall(fixture('tmall/taobao-tmc-consume-response-create-pay.json')))).toEqual({ status: 200, text: '{"flag":"success"}' });
      expect(await postCommerce(hub.url, signedYouzan(yz.body, yz.type))).toEqual({ status: 200, text: '{"code":0,"msg":"success"}' });
      const third = await runReconcile();
      expect(third.gaps).toBe(0);

      for (const [m, kind, value] of [
        [tm, 'tmall_buyer_open_uid', 'AAGq5d-EAAeG3JedwSFpZMe1'],
        [ym, 'youzan_open_id', 'LnhGm4rh576452722916618240'],
      ] as const) {
        const after = (await memberBy(kind, value))!;
        expect(after.memberId).toBe(m.memberId);
        expect(after).toMatchObject({ points: 478, orderCount: 1, gmvFen: 47_800 });
        expect((await ledgerOf(after)).map((l) => [l.delta, l.reason])).toEqual([[478, 'order']]);
      }
      expect(await getItem(hub.aws.table, orderKey('tmall', SELLER, TID))).toMatchObject({ status: 'paid', pointsEarned: 478, pointsClawed: 0 });
      expect(await getItem(hub.aws.table, orderKey('youzan', KDT, YZ_TID))).toMatchObject({ status: 'paid', pointsEarned: 478, pointsClawed: 0 });
    } finally {
      hub.restore(saved);
    }
  });

  it('a trade whose amount paid differs from the sum of its lines is recorded on the order; the amount paid counts', async () => {
    const saved = hub.runtime;
    const at = CLOCK + 3600_000;
    hub.reconfigure({ now: () => at });
    try {
      const trade = {
        tid: '3872941520738429600',
        status: 'WAIT_SELLER_SEND_GOODS',
        buyer_open_uid: 'AAGqMismatch',
        pay_time: '2024-11-11 01:01:00',
        modified: '2024-11-11 01:01:00',
        total_fee: '100.00',
        payment: '90.00',
        orders: { order: [{ oid: '3872941520738429601', title: 'A', num: 1, payment: '50.00', divide_order_fee: '50.00' }, { oid: '3872941520738429602', title: 'B', num: 1, payment: '30.00', divide_order_fee: '30.00' }] },
      };
      await placeTrade(hub.top.url, JSON.stringify(trade));
      await runReconcile();
      const order = await getItem(hub.aws.table, orderKey('tmall', SELLER, trade.tid));
      expect(order).toMatchObject({ paidFen: 9_000, pointsEarned: 90, amountMismatch: { paidFen: 9_000, linesFen: 8_000 } });
    } finally {
      hub.restore(saved);
    }
  });

  it('a Youzan API error leaves its cursor where it was; the next run finds the trade', async () => {
    const later = CLOCK + 3 * 3600_000;
    const saved = hub.runtime;
    hub.reconfigure({ now: () => later });
    try {
      const before = await getItem(hub.aws.table, reconcileCursorKey('youzan', KDT));
      const yz = youzanPaid();
      const full = yz.order['full_order_info'] as { order_info: Record<string, unknown>; buyer_info: Record<string, unknown> };
      const order = {
        full_order_info: {
          ...full,
          order_info: { ...full.order_info, tid: 'E20241111030102034500099', update_time: '2024-11-11 03:01:40' },
          buyer_info: { yz_open_id: 'LnhGm4rh576452722916618299' },
        },
      };
      await placeTrade(hub.youzan.url, JSON.stringify(order));
      hub.youzan.failNext(1);
      const failed = await runReconcile();
      expect(sourceOf(failed, 'youzan')).toMatchObject({ stoppedBy: 'platform_error', windows: 0, gaps: [] });
      expect(sourceOf(failed, 'tmall')).toMatchObject({ stoppedBy: 'caught_up' });
      expect(await getItem(hub.aws.table, reconcileCursorKey('youzan', KDT))).toMatchObject({ cursorAt: before!.cursorAt, version: before!.version });
      expect(await getItem(hub.aws.table, orderKey('youzan', KDT, 'E20241111030102034500099'))).toBeUndefined();

      const next = await runReconcile();
      expect(sourceOf(next, 'youzan')).toMatchObject({ stoppedBy: 'caught_up', gaps: [{ orderId: 'E20241111030102034500099', status: 'paid' }] });
      expect(await getItem(hub.aws.table, reconcileCursorKey('youzan', KDT))).toMatchObject({ cursorAt: later - 60_000 });
      expect(await memberBy('youzan_open_id', 'LnhGm4rh576452722916618299')).toMatchObject({ points: 478 });
    } finally {
      hub.restore(saved);
    }
  });
});
