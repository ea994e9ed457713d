/**
 * Local TOP (Taobao Open Platform) stand-in.
 *
 * A node:http server that checks every request the way the TOP gateway does — app key, method,
 * version, sign method, timestamp within 10 minutes, and the signature over every parameter
 * (query string and form body) except `sign` — and answers three methods in TOP's JSON format:
 * - `taobao.tmc.messages.consume` → `tmc_messages_consume_response.messages.tmc_message[]`
 *   with 19-digit ids as JSON numbers, as TOP sends them. Every unconfirmed message is
 *   delivered again on the next consume (the real service waits minutes; locally it is at once).
 * - `taobao.tmc.messages.confirm` (`s_message_ids`) → `tmc_messages_confirm_response.is_success`.
 * - `taobao.trade.simple.get` (`tid`) → `trade_simple_get_response.trade` from the trades given
 *   at start or added with addTrade; an unknown tid is an `isv.trade-not-exist` error.
 * - `taobao.trades.sold.increment.get` (`session`, `fields`, `start_modified`, `end_modified` at
 *   most a day apart, `page_no`, `page_size` ≤ 100, `use_has_next`) → the trades whose
 *   `modified` is in the window, newest first, as `trades.trade[]` with `total_results` (or
 *   `has_next`). A session is required; when the stand-in was given one it must match.
 * Besides the TOP gateway it serves `POST /_local/trades` (a JSON trade or an array of them,
 *   each with a digit-string `tid` and a `modified` time): trades that exist on the platform
 *   but were never pushed, found only by reconciliation. It answers `{added: n}`.
 * Failures answer `error_response {code, msg, sub_code?, sub_msg?, request_id}` with HTTP 200.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LosslessNumber, stringify } from 'lossless-json';
import { hexDigestEquals } from '../lib/sources/commerce/sign-common.ts';
import { signTopParams, TOP_SIGN_METHODS, type TopSignMethod } from '../lib/sources/tmall/sign.ts';
import { tryParseChinaTime } from '../lib/sources/commerce/time.ts';
import { parseJsonLossless } from '../lib/sources/commerce/json.ts';
import { readBody } from './read-body.ts';

export interface StandinMessage {
  /** Message id as a decimal string (19 digits in production). */
  id: string;
  topic: string;
  /** JSON text of the body (an object is serialised for you). */
  content: string;
  pub_time: string;
  pub_app_key: string;
  /** Seller user id, digits. */
  user_id: string;
  user_nick: string;
}

export type StandinMessageInput = Omit<StandinMessage, 'content' | 'pub_time' | 'pub_app_key' | 'user_id' | 'user_nick'> &
  Partial<Pick<StandinMessage, 'pub_time' | 'pub_app_key' | 'user_id' | 'user_nick'>> & {
    content: string | Record<string, unknown>;
  };

export interface TopStandinOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  appKey: string;
  secret: string;
  /** Trades answered by taobao.trade.simple.get, each with a string `tid`. */
  trades?: Array<Record<string, unknown>>;
  /** The seller session key the trade searches require (default: any non-empty session). */
  session?: string;
  /** Allowed clock skew, ms (default 10 min). */
  maxSkewMs?: number;
  now?: () => number;
}

export interface StandinCall {
  method: string;
  params: Record<string, string>;
  /** The TOP error code answered, if any. */
  error?: number;
}

export interface TopStandin {
  url: string;
  port: number;
  close(): Promise<void>;
  enqueue(messages: StandinMessageInput | StandinMessageInput[]): void;
  /** Ids confirmed so far, in confirmation order. */
  confirmed(): string[];
  /** Messages not yet confirmed, in enqueue order. */
  pending(): StandinMessage[];
  addTrade(trade: Record<string, unknown>): void;
  /** Every request seen, in order. */
  calls(): StandinCall[];
}

class TopFault extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly subCode?: string,
    readonly subMsg?: string,
  ) {
    super(msg);
  }
}

const DIGITS = /^\d+$/;

function numberOrString(value: string): LosslessNumber | string {
  return DIGITS.test(value) ? new LosslessNumber(value) : value;
}

const tooLarge = () => new TopFault(15, 'Remote service error', 'isv.request-too-large');

export async function startTopStandin(options: TopStandinOptions): Promise<TopStandin> {
  const { appKey, secret } = options;
  const maxSkewMs = options.maxSkewMs ?? 600_000;
  const now = options.now ?? Date.now;
  const queue: StandinMessage[] = [];
  const confirmedIds: string[] = [];
  const trades = new Map<string, Record<string, unknown>>();
  const seen: StandinCall[] = [];
  let requestSeq = 0;

  const addTrade = (trade: Record<string, unknown>) => {
    const tid = String(trade['tid'] ?? '');
    if (!DIGITS.test(tid)) throw new Error('stand-in trade needs a digit-string tid');
    if (trade['modified'] !== undefined && (typeof trade['modified'] !== 'string' || tryParseChinaTime(trade['modified']) === undefined)) {
      throw new Error('stand-in trade modified must be a yyyy-MM-dd HH:mm:ss China time');
    }
    trades.set(tid, trade);
  };
  for (const t of options.trades ?? []) addTrade(t);

  function verify(params: Record<string, string>): string {
    const method = params['method'];
    if (!method) throw new TopFault(21, 'Missing method');
    if (!params['app_key']) throw new TopFault(28, 'Missing app key');
    if (params['app_key'] !== appKey) throw new TopFault(29, 'Invalid app key');
    if (!params['v']) throw new TopFault(32, 'Missing version');
    if (params['v'] !== '2.0') throw new TopFault(33, 'Invalid version');
    const signMethod = params['sign_method'] ?? 'md5';
    if (!(TOP_SIGN_METHODS as readonly string[]).includes(signMethod)) throw new TopFault(25, 'Invalid signature', 'isv.invalid-sign-method');
    if (!params['sign']) throw new TopFault(25, 'Invalid signature', 'isv.missing-signature');
    if (!params['timestamp']) throw new TopFault(30, 'Missing timestamp');
    const ts = tryParseChinaTime(params['timestamp']);
    if (ts === undefined || Math.abs(now() - ts) > maxSkewMs) throw new TopFault(31, 'Invalid timestamp');
    const expected = signTopParams(params, secret, signMethod as TopSignMethod);
    if (!hexDigestEquals(params['sign'], expected)) throw new TopFault(25, 'Invalid signature');
    if (params['format'] !== undefined && params['format'] !== 'json') throw new TopFault(41, 'Invalid arguments', 'isv.invalid-format', 'only format=json is served');
    return method;
  }

  function requestId(): string {
    requestSeq += 1;
    return `standin${requestSeq.toString(36)}`;
  }

  function consume(params: Record<string, string>): unknown {
    const q = Number(params['quantity'] ?? '100');
    const quantity = Number.isInteger(q) && q > 0 ? Math.min(q, 200) : 100;
    const batch = queue.slice(0, quantity);
    const answer: Record<string, unknown> = {};
    if (batch.length > 0) {
      answer['messages'] = {
        tmc_message: batch.map((m) => ({
          content: m.content,
          id: numberOrString(m.id),
          pub_app_key: m.pub_app_key,
          pub_time: m.pub_time,
          topic: m.topic,
          user_id: numberOrString(m.user_id),
          user_nick: m.user_nick,
        })),
      };
    }
    answer['request_id'] = requestId();
    return { tmc_messages_consume_response: answer };
  }

  function confirm(params: Record<string, string>): unknown {
    const raw = params['s_message_ids'] ?? '';
    const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) throw new TopFault(40, 'Missing required arguments:s_message_ids');
    if (ids.length > 200) throw new TopFault(41, 'Invalid arguments:s_message_ids', 'isv.invalid-parameter', 'at most 200 ids');
    for (const id of ids) {
      if (!DIGITS.test(id)) throw new TopFault(41, 'Invalid arguments:s_message_ids', 'isv.invalid-parameter', `not an id: ${id.slice(0, 30)}`);
    }
    for (const id of ids) {
      const i = queue.findIndex((m) => m.id === id);
      if (i >= 0) {
        queue.splice(i, 1);
        confirmedIds.push(id);
      }
    }
    return { tmc_messages_confirm_response: { is_success: true, request_id: requestId() } };
  }

  function tradeSimpleGet(params: Record<string, string>): unknown {
    if (!params['fields']) throw new TopFault(40, 'Missing required arguments:fields');
    const tid = params['tid'];
    if (!tid) throw new TopFault(40, 'Missing required arguments:tid');
    const trade = trades.get(tid);
    if (!trade) throw new TopFault(15, 'Remote service error', 'isv.trade-not-exist', `trade ${tid} does not exist`);
    return { trade_simple_get_response: { trade: wireTrade(trade), request_id: requestId() } };
  }

  function requireSession(params: Record<string, string>): void {
    if (!params['session']) throw new TopFault(26, 'Missing session');
    if (options.session !== undefined && params['session'] !== options.session) throw new TopFault(27, 'Invalid session', 'invalid-sessionkey');
  }

  /** Trade ids as numbers (TOP's JSON), `tid_str` as the exact string. */
  function wireTrade(trade: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(trade)) out[k] = k === 'tid' && typeof v === 'string' ? new LosslessNumber(v) : v;
    return out;
  }

  function tradesSoldIncrementGet(params: Record<string, string>): unknown {
    requireSession(params);
    for (const name of ['fields', 'start_modified', 'end_modified']) {
      if (!params[name]) throw new TopFault(40, `Missing required arguments:${name}`);
    }
    const start = tryParseChinaTime(params['start_modified']!);
    const end = tryParseChinaTime(params['end_modified']!);
    if (start === undefined || end === undefined) throw new TopFault(41, 'Invalid arguments:start_modified', 'isv.invalid-parameter');
    if (end < start || end - start > 86_400_000) {
      throw new TopFault(15, 'Remote service error', 'isv.invalid-parameter', 'start_modified and end_modified must be at most one day apart');
    }
    const pageNo = Number(params['page_no'] ?? '1');
    const pageSize = Number(params['page_size'] ?? '40');
    if (!Number.isInteger(pageNo) || pageNo < 1) throw new TopFault(41, 'Invalid arguments:page_no', 'isv.invalid-parameter');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new TopFault(41, 'Invalid arguments:page_size', 'isv.invalid-parameter');
    const inWindow = [...trades.values()]
      .map((t) => ({ t, at: typeof t['modified'] === 'string' ? tryParseChinaTime(t['modified']) : undefined }))
      .filter((x): x is { t: Record<string, unknown>; at: number } => x.at !== undefined && x.at >= start && x.at <= end)
      .sort((a, b) => b.at - a.at);
    const page = inWindow.slice((pageNo - 1) * pageSize, pageNo * pageSize).map((x) => wireTrade(x.t));
    const answer: Record<string, unknown> = {};
    if (params['use_has_next'] === 'true') answer['has_next'] = pageNo * pageSize < inWindow.length;
    else answer['total_results'] = new LosslessNumber(String(inWindow.length));
    if (page.length) answer['trades'] = { trade: page };
    answer['request_id'] = requestId();
    return { trades_sold_increment_get_response: answer };
  }

  /** POST /_local/trades: trades that exist but were never pushed. */
  async function addLocalTrades(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200;
    let answer: Record<string, unknown>;
    try {
      // Lossless: a 19-digit tid sent as a JSON number stays exact.
      const parsed: unknown = parseJsonLossless(await readBody(req, tooLarge));
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const t of list) {
        if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new Error('a trade is a JSON object');
        if (typeof (t as Record<string, unknown>)['modified'] !== 'string') throw new Error('a trade needs its modified time');
      }
      for (const t of list) addTrade(t as Record<string, unknown>);
      answer = { added: list.length };
    } catch (err) {
      status = 400;
      answer = { error: 'bad_trade', message: err instanceof Error ? err.message : 'unreadable trade' };
    }
    const text = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/_local/trades') return addLocalTrades(req, res);
    let method = '';
    const params: Record<string, string> = {};
    let payload: unknown;
    try {
      const url = new URL(req.url ?? '/', 'http://standin.local');
      for (const [k, v] of url.searchParams) params[k] = v;
      const body = req.method === 'POST' ? await readBody(req, tooLarge) : '';
      const type = String(req.headers['content-type'] ?? '');
      if (body && !type.includes('application/x-www-form-urlencoded')) {
        throw new TopFault(41, 'Invalid arguments', 'isv.invalid-content-type', 'post an x-www-form-urlencoded form');
      }
      for (const [k, v] of new URLSearchParams(body)) params[k] = v;
      method = verify(params);
      switch (method) {
        case 'taobao.tmc.messages.consume':
          payload = consume(params);
          break;
        case 'taobao.tmc.messages.confirm':
          payload = confirm(params);
          break;
        case 'taobao.trade.simple.get':
          payload = tradeSimpleGet(params);
          break;
        case 'taobao.trades.sold.increment.get':
          payload = tradesSoldIncrementGet(params);
          break;
        default:
          throw new TopFault(22, 'Invalid method');
      }
      seen.push({ method, params });
    } catch (err) {
      const fault = err instanceof TopFault ? err : new TopFault(15, 'Remote service error', 'isp.unknown-error');
      seen.push({ method: method || params['method'] || '', params, error: fault.code });
      const e: Record<string, unknown> = { code: fault.code, msg: fault.msg };
      if (fault.subCode) e['sub_code'] = fault.subCode;
      if (fault.subMsg) e['sub_msg'] = fault.subMsg;
      e['request_id'] = requestId();
      payload = { error_response: e };
    }
    const text = stringify(payload) ?? '{}';
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${address.port}/router/rest`;

  return {
    url,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    enqueue(messages) {
      for (const m of Array.isArray(messages) ? messages : [messages]) {
        if (!DIGITS.test(m.id)) throw new Error('stand-in message id must be a digit string');
        queue.push({
          id: m.id,
          topic: m.topic,
          content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content),
          pub_time: m.pub_time ?? '2024-11-11 00:00:00',
          pub_app_key: m.pub_app_key ?? '12497914',
          user_id: m.user_id ?? '2207512345678',
          user_nick: m.user_nick ?? 'standin-shop',
        });
      }
    },
    confirmed: () => [...confirmedIds],
    pending: () => queue.map((m) => ({ ...m })),
    addTrade,
    calls: () => seen.map((c) => ({ ...c, params: { ...c.params } })),
  };
}
