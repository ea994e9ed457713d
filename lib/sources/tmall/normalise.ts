/**
 * Tmall / Taobao TMC messages → HubEvents.
 *
 * Input: one TMC message `{id, topic, content, pub_time, pub_app_key, user_id, user_nick}` (the
 * HTTP API form), the websocket form (`time`, `publisher`, `userid`, `nick`), an array of them,
 * a whole `taobao.tmc.messages.consume` response, or `{messages: [...]}`. Raw text must go
 * through parseTmcMessages / normaliseTmcBody so 19-digit ids stay exact strings.
 *
 * Output per message:
 * - `taobao_trade_TradeCloseAndModifyDetailOrder` / `taobao_trade_TradePartlyRefund` (one
 *   sub-order, `oid`) → `order` with `subOrder` (its status, and its `refund_id`/`refund_fee`
 *   when given), no trade amounts: a sub-order never ends the whole trade;
 * - other `taobao_trade_*` → `order` (status from the content's `status`, else implied by the topic;
 *   a trade topic that implies nothing and carries no known status → null);
 * - `taobao_refund_*` (RefundCreated … RefundSuccess, RefundClosed) → `refund`;
 * - `taobao_opencrm_MemberJoinPrivate` → `platform.member_join` (`user` is the ouid);
 * - anything else → null: the caller acknowledges it and records it.
 *
 * Facts callers must know:
 * - eventId = `tmall:<TMC message id>` (the platform's redelivery key).
 * - shopId = the message `user_id` (the seller who granted TMC), not the buyer.
 * - TMC trade content is thin: usually `payment` but no total, lines or pay time. totalFen =
 *   `total_fee` if present else `payment`, 0 when both are absent; paidFen = the same paid amount
 *   only at paid/shipped/completed/refunded (0 at created/closed); lines = [] and paidAt unset
 *   unless a detail trade (`taobao.trade.simple.get` / `fullinfo.get`) is passed in, which then
 *   wins for status, amounts, pay time, lines and buyer keys (ouid).
 * - occurredAt = content `modified`, else detail `modified`, else `pub_time` (GMT+8 → epoch ms).
 * - Buyer identities: `buyer_open_uid` → tmall_buyer_open_uid, `ouid` → tmall_ouid,
 *   `omid` → tmall_omid. The masked `buyer_nick` is never used.
 */
import { BadRequestError } from '../../errors.ts';
import {
  OrderEvent as OrderEventSchema,
  PlatformMemberJoin as PlatformMemberJoinSchema,
  RefundEvent as RefundEventSchema,
  type CommerceEvent,
  type OrderStatus,
} from '../../events/hub-event.ts';
import {
  IdentityList,
  clip,
  isPaidStatus,
  requireId,
  validated,
  type MemberJoinEvent,
  type OrderEvent,
  type RefundEvent,
} from '../commerce/event-util.ts';
import { idString, isRecord, parseJsonLossless, textField } from '../commerce/json.ts';
import { yuanToFenOptional, yuanToFenOrZero } from '../commerce/money.ts';
import { tmallRefundStatus, tmallSubOrderStatus, tmallTopicStatus, tmallTradeStatus } from './status.ts';
import { parseChinaTime } from '../commerce/time.ts';

export interface TmcMessage {
  id: string;
  topic: string;
  /** JSON text of the topic body (an already-parsed object is accepted too). */
  content: string | Record<string, unknown>;
  pub_time?: string;
  pub_app_key?: string;
  user_id?: string;
  user_nick?: string;
}

export type TmcTopicKind = 'trade' | 'refund' | 'member_join' | 'unknown';

export const MEMBER_JOIN_TOPIC = 'taobao_opencrm_MemberJoinPrivate';

/** What a topic becomes: trade → order, refund → refund, member join, or unknown (null event). */
export function tmcTopicKind(topic: string): TmcTopicKind {
  if (topic.startsWith('taobao_trade_')) return 'trade';
  if (tmallRefundStatus(topic) !== null) return 'refund';
  if (topic === MEMBER_JOIN_TOPIC) return 'member_join';
  return 'unknown';
}

function coerceMessage(raw: unknown): TmcMessage {
  if (!isRecord(raw)) throw new BadRequestError('TMC message must be an object', undefined, 'bad_tmc_message');
  const id = requireId(raw['id'], 'TMC message id');
  const topic = textField(raw['topic']);
  if (!topic) throw new BadRequestError(`TMC message ${id} has no topic`, undefined, 'bad_tmc_message');
  const content = raw['content'];
  if (typeof content !== 'string' && !isRecord(content)) {
    throw new BadRequestError(`TMC message ${id} has no content`, undefined, 'bad_tmc_message');
  }
  const msg: TmcMessage = { id, topic, content };
  const pubTime = textField(raw['pub_time'] ?? raw['time']);
  const pubAppKey = idString(raw['pub_app_key'] ?? raw['publisher']);
  const userId = idString(raw['user_id'] ?? raw['userid']);
  const userNick = textField(raw['user_nick'] ?? raw['nick']);
  if (pubTime !== undefined) msg.pub_time = pubTime;
  if (pubAppKey !== undefined) msg.pub_app_key = pubAppKey;
  if (userId !== undefined) msg.user_id = userId;
  if (userNick !== undefined) msg.user_nick = userNick;
  return msg;
}

/**
 * Extract the TMC messages from a body: raw JSON text (parsed losslessly) or an already
 * losslessly parsed value. Accepts a single message, an array, a consume response and
 * `{messages: [...]}`. An empty consume response yields [].
 */
export function parseTmcMessages(body: string | unknown): TmcMessage[] {
  const value = typeof body === 'string' ? parseJsonLossless(body) : body;
  let list: unknown;
  if (Array.isArray(value)) {
    list = value;
  } else if (isRecord(value)) {
    const consume = value['tmc_messages_consume_response'];
    if (isRecord(consume)) {
      const messages = consume['messages'];
      list = isRecord(messages) ? (messages['tmc_message'] ?? []) : [];
    } else if (Array.isArray(value['messages'])) {
      list = value['messages'];
    } else if (isRecord(value['messages']) && Array.isArray(value['messages']['tmc_message'])) {
      list = value['messages']['tmc_message'];
    } else {
      list = [value];
    }
  } else {
    throw new BadRequestError('TMC body must be a message object or an array of messages', undefined, 'bad_tmc_message');
  }
  if (!Array.isArray(list)) throw new BadRequestError('tmc_message must be an array', undefined, 'bad_tmc_message');
  if (list.length > 500) throw new BadRequestError('too many TMC messages in one body (max 500)', undefined, 'bad_tmc_message');
  return list.map(coerceMessage);
}

function parseContent(msg: TmcMessage): Record<string, unknown> {
  if (isRecord(msg.content)) return msg.content;
  const text = msg.content.trim();
  if (!text.startsWith('{')) throw new BadRequestError(`TMC message ${msg.id}: content is not a JSON object`, undefined, 'bad_tmc_message');
  const parsed = parseJsonLossless(text);
  if (!isRecord(parsed)) throw new BadRequestError(`TMC message ${msg.id}: content is not a JSON object`, undefined, 'bad_tmc_message');
  return parsed;
}

function timeOf(value: unknown, field: string): number | undefined {
  const text = textField(value);
  return text === undefined ? undefined : parseChinaTime(text, field);
}

function requireShop(msg: TmcMessage): string {
  if (!msg.user_id) throw new BadRequestError(`TMC message ${msg.id} has no user_id (seller id)`, undefined, 'missing_field');
  return msg.user_id;
}

/** Unwrap a detail answer: `trade_simple_get_response`, `trade_fullinfo_get_response`, `{trade}` or the trade. */
export function unwrapTopTrade(detail: unknown): Record<string, unknown> | undefined {
  if (!isRecord(detail)) return undefined;
  for (const key of ['trade_simple_get_response', 'trade_fullinfo_get_response', 'trade_get_response']) {
    const inner = detail[key];
    if (isRecord(inner)) return unwrapTopTrade(inner);
  }
  if (isRecord(detail['trade'])) return detail['trade'];
  return detail;
}

function detailLines(trade: Record<string, unknown>): OrderEvent['lines'] {
  let orders = trade['orders'];
  if (isRecord(orders)) orders = orders['order'];
  if (!Array.isArray(orders)) return [];
  return orders.filter(isRecord).map((o, i) => {
    const lineId = idString(o['oid_str']) ?? idString(o['oid']) ?? `${i + 1}`;
    const sku = idString(o['outer_sku_id']) ?? idString(o['sku_id']);
    const title = clip(textField(o['title']), 256);
    const qty = typeof o['num'] === 'number' ? o['num'] : Number(idString(o['num']) ?? '0');
    const paid = yuanToFenOptional(o['divide_order_fee'] ?? o['payment']);
    return {
      lineId,
      ...(sku !== undefined ? { sku: clip(sku, 128) } : {}),
      ...(title !== undefined ? { title } : {}),
      quantity: Number.isSafeInteger(qty) && qty >= 0 ? qty : 0,
      paidFen: paid ?? null,
    };
  });
}

function buyerKeys(...sources: Array<Record<string, unknown> | undefined>): IdentityList {
  const ids = new IdentityList();
  for (const s of sources) {
    if (!s) continue;
    ids.add('tmall_ouid', s['ouid']);
    ids.add('tmall_omid', s['omid']);
    ids.add('tmall_buyer_open_uid', s['buyer_open_uid']);
  }
  return ids;
}

/** Where a trade event comes from: a TMC message, or a trade snapshot read by reconciliation. */
interface TradeOrigin {
  eventId: string;
  shopId: string;
  topic: string;
  /** occurredAt when neither the content nor the detail carries `modified`. */
  fallbackAt: number | undefined;
  /** Names the input in errors. */
  label: string;
}

function messageOrigin(msg: TmcMessage): TradeOrigin {
  return { eventId: `tmall:${msg.id}`, shopId: requireShop(msg), topic: msg.topic, fallbackAt: timeOf(msg.pub_time, 'pub_time'), label: `TMC message ${msg.id}` };
}

/** The fields every Tmall order event starts with; occurredAt = the first `modified` given, else the origin's fallback. */
function orderEnvelope(origin: TradeOrigin, orderId: string, ...modified: unknown[]) {
  let occurredAt = origin.fallbackAt;
  for (const m of modified) {
    const t = timeOf(m, 'modified');
    if (t !== undefined) {
      occurredAt = t;
      break;
    }
  }
  if (occurredAt === undefined) throw new BadRequestError(`${origin.label} has no modified or pub_time`, undefined, 'missing_field');
  return { eventId: origin.eventId, occurredAt, source: 'tmall' as const, platform: 'tmall' as const, type: 'order' as const, shopId: origin.shopId, orderId };
}

function tradeEvent(msg: TmcMessage, content: Record<string, unknown>, detail: Record<string, unknown> | undefined): OrderEvent | null {
  const sub = tmallSubOrderStatus(msg.topic, textField(content['status']));
  if (sub) return subOrderEvent(msg, content, sub.status);
  return tradeEventFrom(messageOrigin(msg), content, detail);
}

/**
 * A sub-order message (TradeCloseAndModifyDetailOrder, TradePartlyRefund) → an order event that
 * carries `subOrder` and no trade amounts: its `payment` is the sub-order's, and the trade's
 * status is derived from its sub-orders when the event is applied.
 */
function subOrderEvent(msg: TmcMessage, content: Record<string, unknown>, status: OrderStatus): OrderEvent {
  const origin = messageOrigin(msg);
  const orderId = requireId(content['tid'], 'tid');
  const lineId = requireId(content['oid'], 'oid');
  const platformStatus = clip(textField(content['status']) ?? '', 64) ?? '';
  const refundId = idString(content['refund_id']);
  const refundFen = yuanToFenOptional(content['refund_fee']);
  return validated(
    OrderEventSchema,
    {
      ...orderEnvelope(origin, orderId, content['modified']),
      buyer: buyerKeys(content).list(),
      status,
      platformStatus,
      totalFen: 0,
      paidFen: 0,
      lines: [],
      topic: msg.topic,
      subOrder: {
        lineId,
        status,
        platformStatus,
        ...(refundId !== undefined && refundFen !== undefined && refundFen > 0 ? { refundId, refundFen } : {}),
      },
    },
    origin.label,
  );
}

function tradeEventFrom(origin: TradeOrigin, content: Record<string, unknown>, detail: Record<string, unknown> | undefined): OrderEvent | null {
  const orderId = requireId(content['tid'] ?? content['tid_str'] ?? detail?.['tid_str'] ?? detail?.['tid'], 'tid');
  if (detail) {
    const detailTid = idString(detail['tid_str']) ?? idString(detail['tid']);
    if (detailTid !== undefined && detailTid !== orderId) {
      throw new BadRequestError(`detail trade ${detailTid} does not belong to message tid ${orderId}`, undefined, 'detail_mismatch');
    }
  }
  const source = detail ?? content;
  const rawStatus = textField(source['status']) ?? textField(content['status']);
  const step = textField(source['step_trade_status']) ?? textField(content['step_trade_status']);
  const mapped = tmallTradeStatus(rawStatus, step) ?? tmallTopicStatus(origin.topic);
  if (!mapped) return null;
  const status: OrderStatus = mapped.status;

  const payment = yuanToFenOrZero(source['payment'] ?? content['payment']);
  const total = yuanToFenOptional(source['total_fee'] ?? content['total_fee']) ?? payment;
  const paidAt = timeOf(source['pay_time'] ?? content['pay_time'], 'pay_time');
  return validated(
    OrderEventSchema,
    {
      ...orderEnvelope(origin, orderId, content['modified'], detail?.['modified']),
      buyer: buyerKeys(detail, content).list(),
      status,
      platformStatus: clip(rawStatus ?? '', 64) ?? '',
      totalFen: total,
      paidFen: isPaidStatus(status) ? payment : 0,
      ...(paidAt !== undefined && isPaidStatus(status) ? { paidAt } : {}),
      lines: detail ? detailLines(detail) : [],
      topic: origin.topic,
    },
    origin.label,
  );
}

/** The API whose trade snapshots normaliseSoldTrade reads (the event's `topic`). */
export const SOLD_INCREMENT_API = 'taobao.trades.sold.increment.get';

/**
 * One trade of a `taobao.trades.sold.increment.get` page (reconciliation) → its order event, or
 * null for a status the hub does not use. eventId = `tmall:trade:<tid>:<modified ms>:<status>`:
 * the same snapshot read by two runs is one event, every later change is another.
 * `shopId`: the seller whose session read it (the TMC `user_id` of its pushes).
 */
export function normaliseSoldTrade(raw: unknown, shopId: string): OrderEvent | null {
  if (!isRecord(raw)) throw new BadRequestError('sold trade must be an object', undefined, 'bad_trade');
  const tid = requireId(raw['tid_str'] ?? raw['tid'], 'tid');
  const modified = timeOf(raw['modified'], 'modified');
  if (modified === undefined) throw new BadRequestError(`sold trade ${tid} has no modified time`, undefined, 'missing_field');
  const status = clip(textField(raw['status']) ?? '', 64);
  const origin: TradeOrigin = { eventId: `tmall:trade:${tid}:${modified}:${status}`, shopId, topic: SOLD_INCREMENT_API, fallbackAt: modified, label: `sold trade ${tid}` };
  return tradeEventFrom(origin, raw, raw);
}

function refundEvent(msg: TmcMessage, content: Record<string, unknown>): RefundEvent {
  const status = tmallRefundStatus(msg.topic);
  if (!status) throw new BadRequestError(`not a refund topic: ${msg.topic}`);
  const occurredAt = timeOf(content['modified'], 'modified') ?? timeOf(msg.pub_time, 'pub_time');
  if (occurredAt === undefined) throw new BadRequestError(`TMC message ${msg.id} has no pub_time`, undefined, 'missing_field');
  return validated(
    RefundEventSchema,
    {
      eventId: `tmall:${msg.id}`,
      occurredAt,
      source: 'tmall',
      platform: 'tmall',
      type: 'refund',
      shopId: requireShop(msg),
      orderId: requireId(content['tid'], 'tid'),
      buyer: buyerKeys(content).list(),
      refundId: requireId(content['refund_id'], 'refund_id'),
      status,
      refundFen: yuanToFenOrZero(content['refund_fee']),
      topic: msg.topic,
    },
    `TMC message ${msg.id}`,
  );
}

function memberJoinEvent(msg: TmcMessage, content: Record<string, unknown>): MemberJoinEvent {
  const ids = new IdentityList().add('tmall_ouid', content['user']).add('tmall_ouid', content['ouid']).add('tmall_omid', content['omid']);
  const buyer = ids.list();
  if (buyer.length === 0) throw new BadRequestError(`TMC message ${msg.id}: member join without a user (ouid)`, undefined, 'missing_field');
  const occurredAt = timeOf(content['join_time'], 'join_time') ?? timeOf(msg.pub_time, 'pub_time');
  if (occurredAt === undefined) throw new BadRequestError(`TMC message ${msg.id} has no pub_time`, undefined, 'missing_field');
  return validated(
    PlatformMemberJoinSchema,
    {
      eventId: `tmall:${msg.id}`,
      occurredAt,
      source: 'tmall',
      type: 'platform.member_join',
      platform: 'tmall',
      shopId: requireShop(msg),
      buyer,
    },
    `TMC message ${msg.id}`,
  );
}

export interface NormaliseTmcOptions {
  /**
   * The order detail fetched for this message's tid (`taobao.trade.simple.get` or
   * `taobao.trade.fullinfo.get` response, or its `trade`). Trade topics only.
   */
  detail?: unknown;
}

/**
 * One TMC message → its HubEvent, or null for a topic the hub does not use (acknowledge and
 * record it). Throws BadRequestError for a message that is broken (no id, no tid, bad amount).
 */
export function normaliseTmcMessage(message: TmcMessage | unknown, options: NormaliseTmcOptions = {}): CommerceEvent | null {
  const msg = coerceMessage(message);
  const kind = tmcTopicKind(msg.topic);
  if (kind === 'unknown') return null;
  const content = parseContent(msg);
  switch (kind) {
    case 'trade':
      return tradeEvent(msg, content, options.detail === undefined ? undefined : unwrapTopTrade(options.detail));
    case 'refund':
      return refundEvent(msg, content);
    case 'member_join':
      return memberJoinEvent(msg, content);
  }
}

export interface TmcNormalised {
  messageId: string;
  topic: string;
  /** null: a topic the hub does not use (acknowledge and record). */
  event: CommerceEvent | null;
}

/** Raw body (one message, an array, or a consume response) → one result per message, in order. */
export function normaliseTmcBody(rawBody: string): TmcNormalised[] {
  return parseTmcMessages(rawBody).map((msg) => ({ messageId: msg.id, topic: msg.topic, event: normaliseTmcMessage(msg) }));
}
