/**
 * What a filter needs around a member, read from the store: the kind of every created channel
 * (one bounded read of the channel index per page) and, only for a filter naming SKUs, the
 * member's orders (one Query of the member's order index, the newest `MAX_ORDERS_READ`).
 */
import { listChannels } from '../attribution/channels.ts';
import { PLATFORMS } from '../sources/platforms.ts';
import type { Store } from '../store/client.ts';
import { orders } from '../store/entities/order.ts';
import type { FilterContext } from './filter.ts';

/** Orders of one member a SKU filter looks at (newest first). */
export const MAX_ORDERS_READ = 200;

/** SKUs of an order's lines when it reached paid (an order never paid bought nothing). */
export function paidSkus(order: Record<string, unknown>): string[] {
  if (typeof order.paidAt !== 'number') return [];
  const lines = Array.isArray(order.lines) ? order.lines : [];
  return lines.map((l) => (l && typeof l === 'object' ? (l as { sku?: unknown }).sku : undefined)).filter((s): s is string => typeof s === 'string' && s !== '');
}

export async function filterContext(store: Store): Promise<FilterContext> {
  const kinds = new Map((await listChannels(store)).map((c) => [c.channelId, c.kind] as const));
  return {
    channelKind: (id) => kinds.get(id),
    platforms: PLATFORMS,
    async purchasedSkus(memberId) {
      const rows = await orders.listForMember(store, memberId, MAX_ORDERS_READ);
      return new Set(rows.flatMap(paidSkus));
    },
  };
}
