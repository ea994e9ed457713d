/** A paid Youzan order as the hub's event (HubEvent `order`), for tests that apply orders directly. */
import type { HubEventOf, Identity } from '../../lib/events/hub-event.ts';

export interface PaidOrder {
  eventId: string;
  shopId: string;
  orderId: string;
  /** Paid at (epoch ms); also the event's time. */
  at: number;
  fen: number;
  buyer: Identity[];
  lines?: HubEventOf<'order'>['lines'];
}

export const paidYouzanOrder = (o: PaidOrder): HubEventOf<'order'> => ({
  type: 'order',
  source: 'youzan',
  platform: 'youzan',
  eventId: o.eventId,
  occurredAt: o.at,
  shopId: o.shopId,
  orderId: o.orderId,
  status: 'paid',
  platformStatus: 'WAIT_SELLER_SEND_GOODS',
  totalFen: o.fen,
  paidFen: o.fen,
  paidAt: o.at,
  lines: o.lines ?? [],
  topic: 'trade_TradePaid',
  buyer: o.buyer,
});
