/**
 * The engagement sender: one planned message (an OutboxRow from the engagement queue) → at most
 * one WeChat message, whatever SQS does (duplicates, redelivery, retries, redrive).
 *
 * The send record (lib/store/entities/send.ts, `SEND#<messageId>`) is the message's state machine:
 *
 *   (none) ─claim→ sending ─→ sent | suppressed | failed | unknown       (terminal)
 *                     ├──→ retry      (released after a retryable failure; claimable again)
 *                     └──→ deferred   (released until quiet hours end; claimable again)
 *
 * - Claim: one conditional update. It succeeds when there is no record, the record is `retry`
 *   or `deferred`, or it is `sending` with an expired lease (a worker died). A terminal record
 *   means a duplicate delivery: nothing is sent. A live `sending` lease means another delivery
 *   is working on it: this one is retried after the lease.
 * - Fencing: every later write of the attempt is conditional on the claim's random token, so a
 *   worker whose lease was taken over cannot overwrite the new owner's state.
 * - Before calling WeChat the attempt records which API it calls (`callVia`, `callAt`,
 *   `callClientMsgId`); the fields are cleared when the answer proves nothing was sent. A later
 *   attempt that finds them does not know whether the message went out:
 *     · template message: resent with the same `client_msg_id` while WeChat still dedupes it
 *       ("same openid + client_msg_id → one message, valid 10 minutes", docs/platforms.md#wechat-template-messages),
 *       which returns the original msgid instead of sending twice;
 *     · customer-service message (no idempotency key in the API), or a template past that window:
 *       marked `unknown` and never resent. Customer-service sends are at-most-once.
 *   The same rule covers an answer that never arrived (timeout, network error, unreadable body).
 * - Outcome writes: `sent` with the msgid, the msgid row (`SENDMSG#<appId>#<msgid>`) → messageId (for
 *   TEMPLATESENDJOBFINISH receipts) and a sent-log row (the caps read it); every suppression is
 *   a suppression row (`SUPPRESS#`) with its reason plus status `suppressed` on the send record.
 * - Errors (lib/wechat/errors.ts classification): 45015/45047 on a customer-service send → one
 *   template fallback (or `outside_window` when the payload has no template); retryable → released,
 *   retried by SQS with backoff; recipient / template / malformed request → `failed` with the
 *   errcode, not retried; account-level errors (IP whitelist, credentials, permission, an errcode
 *   not in the table) → released and retried, so they end in the dead-letter queue and are redriven
 *   once an operator fixed the account.
 * - Eligibility for the lift report: the first decision on a marketing message records the
 *   member's arm (lib/engagement/send/eligibility.ts, docs/design.md#lift), before the decision's
 *   own writes, whatever the decision (sent, deferred, capped, holdout).
 * - Caps count the member's sent-log rows of the last 7 days (one bounded Query per member
 *   partition, including partitions merged into it). Two concurrent invocations for the same
 *   member may both pass the cap check in the same instant; the handler serialises one batch's
 *   messages per member, which covers the common case.
 */
import { BadRequestError, UpstreamApiError } from '../../errors.ts';
import type { OutboxRow } from '../../events/messages.ts';
import { readMember } from '../../members/record.ts';
import { asSeenBy, sendingAddress } from '../../members/model.ts';
import type { Store } from '../../store/client.ts';
import { sends, type Fence, type Fenced, type SendRecord, type Via } from '../../store/entities/send.ts';
import { classifyWechatError, isOutsideWindow } from '../../wechat/errors.ts';
import type { WechatApi } from '../../wechat/wire.ts';
import type { EngagementPolicy } from '../../config/engagement.ts';
import type { TemplateMappings } from '../../config/rules.ts';
import { customWindow, decide, hasTemplate, type SuppressReason } from '../guardrails.ts';
import { countSends } from './caps.ts';
import { recordEligibility } from './eligibility.ts';
import { outbox } from '../../store/entities/outbox.ts';
import { erasures } from '../../store/entities/erasure.ts';
import { addDays, localDay, startOfLocalDay } from '../../time.ts';
import { renderCustom, renderSubscribe, renderTemplate } from './render.ts';

export type { SendStatus, Via } from '../../store/entities/send.ts';

export type SendOutcome =
  | { status: 'sent'; via: Via; msgid?: string; fallback?: boolean }
  | { status: 'suppressed'; reason: SenderSuppressReason }
  | { status: 'failed'; reason: string; errcode?: string }
  | { status: 'unknown'; reason: string }
  /** A duplicate delivery of a message already finished (or taken over by another delivery). */
  | { status: 'duplicate'; existing: string }
  /**
   * Held until `until` by a platform limit (45009 daily quota, 45047 window count): the queue
   * message is done and the outbox sweep enqueues the row again then (never the dead-letter queue).
   */
  | { status: 'deferred'; reason: DeferReason; until: number; errcode?: string }
  /** Not done: SQS should deliver it again, after `delaySeconds` if given, else with backoff. */
  | { status: 'retry'; reason: string; delaySeconds?: number; errcode?: string };

export type SenderSuppressReason = SuppressReason | 'member_not_found' | 'no_address' | 'erased';

/** Why a message waits for a platform limit to lift (docs/platforms.md#wechat-quota-errors). */
export type DeferReason = 'daily_quota' | 'window_quota';
const isLimitDefer = (r: unknown): r is DeferReason => r === 'daily_quota' || r === 'window_quota';

export interface SenderDeps extends Store {
  /** Clock, epoch ms. */
  now: () => number;
  /** The official account's API client; rows for another appId fail with `unknown_app`. */
  wechat: WechatApi;
  /** Another configured account's client (a nudge goes through the account last interacted with); absent or undefined: `unknown_app`. */
  wechatFor?: (appId: string) => WechatApi | undefined;
  policy: EngagementPolicy;
  /** Category-template field mappings (HUB_RULES_FILE `templates`); none: payload fields as sent. */
  templates?: TemplateMappings;
  /** HUB_TIMEZONE: quiet hours and the cap day. */
  tz: string;
  /** How long a claim is exclusive. Default 2 min (the sender's Lambda timeout is 30 s). */
  leaseMs?: number;
  /** HUB_MESSAGE_RETENTION_DAYS: send records and suppression rows expire after it (default 180). */
  messageRetentionDays?: number;
}

export const DEFAULT_LEASE_MS = 120_000;
/** WeChat dedupes openid + client_msg_id for 10 minutes (docs/platforms.md#wechat-template-messages). */
export const TEMPLATE_DEDUPE_WINDOW_MS = 600_000;
/** A resend relies on that dedupe only with this much of the window left (clock skew, latency). */
const DEDUPE_SAFETY_MS = 60_000;
/** Errcodes of an answer that never arrived or could not be read: WeChat may have sent the message. */
const AMBIGUOUS_ERRCODES: ReadonlySet<string> = new Set(['timeout', 'network', 'bad_response']);

interface Attempt {
  row: OutboxRow;
  deps: SenderDeps;
  fence: Fence;
  now: number;
  /** The member partition the sent-log and suppression rows go to (the merge survivor once known). */
  memberId: string;
}

/** The attempt's claim was taken over by another delivery; it stops without writing. */
export class Superseded extends Error {}

async function fenced(result: Promise<Fenced>): Promise<void> {
  if ((await result) === 'superseded') throw new Superseded();
}

/** Sends one planned message at most once per `messageId`. Throws only on storage failures. */
export async function sendOne(row: OutboxRow, deps: SenderDeps): Promise<SendOutcome> {
  const now = deps.now();
  const claim = await sends.claim(deps, row, now, deps.leaseMs ?? DEFAULT_LEASE_MS, deps.messageRetentionDays);
  if (claim.kind === 'done') return { status: 'duplicate', existing: claim.status };
  if (claim.kind === 'busy') return { status: 'retry', reason: 'in_flight', delaySeconds: claim.delaySeconds };
  const attempt: Attempt = { row, deps, fence: claim.fence, now, memberId: row.memberId };
  try {
    const prev = claim.previous;
    if (prev?.callVia) return await resolvePendingCall(attempt, prev);
    // A copy delivered before a platform limit lifts (a duplicate, a redrive) waits with it.
    if (prev?.status === 'deferred' && isLimitDefer(prev.deferReason) && Number(prev.deferUntil ?? 0) > now) {
      return await deferFor(attempt, prev.deferReason, Number(prev.deferUntil), prev.lastErrcode);
    }
    return await decideAndSend(attempt);
  } catch (err) {
    if (err instanceof Superseded) return { status: 'duplicate', existing: 'taken_over' };
    // Release the claim so the retry need not wait for the lease; any pending-call fields stay,
    // so the next attempt knows whether WeChat may already have the message.
    await release(attempt, 'retry', { lastError: errorText(err) }).catch(() => undefined);
    throw err;
  }
}

/** Gives the message back (status `retry` or `deferred`); `clearCall` when nothing reached WeChat. */
function release(a: Attempt, status: 'retry' | 'deferred', extra: Parameters<typeof sends.release>[4] = {}): Promise<void> {
  return fenced(sends.release(a.deps, a.fence, status, a.deps.now(), extra));
}

async function decideAndSend(a: Attempt): Promise<SendOutcome> {
  const { row, deps, now } = a;
  if (row.destination === 'staff') return suppress(a, 'wrong_queue');
  const member = await readMember({ db: deps.db, table: deps.table }, row.memberId);
  if (!member) {
    // An erased person's queued message leaves no trace of them (docs/privacy.md#erasure).
    if (await erasures.get(deps, row.memberId)) {
      await fenced(sends.discard(deps, a.fence));
      return { status: 'suppressed', reason: 'erased' };
    }
    return suppress(a, 'member_not_found');
  }
  a.memberId = member.memberId;
  // The rule's account (the triggering event's), else the followed account last interacted with.
  const fallback = sendingAddress(member);
  // A transactional message (the person's own points, order) still goes when they unfollowed the
  // rule's account but follow another of the brand's; marketing stays with the account it was
  // planned for, and stops there with the unfollow.
  const reroute = row.class === 'transactional' && row.appId !== undefined && member.apps?.[row.appId]?.followed === false && fallback !== undefined && fallback.appId !== row.appId && member.apps?.[fallback.appId]?.followed === true;
  const appId = reroute ? fallback.appId : (row.appId ?? fallback?.appId);
  const openid = reroute ? fallback.openid : (row.openid ?? (row.appId ? member.apps?.[row.appId]?.openid ?? member.wechat?.openid : fallback?.openid));
  if (!appId || !openid) return suppress(a, 'no_address');
  if (appId !== deps.wechat.appId) {
    const other = deps.wechatFor?.(appId);
    if (!other) return fail(a, 'unknown_app');
    a.deps = { ...deps, wechat: other };
  }

  const counts = await countSends(deps, member, now);
  const d = decide({
    row,
    // Follow state and the interaction window are those of the account the send goes through.
    member: asSeenBy(member, appId),
    now,
    sentMarketingToday: counts.today,
    sentMarketingWeek: counts.week,
    sentCustomInWindow: counts.customInWindow,
    policy: deps.policy,
    tz: deps.tz,
  });
  // The lift report's eligibility, at the first decision whatever it is (docs/design.md#lift).
  await recordEligibility(deps, row, member.memberId, d, now);
  switch (d.action) {
    case 'suppress':
      return suppress(a, d.reason);
    case 'defer': {
      await release(a, 'deferred', { deferUntil: d.until, deferReason: d.reason, clearCall: true });
      return { status: 'retry', reason: d.reason, delaySeconds: Math.max(1, Math.ceil((d.until - now) / 1000)) };
    }
    case 'send':
      return deliver(a, d.via, { appId, openid }, { allowFallback: true });
  }
}

interface Address {
  appId: string;
  openid: string;
}

interface SendOptions {
  /** A customer-service send outside its window may fall back to a template (once). */
  allowFallback: boolean;
  /** Default: the message id. */
  clientMsgId?: string;
  /** This send is the template fallback of a customer-service send. */
  fallback?: boolean;
  /** Resuming a call that may already have reached WeChat. */
  resumed?: boolean;
}

/** Resumes an attempt that may have reached WeChat (worker died, or the answer never arrived). */
async function resolvePendingCall(a: Attempt, prev: SendRecord): Promise<SendOutcome> {
  const member = await readMember({ db: a.deps.db, table: a.deps.table }, a.row.memberId);
  if (member) a.memberId = member.memberId;
  const address = prev.callAppId && prev.callOpenid ? { appId: prev.callAppId, openid: prev.callOpenid } : undefined;
  const age = a.now - Number(prev.callAt ?? 0);
  if (
    prev.callVia === 'template' &&
    prev.callClientMsgId &&
    address &&
    age >= 0 &&
    age < TEMPLATE_DEDUPE_WINDOW_MS - DEDUPE_SAFETY_MS &&
    hasTemplate(a.row.payload)
  ) {
    // Same client_msg_id: WeChat answers with the first msgid if the earlier call got through.
    return deliver(a, 'template', address, { allowFallback: false, clientMsgId: prev.callClientMsgId, resumed: true });
  }
  return markUnknown(a, prev.callVia === 'template' ? 'template_dedupe_window_passed' : `${prev.callVia}_send_outcome_unknown`);
}

async function deliver(
  a: Attempt,
  via: Via,
  address: Address,
  opts: SendOptions,
): Promise<SendOutcome> {
  const { row, deps } = a;
  const clientMsgId = opts.clientMsgId ?? row.messageId;
  await fenced(sends.markCall(deps, a.fence, { via, at: deps.now(), ...address, clientMsgId, resumed: opts.resumed === true }));
  let msgid: string | undefined;
  try {
    if (via === 'custom') await deps.wechat.sendCustom(renderCustom(row.payload, address.openid));
    else if (via === 'subscribe') await deps.wechat.sendSubscribe(renderSubscribe(row.payload, address.openid, deps.templates));
    else msgid = (await deps.wechat.sendTemplate(renderTemplate(row.payload, address.openid, clientMsgId, deps.templates))).msgid;
  } catch (err) {
    return onSendError(a, via, address, err, opts);
  }
  const fallback = opts.fallback === true;
  await sends.recordSent(deps, { row, memberId: a.memberId, via, appId: address.appId, ...(msgid !== undefined && { msgid }), fallback, at: deps.now() });
  return msgid === undefined ? { status: 'sent', via, ...(fallback && { fallback }) } : { status: 'sent', via, msgid, ...(fallback && { fallback }) };
}

async function onSendError(
  a: Attempt,
  via: Via,
  address: Address,
  err: unknown,
  opts: SendOptions,
): Promise<SendOutcome> {
  if (err instanceof BadRequestError) return fail(a, err.code === 'template_data_invalid' ? `template_data_invalid: ${err.message}` : 'invalid_message', err.code);
  const info = classifyWechatError(err);
  if (!info || !(err instanceof UpstreamApiError)) throw err;
  const errcode = String(err.errcode);

  if (errcode === '45009') return deferFor(a, 'daily_quota', nextLocalDay(a.deps.now(), a.deps.tz), errcode);
  if (via === 'custom' && isOutsideWindow(err)) {
    if (opts.allowFallback && hasTemplate(a.row.payload)) {
      return deliver(a, 'template', address, { allowFallback: false, fallback: true });
    }
    // 45047: WeChat counted the window's messages used up; the next window opens with the
    // person's next action. Decided again once the current window has ended.
    if (errcode === '45047') return deferFor(a, 'window_quota', await windowEnd(a), errcode);
    return suppress(a, 'outside_window', errcode);
  }
  if (AMBIGUOUS_ERRCODES.has(errcode)) {
    // WeChat may have sent it. A template retry reuses the client_msg_id; a customer-service or
    // subscription message cannot be deduplicated, so it is not sent again.
    if (via !== 'template') return markUnknown(a, `${via}_send_${errcode}`);
    await release(a, 'retry', { lastError: err.message, lastErrcode: errcode });
    return { status: 'retry', reason: `upstream_${errcode}`, errcode };
  }
  if (info.retryable || info.kind === 'config' || info.kind === 'unknown') {
    // An answer with an errcode (or an HTTP error status) means nothing was sent.
    await release(a, 'retry', { lastError: err.message, lastErrcode: errcode, clearCall: true });
    return { status: 'retry', reason: info.retryable ? `upstream_${info.kind}` : `needs_operator_${info.kind}`, errcode };
  }
  // 47003 names the template key whose value WeChat refused: kept as the reason.
  if (errcode === '47003') return fail(a, `invalid_template_data: ${err.message.slice(0, 300)}`, errcode);
  return fail(a, info.kind, errcode);
}

/** Start of the next local day (HUB_TIMEZONE; Asia/Shanghai is Beijing time, when WeChat's daily quotas are taken to reset). */
function nextLocalDay(now: number, tz: string): number {
  return startOfLocalDay(addDays(localDay(now, tz), 1), tz);
}

/** When the member's current customer-service window ends (at least one minute from now). */
async function windowEnd(a: Attempt): Promise<number> {
  const now = a.deps.now();
  const member = await readMember({ db: a.deps.db, table: a.deps.table }, a.row.memberId);
  const w = member ? customWindow({ row: a.row, member, now, policy: a.deps.policy }) : undefined;
  return Math.max(now + 60_000, w?.until ?? 0);
}

/**
 * Holds the message until `until`: the send record is `deferred` with the reason and errcode,
 * and the outbox row is pending again at `until` (the sweep enqueues it then).
 */
async function deferFor(a: Attempt, reason: DeferReason, until: number, errcode?: string): Promise<SendOutcome> {
  await release(a, 'deferred', { deferUntil: until, deferReason: reason, clearCall: true, ...(errcode !== undefined && { lastErrcode: errcode }) });
  await outbox.reschedule(a.deps, a.row, until);
  return { status: 'deferred', reason, until, ...(errcode !== undefined && { errcode }) };
}

async function suppress(a: Attempt, reason: SenderSuppressReason, errcode?: string): Promise<SendOutcome> {
  const x = { row: a.row, memberId: a.memberId, reason, at: a.deps.now(), ...(a.deps.messageRetentionDays !== undefined && { retentionDays: a.deps.messageRetentionDays }), ...(errcode !== undefined && { errcode }) };
  await fenced(sends.suppress(a.deps, a.fence, x));
  return { status: 'suppressed', reason };
}

async function fail(a: Attempt, reason: string, errcode?: string): Promise<SendOutcome> {
  await fenced(sends.fail(a.deps, a.fence, { reason, at: a.deps.now(), ...(errcode !== undefined && { errcode }) }));
  return errcode === undefined ? { status: 'failed', reason } : { status: 'failed', reason, errcode };
}

/** The message may or may not have gone out; it is never sent again. Counted for the caps (conservative). */
async function markUnknown(a: Attempt, reason: string): Promise<SendOutcome> {
  await fenced(sends.markUnknown(a.deps, a.fence, { row: a.row, memberId: a.memberId, reason, at: a.deps.now() }));
  return { status: 'unknown', reason };
}

/** Records a queue message whose body is not an OutboxRow (never retried). Idempotent per SQS message id. */
export async function recordMalformed(deps: Pick<SenderDeps, 'db' | 'table' | 'now'>, sqsMessageId: string, body: string, issues: string): Promise<void> {
  await sends.recordMalformed(deps, sqsMessageId, body, issues, deps.now());
}

function errorText(err: unknown): string {
  return (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);
}
