/**
 * The Tmall catch-up poll: `taobao.trades.sold.increment.get` through the TOP client, as the
 * seller (TMALL_SESSION_KEY), windows of at most 30 minutes (the documentation's recommendation;
 * its limit is one day), each trade normalised like a pushed one (normaliseSoldTrade).
 * docs/platforms.md#taobao-reconciliation.
 */
import { normaliseEach, type ReconcileSource } from '../commerce/reconcile.ts';
import { normaliseSoldTrade } from './normalise.ts';
import type { TopClient } from './top-client.ts';

export const TMALL_WINDOW_MS = 30 * 60_000;
/** The search reads what the order service committed; a minute is left for it to settle. */
export const TMALL_LAG_MS = 60_000;

export function tmallReconcileSource(top: Pick<TopClient, 'getTradesSoldIncrement'>, sellerId: string, session: string): ReconcileSource {
  return {
    platform: 'tmall',
    shopId: sellerId,
    maxWindowMs: TMALL_WINDOW_MS,
    lagMs: TMALL_LAG_MS,
    async fetch(startMs, endMs) {
      const trades = await top.getTradesSoldIncrement(startMs, endMs, { session });
      return normaliseEach(trades, (t) => normaliseSoldTrade(t, sellerId), 'tmall');
    },
  };
}
