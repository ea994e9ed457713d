/**
 * Orders: one row per platform order, its totals and what points it earned and clawed back.
 *
 *   ORDER#<platform>#<shopId>#<orderId> | #    gsi1 (once a member is known): MORDERS#<memberId> | <firstSeenAt, padded>
 *
 * Created once (tag `order`), then put under the `version` it was read at.
 */
import { pad, ROOT, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, queryPage, stripKeys } from '../item-ops.ts';

const PREFIX = 'ORDER';
const INDEX_PREFIX = 'MORDERS';

/** What the data layer needs of an order row; the domain's order type extends it. */
export interface OrderRow {
  platform: string;
  shopId: string;
  orderId: string;
  memberId?: string;
  firstSeenAt: number;
  version: number;
}

export const orderKey = (platform: string, shopId: string, orderId: string): Key => ({ pk: `${PREFIX}#${platform}#${shopId}#${orderId}`, sk: ROOT });

/** `ORDER#<platform>#<shopId>#<orderId>` → its fields (the order id may contain `#`). */
export function parseOrderKey(k: { pk: string }): { platform: string; shopId: string; orderId: string } {
  const [platform, shopId, orderId] = splitKey(k.pk, PREFIX, 3) as [string, string, string];
  return { platform, shopId, orderId };
}

export const memberOrdersPartition = (memberId: string): string => `${INDEX_PREFIX}#${memberId}`;
export const memberOrdersIndex = (memberId: string, firstSeenAt: number) => ({ gsi1pk: memberOrdersPartition(memberId), gsi1sk: pad(firstSeenAt) });

export const orders = {
  /** The stored order (consistent), as stored. */
  get<T extends OrderRow>(store: Store, platform: string, shopId: string, orderId: string): Promise<T | undefined> {
    return getItem<T>(store, orderKey(platform, shopId, orderId), { consistent: true });
  },

  /** Creates the order (tag `order`) or puts it under `prevVersion`; indexed under its member once known. */
  write(tx: Tx, o: OrderRow, opts: { isNew: boolean; prevVersion: number }): void {
    const item: Record<string, unknown> = { ...o };
    if (o.memberId) Object.assign(item, memberOrdersIndex(o.memberId, o.firstSeenAt));
    const { pk: _p, sk: _s, ...attrs } = item;
    const key = orderKey(o.platform, o.shopId, o.orderId);
    if (opts.isNew) tx.create('order', key, attrs);
    else tx.put('order', key, attrs, { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': opts.prevVersion } });
  },

  /** A member record's orders, newest first (the first `limit`), keys stripped. */
  async listForMember(store: Store, memberId: string, limit: number): Promise<Record<string, unknown>[]> {
    const page = await queryPage(store, { index: true, pk: memberOrdersPartition(memberId), newestFirst: true, limit });
    return page.items.map(stripKeys);
  },
};
