/**
 * The Youzan catch-up poll: `youzan.trades.sold.get` by update time with the shop's token,
 * windows of at most an hour ending more than 30 s before now (the documentation: the batch
 * API lags the messages; query more than 30 s after one), every page; each order normalised
 * like a pushed TradePaid (normaliseSoldOrder), its phone hashed like a push's.
 * A window holding more orders than the API can page through (10 000) is split in halves.
 * docs/platforms.md#youzan-reconciliation.
 */
import { normaliseEach, type ReconcileSource } from '../commerce/reconcile.ts';
import { TRADES_SOLD_MAX_RESULTS, TRADES_SOLD_PAGE_SIZE, type YouzanClient } from './api-client.ts';
import { normaliseSoldOrder, type NormaliseYouzanOptions } from './normalise.ts';
import { withBuyerPhone } from './source.ts';

export const YOUZAN_WINDOW_MS = 60 * 60_000;
export const YOUZAN_LAG_MS = 60_000;

export interface YouzanReconcileOptions extends NormaliseYouzanOptions {
  kdtId: string;
  phoneHashSecret: string;
}

export function youzanReconcileSource(client: Pick<YouzanClient, 'tradesSoldPage'>, o: YouzanReconcileOptions): ReconcileSource {
  const { kdtId, phoneHashSecret, ...normalise } = o;
  const orders = async (startMs: number, endMs: number, retried = false): Promise<Record<string, unknown>[]> => {
    const first = await client.tradesSoldPage(startMs, endMs, 1);
    if (first.total > TRADES_SOLD_MAX_RESULTS && endMs - startMs > 1000) {
      const mid = startMs + Math.floor((endMs - startMs) / 2);
      return [...(await orders(startMs, mid)), ...(await orders(mid, endMs))];
    }
    const out = [...first.orders];
    const pages = Math.min(Math.ceil(first.total / TRADES_SOLD_PAGE_SIZE), TRADES_SOLD_MAX_RESULTS / TRADES_SOLD_PAGE_SIZE);
    let total = first.total;
    for (let n = 2; n <= pages; n++) {
      const page = await client.tradesSoldPage(startMs, endMs, n);
      out.push(...page.orders);
      total = page.total;
    }
    // The set of orders in a window changes while it is paged (an order updated now leaves it and
    // the rest shift): when the count moved, the window is read once more; the dedupe makes that free.
    if (total !== first.total && !retried) return [...out, ...(await orders(startMs, endMs, true))];
    return out;
  };
  return {
    platform: 'youzan',
    shopId: kdtId,
    maxWindowMs: YOUZAN_WINDOW_MS,
    lagMs: YOUZAN_LAG_MS,
    async fetch(startMs, endMs) {
      return normaliseEach(
        await orders(startMs, endMs),
        (entry) => {
          const r = normaliseSoldOrder(entry, kdtId, normalise);
          return r.event ? withBuyerPhone(r.event, r.phone, phoneHashSecret) : null;
        },
        'youzan',
      );
    },
  };
}
