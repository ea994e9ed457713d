/**
 * Wire payloads exactly as the platforms send them, signed with the hub's configured secrets:
 * WeChat pushes (plain or safe mode), TMC messages (TOP md5 signature), the JD relay trigger
 * with its embedded enGet detail (JD md5 signature), Youzan pushes (Event-Sign), and the member
 * centre / code-scan H5 requests.
 */
import { createHash } from 'node:crypto';
import type { HubConfig } from '../config/index.ts';
import { signJdParams } from '../sources/jd/sign.ts';
import { signTopParams } from '../sources/tmall/sign.ts';
import { youzanEventSign, youzanLegacySign } from '../sources/youzan/sign.ts';
import { formatChinaTime } from '../sources/commerce/time.ts';
import { sha1Signature } from '../sources/wechat/signature.ts';
import { encrypt, msgSignature } from '../sources/wechat/crypto.ts';
import { CODE_ALPHABET, formatCode } from '../codes/codec.ts';
import type { CodeRef, OrderSpec, Person, TmcSpec, WechatPushSpec } from './plan.ts';

export interface BuiltRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path and query, relative to the hub's base URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export type WechatMode = 'plain' | 'safe';

export const SELLER = { tmallUserId: '2207512345678', tmallNick: '焕亮官方旗舰店', tmcPublisher: '12497914', jdVenderId: '10123456', youzanKdtId: 48765321, youzanName: '焕亮官方微商城' };

const yuan = (fen: number): string => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
const digest = (label: string) => createHash('sha256').update(label).digest();

/** Writes the named string fields of a JSON text as bare numbers (19-digit ids stay exact). */
function bareNumbers(json: string, keys: readonly string[]): string {
  let out = json;
  for (const k of keys) out = out.replace(new RegExp(`"${k}":"(\\d+)"`, 'g'), `"${k}":$1`);
  return out;
}

const cdata = (name: string, value: string) => `<${name}><![CDATA[${value}]]></${name}>`;

/** The official account's original id (`gh_…`), the ToUserName of every push. */
export function accountOriginalId(appId: string): string {
  return `gh_${digest(`gh:${appId}`).toString('hex').slice(0, 12)}`;
}

export function wechatXml(cfg: HubConfig, openid: string, p: WechatPushSpec, ticket: string | undefined): string {
  const parts = [cdata('ToUserName', accountOriginalId(cfg.WECHAT_APP_ID)), cdata('FromUserName', openid), `<CreateTime>${p.createTime}</CreateTime>`, cdata('MsgType', p.msgType)];
  if (p.msgType === 'event') {
    parts.push(cdata('Event', p.event ?? ''));
    if (p.eventKey !== undefined) parts.push(cdata('EventKey', p.eventKey));
    if (ticket) parts.push(cdata('Ticket', ticket));
  } else {
    parts.push(cdata('Content', p.content ?? ''));
    if (p.msgId) parts.push(`<MsgId>${p.msgId}</MsgId>`);
  }
  return `<xml>${parts.join('')}</xml>`;
}

/** One WeChat push; the same inputs always give the same request, as WeChat's own retries do. */
export function wechatRequest(cfg: HubConfig, openid: string, p: WechatPushSpec, nonce: string, ticket: string | undefined, mode: WechatMode): BuiltRequest {
  const xml = wechatXml(cfg, openid, p, ticket);
  const timestamp = String(p.createTime);
  const signature = sha1Signature(cfg.WECHAT_TOKEN, timestamp, nonce);
  const base = `/wechat/${cfg.WECHAT_APP_ID}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${encodeURIComponent(openid)}`;
  const headers = { 'content-type': 'text/xml' };
  if (mode === 'plain') return { method: 'POST', path: base, headers, body: xml };
  const random16 = digest(`wechat-iv:${openid}:${timestamp}:${nonce}`).subarray(0, 16);
  if (!cfg.WECHAT_AES_KEY) throw new Error('safe-mode pushes need WECHAT_AES_KEY');
  const enc = encrypt(xml, { aesKey: cfg.WECHAT_AES_KEY, appId: cfg.WECHAT_APP_ID }, random16);
  const ms = msgSignature(cfg.WECHAT_TOKEN, timestamp, nonce, enc);
  return {
    method: 'POST',
    path: `${base}&encrypt_type=aes&msg_signature=${ms}`,
    headers,
    body: `<xml>${cdata('ToUserName', accountOriginalId(cfg.WECHAT_APP_ID))}${cdata('Encrypt', enc)}</xml>`,
  };
}

/** A made-up but well-formed QR ticket for a channel without one from the WeChat API. */
export function syntheticTicket(channel: string): string {
  return `gQ${digest(`ticket:${channel}`).toString('base64url').slice(0, 70)}`;
}

// ---------------------------------------------------------------------------------------------
// Tmall (TMC relay)

const TMC_STATUS: Record<TmcSpec['topic'], string> = {
  taobao_trade_TradeCreate: 'WAIT_BUYER_PAY',
  taobao_trade_TradeBuyerPay: 'WAIT_SELLER_SEND_GOODS',
  taobao_trade_TradeSellerShip: 'WAIT_BUYER_CONFIRM_GOODS',
  taobao_trade_TradeClose: 'TRADE_CLOSED_BY_TAOBAO',
};

function tmcMessage(m: TmcSpec, buyerOpenUid: string, nick: string): Record<string, unknown> {
  const o = m.order;
  const content: Record<string, unknown> = {
    buyer_nick: nick,
    buyer_open_uid: buyerOpenUid,
    oid: o.orderId,
    payment: yuan(o.paidFen),
    seller_nick: SELLER.tmallNick,
    status: TMC_STATUS[m.topic],
    tid: o.orderId,
    type: 'fixed',
    modified: formatChinaTime(m.at),
  };
  if (m.topic === 'taobao_trade_TradeBuyerPay' && o.paidAt !== undefined) content.pay_time = formatChinaTime(o.paidAt);
  return {
    id: m.id,
    topic: m.topic,
    pub_app_key: SELLER.tmcPublisher,
    pub_time: formatChinaTime(m.at + 1000),
    user_id: SELLER.tmallUserId,
    user_nick: SELLER.tmallNick,
    content: bareNumbers(JSON.stringify(content), ['oid', 'tid']),
  };
}

/** The TMC body: one message, or an array when the relay pulled several at once. */
export function tmallBody(messages: TmcSpec[], person: Person): string {
  const uid = person.tmallOpenUid ?? '';
  const nick = `${uid.slice(3, 4).toLowerCase() || 't'}**${uid.slice(-1) || '1'}`;
  const list = messages.map((m) => tmcMessage(m, uid, nick));
  return bareNumbers(JSON.stringify(list.length === 1 ? list[0] : list), ['id', 'user_id']);
}

/** Signed at send time: TOP checks the timestamp against its clock (±10 min). */
export function tmallRequest(cfg: HubConfig, body: string, now = Date.now()): BuiltRequest {
  const params = { app_key: cfg.TMALL_APP_KEY, timestamp: formatChinaTime(now), sign_method: 'md5', v: '2.0', format: 'json' };
  const sign = signTopParams(params, cfg.TMALL_APP_SECRET, 'md5', body);
  const q = new URLSearchParams({ ...params, sign }).toString();
  return { method: 'POST', path: `/tmall/${encodeURIComponent(cfg.TMALL_APP_KEY)}?${q}`, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
}

// ---------------------------------------------------------------------------------------------
// JD (云鼎 relay trigger with the enGet detail)

const JD_REMARK = { WAIT_SELLER_STOCK_OUT: '等待出库', WAIT_GOODS_RECEIVE_CONFIRM: '等待确认收货' } as const;

export function jdBody(order: OrderSpec, person: Person, state: keyof typeof JD_REMARK, modified: number, messageId: string): string {
  const orderInfo = {
    orderId: order.orderId,
    venderId: SELLER.jdVenderId,
    orderType: '22',
    payType: '4-在线支付',
    orderTotalPrice: yuan(order.totalFen),
    orderSellerPrice: yuan(order.paidFen),
    orderPayment: yuan(order.paidFen),
    freightPrice: '0.00',
    sellerDiscount: yuan(order.totalFen - order.paidFen),
    orderState: state,
    orderStateRemark: JD_REMARK[state],
    orderStartTime: formatChinaTime(order.createdAt),
    paymentConfirmTime: order.paidAt !== undefined ? formatChinaTime(order.paidAt) : '0001-01-01 00:00:00',
    orderEndTime: '',
    modified: formatChinaTime(modified),
    pin: `jd_${(person.jdOpenId ?? '').slice(0, 13).toLowerCase()}`,
    open_id_buyer: person.jdOpenId,
    xid_buyer: person.jdXid,
    itemInfoList: order.lines.map((l) => ({
      skuId: `1000123456${l.sku.slice(-2)}`,
      outerSkuId: l.sku,
      wareId: `1000012345${l.sku.slice(-2)}`,
      skuName: l.title,
      jdPrice: yuan(l.priceFen),
      itemTotal: String(l.qty),
      productNo: l.sku.replace('SKU', 'SPU'),
    })),
  };
  const trigger = {
    relay: 'jd-yunding-relay',
    platform: 'jd',
    venderId: SELLER.jdVenderId,
    orderId: order.orderId,
    hint: { orderState: state, modified: formatChinaTime(modified) },
    sourceMessageId: messageId,
    relayedAt: `${formatChinaTime(modified + 2000).replace(' ', 'T')}+08:00`,
    detail: {
      jingdong_pop_order_enGet_responce: {
        code: '0',
        orderDetailInfo: { apiResult: { success: true, resultCode: '0', chineseErrCode: '成功', englishErrCode: 'success' }, orderInfo },
      },
    },
  };
  return JSON.stringify(trigger);
}

export function jdRequest(cfg: HubConfig, body: string, now = Date.now()): BuiltRequest {
  const params = { app_key: cfg.JD_APP_KEY, timestamp: formatChinaTime(now), v: '2.0' };
  const sign = signJdParams(params, cfg.JD_APP_SECRET, body);
  const q = new URLSearchParams({ ...params, sign }).toString();
  return { method: 'POST', path: `/jd/${encodeURIComponent(cfg.JD_APP_KEY)}?${q}`, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
}

// ---------------------------------------------------------------------------------------------
// Youzan

/** Youzan URL-encodes `msg` like Java's URLEncoder: a space becomes `+`. */
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

export type YouzanType = 'trade_TradeCreate' | 'trade_TradePaid' | 'trade_TradeSuccess';

/** `at`: when the message's change happened (its update_time). */
export function youzanBody(cfg: HubConfig, order: OrderSpec, person: Person, type: YouzanType, msgId: string, withOpenid: boolean, registered: boolean, at: number): string {
  let status: string;
  let updateAt: number;
  let msg: Record<string, unknown>;
  if (type === 'trade_TradePaid') {
    status = 'WAIT_SELLER_SEND_GOODS';
    updateAt = (order.paidAt ?? order.createdAt) + 1000;
    msg = {
      full_order_info: {
        order_info: {
          tid: order.orderId,
          status,
          created: formatChinaTime(order.createdAt),
          pay_time: formatChinaTime(order.paidAt ?? order.createdAt),
          update_time: formatChinaTime(updateAt),
          order_tags: { is_virtual: false, is_member: registered, is_payed: true },
        },
        buyer_info: {
          yz_open_id: person.yzOpenId,
          ...(withOpenid && person.openid ? { outer_user_id: person.openid } : {}),
          buyer_phone: person.phone,
        },
        pay_info: { total_fee: yuan(order.totalFen), post_fee: '0.00', payment: yuan(order.paidFen) },
        orders: order.lines.map((l, i) => ({
          oid: `${order.orderId.slice(1, 15)}${String(i + 1).padStart(5, '0')}`,
          item_id: 500818020 + Number(l.sku.slice(-2)),
          sku_id: 400818030 + Number(l.sku.slice(-2)),
          outer_item_id: l.sku.replace('SKU', 'SPU'),
          outer_sku_id: l.sku,
          title: l.title,
          num: l.qty,
          price: yuan(l.priceFen),
          total_fee: yuan(l.priceFen * l.qty),
          payment: yuan(l.paidFen),
        })),
      },
    };
  } else if (type === 'trade_TradeCreate') {
    status = 'WAIT_BUYER_PAY';
    updateAt = at;
    msg = { tid: order.orderId, status, update_time: formatChinaTime(updateAt) };
  } else {
    status = 'TRADE_SUCCESS';
    updateAt = at;
    msg = { tid: order.orderId, status, update_time: formatChinaTime(updateAt) };
  }
  const encoded = formEncode(JSON.stringify(msg));
  const body = {
    client_id: cfg.YOUZAN_CLIENT_ID,
    id: order.orderId,
    kdt_id: SELLER.youzanKdtId,
    kdt_name: SELLER.youzanName,
    root_kdt_id: SELLER.youzanKdtId,
    mode: 1,
    msg: encoded,
    msg_id: msgId,
    sendCount: 1,
    sign: youzanLegacySign(cfg.YOUZAN_CLIENT_ID, encoded, cfg.YOUZAN_CLIENT_SECRET),
    status,
    test: false,
    type,
    version: Math.floor(updateAt / 1000),
  };
  return JSON.stringify(body);
}

export function youzanRequest(cfg: HubConfig, body: string, type: YouzanType): BuiltRequest {
  return {
    method: 'POST',
    path: `/youzan/${encodeURIComponent(cfg.YOUZAN_CLIENT_ID)}`,
    headers: {
      'content-type': 'application/json',
      'event-type': type,
      'client-id': cfg.YOUZAN_CLIENT_ID,
      'event-sign': youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, cfg.YOUZAN_CLIENT_SECRET),
    },
    body,
  };
}

// ---------------------------------------------------------------------------------------------
// Member centre and code-scan H5

/** How people type their number into the member-centre form. */
export function typedPhone(phone: string, style: number): string {
  if (style % 20 === 0) return `+86 ${phone}`;
  if (style % 20 === 1) return `${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`;
  return phone;
}

export function registerRequest(cfg: HubConfig, person: Person): BuiltRequest {
  const body = {
    appId: cfg.WECHAT_APP_ID,
    oauthCode: `local:${person.openid ?? ''}`,
    phone: typedPhone(person.phone, person.idx),
    // Proof of the phone: the mini program's phone-number component, as the local WeChat
    // stand-in answers it (`local-phone:<phone>` yields that phone).
    phoneCode: `local-phone:${person.phone}`,
    ...(person.name ? { name: person.name } : {}),
    ...(person.birthday ? { birthday: person.birthday } : {}),
    ...(person.marketingConsent !== undefined ? { marketingConsent: person.marketingConsent } : {}),
  };
  return { method: 'POST', path: '/members', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The code as the H5 page submits it: from the QR (canonical), typed from the card, or mistyped. */
export function codeAsSubmitted(code: string, ref: CodeRef): string {
  if (ref.form === 'printed') return formatCode(code);
  if (ref.form === 'typo') {
    const i = 1 + (ref.index % (code.length - 1));
    const c = code[i]!;
    const swapped = CODE_ALPHABET[(CODE_ALPHABET.indexOf(c) + 7) % CODE_ALPHABET.length]!;
    return code.slice(0, i) + swapped + code.slice(i + 1);
  }
  return code;
}

export function scanRequest(cfg: HubConfig, person: Person, code: string): BuiltRequest {
  const body = { appId: cfg.WECHAT_APP_ID, oauthCode: `local:${person.openid ?? ''}`, code };
  return { method: 'POST', path: '/codes/scan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
