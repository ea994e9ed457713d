/**
 * Sub-orders through the Tmall relay: a sub-order closed after its refund
 * (TradeCloseAndModifyDetailOrder) and the sub-order refund notice (TradePartlyRefund) keep the
 * sub-order's state and claw back only the points of what was refunded; the trade stays paid.
 * The refund's own messages (RefundCreated, RefundSuccess of the same refund_id) add nothing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { getItem, queryAll, survivorByIdentity } from '../support/table.ts';
import { postCommerce, signedTmall } from '../support/commerce-client.ts';
import { keys } from '../../lib/store/keys.ts';
import { orderKey } from '../../lib/store/entities/order.ts';
import { refundKey } from '../../lib/store/entities/refund.ts';
import { parseChinaTime } from '../../lib/sources/commerce/time.ts';

const hub = useTestHub({ replaysHistory: true, queuePrefix: 'sub', functions: ['tmall'] });
const fixture = (path: string) => readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8');
const OK = { status: 200, text: '{"flag":"success"}' };
const SHOP = '2207512345678';
const TID = '3872941520738429512';
const LINE = '3872941520739429512';
const REFUND = '241123882211234567';

const post = (path: string) => postCommerce(hub.url, signedTmall(fixture(path)));
const buyer = () => survivorByIdentity(hub.aws.table, 'tmall_buyer_open_uid', 'AAGq5d-EAAeG3JedwSFpZMe1');

describe('a refund of one sub-order', () => {
  it('claws back only its points: ¥478.00 paid (478 points), ¥276.92 of one sub-order refunded → 276 clawed, 202 left, the trade still paid', async () => {
    expect(await post('tmall/taobao-tmc-consume-response-create-pay.json')).toEqual(OK);
    expect(await buyer()).toMatchObject({ points: 478 });

    expect(await post('tmall/taobao-tmc-sub-order-close-and-partly-refund.json')).toEqual(OK);
    const order = await getItem(hub.aws.table, orderKey('tmall', SHOP, TID));
    expect(order).toMatchObject({
      status: 'paid',
      paidFen: 47_800,
      refundedFen: 27_692,
      pointsEarned: 478,
      pointsClawed: 276,
      subOrders: { [LINE]: { status: 'refunded', platformStatus: 'WAIT_SELLER_SEND_GOODS', at: parseChinaTime('2024-11-26 09:00:15') } },
    });
    expect(await getItem(hub.aws.table, refundKey('tmall', REFUND))).toMatchObject({ status: 'succeeded', refundFen: 27_692 });
    const m = (await buyer())!;
    expect(m).toMatchObject({ points: 202 });

    // The refund's own messages, and a redelivery of the sub-order batch, change nothing.
    expect(await post('tmall/taobao-tmc-refund-created-and-success.json')).toEqual(OK);
    expect(await post('tmall/taobao-tmc-sub-order-close-and-partly-refund.json')).toEqual(OK);
    expect(await getItem(hub.aws.table, orderKey('tmall', SHOP, TID))).toMatchObject({ status: 'paid', refundedFen: 27_692, pointsClawed: 276 });
    expect(await buyer()).toMatchObject({ memberId: m.memberId, points: 202 });
    const ledger = await queryAll(hub.aws.table, keys.memberPartition(String(m.memberId)), 'LEDGER#');
    expect(ledger.map((l) => [l.delta, l.reason]).sort()).toEqual([
      [-276, 'refund'],
      [478, 'order'],
    ]);
  });
});
