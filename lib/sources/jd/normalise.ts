/**
 * JD order notifications → `order` HubEvents.
 *
 * JD's own order-message envelope is not publicly documented (docs/platforms.md#jd-unconfirmed), so JD
 * orders reach the hub through our relay running in 京东云鼎. Accepted bodies:
 * - the relay trigger (fixture jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json):
 *   `{relay, platform: "jd", venderId, orderId, hint: {orderState, modified}, sourceMessageId,
 *   relayedAt}`, optionally with the fetched detail embedded as `detail` (an enGet response or
 *   its `orderInfo`);
 * - a `jingdong.pop.order.enGet` response (`jingdong_pop_order_enGet_responce`, JD's spelling,
 *   or `…_response`), its `orderDetailInfo`, or a bare `orderInfo` (reconciliation).
 * A detail can also be passed separately (`options.detail`). The detail, when present, is the
 * source of truth for status, amounts, times, lines and buyer keys; the trigger's `hint` is used
 * only without it.
 *
 * eventId:
 * - `jd:<sourceMessageId>` when the relay gives its message id: the relay reuses it on every
 *   retry, so a redelivery reproduces the eventId;
 * - otherwise `jd:<orderId>:<orderState>:<modified>`: deterministic for one detail snapshot, and
 *   distinct for every state or modification of the order.
 *
 * Amounts: totalFen = `orderTotalPrice`, paidFen = `orderPayment` once paid (0 before payment
 * and for an order cancelled unpaid); a trigger without detail has 0 for both (unless the
 * relay's hint carries them). paidAt = `paymentConfirmTime` when set (JD's `0001-01-01 …` /
 * `1970-…` placeholders mean unset). occurredAt = `modified`, else `relayedAt`.
 * Lines: one per `itemInfoList` entry, lineId `<orderId>:<skuId>`, sku = `outerSkuId` (merchant
 * code) else `skuId`, paidFen null (JD gives no per-line apportioned amount).
 * Buyer keys: `xid_buyer` → jd_xid, `open_id_buyer` → jd_open_id. The obfuscated `pin` is not used.
 * `TRADE_CANCELED` is `refunded` when a payment time is known, else `closed`.
 * An unknown `orderState` → null (acknowledge and record).
 */
import { BadRequestError } from '../../errors.ts';
import { OrderEvent as OrderEventSchema } from '../../events/hub-event.ts';
import { IdentityList, clip, isPaidStatus, requireId, validated, type OrderEvent } from '../commerce/event-util.ts';
import { idString, isRecord, parseJsonLossless, textField } from '../commerce/json.ts';
import { yuanToFenOptional, yuanToFenOrZero } from '../commerce/money.ts';
import { jdOrderStatus } from './status.ts';
import { isUnsetTime, parseChinaTime } from '../commerce/time.ts';

export const JD_DETAIL_API = 'jingdong.pop.order.enGet';
export const JD_TRIGGER_TOPIC = 'jd_order_trigger';

/**
 * The `orderInfo` inside an enGet response (or the object itself when it already is one).
 * A response that reports failure → BadRequestError.
 */
export function extractJdOrderInfo(detail: unknown): Record<string, unknown> {
  if (!isRecord(detail)) throw new BadRequestError('JD detail must be an object', undefined, 'bad_jd_detail');
  if (isRecord(detail['error_response'])) {
    const e = detail['error_response'];
    throw new BadRequestError(`JD detail is an error response: ${String(textField(e['zh_desc']) ?? textField(e['en_desc']) ?? textField(e['code']) ?? '')}`.slice(0, 200), undefined, 'bad_jd_detail');
  }
  const response = detail['jingdong_pop_order_enGet_responce'] ?? detail['jingdong_pop_order_enGet_response'];
  if (isRecord(response)) {
    const code = idString(response['code']);
    if (code !== undefined && code !== '0') throw new BadRequestError(`JD enGet answered code ${code}`, undefined, 'bad_jd_detail');
    return extractJdOrderInfo(response['orderDetailInfo'] ?? response);
  }
  if (isRecord(detail['apiResult'])) {
    if (detail['apiResult']['success'] === false) {
      throw new BadRequestError(`JD enGet failed: ${String(textField(detail['apiResult']['englishErrCode']) ?? 'unknown')}`.slice(0, 200), undefined, 'bad_jd_detail');
    }
  }
  if (isRecord(detail['orderInfo'])) return detail['orderInfo'];
  if ('orderState' in detail || 'orderId' in detail) return detail;
  throw new BadRequestError('JD detail has no orderInfo', undefined, 'bad_jd_detail');
}

function isTrigger(body: Record<string, unknown>): boolean {
  return 'sourceMessageId' in body || 'hint' in body || 'relay' in body;
}

function timeOf(value: unknown, field: string): number | undefined {
  if (isUnsetTime(value)) return undefined;
  const text = textField(value);
  return text === undefined ? undefined : parseChinaTime(text, field);
}

function lines(orderId: string, info: Record<string, unknown>): OrderEvent['lines'] {
  const items = info['itemInfoList'];
  if (!Array.isArray(items)) return [];
  return items.filter(isRecord).map((item, i) => {
    const skuId = idString(item['skuId']);
    const sku = idString(item['outerSkuId']) ?? skuId;
    const title = clip(textField(item['skuName']), 256);
    const qtyText = idString(item['itemTotal']) ?? '0';
    const qty = /^\d+$/.test(qtyText) ? Number(qtyText) : 0;
    return {
      lineId: `${orderId}:${skuId ?? String(i + 1)}`,
      ...(sku !== undefined ? { sku: clip(sku, 128) } : {}),
      ...(title !== undefined ? { title } : {}),
      quantity: Number.isSafeInteger(qty) ? qty : 0,
      paidFen: null,
    };
  });
}

export interface NormaliseJdOptions {
  /** The enGet detail for this trigger (response, orderDetailInfo or orderInfo). */
  detail?: unknown;
}

/**
 * A JD relay body (raw text, parsed losslessly, or a parsed value) → the order event, or null
 * when the order state is unknown. Broken input → BadRequestError.
 */
export function normaliseJdOrder(body: string | unknown, options: NormaliseJdOptions = {}): OrderEvent | null {
  const value = typeof body === 'string' ? parseJsonLossless(body) : body;
  if (!isRecord(value)) throw new BadRequestError('JD body must be a JSON object', undefined, 'bad_jd_body');

  const trigger = isTrigger(value) ? value : undefined;
  if (trigger && trigger['platform'] !== undefined && trigger['platform'] !== 'jd') {
    throw new BadRequestError(`JD relay trigger names platform "${String(trigger['platform'])}"`, undefined, 'bad_jd_body');
  }
  const detailSource = options.detail ?? (trigger ? (trigger['detail'] ?? trigger['orderInfo']) : value);
  const info = detailSource === undefined ? undefined : extractJdOrderInfo(detailSource);
  const hint = trigger && isRecord(trigger['hint']) ? trigger['hint'] : {};

  const orderId = requireId(trigger?.['orderId'] ?? info?.['orderId'], 'orderId');
  const shopId = requireId(trigger?.['venderId'] ?? info?.['venderId'], 'venderId');
  if (info) {
    const infoOrder = idString(info['orderId']);
    if (infoOrder !== undefined && infoOrder !== orderId) {
      throw new BadRequestError(`JD detail order ${infoOrder} does not match trigger order ${orderId}`, undefined, 'detail_mismatch');
    }
    const infoShop = idString(info['venderId']);
    if (infoShop !== undefined && infoShop !== shopId) {
      throw new BadRequestError(`JD detail vendor ${infoShop} does not match trigger vendor ${shopId}`, undefined, 'detail_mismatch');
    }
  }

  const facts = info ?? hint;
  const orderState = textField(facts['orderState']);
  const paymentTime = timeOf(facts['paymentConfirmTime'], 'paymentConfirmTime');
  const mapped = jdOrderStatus(orderState, paymentTime !== undefined);
  if (!mapped || orderState === undefined) return null;
  const status = mapped.status;

  const modifiedText = textField(facts['modified']) ?? textField(hint['modified']);
  const occurredAt = timeOf(modifiedText, 'modified') ?? timeOf(trigger?.['relayedAt'], 'relayedAt');
  if (occurredAt === undefined) throw new BadRequestError(`JD order ${orderId} has no modified or relayedAt time`, undefined, 'missing_field');

  const relayId = idString(trigger?.['sourceMessageId']);
  const eventId = relayId !== undefined ? `jd:${relayId}` : `jd:${orderId}:${orderState}:${modifiedText ?? ''}`;

  const buyer = new IdentityList();
  for (const s of [info, trigger, hint]) {
    if (!s) continue;
    buyer.add('jd_xid', s['xid_buyer']);
    buyer.add('jd_open_id', s['open_id_buyer']);
  }

  const payment = yuanToFenOrZero(facts['orderPayment']);
  const total = yuanToFenOptional(facts['orderTotalPrice']) ?? payment;
  const topic = textField(trigger?.['topic']) ?? (trigger ? JD_TRIGGER_TOPIC : JD_DETAIL_API);

  return validated(
    OrderEventSchema,
    {
      eventId,
      occurredAt,
      source: 'jd',
      platform: 'jd',
      type: 'order',
      shopId,
      orderId,
      buyer: buyer.list(),
      status,
      platformStatus: clip(orderState, 64),
      totalFen: total,
      paidFen: isPaidStatus(status) ? payment : 0,
      ...(paymentTime !== undefined && isPaidStatus(status) ? { paidAt: paymentTime } : {}),
      lines: info ? lines(orderId, info) : [],
      topic: clip(topic, 128),
    },
    `JD order ${orderId}`,
  );
}
