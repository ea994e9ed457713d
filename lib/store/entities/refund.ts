/**
 * Refund ledger rows: one per platform refund, its status only moving forward.
 *
 *   REFUND#<platform>#<refundId> | #
 *
 * Created once (tag `refund`), then put under the `version` it was read at.
 */
import { ROOT, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem } from '../item-ops.ts';

const PREFIX = 'REFUND';

export interface RefundRow {
  platform: string;
  shopId: string;
  orderId: string;
  refundId: string;
  status: string;
  refundFen: number;
  /** occurredAt of the message that set the status (absent on rows written before it was kept). */
  statusAt?: number;
  updatedAt: number;
  version: number;
}

export const refundKey = (platform: string, refundId: string): Key => ({ pk: `${PREFIX}#${platform}#${refundId}`, sk: ROOT });

/** `REFUND#<platform>#<refundId>` → its fields (the refund id may contain `#`). */
export function parseRefundKey(k: { pk: string }): { platform: string; refundId: string } {
  const [platform, refundId] = splitKey(k.pk, PREFIX, 2) as [string, string];
  return { platform, refundId };
}

export const refunds = {
  get(store: Store, platform: string, refundId: string): Promise<RefundRow | undefined> {
    return getItem<RefundRow>(store, refundKey(platform, refundId), { consistent: true });
  },

  /** Creates the row (tag `refund`) or puts it under the version it was read at (`prevVersion`). */
  write(tx: Tx, row: RefundRow, prevVersion: number | undefined): void {
    const key = refundKey(row.platform, row.refundId);
    if (prevVersion === undefined) tx.create('refund', key, { ...row });
    else tx.put('refund', key, { ...row }, { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': prevVersion } });
  },
};
