/**
 * WeChat customer-service (客服) windows as a table: which user action opens a window, how many
 * customer-service messages it allows and for how long (docs/platforms.md#wechat-customer-service-windows,
 * the official 客服消息下发规则 table). Pure: the caller passes the kind and time of the person's
 * last window-opening action, how many customer-service messages were already sent since, and
 * the clock.
 *
 * Rules the table encodes:
 *   - a message from the person opens 48 h for 5 messages;
 *   - a menu `CLICK` and the `scancode_push` / `scancode_waitmsg` menus open 1 min for 3;
 *   - a follow and a parametric QR scan open 1 min for 3;
 *   - a payment success (service accounts) opens 48 h without a count limit;
 *   - `VIEW` (a menu link), `LOCATION` (auto-reported) and every other event open nothing, and a
 *     template or subscription message sent by the account opens nothing either. Such events are
 *     not recorded as interactions at all, so they neither open nor close a window.
 * Quotas do not accumulate: the latest action sets the window and its count afresh. When an
 * action with a shorter window follows a longer one (a menu click an hour after a message), the
 * hub keeps only the latest one: it may send fewer customer-service messages than WeChat would
 * allow, never more.
 */

/** The person's actions the hub records as the last interaction (MemberRecord.lastInteractionKind). */
export const INTERACTION_KINDS = ['message', 'menu_click', 'scancode', 'follow', 'qr_scan', 'payment'] as const;
export type InteractionKind = (typeof INTERACTION_KINDS)[number];

export interface WindowRow {
  /** Customer-service messages allowed in the window; null: no count limit. */
  readonly quota: number | null;
  /** How long the window stays open after the action. */
  readonly windowMs: number;
}

const MINUTE_MS = 60_000;
const HOURS_48_MS = 48 * 3_600_000;

/** docs/platforms.md#wechat-customer-service-windows (official account, service account page). */
export const CUSTOMER_SERVICE_WINDOWS: Readonly<Record<InteractionKind, WindowRow>> = Object.freeze({
  message: { quota: 5, windowMs: HOURS_48_MS },
  menu_click: { quota: 3, windowMs: MINUTE_MS },
  scancode: { quota: 3, windowMs: MINUTE_MS },
  follow: { quota: 3, windowMs: MINUTE_MS },
  qr_scan: { quota: 3, windowMs: MINUTE_MS },
  payment: { quota: null, windowMs: HOURS_48_MS },
});

/** Upper bounds an operator may set below the table (HUB_ENGAGEMENT_POLICY): long and short windows. */
export interface WindowLimits {
  /** Cap of a 48-hour window, ms. */
  longMs: number;
  /** Cap of a 1-minute window, ms. */
  shortMs: number;
}

export interface WindowInput {
  /** Kind of the last window-opening action; undefined: none recorded. */
  kind: InteractionKind | undefined;
  /** Its time, epoch ms. */
  at: number | undefined;
  /** Customer-service messages already sent at or after `at`. */
  sentInWindow: number;
  /** Epoch ms. */
  now: number;
  limits?: WindowLimits;
}

export type WindowVerdict =
  | { open: true; until: number; remaining: number | null }
  | { open: false; reason: 'no_interaction' | 'expired' | 'quota_used'; until?: number };

/** The window length of a row under `limits`. */
function lengthOf(row: WindowRow, limits: WindowLimits | undefined): number {
  if (!limits) return row.windowMs;
  return Math.min(row.windowMs, row.windowMs > MINUTE_MS ? limits.longMs : limits.shortMs);
}

/** Whether a customer-service message may be sent now, and until when the window stays open. */
export function customerServiceWindow(input: WindowInput): WindowVerdict {
  const { kind, at, now } = input;
  if (kind === undefined || at === undefined) return { open: false, reason: 'no_interaction' };
  const row = CUSTOMER_SERVICE_WINDOWS[kind];
  const until = at + lengthOf(row, input.limits);
  if (now >= until) return { open: false, reason: 'expired', until };
  if (row.quota !== null && input.sentInWindow >= row.quota) return { open: false, reason: 'quota_used', until };
  return { open: true, until, remaining: row.quota === null ? null : row.quota - input.sentInWindow };
}

/**
 * Whether an action (`kind` at `at`) replaces the recorded one as the last interaction: a later
 * one does; at the same instant (WeChat's CreateTime has whole seconds) the one with the shorter
 * window wins, then the smaller name, so the result does not depend on arrival order and never
 * promises more than either action allows.
 */
export function supersedes(kind: InteractionKind, at: number, current: { kind?: InteractionKind | undefined; at?: number | undefined }): boolean {
  if (current.at === undefined || at > current.at) return true;
  if (at < current.at || current.kind === undefined) return false;
  const a = CUSTOMER_SERVICE_WINDOWS[kind].windowMs;
  const b = CUSTOMER_SERVICE_WINDOWS[current.kind].windowMs;
  return a !== b ? a < b : kind < current.kind;
}

/** The interaction kind a WeChat push records, or undefined for one that opens no window. */
export function interactionKindOf(e: { type: string; kind?: string }): InteractionKind | undefined {
  switch (e.type) {
    case 'wechat.follow':
      return 'follow';
    case 'wechat.scan':
      return 'qr_scan';
    case 'wechat.interaction':
      if (e.kind === 'message') return 'message';
      if (e.kind === 'click') return 'menu_click';
      if (e.kind === 'scancode') return 'scancode';
      return undefined;
    default:
      return undefined;
  }
}
