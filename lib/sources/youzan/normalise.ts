/**
 * Youzan (有赞) push → `order` / `refund` HubEvents.
 *
 * Body: `{client_id, id, kdt_id, kdt_name, root_kdt_id, msg, msg_id, sendCount, sign, status,
 * test, type, version}` where `msg` is URL-encoded JSON text (`+` is a space). Verify the
 * `Event-Sign` header (sign.ts verifyYouzanPush) on the raw bytes before calling this.
 *
 * Result: `{msgId, type, test, event, phone?}`.
 * - `trade_Trade*` types → `order`; `trade_refund_*` types → `refund`; any other type →
 *   event null (acknowledge and record).
 * - eventId = `youzan:<msg_id>` (stable across Youzan's re-pushes; `sendCount` changes).
 * - shopId = `kdt_id`; orderId = the msg's `tid` (or `full_order_info.order_info.tid`), else
 *   the body `id`.
 * - status: the msg's status, else the body `status`, else implied by `type`; `TRADE_CLOSED` is
 *   `refunded` when the msg shows a payment (`pay_time`, `is_payed`, refund fields), else
 *   `closed`. Unknown status and type → event null.
 * - Amounts: totalFen = `pay_info.total_fee` (else `payment`), paidFen = `pay_info.payment` once
 *   paid; thin messages (everything but TradePaid) carry no amounts → 0. Lines from
 *   `full_order_info.orders[]` (lineId `oid`, sku `outer_sku_id` else `sku_id`, paidFen =
 *   apportioned `payment`), else []. paidAt = `pay_time`.
 * - occurredAt = the msg's `update_time`, else `version` (epoch seconds or ms).
 * - couponCodes: the `coupon_id` of each order-level promotion in `order_promotion.order[]`
 *   (the `youzan.trade.get` 4.0.x structure, beside `full_order_info`), when the msg carries it
 *   (docs/loyalty.md#youzan-order-promotions).
 * - Buyer keys (youzanBuyer): `yz_open_id` → youzan_open_id; `union_id` → wechat_unionid; the
 *   `outer_user_id` (buyer or fans info) → wechat_openid `<appId>:<openid>` only when
 *   options.wechatAppId (YOUZAN_WECHAT_APP_ID) names the app Youzan is bound to, else
 *   youzan_outer_user_id `<kdt_id>:<outer_user_id>` (it is the openid of a Youzan-hosted app or a
 *   third-party app's user id, never assumed to be the brand's official account).
 * - Phone (`buyer_phone`): returned in clear as `result.phone` and never placed in the event;
 *   the caller hashes it (lib/members owns phone hashing) and adds the `phone` identity.
 * - `test`: Youzan's test flag; the caller decides whether test pushes count.
 */
import { BadRequestError } from '../../errors.ts';
import { OrderEvent as OrderEventSchema, RefundEvent as RefundEventSchema } from '../../events/hub-event.ts';
import { IdentityList, clip, isPaidStatus, requireId, validated, type OrderEvent, type RefundEvent } from '../commerce/event-util.ts';
import { idString, isRecord, parseJsonLossless, textField } from '../commerce/json.ts';
import { yuanToFenOptional, yuanToFenOrZero } from '../commerce/money.ts';
import { youzanOrderStatus, youzanRefundStatus, youzanTypeStatus } from './status.ts';
import { isUnsetTime, parseChinaTime } from '../commerce/time.ts';

export interface NormaliseYouzanOptions {
  /** The configured WeChat app Youzan is bound to (YOUZAN_WECHAT_APP_ID): its openids appear in `outer_user_id`. */
  wechatAppId?: string;
  /** When set, the body's `client_id` must equal it. */
  clientId?: string;
  /** The `Event-Type` header, used when the body has no `type`. */
  eventType?: string;
}

export interface YouzanPushResult {
  msgId: string;
  type: string;
  test: boolean;
  /** null: a message type the hub does not use (acknowledge and record). */
  event: OrderEvent | RefundEvent | null;
  /** The buyer's phone in clear, when the push carries one; hash it before storing. */
  phone?: string;
}

/** Decode the `msg` field: URL-encoded JSON text (or raw JSON text, or an object) → object. */
export function decodeYouzanMsg(msg: unknown): Record<string, unknown> {
  if (msg === undefined || msg === null || msg === '') return {};
  if (isRecord(msg)) return msg;
  if (typeof msg !== 'string') throw new BadRequestError('Youzan msg must be a string', undefined, 'bad_youzan_msg');
  let text = msg.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) {
    try {
      text = decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      throw new BadRequestError('Youzan msg is not valid URL-encoded text', undefined, 'bad_youzan_msg');
    }
  }
  const value = parseJsonLossless(text);
  if (!isRecord(value)) throw new BadRequestError('Youzan msg is not a JSON object', undefined, 'bad_youzan_msg');
  return value;
}

function rec(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function timeOf(value: unknown, field: string): number | undefined {
  if (isUnsetTime(value)) return undefined;
  const text = textField(value);
  return text === undefined ? undefined : parseChinaTime(text, field);
}

function versionTime(version: unknown): number | undefined {
  const text = idString(version);
  if (text === undefined || !/^\d{9,13}$/.test(text)) return undefined;
  const n = Number(text);
  return text.length >= 12 ? n : n * 1000;
}

function occurredAt(fallback: number | undefined, ...sources: Record<string, unknown>[]): number {
  for (const s of sources) {
    const t = timeOf(s['update_time'], 'update_time');
    if (t !== undefined) return t;
  }
  if (fallback === undefined) throw new BadRequestError('Youzan push has no update_time or version', undefined, 'missing_field');
  return fallback;
}

function orderLines(full: Record<string, unknown>): OrderEvent['lines'] {
  const orders = full['orders'];
  if (!Array.isArray(orders)) return [];
  return orders.filter(isRecord).map((o, i) => {
    const sku = idString(o['outer_sku_id']) ?? idString(o['sku_id']);
    const title = clip(textField(o['title']), 256);
    const qty = typeof o['num'] === 'number' ? o['num'] : Number(idString(o['num']) ?? '0');
    return {
      lineId: idString(o['oid']) ?? String(i + 1),
      ...(sku !== undefined ? { sku: clip(sku, 128) } : {}),
      ...(title !== undefined ? { title } : {}),
      quantity: Number.isSafeInteger(qty) && qty >= 0 ? qty : 0,
      paidFen: yuanToFenOptional(o['payment']) ?? null,
    };
  });
}

/** The coupon / code numbers of the order-level promotions (`order_promotion.order[].coupon_id`). */
function couponCodes(msg: Record<string, unknown>): string[] {
  const promos = rec(msg['order_promotion'])['order'];
  if (!Array.isArray(promos)) return [];
  const codes = promos.filter(isRecord).map((p) => idString(p['coupon_id'])).filter((c): c is string => c !== undefined && c !== '' && c.length <= 64);
  return [...new Set(codes)].slice(0, 20);
}

/**
 * A Youzan push body (raw text, parsed losslessly, or a parsed value) → the result above.
 * Broken input (no msg_id, no kdt_id, bad amount, undecodable msg) → BadRequestError.
 */
export function normaliseYouzanPush(body: string | unknown, options: NormaliseYouzanOptions = {}): YouzanPushResult {
  const value = typeof body === 'string' ? parseJsonLossless(body) : body;
  if (!isRecord(value)) throw new BadRequestError('Youzan push body must be a JSON object', undefined, 'bad_youzan_body');
  const msgId = requireId(value['msg_id'], 'msg_id');
  const type = textField(value['type']) ?? options.eventType;
  if (!type) throw new BadRequestError('Youzan push has no type', undefined, 'missing_field');
  if (options.clientId !== undefined && value['client_id'] !== undefined && idString(value['client_id']) !== options.clientId) {
    throw new BadRequestError('Youzan push client_id does not match this endpoint', undefined, 'bad_youzan_body');
  }
  const test = value['test'] === true;
  const base: Omit<YouzanPushResult, 'event'> = { msgId, type, test };

  const isOrder = type.startsWith('trade_Trade');
  const refundStatus = youzanRefundStatus(type);
  if (!isOrder && refundStatus === null) return { ...base, event: null };

  const shopId = requireId(value['kdt_id'], 'kdt_id');
  const msg = decodeYouzanMsg(value['msg']);
  const eventId = `youzan:${msgId}`;

  if (refundStatus !== null) {
    const event = validated(
      RefundEventSchema,
      {
        eventId,
        occurredAt: occurredAt(versionTime(value['version']), msg),
        source: 'youzan',
        platform: 'youzan',
        type: 'refund',
        shopId,
        orderId: requireId(msg['tid'] ?? value['id'], 'tid'),
        buyer: new IdentityList().add('youzan_open_id', msg['yz_open_id']).list(),
        refundId: requireId(msg['refund_id'], 'refund_id'),
        status: refundStatus,
        refundFen: yuanToFenOrZero(msg['refunded_fee'] ?? msg['refund_fee']),
        topic: clip(type, 128),
      },
      `Youzan push ${msgId}`,
    );
    return { ...base, event };
  }

  const event = youzanOrderEvent({ eventId, shopId, topic: type, fallbackAt: versionTime(value['version']), label: `Youzan push ${msgId}`, status: value['status'], bodyId: value['id'] }, msg, options);
  if (!event) return { ...base, event: null };
  const phone = buyerPhone(msg);
  return { ...base, event, ...(phone !== undefined ? { phone } : {}) };
}

/** Where an order event comes from: a push, or an order read by reconciliation. */
interface OrderOrigin {
  eventId: string;
  shopId: string;
  topic: string;
  /** occurredAt when the order carries no update_time (the push's `version`). */
  fallbackAt: number | undefined;
  label: string;
  /** The push body's `status` and `id` (the order's status and tid when the msg lacks them). */
  status?: unknown;
  bodyId?: unknown;
}

/** The buyer's phone in clear (`buyer_info.buyer_phone`), when given. */
export function buyerPhone(msg: Record<string, unknown>): string | undefined {
  const full = rec(msg['full_order_info']);
  return idString(rec(full['buyer_info'] ?? msg['buyer_info'])['buyer_phone']) ?? idString(msg['buyer_phone']);
}

/**
 * The buyer's identities (docs/platforms.md#youzan-buyer-ids): `yz_open_id` (Youzan's customer
 * id) → youzan_open_id; `union_id` → wechat_unionid; `outer_user_id` is the openid in the app
 * Youzan is bound to (a Youzan-hosted H5 or mini program, or a third-party app's user id), so it
 * is a `wechat_openid` `<appId>:<openid>` only when options.wechatAppId (YOUZAN_WECHAT_APP_ID)
 * says which configured app that is, else the Youzan-scoped `youzan_outer_user_id`
 * `<kdt_id>:<outer_user_id>`.
 */
function youzanBuyer(shopId: string, buyerInfo: Record<string, unknown>, fansInfo: Record<string, unknown>, msg: Record<string, unknown>, options: NormaliseYouzanOptions): IdentityList {
  const buyer = new IdentityList().add('youzan_open_id', buyerInfo['yz_open_id'] ?? msg['yz_open_id']);
  buyer.add('wechat_unionid', buyerInfo['union_id'] ?? fansInfo['union_id'] ?? msg['union_id']);
  const outer = idString(buyerInfo['outer_user_id']) ?? idString(fansInfo['outer_user_id']);
  if (outer !== undefined) {
    if (options.wechatAppId) buyer.add('wechat_openid', `${options.wechatAppId}:${outer}`);
    else buyer.add('youzan_outer_user_id', `${shopId}:${outer}`);
  }
  return buyer;
}

/**
 * A Youzan order (`{full_order_info}` as a TradePaid msg or a `youzan.trades.sold.get` entry
 * carries it, or a thin trade msg) → its order event, or null for a status the hub does not use.
 */
function youzanOrderEvent(origin: OrderOrigin, msg: Record<string, unknown>, options: NormaliseYouzanOptions): OrderEvent | null {
  const { shopId } = origin;
  const value = { status: origin.status, id: origin.bodyId };
  const type = origin.topic;
  const full = rec(msg['full_order_info']);
  const orderInfo = rec(full['order_info']);
  const buyerInfo = rec(full['buyer_info'] ?? msg['buyer_info']);
  const fansInfo = rec(full['fans_info'] ?? msg['fans_info']);
  const payInfo = rec(full['pay_info']);
  const tags = rec(orderInfo['order_tags']);

  const orderId = requireId(orderInfo['tid'] ?? msg['tid'] ?? value['id'], 'tid');
  const rawStatus = textField(orderInfo['status']) ?? textField(msg['status']) ?? textField(value['status']);
  const payText = orderInfo['pay_time'] ?? msg['pay_time'];
  const paid =
    !isUnsetTime(payText) ||
    tags['is_payed'] === true ||
    msg['refund_id'] !== undefined ||
    msg['refunded_fee'] !== undefined;
  const mapped = youzanOrderStatus(rawStatus, paid) ?? youzanTypeStatus(type, paid);
  if (!mapped) return null;
  const status = mapped.status;

  const payment = yuanToFenOrZero(payInfo['payment'] ?? msg['payment']);
  const total = yuanToFenOptional(payInfo['total_fee'] ?? msg['total_fee']) ?? payment;
  const paidAt = timeOf(payText, 'pay_time');

  const buyer = youzanBuyer(shopId, buyerInfo, fansInfo, msg, options);
  const coupons = couponCodes(msg);
  const at = occurredAt(origin.fallbackAt, orderInfo, msg);

  return validated(
    OrderEventSchema,
    {
      eventId: origin.eventId,
      occurredAt: at,
      source: 'youzan',
      platform: 'youzan',
      type: 'order',
      shopId,
      orderId,
      buyer: buyer.list(),
      status,
      platformStatus: clip(rawStatus ?? '', 64) ?? '',
      totalFen: total,
      paidFen: isPaidStatus(status) ? payment : 0,
      ...(paidAt !== undefined && isPaidStatus(status) ? { paidAt } : {}),
      lines: orderLines(full),
      topic: clip(type, 128),
      ...(coupons.length ? { couponCodes: coupons } : {}),
    },
    origin.label,
  );
}

/** The API whose orders normaliseSoldOrder reads (the event's `topic`). */
export const TRADES_SOLD_API = 'youzan.trades.sold.get';

export interface SoldOrder {
  event: OrderEvent | null;
  /** The buyer's phone in clear, when given; hash it before storing. */
  phone?: string;
}

/**
 * One entry of a `youzan.trades.sold.get` answer (`{full_order_info}`, reconciliation) → its
 * order event. eventId = `youzan:trade:<tid>:<update_time ms>:<status>`: the same snapshot read
 * twice is one event, every later change another.
 */
export function normaliseSoldOrder(entry: unknown, shopId: string, options: NormaliseYouzanOptions = {}): SoldOrder {
  if (!isRecord(entry)) throw new BadRequestError('Youzan order must be an object', undefined, 'bad_youzan_order');
  const info = rec(rec(entry['full_order_info'])['order_info']);
  const tid = requireId(info['tid'], 'tid');
  const updated = timeOf(info['update_time'], 'update_time');
  if (updated === undefined) throw new BadRequestError(`Youzan order ${tid} has no update_time`, undefined, 'missing_field');
  const status = clip(textField(info['status']) ?? '', 64);
  const origin: OrderOrigin = { eventId: `youzan:trade:${tid}:${updated}:${status}`, shopId, topic: TRADES_SOLD_API, fallbackAt: updated, label: `Youzan order ${tid}` };
  const event = youzanOrderEvent(origin, entry, options);
  const phone = buyerPhone(entry);
  return { event, ...(phone !== undefined ? { phone } : {}) };
}
