/**
 * The engagement sender: one planned message (an OutboxRow from the engagement queue) → at most
 * one WeChat message, whatever SQS does (duplicates, redelivery, retries, redrive).
 *
 * The send record at `keys.send(messageId)` is the message's state machine:
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
 * - Outcome writes: `sent` with the msgid, `keys.sendByMsgId(appId, msgid)` → messageId (for
 *   TEMPLATESENDJOBFINISH receipts) and a sent-log row (the caps read it); every suppression is
 *   a `keys.suppression(...)` row with its reason plus status `suppressed` on the send record.
 * - Errors (lib/wechat/errors.ts classification): 45015/45047 on a customer-service send → one
 *   template fallback (or `outside_window` when the payload has no template); retryable → released,
 *   retried by SQS with backoff; recipient / template / malformed request → `failed` with the
 *   errcode, not retried; account-level errors (IP whitelist, credentials, permission, an errcode
 *   not in the table) → released and retried, so they end in the dead-letter queue and are redriven
 *   once an operator fixed the account.
 * - Caps count the member's sent-log rows of the last 7 days (one bounded Query per member
 *   partition, including partitions merged into it). Two concurrent invocations for the same
 *   member may both pass the cap check in the same instant; the handler serialises one batch's
 *   messages per member, which covers the common case.
 */
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { BadRequestError, UpstreamApiError } from '../errors.ts';
import { readMember, type StoredMember } from '../members/record.ts';
import { isConditionFailed } from '../store/errors.ts';
import { keys, memberPrefixes, pad, TTL_ATTRIBUTE } from '../store/keys.ts';
import { localDay, startOfLocalDay } from '../time.ts';
import { classifyWechatError, isOutsideWindow } from '../wechat/errors.ts';
import type { CustomMessage, TemplateMessage, WechatApi } from '../wechat/wire.ts';
import { decide, hasTemplate, WEEK_MS, type EngagementPolicy, type SuppressReason } from './guardrails.ts';
import type { OutboxRow } from './outbox.ts';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** The engagement queue's message body (lib/engagement/outbox.ts OutboxRow). */
export const OutboxRowSchema = z.object({
  messageId: z.string().min(1).max(256),
  memberId: z.string().min(1),
  ruleId: z.string().min(1),
  step: z.string(),
  class: z.enum(['transactional', 'marketing']),
  destination: z.enum(['member', 'staff']),
  payload: z.record(z.string(), z.unknown()),
  appId: z.string().min(1).optional(),
  openid: z.string().min(1).optional(),
  triggeredAt: z.number().finite(),
  createdAt: z.number().finite().optional(),
  enqueuedAt: z.number().finite().optional(),
});

export type SendStatus = 'sending' | 'retry' | 'deferred' | 'sent' | 'suppressed' | 'failed' | 'unknown';
const TERMINAL: ReadonlySet<string> = new Set(['sent', 'suppressed', 'failed', 'unknown']);

export type Via = 'custom' | 'template';

export type SendOutcome =
  | { status: 'sent'; via: Via; msgid?: string; fallback?: boolean }
  | { status: 'suppressed'; reason: SenderSuppressReason }
  | { status: 'failed'; reason: string; errcode?: string }
  | { status: 'unknown'; reason: string }
  /** A duplicate delivery of a message already finished (or taken over by another delivery). */
  | { status: 'duplicate'; existing: string }
  /** Not done: SQS should deliver it again, after `delaySeconds` if given, else with backoff. */
  | { status: 'retry'; reason: string; delaySeconds?: number; errcode?: string };

export type SenderSuppressReason = SuppressReason | 'member_not_found' | 'no_address';

export interface SenderDeps {
  db: DynamoDBDocumentClient;
  table: string;
  /** Clock, epoch ms. */
  now: () => number;
  /** The official account's API client; rows for another appId fail with `unknown_app`. */
  wechat: WechatApi;
  policy: EngagementPolicy;
  /** HUB_TIMEZONE: quiet hours and the cap day. */
  tz: string;
  /** How long a claim is exclusive. Default 2 min (the sender's Lambda timeout is 30 s). */
  leaseMs?: number;
}

export const DEFAULT_LEASE_MS = 120_000;
/** WeChat dedupes openid + client_msg_id for 10 minutes (docs/platforms.md#wechat-template-messages). */
export const TEMPLATE_DEDUPE_WINDOW_MS = 600_000;
/** A resend relies on that dedupe only with this much of the window left (clock skew, latency). */
const DEDUPE_SAFETY_MS = 60_000;
/** Sent-log rows only feed the caps (7 days); kept a little longer for inspection. */
const SENT_LOG_TTL_MS = 35 * 86_400_000;
/** msgid → messageId rows serve delivery receipts, which arrive within minutes. */
const MSGID_TTL_MS = 30 * 86_400_000;
/** Upper bound of sent-log rows read per member partition for the caps. */
const CAP_QUERY_PAGES = 5;
const CAP_QUERY_PAGE_SIZE = 200;
const MAX_MERGED_PARTITIONS = 10;
/** Errcodes of an answer that never arrived or could not be read: WeChat may have sent the message. */
const AMBIGUOUS_ERRCODES: ReadonlySet<string> = new Set(['timeout', 'network', 'bad_response']);

interface SendRecord {
  status?: string;
  attempts?: number;
  leaseUntil?: number;
  claimToken?: string;
  callVia?: Via;
  callAt?: number;
  callClientMsgId?: string;
  callAppId?: string;
  callOpenid?: string;
}

interface Attempt {
  row: OutboxRow;
  deps: SenderDeps;
  token: string;
  now: number;
  /** The member partition the sent-log and suppression rows go to (the merge survivor once known). */
  memberId: string;
}

class Superseded extends Error {}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/** Sends one planned message at most once per `messageId`. Throws only on storage failures. */
export async function sendOne(row: OutboxRow, deps: SenderDeps): Promise<SendOutcome> {
  const now = deps.now();
  const claim = await claimSend(row, deps, now);
  if (claim.kind === 'done') return { status: 'duplicate', existing: claim.status };
  if (claim.kind === 'busy') return { status: 'retry', reason: 'in_flight', delaySeconds: claim.delaySeconds };
  const attempt: Attempt = { row, deps, token: claim.token, now, memberId: row.memberId };
  try {
    const prev = claim.previous;
    if (prev?.callVia) return await resolvePendingCall(attempt, prev);
    return await decideAndSend(attempt);
  } catch (err) {
    if (err instanceof Superseded) return { status: 'duplicate', existing: 'taken_over' };
    // Release the claim so the retry need not wait for the lease; any pending-call fields stay,
    // so the next attempt knows whether WeChat may already have the message.
    await release(attempt, 'retry', { lastError: errorText(err) }).catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Claim and release
// ---------------------------------------------------------------------------------------------

type Claim =
  | { kind: 'claimed'; token: string; previous: SendRecord | undefined }
  | { kind: 'done'; status: string }
  | { kind: 'busy'; delaySeconds: number };

async function claimSend(row: OutboxRow, deps: SenderDeps, now: number): Promise<Claim> {
  const token = randomUUID();
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  try {
    const res = await deps.db.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: keys.send(row.messageId),
        UpdateExpression:
          'SET #s = :sending, attempts = if_not_exists(attempts, :zero) + :one, claimToken = :tok, claimedAt = :now, leaseUntil = :lease, ' +
          'messageId = :mid, idempotencyKey = :mid, memberId = :member, ruleId = :rule, #step = :step, #class = :class, ' +
          'createdAt = if_not_exists(createdAt, :now), updatedAt = :now',
        ConditionExpression: 'attribute_not_exists(pk) OR #s IN (:retry, :deferred) OR (#s = :sending AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#s': 'status', '#step': 'step', '#class': 'class' },
        ExpressionAttributeValues: {
          ':sending': 'sending',
          ':retry': 'retry',
          ':deferred': 'deferred',
          ':zero': 0,
          ':one': 1,
          ':tok': token,
          ':now': now,
          ':lease': now + leaseMs,
          ':mid': row.messageId,
          ':member': row.memberId,
          ':rule': row.ruleId,
          ':step': row.step,
          ':class': row.class,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return { kind: 'claimed', token, previous: res.Attributes as SendRecord | undefined };
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    // The exception's Item is in DynamoDB's attribute-value form (the document client does not
    // convert errors), so the record is read back instead.
    const got = await deps.db.send(new GetCommand({ TableName: deps.table, Key: keys.send(row.messageId), ConsistentRead: true }));
    const existing = got.Item as SendRecord | undefined;
    const status = String(existing?.status ?? 'unknown');
    if (TERMINAL.has(status)) return { kind: 'done', status };
    const leaseLeft = Math.max(0, Number(existing?.leaseUntil ?? now) - now);
    return { kind: 'busy', delaySeconds: Math.max(1, Math.ceil(leaseLeft / 1000) + 1) };
  }
}

const fence = (a: Attempt) => ({
  ConditionExpression: 'claimToken = :tok',
  tokenValue: { ':tok': a.token },
});

/** Gives the message back (status `retry` or `deferred`); `clearCall` when nothing reached WeChat. */
async function release(
  a: Attempt,
  status: 'retry' | 'deferred',
  extra: { lastError?: string; lastErrcode?: string; deferUntil?: number; clearCall?: boolean } = {},
): Promise<void> {
  const sets = ['#s = :status', 'updatedAt = :now'];
  const values: Record<string, unknown> = { ':status': status, ':now': a.deps.now(), ...fence(a).tokenValue };
  if (extra.lastError !== undefined) {
    sets.push('lastError = :err');
    values[':err'] = extra.lastError;
  }
  if (extra.lastErrcode !== undefined) {
    sets.push('lastErrcode = :code');
    values[':code'] = extra.lastErrcode;
  }
  if (extra.deferUntil !== undefined) {
    sets.push('deferUntil = :until');
    values[':until'] = extra.deferUntil;
  }
  const removes = ['claimToken', 'leaseUntil'];
  if (extra.clearCall) removes.push('callVia', 'callAt', 'callClientMsgId', 'callAppId', 'callOpenid');
  try {
    await a.deps.db.send(
      new UpdateCommand({
        TableName: a.deps.table,
        Key: keys.send(a.row.messageId),
        UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
        ConditionExpression: fence(a).ConditionExpression,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new Superseded();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Decide and send
// ---------------------------------------------------------------------------------------------

async function decideAndSend(a: Attempt): Promise<SendOutcome> {
  const { row, deps, now } = a;
  if (row.destination === 'staff') return suppress(a, 'wrong_queue');
  const member = await readMember({ db: deps.db, table: deps.table }, row.memberId);
  if (!member) return suppress(a, 'member_not_found');
  a.memberId = member.memberId;
  const appId = row.appId ?? member.wechat?.appId;
  const openid = row.openid ?? member.wechat?.openid;
  if (!appId || !openid) return suppress(a, 'no_address');
  if (appId !== deps.wechat.appId) return fail(a, 'unknown_app');

  const counts = row.class === 'marketing' ? await countMarketing(deps, member, now) : { today: 0, week: 0 };
  const d = decide({
    row,
    member,
    now,
    sentMarketingToday: counts.today,
    sentMarketingWeek: counts.week,
    policy: deps.policy,
    tz: deps.tz,
  });
  switch (d.action) {
    case 'suppress':
      return suppress(a, d.reason);
    case 'defer': {
      await release(a, 'deferred', { deferUntil: d.until, clearCall: true });
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
  return markUnknown(a, prev.callVia === 'custom' ? 'custom_send_outcome_unknown' : 'template_dedupe_window_passed');
}

async function deliver(
  a: Attempt,
  via: Via,
  address: Address,
  opts: SendOptions,
): Promise<SendOutcome> {
  const { row, deps } = a;
  const clientMsgId = opts.clientMsgId ?? row.messageId;
  await markCall(a, via, address, clientMsgId, opts.resumed === true);
  let msgid: string | undefined;
  try {
    if (via === 'custom') await deps.wechat.sendCustom(renderCustom(row.payload, address.openid));
    else msgid = (await deps.wechat.sendTemplate(renderTemplate(row.payload, address.openid, clientMsgId))).msgid;
  } catch (err) {
    return onSendError(a, via, address, err, opts);
  }
  return recordSent(a, via, address, msgid, opts.fallback === true);
}

/**
 * Records the call about to be made. A resumed template call keeps the first call's time: the
 * dedupe window is counted from the first call with that client_msg_id.
 */
async function markCall(a: Attempt, via: Via, address: Address, clientMsgId: string, resumed: boolean): Promise<void> {
  const values: Record<string, unknown> = { ':via': via, ':at': a.deps.now(), ':app': address.appId, ':openid': address.openid, ...fence(a).tokenValue };
  let update = `SET callVia = :via, callAt = ${resumed ? 'if_not_exists(callAt, :at)' : ':at'}, callAppId = :app, callOpenid = :openid`;
  if (via === 'template') {
    update += ', callClientMsgId = :cmid';
    values[':cmid'] = clientMsgId;
  } else update += ' REMOVE callClientMsgId';
  try {
    await a.deps.db.send(
      new UpdateCommand({
        TableName: a.deps.table,
        Key: keys.send(a.row.messageId),
        UpdateExpression: update,
        ConditionExpression: fence(a).ConditionExpression,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new Superseded();
    throw err;
  }
}

async function onSendError(
  a: Attempt,
  via: Via,
  address: Address,
  err: unknown,
  opts: SendOptions,
): Promise<SendOutcome> {
  if (err instanceof BadRequestError) return fail(a, 'invalid_message', err.code);
  const info = classifyWechatError(err);
  if (!info || !(err instanceof UpstreamApiError)) throw err;
  const errcode = String(err.errcode);

  if (via === 'custom' && isOutsideWindow(err)) {
    if (opts.allowFallback && hasTemplate(a.row.payload)) {
      return deliver(a, 'template', address, { allowFallback: false, fallback: true });
    }
    return suppress(a, 'outside_window', errcode);
  }
  if (AMBIGUOUS_ERRCODES.has(errcode)) {
    // WeChat may have sent it. A template retry reuses the client_msg_id; a customer-service
    // message cannot be deduplicated, so it is not sent again.
    if (via === 'custom') return markUnknown(a, `custom_send_${errcode}`);
    await release(a, 'retry', { lastError: err.message, lastErrcode: errcode });
    return { status: 'retry', reason: `upstream_${errcode}`, errcode };
  }
  if (info.retryable || info.kind === 'config' || info.kind === 'unknown') {
    // An answer with an errcode (or an HTTP error status) means nothing was sent.
    await release(a, 'retry', { lastError: err.message, lastErrcode: errcode, clearCall: true });
    return { status: 'retry', reason: info.retryable ? `upstream_${info.kind}` : `needs_operator_${info.kind}`, errcode };
  }
  return fail(a, info.kind, errcode);
}

// ---------------------------------------------------------------------------------------------
// Outcome writes
// ---------------------------------------------------------------------------------------------

async function recordSent(a: Attempt, via: Via, address: Address, msgid: string | undefined, fallback: boolean): Promise<SendOutcome> {
  const { row, deps } = a;
  const at = deps.now();
  const values: Record<string, unknown> = { ':sent': 'sent', ':via': via, ':at': at };
  let update = 'SET #s = :sent, via = :via, sentAt = :at, updatedAt = :at';
  if (msgid !== undefined) {
    update += ', msgid = :msgid';
    values[':msgid'] = msgid;
  }
  if (fallback) {
    update += ', fallback = :true';
    values[':true'] = true;
  }
  update += ' REMOVE claimToken, leaseUntil, callVia, callAt, callClientMsgId, callAppId, callOpenid, deferUntil';
  // The message went out: these writes record that fact unconditionally (no fencing).
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    {
      Update: {
        TableName: deps.table,
        Key: keys.send(row.messageId),
        UpdateExpression: update,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: values,
      },
    },
    {
      Put: {
        TableName: deps.table,
        Item: {
          ...keys.sentLog(a.memberId, at, row.messageId),
          messageId: row.messageId,
          memberId: a.memberId,
          ruleId: row.ruleId,
          class: row.class,
          via,
          at,
          [TTL_ATTRIBUTE]: Math.ceil((at + SENT_LOG_TTL_MS) / 1000),
        },
      },
    },
  ];
  if (msgid !== undefined) {
    items.push({
      Put: {
        TableName: deps.table,
        Item: {
          ...keys.sendByMsgId(address.appId, msgid),
          idempotencyKey: row.messageId,
          messageId: row.messageId,
          memberId: a.memberId,
          at,
          [TTL_ATTRIBUTE]: Math.ceil((at + MSGID_TTL_MS) / 1000),
        },
      },
    });
  }
  await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
  return msgid === undefined ? { status: 'sent', via, ...(fallback && { fallback }) } : { status: 'sent', via, msgid, ...(fallback && { fallback }) };
}

async function suppress(a: Attempt, reason: SenderSuppressReason, errcode?: string): Promise<SendOutcome> {
  const { row, deps } = a;
  const at = deps.now();
  const values: Record<string, unknown> = { ':s': 'suppressed', ':reason': reason, ':at': at, ...fence(a).tokenValue };
  let update = 'SET #s = :s, reason = :reason, suppressedAt = :at, updatedAt = :at';
  if (errcode !== undefined) {
    update += ', errcode = :code';
    values[':code'] = errcode;
  }
  update += ' REMOVE claimToken, leaseUntil, callVia, callAt, callClientMsgId, callAppId, callOpenid, deferUntil';
  try {
    await deps.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: deps.table,
              Key: keys.send(row.messageId),
              UpdateExpression: update,
              ConditionExpression: fence(a).ConditionExpression,
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: values,
            },
          },
          {
            Put: {
              TableName: deps.table,
              Item: {
                ...keys.suppression(a.memberId, at, row.messageId),
                messageId: row.messageId,
                memberId: a.memberId,
                ruleId: row.ruleId,
                step: row.step,
                class: row.class,
                destination: row.destination,
                reason,
                ...(errcode !== undefined && { errcode }),
                at,
              },
            },
          },
        ],
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new Superseded();
    throw err;
  }
  return { status: 'suppressed', reason };
}

async function fail(a: Attempt, reason: string, errcode?: string): Promise<SendOutcome> {
  await finish(a, 'failed', { reason, ...(errcode !== undefined && { errcode }) });
  return errcode === undefined ? { status: 'failed', reason } : { status: 'failed', reason, errcode };
}

/** The message may or may not have gone out; it is never sent again. Counted for the caps (conservative). */
async function markUnknown(a: Attempt, reason: string): Promise<SendOutcome> {
  const { row, deps } = a;
  const at = deps.now();
  try {
    await deps.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: deps.table,
              Key: keys.send(row.messageId),
              UpdateExpression: 'SET #s = :s, reason = :reason, updatedAt = :at REMOVE claimToken, leaseUntil',
              ConditionExpression: fence(a).ConditionExpression,
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': 'unknown', ':reason': reason, ':at': at, ...fence(a).tokenValue },
            },
          },
          {
            Put: {
              TableName: deps.table,
              Item: {
                ...keys.sentLog(a.memberId, at, row.messageId),
                messageId: row.messageId,
                memberId: a.memberId,
                ruleId: row.ruleId,
                class: row.class,
                outcome: 'unknown',
                at,
                [TTL_ATTRIBUTE]: Math.ceil((at + SENT_LOG_TTL_MS) / 1000),
              },
            },
          },
        ],
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new Superseded();
    throw err;
  }
  return { status: 'unknown', reason };
}

async function finish(a: Attempt, status: 'failed', fields: { reason: string; errcode?: string }): Promise<void> {
  const at = a.deps.now();
  const values: Record<string, unknown> = { ':s': status, ':at': at, ':reason': fields.reason, ...fence(a).tokenValue };
  let update = 'SET #s = :s, reason = :reason, updatedAt = :at, finishedAt = :at';
  if (fields.errcode !== undefined) {
    update += ', errcode = :code';
    values[':code'] = fields.errcode;
  }
  try {
    await a.deps.db.send(
      new UpdateCommand({
        TableName: a.deps.table,
        Key: keys.send(a.row.messageId),
        UpdateExpression: `${update} REMOVE claimToken, leaseUntil, callVia, callAt, callClientMsgId, callAppId, callOpenid, deferUntil`,
        ConditionExpression: fence(a).ConditionExpression,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (isConditionFailed(err)) throw new Superseded();
    throw err;
  }
}

/** Records a queue message whose body is not an OutboxRow (never retried). Idempotent per SQS message id. */
export async function recordMalformed(
  deps: Pick<SenderDeps, 'db' | 'table' | 'now'>,
  sqsMessageId: string,
  body: string,
  issues: string,
): Promise<void> {
  const at = deps.now();
  await deps.db
    .send(
      new UpdateCommand({
        TableName: deps.table,
        Key: keys.send(`malformed#${sqsMessageId}`),
        UpdateExpression: 'SET #s = :s, reason = :r, issues = :i, body = :b, sqsMessageId = :id, createdAt = if_not_exists(createdAt, :at), updatedAt = :at',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'failed', ':r': 'malformed_body', ':i': issues.slice(0, 2000), ':b': body.slice(0, 4000), ':id': sqsMessageId, ':at': at },
      }),
    );
}

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

/** Marketing messages sent to the member in the current local day and in the last 7 days. */
export async function countMarketing(
  deps: Pick<SenderDeps, 'db' | 'table' | 'tz'>,
  member: Pick<StoredMember, 'memberId' | 'mergedFrom'>,
  now: number,
): Promise<{ today: number; week: number }> {
  const weekFrom = now - WEEK_MS;
  const dayFrom = startOfLocalDay(localDay(now, deps.tz), deps.tz);
  const partitions = [member.memberId, ...(member.mergedFrom ?? [])].slice(0, MAX_MERGED_PARTITIONS);
  let today = 0;
  let week = 0;
  const seen = new Set<string>();
  for (const id of partitions) {
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < CAP_QUERY_PAGES; page++) {
      const res = await deps.db.send(
        new QueryCommand({
          TableName: deps.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#c': 'class', '#at': 'at', '#m': 'messageId' },
          ExpressionAttributeValues: {
            ':pk': keys.memberPartition(id),
            ':from': `${memberPrefixes.sent}${pad(weekFrom + 1)}`,
            ':to': `${memberPrefixes.sent}${pad(now)}#\uffff`,
          },
          ProjectionExpression: '#c, #at, #m',
          Limit: CAP_QUERY_PAGE_SIZE,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of res.Items ?? []) {
        if (item.class !== 'marketing') continue;
        const key = String(item.messageId);
        if (seen.has(key)) continue;
        seen.add(key);
        const at = Number(item.at);
        week++;
        if (at >= dayFrom) today++;
      }
      startKey = res.LastEvaluatedKey;
      if (!startKey) break;
    }
  }
  return { today, week };
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/** Payload keys that are not template variables. */
const RESERVED = new Set(['templateId', 'url', 'link', 'miniprogram', 'data', 'custom', 'text']);

const isUrl = (s: unknown): s is string => {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * A template message from a payload: `templateId`; `data` (WeChat's `{key: {value}}` or plain
 * `{key: value}`), else every scalar payload field as a variable; `url` (or `link`) and
 * `miniprogram` when present. `client_msg_id` is the message id (WeChat's 10-minute dedupe).
 */
export function renderTemplate(payload: Record<string, unknown>, openid: string, clientMsgId: string): TemplateMessage {
  const data: Record<string, { value: string; color?: string }> = {};
  const source = payload.data && typeof payload.data === 'object' && !Array.isArray(payload.data) ? (payload.data as Record<string, unknown>) : undefined;
  if (source) {
    for (const [k, v] of Object.entries(source)) {
      if (v && typeof v === 'object' && 'value' in v) data[k] = { value: String((v as { value: unknown }).value) };
      else if (v !== undefined && v !== null) data[k] = { value: String(v) };
    }
  } else {
    for (const [k, v] of Object.entries(payload)) {
      if (RESERVED.has(k)) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = { value: String(v) };
    }
  }
  const msg: TemplateMessage = { touser: openid, templateId: String(payload.templateId), data, clientMsgId };
  const url = isUrl(payload.url) ? payload.url : isUrl(payload.link) ? payload.link : undefined;
  if (url) msg.url = url;
  const mp = payload.miniprogram as { appid?: unknown; pagepath?: unknown } | undefined;
  if (mp && typeof mp === 'object' && typeof mp.appid === 'string') {
    msg.miniprogram = { appid: mp.appid, ...(typeof mp.pagepath === 'string' && { pagepath: mp.pagepath }) };
  }
  return msg;
}

/** A customer-service message: the payload's wire-format `custom` object, else text (+ link). */
export function renderCustom(payload: Record<string, unknown>, openid: string): CustomMessage {
  const custom = payload.custom;
  if (custom && typeof custom === 'object' && typeof (custom as Record<string, unknown>).msgtype === 'string') {
    return { ...(custom as object), touser: openid } as CustomMessage;
  }
  const text = typeof payload.text === 'string' ? payload.text : '';
  const link = isUrl(payload.link) ? payload.link : isUrl(payload.url) ? payload.url : undefined;
  return { touser: openid, msgtype: 'text', text: { content: link ? `${text}\n${link}` : text } };
}

function errorText(err: unknown): string {
  return (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);
}
