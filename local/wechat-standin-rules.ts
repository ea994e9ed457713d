/**
 * The WeChat rules the stand-in enforces on sends, written from the platform's documentation
 * (docs/platforms.md#wechat-customer-service-windows, #wechat-template-messages,
 * #wechat-subscription-messages) independently of the hub's own modules, so the pipeline tests
 * prove the hub respects them:
 *
 * - Typed keys of category templates and subscription messages: a value that does not fit its
 *   key's type → 47003 `argument invalid! data.<key>.value invalid` (WeChat never truncates);
 *   a declared key left out → 47003 `… data.<key>.value is empty`.
 * - Customer-service windows per openid, from the interactions the stand-in was told about
 *   (`interact`, or the pushes a test sends through it): a message opens 48 h for 5, a menu
 *   click, scancode menu, follow or QR scan 1 min for 3; nothing else opens one. Outside →
 *   45015; count used up → 45047. Quotas do not accumulate: the latest action replaces the window.
 */

export type StandinInteraction = 'message' | 'menu_click' | 'scancode' | 'follow' | 'qr_scan';

const WINDOWS: Record<StandinInteraction, { count: number; ms: number }> = {
  message: { count: 5, ms: 48 * 3_600_000 },
  menu_click: { count: 3, ms: 60_000 },
  scancode: { count: 3, ms: 60_000 },
  follow: { count: 3, ms: 60_000 },
  qr_scan: { count: 3, ms: 60_000 },
};

export const STANDIN_INTERACTIONS = Object.keys(WINDOWS) as StandinInteraction[];

export interface RuleError {
  errcode: number;
  errmsg: string;
}

/** Per-openid customer-service windows. */
export class WindowBook {
  private windows = new Map<string, { kind: StandinInteraction; at: number; used: number }>();

  /** The person did something that opens a window at `at` (a later action replaces an earlier one). */
  interact(openid: string, kind: StandinInteraction, at: number): void {
    const cur = this.windows.get(openid);
    if (cur && cur.at > at) return;
    this.windows.set(openid, { kind, at, used: 0 });
  }

  /** Takes one customer-service message from the openid's window, or the error WeChat answers. */
  take(openid: string, now: number): RuleError | null {
    const w = this.windows.get(openid);
    if (!w || now >= w.at + WINDOWS[w.kind].ms) return { errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' };
    if (w.used >= WINDOWS[w.kind].count) return { errcode: 45047, errmsg: 'out of response count limit' };
    w.used += 1;
    return null;
  }

  clear(): void {
    this.windows = new Map();
  }
}

/** The interaction a push opens, read from its XML fields (MsgType, Event). */
export function interactionOfPush(msgType: string, event: string | undefined): StandinInteraction | undefined {
  const type = msgType.toLowerCase();
  if (type !== 'event') return ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'].includes(type) ? 'message' : undefined;
  switch ((event ?? '').toLowerCase()) {
    case 'subscribe':
      return 'follow';
    case 'scan':
      return 'qr_scan';
    case 'click':
      return 'menu_click';
    case 'scancode_push':
    case 'scancode_waitmsg':
      return 'scancode';
    default:
      return undefined;
  }
}

const han = (s: string) => /\p{Script=Han}/u.test(s);
const len = (s: string) => [...s].length;

/** Whether `value` fits the type its key declares; an untyped key always fits. */
function fits(key: string, value: string): boolean {
  const m = /^([a-z_]+?)(\d+)$/.exec(key);
  if (!m) return true;
  const v = value;
  switch (m[1]) {
    case 'thing':
      return len(v) <= 20 && !/[\r\n]/.test(v);
    case 'character_string':
      return len(v) <= 32 && /^[\x21-\x7e]+$/.test(v);
    case 'number':
      return len(v) <= 32 && /^-?\d+(\.\d+)?$/.test(v);
    case 'letter':
      return len(v) <= 32 && /^[A-Za-z]+$/.test(v);
    case 'symbol':
      return len(v) <= 5 && !/[\p{L}\p{N}]/u.test(v);
    case 'amount':
      return /^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$/.test(v);
    case 'time':
      return /\d{1,2}:\d{2}/.test(v) && /^[\d年月日:\- ~]+$/.test(v);
    case 'date':
      return /^\d{4}(年|-)/.test(v) && /^[\d年月日:\- ~]+$/.test(v);
    case 'phone_number':
      return len(v) <= 17 && /^[\d+\-() ]+$/.test(v);
    case 'car_number':
      return len(v) <= 8;
    case 'name':
      return han(v) ? len(v) <= 10 : len(v) <= 20;
    case 'phrase':
      return len(v) <= 5 && /^\p{Script=Han}+$/u.test(v);
    case 'const':
      return len(v) <= 20;
    default:
      return true;
  }
}

/**
 * 47003 for the first data key whose value does not fit its type, or a declared key that is
 * missing or empty; null when the data is acceptable.
 */
export function checkTypedData(data: Record<string, { value: string }>, declaredKeys?: readonly string[]): RuleError | null {
  for (const key of declaredKeys ?? []) {
    const v = data[key]?.value;
    if (v === undefined || v === '') return { errcode: 47003, errmsg: `argument invalid! data.${key}.value is empty` };
  }
  for (const [key, { value }] of Object.entries(data)) {
    if (!fits(key, value)) return { errcode: 47003, errmsg: `argument invalid! data.${key}.value invalid` };
  }
  return null;
}
