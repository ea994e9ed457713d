/**
 * A minimal TOP (Taobao Open Platform) API client over fetch.
 *
 * Requests are POSTed as `application/x-www-form-urlencoded` with the system parameters
 * `method, app_key, session?, timestamp (yyyy-MM-dd HH:mm:ss GMT+8), format=json, v=2.0,
 * sign_method, sign` and the business parameters, all signed together (sign.ts). Responses are
 * parsed losslessly (json.ts): 19-digit TMC ids and tids come back as exact strings.
 *
 * Errors: an `error_response` becomes a TopApiError (an UpstreamApiError) classified as
 * retryable or permanent:
 * - permanent: `isv.*` sub-codes, invalid / missing signature, app key, session, method,
 *   parameters, permissions (codes 11, 12, 21, 22, 25–29, 40, 41, 47 …);
 * - retryable: `isp.*` sub-codes, throttling (code 7, `accesscontrol.*`, call-limited /
 *   access-count / flow-control / frequency sub-codes),
 *   service unavailable (code 10), timestamp rejected (31; a fresh request gets a fresh
 *   timestamp), HTTP 5xx, network failures and timeouts, unparseable answers.
 */
import { UpstreamApiError } from '../../errors.ts';
import { isRecord, parseJsonLossless } from '../commerce/json.ts';
import { signTopParams, type TopSignMethod } from './sign.ts';
import { type SignParams } from '../commerce/sign-common.ts';
import { parseTmcMessages, unwrapTopTrade, type TmcMessage } from './normalise.ts';
import { formatChinaTime } from '../commerce/time.ts';

export const TOP_DEFAULT_URL = 'https://eco.taobao.com/router/rest';

/** The trade fields reconciliation reads (status, amounts, times, buyer keys and the sub-orders). */
export const SOLD_INCREMENT_FIELDS =
  'tid,tid_str,status,type,buyer_open_uid,created,pay_time,modified,end_time,consign_time,total_fee,post_fee,discount_fee,payment,step_trade_status,orders';

/** TOP top-level error codes that a retry can fix. */
const RETRYABLE_CODES = new Set(['7', '10', '31', '520']);

export class TopApiError extends UpstreamApiError {
  /** The top-level TOP error code (e.g. "25"), or `http_<status>` / `network` / `bad_response`. */
  readonly topCode: string;
  /** TOP's `sub_code` (e.g. `isv.invalid-parameter`), when given. */
  readonly subCode: string | undefined;
  readonly permanent: boolean;
  constructor(message: string, api: string, topCode: string, subCode: string | undefined, retryable: boolean) {
    super(message, api, subCode ?? topCode, retryable);
    this.topCode = topCode;
    this.subCode = subCode;
    this.permanent = !retryable;
  }
}

/** Retryable (true) or permanent (false) for a TOP error code and sub-code. */
export function isRetryableTopError(code: string, subCode?: string): boolean {
  const sub = (subCode ?? '').toLowerCase();
  if (sub.startsWith('isp.')) return true;
  if (sub.startsWith('accesscontrol.') || /call-limited|access-count|flow-control|frequency|throttl/.test(sub)) return true;
  if (sub.startsWith('isv.')) return false;
  if (sub.includes('invalid-signature') || sub.includes('invalid-sign')) return false;
  return RETRYABLE_CODES.has(code);
}

export interface TopClientOptions {
  appKey: string;
  secret: string;
  /** Gateway URL; defaults to the production gateway. */
  baseUrl?: string;
  /** Seller session key, used by calls that need one unless a call passes its own. */
  session?: string;
  signMethod?: TopSignMethod;
  /** Per-request timeout, ms (default 10 000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface TopCallOptions {
  session?: string;
}

/** The key TOP wraps a method's answer in: `taobao.tmc.messages.consume` → `tmc_messages_consume_response`. */
export function topResponseKey(method: string): string {
  return `${method.replace(/^taobao\./, '').replace(/\./g, '_')}_response`;
}

/**
 * The `group_name` parameter: omitted for the default group, as `taobao.tmc.messages.consume`
 * documents ("不传表示消费默认分组"; a group name the app has not created is an error).
 */
export function groupParam(groupName: string | undefined): string | undefined {
  return groupName === undefined || groupName === 'default' ? undefined : groupName;
}

export class TopClient {
  private readonly appKey: string;
  private readonly secret: string;
  private readonly baseUrl: string;
  private readonly session: string | undefined;
  private readonly signMethod: TopSignMethod;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(options: TopClientOptions) {
    this.appKey = options.appKey;
    this.secret = options.secret;
    this.baseUrl = options.baseUrl ?? TOP_DEFAULT_URL;
    this.session = options.session;
    this.signMethod = options.signMethod ?? 'md5';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** The signed form parameters for a call (exposed for tests and the stand-in). */
  buildParams(method: string, params: SignParams = {}, call: TopCallOptions = {}): Record<string, string> {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && String(v) !== '') all[k] = String(v);
    }
    all['method'] = method;
    all['app_key'] = this.appKey;
    all['timestamp'] = formatChinaTime(this.now());
    all['format'] = 'json';
    all['v'] = '2.0';
    all['sign_method'] = this.signMethod;
    const session = call.session ?? this.session;
    if (session) all['session'] = session;
    all['sign'] = signTopParams(all, this.secret, this.signMethod);
    return all;
  }

  /** Call a TOP method; returns the `<method>_response` object (lossless). */
  async call(method: string, params: SignParams = {}, call: TopCallOptions = {}): Promise<Record<string, unknown>> {
    const form = new URLSearchParams(this.buildParams(method, params, call));
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new TopApiError(`TOP ${method}: request failed: ${reason}`, method, 'network', undefined, true);
    }
    const text = await res.text();
    if (res.status >= 500) throw new TopApiError(`TOP ${method}: HTTP ${res.status}`, method, `http_${res.status}`, undefined, true);
    let body: unknown;
    try {
      body = parseJsonLossless(text);
    } catch {
      throw new TopApiError(`TOP ${method}: HTTP ${res.status} with a non-JSON answer`, method, 'bad_response', undefined, true);
    }
    if (!isRecord(body)) throw new TopApiError(`TOP ${method}: answer is not an object`, method, 'bad_response', undefined, true);
    const error = body['error_response'];
    if (isRecord(error)) {
      const code = String(error['code'] ?? '');
      const subCode = error['sub_code'] === undefined ? undefined : String(error['sub_code']);
      const msg = [error['msg'], error['sub_msg']].filter((x) => typeof x === 'string' && x !== '').join(': ');
      throw new TopApiError(`TOP ${method}: error ${subCode ?? code}${msg ? ` (${msg})` : ''}`.slice(0, 300), method, code, subCode, isRetryableTopError(code, subCode));
    }
    if (res.status >= 400) throw new TopApiError(`TOP ${method}: HTTP ${res.status}`, method, `http_${res.status}`, undefined, false);
    const answer = body[topResponseKey(method)];
    if (!isRecord(answer)) throw new TopApiError(`TOP ${method}: answer has no ${topResponseKey(method)}`, method, 'bad_response', undefined, true);
    return answer;
  }

  /**
   * `taobao.tmc.messages.consume`: up to `quantity` (10–200, default 100) messages of a group.
   * Messages stay pending until confirmed.
   */
  async consumeMessages(options: { groupName?: string; quantity?: number } = {}): Promise<TmcMessage[]> {
    const quantity = Math.min(200, Math.max(10, Math.trunc(options.quantity ?? 100)));
    const answer = await this.call('taobao.tmc.messages.consume', { group_name: groupParam(options.groupName), quantity });
    return parseTmcMessages({ tmc_messages_consume_response: answer });
  }

  /** `taobao.tmc.messages.confirm` for the given ids (strings; sent in batches of 200). */
  async confirmMessages(ids: readonly string[], options: { groupName?: string } = {}): Promise<boolean> {
    let ok = true;
    for (let i = 0; i < ids.length; i += 200) {
      const batch = ids.slice(i, i + 200);
      const answer = await this.call('taobao.tmc.messages.confirm', {
        group_name: groupParam(options.groupName),
        s_message_ids: batch.join(','),
      });
      ok = ok && answer['is_success'] === true;
    }
    return ok;
  }

  /**
   * `taobao.trades.sold.increment.get`: every trade of the session's seller modified between
   * `startMs` and `endMs` (at most one day apart; the documentation recommends 30 minutes),
   * all pages. Results come sorted by `modified` descending, so a trade modified while the pages
   * are read moves to the first page: as the documentation asks, the pages are read from the
   * last one back to the first (the count comes from a first call), and a trade seen twice is
   * kept once per `modified`. docs/platforms.md#taobao-reconciliation.
   */
  async getTradesSoldIncrement(startMs: number, endMs: number, options: { fields?: string; session?: string; pageSize?: number } = {}): Promise<Record<string, unknown>[]> {
    if (!(endMs > startMs) || endMs - startMs > 86_400_000) throw new RangeError('a sold-increment window is between 0 and 1 day long');
    const pageSize = Math.min(100, Math.max(1, options.pageSize ?? 40));
    const call: TopCallOptions = {};
    if (options.session !== undefined) call.session = options.session;
    const base = {
      fields: options.fields ?? SOLD_INCREMENT_FIELDS,
      start_modified: formatChinaTime(startMs),
      end_modified: formatChinaTime(endMs),
      page_size: pageSize,
    };
    const page = async (pageNo: number) => {
      const answer = await this.call('taobao.trades.sold.increment.get', { ...base, page_no: pageNo }, call);
      const total = Number(String(answer['total_results'] ?? '0'));
      let list: unknown = answer['trades'];
      if (isRecord(list)) list = list['trade'];
      if (!Number.isSafeInteger(total) || total < 0 || (list !== undefined && !Array.isArray(list))) {
        throw new TopApiError('TOP taobao.trades.sold.increment.get: unreadable answer', 'taobao.trades.sold.increment.get', 'bad_response', undefined, true);
      }
      return { total, trades: ((list as unknown[] | undefined) ?? []).filter(isRecord) };
    };
    const first = await page(1);
    const pages = Math.ceil(first.total / pageSize);
    const seen = new Map<string, Record<string, unknown>>();
    const keep = (trades: Record<string, unknown>[]) => {
      for (const t of trades) seen.set(`${String(t['tid_str'] ?? t['tid'])}@${String(t['modified'])}`, t);
    };
    if (pages <= 1) keep(first.trades);
    else for (let n = pages; n >= 1; n--) keep((await page(n)).trades);
    return [...seen.values()];
  }

  /**
   * `taobao.trade.simple.get`: the CRM trade detail (with `ouid`). Returns the `trade` object
   * (ids as strings), or throws TopApiError.
   */
  async getTradeSimple(tid: string, options: { fields?: string; session?: string } = {}): Promise<Record<string, unknown>> {
    const fields =
      options.fields ??
      'tid,status,type,buyer_open_uid,ouid,omid,created,pay_time,modified,end_time,consign_time,total_fee,post_fee,discount_fee,payment,step_trade_status,orders';
    const call: TopCallOptions = {};
    if (options.session !== undefined) call.session = options.session;
    const answer = await this.call('taobao.trade.simple.get', { fields, tid }, call);
    const trade = unwrapTopTrade(answer);
    if (!trade || !isRecord(answer['trade'])) {
      throw new TopApiError('TOP taobao.trade.simple.get: answer has no trade', 'taobao.trade.simple.get', 'bad_response', undefined, true);
    }
    return trade;
  }
}
