/**
 * Local Youzan Cloud (有赞云) API stand-in: the two calls the reconciliation makes, in Youzan's
 * JSON form (docs/platforms.md#youzan-reconciliation).
 *
 * - `POST /auth/token` `{authorize_type: "silent", client_id, client_secret, grant_id}` →
 *   `{success: true, code: 200, data: {access_token, expires (epoch ms, 7 days), scope,
 *   authority_id}}`. Another client, secret, shop or grant type → `success: false`.
 * - `POST /api/youzan.trades.sold.get/{version}?access_token=…` with a JSON body
 *   `{start_update, end_update, page_no, page_size}` (times `yyyy-MM-dd HH:mm:ss` China time,
 *   paired; page_no ≤ 100, page_size ≤ 100, page_no × page_size ≤ 10 000) → `{success: true,
 *   code: 200, data: {total_results, full_order_info_list: [{full_order_info}]}}` of the orders
 *   whose `order_info.update_time` is in the window (both ends inclusive), newest first. An
 *   unknown or missing token → `success: false`, code 4201. The error codes are this stand-in's
 *   choice; Youzan's own are not part of what the hub relies on (docs/platforms.md).
 * - `POST /_local/trades`: an order `{full_order_info: {order_info: {tid, update_time, …}, …}}`
 *   or an array of them: orders that exist on Youzan but were never pushed. Answers `{added}`.
 *   The same tid again replaces the order (a later change of it).
 * Every request is recorded (`calls()`); ids in answers are written losslessly.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'lossless-json';
import { isRecord, parseJsonLossless } from '../lib/sources/commerce/json.ts';
import { tryParseChinaTime } from '../lib/sources/commerce/time.ts';
import { readBody } from './read-body.ts';

export interface YouzanStandinOptions {
  port?: number;
  host?: string;
  clientId: string;
  clientSecret: string;
  /** The shop (kdt_id) tokens are granted for. */
  kdtId: string;
  orders?: Array<Record<string, unknown>>;
  now?: () => number;
}

export interface YouzanStandinCall {
  path: string;
  body: unknown;
  /** The `code` of a `success: false` answer. */
  error?: number;
}

export interface YouzanStandin {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Adds (or replaces, by tid) an order `{full_order_info}`. */
  addOrder(order: Record<string, unknown>): void;
  calls(): YouzanStandinCall[];
  /** Makes the next `n` API calls (not token calls) answer a server fault (code 500). */
  failNext(n: number): void;
}

const TOKEN_LIFETIME_MS = 7 * 86_400_000;

class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function orderInfo(order: Record<string, unknown>): Record<string, unknown> {
  const full = order['full_order_info'];
  const info = isRecord(full) ? full['order_info'] : undefined;
  if (!isRecord(info)) throw new Refusal(400, 'an order is {full_order_info: {order_info: {tid, update_time}}}');
  return info;
}

function updatedAt(order: Record<string, unknown>): number {
  const t = orderInfo(order)['update_time'];
  const at = typeof t === 'string' ? tryParseChinaTime(t) : undefined;
  if (at === undefined) throw new Refusal(400, 'order_info.update_time must be a yyyy-MM-dd HH:mm:ss China time');
  return at;
}

const tooLarge = () => new Refusal(413, 'request too large');

export async function startYouzanStandin(options: YouzanStandinOptions): Promise<YouzanStandin> {
  const now = options.now ?? Date.now;
  const orders = new Map<string, Record<string, unknown>>();
  const tokens = new Map<string, number>();
  const seen: YouzanStandinCall[] = [];
  let failures = 0;

  const addOrder = (order: Record<string, unknown>) => {
    const tid = orderInfo(order)['tid'];
    if (typeof tid !== 'string' || tid === '') throw new Refusal(400, 'order_info.tid must be a string');
    updatedAt(order);
    orders.set(tid, order);
  };
  for (const o of options.orders ?? []) addOrder(o);

  function token(body: Record<string, unknown>): unknown {
    if (body['authorize_type'] !== 'silent') throw new Refusal(4001, 'authorize_type must be silent for a self-built app');
    if (body['client_id'] !== options.clientId || body['client_secret'] !== options.clientSecret) throw new Refusal(4002, 'client_id or client_secret invalid');
    if (String(body['grant_id'] ?? '') !== options.kdtId) throw new Refusal(4003, 'grant_id is not a shop of this app');
    const value = randomBytes(16).toString('hex');
    const expires = now() + TOKEN_LIFETIME_MS;
    tokens.set(value, expires);
    return { access_token: value, expires, scope: 'trade', authority_id: options.kdtId };
  }

  function tradesSold(body: Record<string, unknown>): unknown {
    const startText = body['start_update'];
    const endText = body['end_update'];
    if (typeof startText !== 'string' || typeof endText !== 'string') throw new Refusal(4004, 'start_update and end_update are required together');
    const start = tryParseChinaTime(startText);
    const end = tryParseChinaTime(endText);
    if (start === undefined || end === undefined || end < start) throw new Refusal(4004, 'start_update / end_update invalid');
    const pageNo = Number(body['page_no'] ?? 1);
    const pageSize = Number(body['page_size'] ?? 20);
    if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > 100) throw new Refusal(4004, 'page_no is 1-100');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new Refusal(4004, 'page_size is 1-100');
    if (pageNo * pageSize > 10_000) throw new Refusal(4004, 'page_no × page_size is at most 10000');
    const hits = [...orders.values()]
      .map((o) => ({ o, at: updatedAt(o) }))
      .filter((x) => x.at >= start && x.at <= end)
      .sort((a, b) => b.at - a.at);
    return { total_results: hits.length, full_order_info_list: hits.slice((pageNo - 1) * pageSize, pageNo * pageSize).map((x) => x.o) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin.local');
    let status = 200;
    let payload: unknown;
    let parsed: unknown;
    try {
      if (req.method !== 'POST') throw new Refusal(405, 'POST only');
      const text = await readBody(req, tooLarge);
      try {
        parsed = text ? parseJsonLossless(text) : {};
      } catch {
        throw new Refusal(400, 'body is not JSON');
      }
      if (url.pathname === '/_local/trades') {
        const list = Array.isArray(parsed) ? parsed : [parsed];
        if (!list.every(isRecord)) throw new Refusal(400, 'an order is a JSON object');
        list.forEach((o) => orderInfo(o) && updatedAt(o));
        for (const o of list) addOrder(o);
        payload = { added: list.length };
      } else {
        if (!isRecord(parsed)) throw new Refusal(4004, 'body must be a JSON object');
        if (url.pathname === '/auth/token') {
          payload = { success: true, code: 200, message: 'success', data: token(parsed) };
        } else {
          const m = /^\/api\/([\w.]+)\/([\d.]+)$/.exec(url.pathname);
          if (!m) throw new Refusal(404, 'no such API');
          const expires = tokens.get(url.searchParams.get('access_token') ?? '');
          if (expires === undefined || expires <= now()) throw new Refusal(4201, 'access_token invalid or expired');
          if (failures > 0) {
            failures -= 1;
            throw new Refusal(500, 'service busy');
          }
          if (m[1] !== 'youzan.trades.sold.get') throw new Refusal(404, `API ${m[1]} is not served by the stand-in`);
          payload = { success: true, code: 200, message: 'successful', data: tradesSold(parsed) };
        }
      }
      seen.push({ path: url.pathname, body: parsed });
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal(500, 'stand-in fault');
      seen.push({ path: url.pathname, body: parsed, error: r.code });
      if (url.pathname === '/_local/trades' || r.code === 405 || r.code === 413) {
        status = r.code === 4004 ? 400 : r.code;
        payload = { error: 'bad_request', message: r.message };
      } else {
        payload = { success: false, code: r.code, message: r.message };
      }
    }
    const text = stringify(payload) ?? '{}';
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    addOrder,
    calls: () => seen.map((c) => ({ ...c })),
    failNext(n) {
      failures = n;
    },
  };
}
