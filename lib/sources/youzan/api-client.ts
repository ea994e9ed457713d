/**
 * A minimal Youzan Cloud (有赞云) API client over fetch: the self-built app's token and
 * `youzan.trades.sold.get` (docs/platforms.md#youzan-reconciliation).
 *
 * - Token: `POST {base}/auth/token` with JSON `{authorize_type: "silent", client_id,
 *   client_secret, grant_id: <kdt_id>}` → `{success, code, data: {access_token, expires (epoch
 *   ms), authority_id}}`. Kept in memory until a minute before `expires`; an answer the API
 *   refuses as unauthorised drops it, and the next call fetches a new one.
 * - Calls: `POST {base}/api/{name}/{version}?access_token=…` with a JSON body → `{success,
 *   code, data}`; `success` false → YouzanApiError.
 * Answers are parsed losslessly (19-digit ids stay strings).
 *
 * Errors are YouzanApiError (an UpstreamApiError): network failures, timeouts, HTTP 5xx and
 * unreadable answers are retryable; an answer with `success: false` is permanent unless its code
 * is a throttle or a server fault. The reconciliation leaves its cursor on either.
 */
import { UpstreamApiError } from '../../errors.ts';
import { isRecord, parseJsonLossless } from '../commerce/json.ts';
import { formatChinaTime } from '../commerce/time.ts';

export const YOUZAN_DEFAULT_URL = 'https://open.youzanyun.com';
export const TRADES_SOLD_VERSION = '4.0.4';
/** Most orders one window can page through: page_no ≤ 100 and page_no × page_size ≤ 10 000. */
export const TRADES_SOLD_MAX_RESULTS = 10_000;
export const TRADES_SOLD_PAGE_SIZE = 100;

export class YouzanApiError extends UpstreamApiError {}

export interface YouzanClientOptions {
  clientId: string;
  clientSecret: string;
  /** The shop (kdt_id) the token is granted for. */
  kdtId: string;
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface SoldPage {
  total: number;
  /** The `full_order_info_list` entries, each `{full_order_info}`. */
  orders: Record<string, unknown>[];
}

export class YouzanClient {
  private token: { value: string; expiresAt: number } | undefined;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly o: YouzanClientOptions) {
    this.baseUrl = (o.baseUrl ?? YOUZAN_DEFAULT_URL).replace(/\/+$/, '');
    this.fetchImpl = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  private async post(api: string, url: string, body: unknown): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json;charset=utf-8', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new YouzanApiError(`Youzan ${api}: ${err instanceof Error ? err.message : String(err)}`, api, 'network', true);
    }
    const text = await res.text();
    if (res.status >= 500) throw new YouzanApiError(`Youzan ${api}: HTTP ${res.status}`, api, `http_${res.status}`, true);
    let parsed: unknown;
    try {
      parsed = parseJsonLossless(text);
    } catch {
      throw new YouzanApiError(`Youzan ${api}: HTTP ${res.status} with a non-JSON answer`, api, 'bad_response', true);
    }
    if (!isRecord(parsed)) throw new YouzanApiError(`Youzan ${api}: answer is not an object`, api, 'bad_response', true);
    if (parsed['success'] !== true) {
      const code = String(parsed['code'] ?? `http_${res.status}`);
      const message = typeof parsed['message'] === 'string' ? parsed['message'].slice(0, 200) : '';
      // Throttled or a fault on Youzan's side: a later run may succeed.
      const retryable = res.status === 429 || /^(5\d\d|429)$/.test(code);
      throw new YouzanApiError(`Youzan ${api}: error ${code}${message ? ` (${message})` : ''}`, api, code, retryable);
    }
    return parsed;
  }

  /** The shop's access token (cached until a minute before it expires). */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - 60_000 > this.now()) return this.token.value;
    const answer = await this.post('auth/token', `${this.baseUrl}/auth/token`, {
      authorize_type: 'silent',
      client_id: this.o.clientId,
      client_secret: this.o.clientSecret,
      grant_id: this.o.kdtId,
    });
    const data = answer['data'];
    const value = isRecord(data) ? data['access_token'] : undefined;
    const expires = isRecord(data) ? Number(String(data['expires'] ?? '')) : NaN;
    if (typeof value !== 'string' || !value || !Number.isFinite(expires)) {
      throw new YouzanApiError('Youzan auth/token: answer has no access_token and expires', 'auth/token', 'bad_response', true);
    }
    this.token = { value, expiresAt: expires };
    return value;
  }

  /** Calls API `name`/`version` with `params`; returns its `data`. */
  async call(name: string, version: string, params: Record<string, unknown>): Promise<unknown> {
    const token = await this.accessToken();
    const url = `${this.baseUrl}/api/${encodeURIComponent(name)}/${encodeURIComponent(version)}?access_token=${encodeURIComponent(token)}`;
    try {
      return (await this.post(name, url, params))['data'];
    } catch (err) {
      // An expired or revoked token: fetch a new one on the next call.
      if (err instanceof YouzanApiError && /^(401|4201|4202|4203)$/.test(String(err.errcode))) this.token = undefined;
      throw err;
    }
  }

  /** One page of `youzan.trades.sold.get` by update time (both bounds China time, inclusive). */
  async tradesSoldPage(startMs: number, endMs: number, pageNo: number, pageSize = TRADES_SOLD_PAGE_SIZE): Promise<SoldPage> {
    const data = await this.call('youzan.trades.sold.get', TRADES_SOLD_VERSION, {
      start_update: formatChinaTime(startMs),
      end_update: formatChinaTime(endMs),
      page_no: pageNo,
      page_size: pageSize,
    });
    const list = isRecord(data) ? data['full_order_info_list'] : undefined;
    const total = isRecord(data) ? Number(String(data['total_results'] ?? '0')) : NaN;
    if (!Number.isSafeInteger(total) || total < 0 || (list !== undefined && !Array.isArray(list))) {
      throw new YouzanApiError('Youzan youzan.trades.sold.get: unreadable answer', 'youzan.trades.sold.get', 'bad_response', true);
    }
    return { total, orders: ((list as unknown[] | undefined) ?? []).filter(isRecord) };
  }
}
