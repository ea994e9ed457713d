/**
 * Fuzz cases per webhook: a valid platform request, mutated. Half of them carry a signature that
 * is valid for the mutated request (WeChat plain: over token/timestamp/nonce; WeChat safe:
 * msg_signature over the mutated ciphertext; TOP / JD: over the query and the mutated raw body;
 * Youzan: Event-Sign over the mutated raw body); the other half a damaged, missing, repeated or
 * stale signature.
 */
import { createCipheriv } from 'node:crypto';
import type { HubConfig } from '../../../lib/config/index.ts';
import { aesKeyBytes, encrypt, msgSignature, pkcs7Pad } from '../../../lib/sources/wechat/crypto.ts';
import { sha1Signature } from '../../../lib/sources/wechat/signature.ts';
import { signJdParams } from '../../../lib/sources/jd/sign.ts';
import { signTopParams, type TopSignMethod } from '../../../lib/sources/tmall/sign.ts';
import { youzanEventSign } from '../../../lib/sources/youzan/sign.ts';
import { flipBits, hugeString, int, mutateJson, mutateXml, pick, randomBytesOf, truncate, WEIRD_VALUES, type Rng } from './mutate.ts';

export type Webhook = 'wechat-plain' | 'wechat-safe' | 'tmall' | 'jd' | 'youzan';
export const WEBHOOKS: readonly Webhook[] = ['wechat-plain', 'wechat-safe', 'tmall', 'jd', 'youzan'];

export interface FuzzCase {
  webhook: Webhook;
  index: number;
  method: 'POST';
  /** Path with query string. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The signature is valid for this (mutated) request. */
  signed: boolean;
  /** What was done, for failure messages. */
  op: string;
}

const cdata = (name: string, v: string) => `<${name}><![CDATA[${v}]]></${name}>`;

/** A valid WeChat push (inner XML) of one of the kinds an account receives. */
export function wechatXml(rnd: Rng, openid: string, createTime: number, seq: number): string {
  const head = cdata('ToUserName', 'gh_fuzz') + cdata('FromUserName', openid) + `<CreateTime>${createTime}</CreateTime>`;
  const ev = (e: string, extra = '') => `<xml>${head}${cdata('MsgType', 'event')}${cdata('Event', e)}${extra}</xml>`;
  switch (int(rnd, 10)) {
    case 0:
      return ev('subscribe', cdata('EventKey', `qrscene_fz_ch_${int(rnd, 5)}`) + cdata('Ticket', `gQFz${seq}`));
    case 1:
      return ev('subscribe', cdata('EventKey', ''));
    case 2:
      return ev('SCAN', cdata('EventKey', `fz_ch_${int(rnd, 5)}`) + cdata('Ticket', `gQFz${seq}`));
    case 3:
      return ev('unsubscribe', cdata('EventKey', ''));
    case 4:
      return `<xml>${head}${cdata('MsgType', 'text')}${cdata('Content', `你好 fuzz ${seq}`)}<MsgId>${(25_000_000_000_000_000n + BigInt(seq)).toString()}</MsgId></xml>`;
    case 5:
      return ev('CLICK', cdata('EventKey', 'MENU_1'));
    case 6:
      return ev('LOCATION', '<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>');
    case 7:
      return ev('TEMPLATESENDJOBFINISH', `<MsgID>${(2_000_000_000_000_000_000n + BigInt(seq)).toString()}</MsgID>${cdata('Status', 'failed:user block')}`);
    case 8:
      return `<xml>${head}${cdata('MsgType', 'image')}${cdata('PicUrl', 'http://mmbiz.qpic.cn/x/0')}${cdata('MediaId', `m${seq}`)}<MsgId>${(26_000_000_000_000_000n + BigInt(seq)).toString()}</MsgId></xml>`;
    default:
      return ev('VIEW', cdata('EventKey', 'https://example.com/member'));
  }
}

/** A damaged signature query part (the valid one given). */
function badWechatQuery(rnd: Rng, name: string, valid: string, rest: string): string {
  switch (int(rnd, 7)) {
    case 0:
      return `${name}=${'0'.repeat(40)}&${rest}`;
    case 1:
      return rest; // missing
    case 2:
      return `${name}=${valid}&${name}=${valid}&${rest}`; // repeated
    case 3:
      return `${name}=${flipBits(Buffer.from(valid), rnd).toString('latin1')}&${rest}`.replace(/[^\x21-\x7e]/g, '%25');
    case 4:
      return `${name}=&${rest}`;
    case 5:
      return `${name}=${encodeURIComponent(hugeString(rnd).slice(0, 8_000))}&${rest}`;
    default:
      return `${name}=${valid.toUpperCase()}x&${rest}`;
  }
}

function wechatPlain(cfg: HubConfig, rnd: Rng, index: number, now: number): FuzzCase {
  const createTime = Math.floor(now / 1000) - int(rnd, 86_400);
  const xml = wechatXml(rnd, `oFz${int(rnd, 40)}`, createTime, index);
  const timestamp = String(createTime + int(rnd, 5));
  const nonce = String(100_000 + int(rnd, 900_000));
  const signed = index % 2 === 0;
  const signature = sha1Signature(cfg.WECHAT_TOKEN, timestamp, nonce);
  const rest = `timestamp=${timestamp}&nonce=${nonce}&openid=oFz`;
  const query = signed ? `signature=${signature}&${rest}` : badWechatQuery(rnd, 'signature', signature, rest);
  const body = mutateXml(xml, rnd);
  const op = signed ? 'xml mutation, valid signature' : 'xml mutation, bad signature';
  return { webhook: 'wechat-plain', index, method: 'POST', path: `/wechat/${cfg.WECHAT_APP_ID}?${query}`, headers: { 'content-type': 'text/xml' }, body, signed, op };
}

/** Encrypts a hand-made frame (for bad lengths and foreign appids). */
function encryptFrame(frame: Buffer, aesKey: string, pad = true): string {
  const key = aesKeyBytes(aesKey);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  const data = pad ? pkcs7Pad(frame) : Buffer.concat([frame, Buffer.alloc((32 - (frame.length % 32)) % 32 || 32, 0)]);
  return Buffer.concat([cipher.update(data), cipher.final()]).toString('base64');
}

function oddFrame(rnd: Rng, message: string, appId: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  const random16 = randomBytesOf(rnd, 16);
  switch (int(rnd, 5)) {
    case 0: // length past the end
      len.writeUInt32BE(body.length + 1_000 + int(rnd, 1_000_000), 0);
      return Buffer.concat([random16, len, body, Buffer.from(appId)]);
    case 1: // another account's appid
      len.writeUInt32BE(body.length, 0);
      return Buffer.concat([random16, len, body, Buffer.from('wx0000000000000000')]);
    case 2: // too short
      return randomBytesOf(rnd, int(rnd, 20));
    case 3: // invalid UTF-8 in the message
      len.writeUInt32BE(body.length + 2, 0);
      return Buffer.concat([random16, len, body, Buffer.from([0xc3, 0x28]), Buffer.from(appId)]);
    default: // huge length field
      len.writeUInt32BE(0xffffffff, 0);
      return Buffer.concat([random16, len, body, Buffer.from(appId)]);
  }
}

function wechatSafe(cfg: HubConfig, rnd: Rng, index: number, now: number): FuzzCase {
  const createTime = Math.floor(now / 1000) - int(rnd, 86_400);
  const xml = wechatXml(rnd, `oFz${int(rnd, 40)}`, createTime, index);
  const timestamp = String(createTime + int(rnd, 5));
  const nonce = String(100_000 + int(rnd, 900_000));
  if (!cfg.WECHAT_AES_KEY) throw new Error('the safe-mode fuzz needs WECHAT_AES_KEY');
  const crypto = { aesKey: cfg.WECHAT_AES_KEY, appId: cfg.WECHAT_APP_ID };
  const signed = index % 2 === 0;
  let encrypted: string;
  let envelope: (enc: string) => string = (enc) => `<xml>${cdata('ToUserName', 'gh_fuzz')}${cdata('Encrypt', enc)}</xml>`;
  let op: string;
  switch (int(rnd, 4)) {
    case 0: // mutated inner message, properly encrypted
      encrypted = encrypt(mutateXml(xml, rnd).toString('utf8'), crypto, randomBytesOf(rnd, 16));
      op = 'inner xml mutation';
      break;
    case 1: {
      // mutated ciphertext
      const good = encrypt(xml, crypto, randomBytesOf(rnd, 16));
      const kind = int(rnd, 6);
      encrypted =
        kind === 0
          ? flipBits(Buffer.from(good, 'latin1'), rnd).toString('latin1').replace(/[<>&\]]/g, 'A')
          : kind === 1
            ? truncate(Buffer.from(good, 'latin1'), rnd).toString('latin1')
            : kind === 2
              ? `${good}==`
              : kind === 3
                ? good.replace(/[A-Za-z]/, '*')
                : kind === 4
                  ? Buffer.from(flipBits(Buffer.from(good, 'base64'), rnd)).toString('base64')
                  : Buffer.from(good, 'base64').subarray(0, 16 * (1 + int(rnd, 3))).toString('base64');
      op = `ciphertext mutation ${kind}`;
      break;
    }
    case 2: // hand-made frames
      encrypted = encryptFrame(oddFrame(rnd, xml, cfg.WECHAT_APP_ID), cfg.WECHAT_AES_KEY, rnd() < 0.8);
      op = 'odd frame';
      break;
    default: {
      // mutated envelope around a good ciphertext
      encrypted = encrypt(xml, crypto, randomBytesOf(rnd, 16));
      const mutatedEnvelope = mutateXml(envelope(encrypted), rnd).toString('utf8');
      envelope = () => mutatedEnvelope;
      op = 'envelope mutation';
      break;
    }
  }
  const ms = msgSignature(cfg.WECHAT_TOKEN, timestamp, nonce, encrypted);
  const rest = `timestamp=${timestamp}&nonce=${nonce}&openid=oFz&encrypt_type=${pick(rnd, ['aes', 'aes', 'aes', 'AES', 'raw', ''])}&signature=${sha1Signature(cfg.WECHAT_TOKEN, timestamp, nonce)}`;
  const query = signed ? `msg_signature=${ms}&${rest}` : badWechatQuery(rnd, 'msg_signature', ms, rest);
  return {
    webhook: 'wechat-safe',
    index,
    method: 'POST',
    path: `/wechat/${cfg.WECHAT_APP_ID}?${query}`,
    headers: { 'content-type': 'text/xml' },
    body: Buffer.from(envelope(encrypted), 'utf8'),
    signed,
    op: `${op}, ${signed ? 'valid' : 'bad'} msg_signature`,
  };
}

// ---------------------------------------------------------------------------------------------
// Commerce

const digits = (rnd: Rng, n: number) => String(1 + int(rnd, 9)) + Array.from({ length: n - 1 }, () => int(rnd, 10)).join('');
/** yyyy-MM-dd HH:mm:ss in GMT+8. */
export const chinaTime = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

function tmcMessage(rnd: Rng, appKey: string, now: number): string {
  const tid = digits(rnd, 19);
  const buyer = `AAG${digits(rnd, 8)}fz${int(rnd, 30)}`;
  const pub = chinaTime(now - int(rnd, 3_600_000));
  const trade = (topic: string, status: string) =>
    JSON.stringify({
      buyer_nick: 't**1',
      buyer_open_uid: buyer,
      oid: 'OID',
      payment: `${int(rnd, 900)}.${int(rnd, 100)}`,
      status,
      tid: 'TID',
      type: 'fixed',
    })
      .replace('"OID"', tid)
      .replace('"TID"', tid) + `|${topic}`;
  let topic: string;
  let content: string;
  switch (int(rnd, 6)) {
    case 0:
      [content, topic] = trade('taobao_trade_TradeCreate', 'WAIT_BUYER_PAY').split('|') as [string, string];
      break;
    case 1:
      [content, topic] = trade('taobao_trade_TradeBuyerPay', 'WAIT_SELLER_SEND_GOODS').split('|') as [string, string];
      break;
    case 2:
      [content, topic] = trade('taobao_trade_TradeSuccess', 'TRADE_FINISHED').split('|') as [string, string];
      break;
    case 3:
      topic = pick(rnd, ['taobao_refund_RefundCreated', 'taobao_refund_RefundSuccess', 'taobao_refund_RefundClosed']);
      content = `{"bill_type":"return_bill","buyer_open_uid":"${buyer}","modified":"${pub}","oid":${tid},"refund_fee":"12.30","refund_id":${digits(rnd, 18)},"tid":${tid}}`;
      break;
    case 4:
      topic = 'taobao_opencrm_MemberJoinPrivate';
      content = `{"first_join_time":"2023-06-18 20:11:02","join_time":"${pub}","msg_id":"fz-${digits(rnd, 8)}","seller":"店","user":"${buyer}"}`;
      break;
    default:
      topic = 'taobao_item_ItemUpdate';
      content = `{"num_iid":${digits(rnd, 12)}}`;
  }
  return `{"id":${digits(rnd, 19)},"topic":"${topic}","pub_time":"${pub}","pub_app_key":"${appKey}","user_id":${digits(rnd, 13)},"user_nick":"示例店","content":${JSON.stringify(content)}}`;
}

function tmall(cfg: HubConfig, rnd: Rng, index: number, now: number): FuzzCase {
  const one = () => tmcMessage(rnd, cfg.TMALL_APP_KEY, now);
  const base = rnd() < 0.75 ? one() : `[${one()},${one()}]`;
  const body = mutateJson(base, rnd, { inner: ['content'] });
  const signed = index % 2 === 0;
  const method = pick(rnd, ['md5', 'hmac', 'hmac-sha256'] as TopSignMethod[]);
  const timestamp = rnd() < 0.5 ? chinaTime(now) : String(now);
  const params: Record<string, string> = { app_key: cfg.TMALL_APP_KEY, timestamp, sign_method: method };
  let pathKey = cfg.TMALL_APP_KEY;
  let op = 'json mutation, valid sign';
  if (signed) {
    params.sign = signTopParams(params, cfg.TMALL_APP_SECRET, method, body);
  } else {
    switch (int(rnd, 6)) {
      case 0:
        params.sign = signTopParams(params, 'wrong-secret', method, body);
        op = 'json mutation, wrong secret';
        break;
      case 1:
        params.timestamp = chinaTime(now - 3_600_000);
        params.sign = signTopParams(params, cfg.TMALL_APP_SECRET, method, body);
        op = 'json mutation, stale timestamp';
        break;
      case 2:
        params.sign_method = pick(rnd, ['sha1', 'MD5', '', 'md5 ']);
        params.sign = signTopParams({ ...params, sign_method: 'md5' }, cfg.TMALL_APP_SECRET, 'md5', body);
        op = 'json mutation, bad sign_method';
        break;
      case 3:
        pathKey = pick(rnd, ['0', 'other', encodeURIComponent(pick(rnd, WEIRD_VALUES)) || 'x']);
        params.sign = signTopParams(params, cfg.TMALL_APP_SECRET, method, body);
        op = 'json mutation, unknown app key';
        break;
      case 4:
        op = 'json mutation, no sign';
        break;
      default:
        params.timestamp = pick(rnd, WEIRD_VALUES);
        params.sign = signTopParams(params, cfg.TMALL_APP_SECRET, method, body);
        op = 'json mutation, weird timestamp';
    }
  }
  const qs = new URLSearchParams(params).toString();
  return { webhook: 'tmall', index, method: 'POST', path: `/tmall/${pathKey}?${qs}`, headers: { 'content-type': 'application/json' }, body, signed, op };
}

function jdBase(rnd: Rng, now: number): string {
  const orderId = digits(rnd, 12);
  const state = pick(rnd, ['WAIT_SELLER_STOCK_OUT', 'WAIT_GOODS_RECEIVE_CONFIRM', 'FINISHED_L', 'TRADE_CANCELED', 'NOT_PAY', 'LOCKED', 'UNKNOWN_STATE']);
  const modified = chinaTime(now - int(rnd, 86_400_000));
  if (rnd() < 0.5) {
    return JSON.stringify({
      relay: 'jd-yunding-relay',
      platform: 'jd',
      venderId: '10123456',
      orderId,
      hint: { orderState: state, modified },
      sourceMessageId: `relay-fz-${digits(rnd, 10)}`,
      relayedAt: new Date(now).toISOString(),
    });
  }
  return JSON.stringify({
    jingdong_pop_order_enGet_responce: {
      code: '0',
      orderDetailInfo: {
        apiResult: { success: true, resultCode: '0' },
        orderInfo: {
          orderId,
          venderId: '10123456',
          orderTotalPrice: '399.00',
          orderPayment: '379.00',
          orderState: state,
          orderStartTime: chinaTime(now - 90_000_000),
          paymentConfirmTime: rnd() < 0.5 ? chinaTime(now - 80_000_000) : '0001-01-01 00:00:00',
          modified,
          open_id_buyer: `nVbq${digits(rnd, 6)}fz${int(rnd, 30)}`,
          xid_buyer: `o*AAS6${digits(rnd, 6)}`,
          itemInfoList: [{ skuId: digits(rnd, 8), outerSkuId: 'SKU-1', skuName: '示例', itemTotal: '1', jdPrice: '399.00' }],
        },
      },
    },
  });
}

function jd(cfg: HubConfig, rnd: Rng, index: number, now: number): FuzzCase {
  const body = mutateJson(jdBase(rnd, now), rnd);
  const signed = index % 2 === 0;
  const params: Record<string, string> = { app_key: cfg.JD_APP_KEY, timestamp: chinaTime(now), v: '2.0' };
  let pathKey = cfg.JD_APP_KEY;
  let op = 'json mutation, valid sign';
  if (signed) {
    params.sign = signJdParams(params, cfg.JD_APP_SECRET, body);
  } else {
    switch (int(rnd, 5)) {
      case 0:
        params.sign = signJdParams(params, 'nope', body);
        op = 'json mutation, wrong secret';
        break;
      case 1:
        params.timestamp = chinaTime(now + 3_600_000);
        params.sign = signJdParams(params, cfg.JD_APP_SECRET, body);
        op = 'json mutation, future timestamp';
        break;
      case 2:
        params.sign_method = 'hmac';
        params.sign = signJdParams(params, cfg.JD_APP_SECRET, body);
        op = 'json mutation, sign_method hmac';
        break;
      case 3:
        pathKey = 'unknown-app';
        params.sign = signJdParams(params, cfg.JD_APP_SECRET, body);
        op = 'json mutation, unknown app key';
        break;
      default:
        params.sign = signJdParams(params, cfg.JD_APP_SECRET, Buffer.concat([body, Buffer.from(' ')]));
        op = 'json mutation, sign over another body';
    }
  }
  const qs = new URLSearchParams(params).toString();
  return { webhook: 'jd', index, method: 'POST', path: `/jd/${pathKey}?${qs}`, headers: { 'content-type': 'application/json' }, body, signed, op };
}

function youzanBase(cfg: HubConfig, rnd: Rng, now: number): { body: string; type: string } {
  const tid = `E${digits(rnd, 23)}`;
  const yz = `Lnh${digits(rnd, 10)}fz${int(rnd, 30)}`;
  const time = chinaTime(now - int(rnd, 3_600_000));
  const type = pick(rnd, ['trade_TradeCreate', 'trade_TradePaid', 'trade_TradeSuccess', 'trade_TradeClose', 'trade_refund_RefundSuccess', 'trade_refund_BuyerCreated', 'trade_TradeMemo']);
  const msg = type.startsWith('trade_refund')
    ? { oids: digits(rnd, 19), refunded_fee: 12.3, refund_id: digits(rnd, 18), refund_type: 'REFUND_ONLY', tid, update_time: time, yz_open_id: yz }
    : {
        full_order_info: {
          order_info: { tid, status: pick(rnd, ['WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS', 'TRADE_SUCCESS', 'TRADE_CLOSED']), created: time, pay_time: time, update_time: time, order_tags: { is_payed: rnd() < 0.5 } },
          buyer_info: { yz_open_id: yz, buyer_phone: rnd() < 0.5 ? '13700000000' : '12345' },
          pay_info: { total_fee: '518.00', post_fee: '0.00', payment: '478.00' },
          orders: [{ oid: digits(rnd, 19), outer_item_id: 'SPU-1', outer_sku_id: 'SKU-1', title: '示例', num: 1, price: '299.00', payment: '276.92' }],
        },
      };
  const body = JSON.stringify({
    client_id: cfg.YOUZAN_CLIENT_ID,
    id: tid,
    kdt_id: 12345678,
    kdt_name: '示例店',
    mode: 1,
    msg: encodeURIComponent(JSON.stringify(msg)),
    msg_id: `fz-${digits(rnd, 12)}`,
    sendCount: 1,
    status: 'WAIT_SELLER_SEND_GOODS',
    test: rnd() < 0.1,
    type,
    version: Math.floor(now / 1000),
  });
  return { body, type };
}

function youzan(cfg: HubConfig, rnd: Rng, index: number, now: number): FuzzCase {
  const base = youzanBase(cfg, rnd, now);
  const body = mutateJson(base.body, rnd, { encodedInner: ['msg'] });
  const signed = index % 2 === 0;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'event-type': rnd() < 0.8 ? base.type : pick(rnd, WEIRD_VALUES) || 'x' };
  let clientId = cfg.YOUZAN_CLIENT_ID;
  let op = 'json mutation, valid Event-Sign';
  if (signed) {
    headers['event-sign'] = youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, cfg.YOUZAN_CLIENT_SECRET);
  } else {
    switch (int(rnd, 4)) {
      case 0:
        headers['event-sign'] = youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, 'wrong');
        op = 'json mutation, wrong secret';
        break;
      case 1:
        op = 'json mutation, no Event-Sign';
        break;
      case 2:
        clientId = 'other-client';
        headers['event-sign'] = youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, cfg.YOUZAN_CLIENT_SECRET);
        op = 'json mutation, unknown client id';
        break;
      default:
        headers['event-sign'] = pick(rnd, ['', '0'.repeat(32), 'zz', hugeString(rnd).slice(0, 4_000)]);
        op = 'json mutation, garbage Event-Sign';
    }
  }
  return { webhook: 'youzan', index, method: 'POST', path: `/youzan/${clientId}`, headers, body, signed, op };
}

const BUILDERS: Record<Webhook, (cfg: HubConfig, rnd: Rng, index: number, now: number) => FuzzCase> = {
  'wechat-plain': wechatPlain,
  'wechat-safe': wechatSafe,
  tmall,
  jd,
  youzan,
};

export function fuzzCase(webhook: Webhook, cfg: HubConfig, rnd: Rng, index: number, now = Date.now()): FuzzCase {
  return BUILDERS[webhook](cfg, rnd, index, now);
}
