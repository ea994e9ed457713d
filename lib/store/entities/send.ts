/**
 * Send records: `SEND#<idempotencyKey> | #`, the engagement sender's per-message state machine
 * (lib/engagement/send/flow.ts explains the states), and `SENDMSG#<appId>#<msgid> | #`, the
 * WeChat msgid → message id row that delivery receipts (TEMPLATESENDJOBFINISH) look up.
 *
 * Every transition of an attempt after its claim is fenced by the claim's random token: it
 * answers 'superseded' when another attempt took the record over (the condition failure is
 * translated here, once). Recording a sent message is unconditional: it went out.
 */
import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import type { OutboxRow } from '../../events/messages.ts';
import type { Store } from '../client.ts';
import { isConditionFailed } from '../errors.ts';
import { ForeignKeyError, parseRootKey, ROOT, splitKey, TTL_ATTRIBUTE, type Key } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { sentLogItem } from './sent-log.ts';
import { suppressionItem } from './suppression.ts';

const SEND = 'SEND';
const SENDMSG = 'SENDMSG';

export const sendKey = (idempotencyKey: string): Key => ({ pk: `${SEND}#${idempotencyKey}`, sk: ROOT });
export const sendByMsgIdKey = (appId: string, msgId: string): Key => ({ pk: `${SENDMSG}#${appId}#${msgId}`, sk: ROOT });

/** The idempotency key (the message id) of a send-record key; throws on any other key. */
export function parseSendKey(k: Key): { idempotencyKey: string } {
  return { idempotencyKey: parseRootKey(k, SEND, 'send') };
}

/** appId and msgid of a msgid row key (an appId has no `#`); throws on any other key. */
export function parseSendByMsgIdKey(k: Key): { appId: string; msgId: string } {
  if (k.sk !== ROOT) throw new ForeignKeyError(`${k.pk} ${k.sk}`, 'msgid');
  const [appId, msgId] = splitKey(k.pk, SENDMSG, 2, 'msgid') as [string, string];
  return { appId, msgId };
}

/** The result MASSSENDJOBFINISH reports for a mass send (lib/events/hub-event.ts WechatMassReceipt). */
export interface MassSendResult {
  status: 'sent' | 'failed' | 'rejected';
  rawStatus: string;
  totalCount: number;
  filterCount: number;
  sentCount: number;
  errorCount: number;
}

export type SendStatus = 'sending' | 'retry' | 'deferred' | 'sent' | 'suppressed' | 'failed' | 'unknown';
const TERMINAL: ReadonlySet<string> = new Set(['sent', 'suppressed', 'failed', 'unknown']);
/** The API a message went through: WeChat's customer-service, template, subscription send; WeCom's welcome and app message. */
export type Via = 'custom' | 'template' | 'subscribe' | 'wecom_welcome' | 'wecom_app';

export interface SendRecord {
  status?: string;
  attempts?: number;
  leaseUntil?: number;
  claimToken?: string;
  callVia?: Via;
  callAt?: number;
  callClientMsgId?: string;
  callAppId?: string;
  callOpenid?: string;
  /** A deferred record: until when (epoch ms) and why (`quiet_hours`, `daily_quota`, `window_quota`). */
  deferUntil?: number;
  deferReason?: string;
  lastErrcode?: string;
}

export type Claim =
  | { kind: 'claimed'; fence: Fence; previous: SendRecord | undefined }
  | { kind: 'done'; status: string }
  | { kind: 'busy'; delaySeconds: number };

/** An attempt's hold on a record: later writes succeed only while the token is still the record's. */
export interface Fence {
  messageId: string;
  token: string;
}

export type Fenced = 'ok' | 'superseded';

/** msgid → messageId rows serve delivery receipts, which arrive within minutes. */
const MSGID_TTL_MS = 30 * 86_400_000;
/** Send records and suppression rows live this many days by default (HUB_MESSAGE_RETENTION_DAYS). */
export const MESSAGE_RETENTION_DAYS = 180;
/** Fields of an attempt in progress, removed when the record reaches an outcome. */
const ATTEMPT_FIELDS = 'claimToken, leaseUntil, callVia, callAt, callClientMsgId, callAppId, callOpenid, deferUntil, deferReason';
const CALL_FIELDS = ['callVia', 'callAt', 'callClientMsgId', 'callAppId', 'callOpenid'];
const STATUS = { '#s': 'status' };

type Row = Pick<OutboxRow, 'messageId' | 'memberId' | 'ruleId' | 'step' | 'class' | 'destination'>;

/** `SET a = :a, …` clauses for the fields that are defined. */
function optionalSets(fields: Record<string, unknown>): { sets: string[]; values: Record<string, unknown> } {
  const sets: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    sets.push(`${name} = :${name}`);
    values[`:${name}`] = v;
  }
  return { sets, values };
}

async function fenced(write: Promise<unknown>): Promise<Fenced> {
  try {
    await write;
    return 'ok';
  } catch (err) {
    if (isConditionFailed(err)) return 'superseded';
    throw err;
  }
}

/** The fenced update of the send record, as a transaction item or a command input. */
function fencedUpdate(s: Store, f: Fence, update: string, values: Record<string, unknown>, names?: Record<string, string>) {
  return {
    TableName: s.table,
    Key: sendKey(f.messageId),
    UpdateExpression: update,
    ConditionExpression: 'claimToken = :tok',
    ...(names && { ExpressionAttributeNames: names }),
    ExpressionAttributeValues: { ...values, ':tok': f.token },
  };
}

export const sends = {
  /**
   * Claims the record for `leaseMs`: succeeds when there is no record, it is `retry` or
   * `deferred`, or `sending` with an expired lease; `previous` is the record before the claim.
   * A terminal record is `done`; a live lease of another attempt is `busy`.
   */
  async claim(s: Store, row: Row, now: number, leaseMs: number, retentionDays = MESSAGE_RETENTION_DAYS): Promise<Claim> {
    const token = randomUUID();
    try {
      const res = await s.db.send(
        new UpdateCommand({
          TableName: s.table,
          Key: sendKey(row.messageId),
          UpdateExpression:
            'SET #s = :sending, attempts = if_not_exists(attempts, :zero) + :one, claimToken = :tok, claimedAt = :now, leaseUntil = :lease, ' +
            'messageId = :mid, idempotencyKey = :mid, memberId = :member, ruleId = :rule, #step = :step, #class = :class, ' +
            'createdAt = if_not_exists(createdAt, :now), updatedAt = :now, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(pk) OR #s IN (:retry, :deferred) OR (#s = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { ...STATUS, '#step': 'step', '#class': 'class', '#ttl': TTL_ATTRIBUTE },
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
            ':ttl': Math.ceil(now / 1000) + retentionDays * 86_400,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { kind: 'claimed', fence: { messageId: row.messageId, token }, previous: res.Attributes as SendRecord | undefined };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // The exception's Item is in DynamoDB's attribute-value form (the document client does not
      // convert errors), so the record is read back instead.
      const got = await s.db.send(new GetCommand({ TableName: s.table, Key: sendKey(row.messageId), ConsistentRead: true }));
      const existing = got.Item as SendRecord | undefined;
      const status = String(existing?.status ?? 'unknown');
      if (TERMINAL.has(status)) return { kind: 'done', status };
      const leaseLeft = Math.max(0, Number(existing?.leaseUntil ?? now) - now);
      return { kind: 'busy', delaySeconds: Math.max(1, Math.ceil(leaseLeft / 1000) + 1) };
    }
  },

  /** Gives the message back (`retry` or `deferred`); `clearCall` when nothing reached WeChat. */
  release(
    s: Store,
    f: Fence,
    status: 'retry' | 'deferred',
    at: number,
    extra: { lastError?: string; lastErrcode?: string; deferUntil?: number; deferReason?: string; clearCall?: boolean } = {},
  ): Promise<Fenced> {
    const opt = optionalSets({ lastError: extra.lastError, lastErrcode: extra.lastErrcode, deferUntil: extra.deferUntil, deferReason: extra.deferReason });
    const removes = ['claimToken', 'leaseUntil', ...(extra.clearCall ? CALL_FIELDS : [])];
    const update = `SET ${['#s = :status', 'updatedAt = :now', ...opt.sets].join(', ')} REMOVE ${removes.join(', ')}`;
    return fenced(s.db.send(new UpdateCommand(fencedUpdate(s, f, update, { ':status': status, ':now': at, ...opt.values }, STATUS))));
  },

  /**
   * Records the call about to be made. A resumed template call keeps the first call's time: the
   * dedupe window is counted from the first call with that client_msg_id.
   */
  markCall(s: Store, f: Fence, c: { via: Via; at: number; appId: string; openid: string; clientMsgId: string; resumed: boolean }): Promise<Fenced> {
    const values: Record<string, unknown> = { ':via': c.via, ':at': c.at, ':app': c.appId, ':openid': c.openid };
    let update = `SET callVia = :via, callAt = ${c.resumed ? 'if_not_exists(callAt, :at)' : ':at'}, callAppId = :app, callOpenid = :openid`;
    if (c.via === 'template') {
      update += ', callClientMsgId = :cmid';
      values[':cmid'] = c.clientMsgId;
    } else update += ' REMOVE callClientMsgId';
    return fenced(s.db.send(new UpdateCommand(fencedUpdate(s, f, update, values))));
  },

  /** The message went out: status `sent`, a sent-log row and (with a msgid) the msgid row, unconditionally. */
  async recordSent(s: Store, x: { row: Row; memberId: string; via: Via; appId: string; msgid?: string; fallback: boolean; at: number }): Promise<void> {
    const { row, at } = x;
    const opt = optionalSets({ msgid: x.msgid, fallback: x.fallback ? true : undefined });
    const update = `SET ${['#s = :sent', 'via = :via', 'sentAt = :at', 'updatedAt = :at', ...opt.sets].join(', ')} REMOVE ${ATTEMPT_FIELDS}`;
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: s.table,
          Key: sendKey(row.messageId),
          UpdateExpression: update,
          ExpressionAttributeNames: STATUS,
          ExpressionAttributeValues: { ':sent': 'sent', ':via': x.via, ':at': at, ...opt.values },
        },
      },
      { Put: { TableName: s.table, Item: sentLogItem({ row, memberId: x.memberId, at, via: x.via }) } },
    ];
    if (x.msgid !== undefined) {
      const item = {
        ...sendByMsgIdKey(x.appId, x.msgid),
        idempotencyKey: row.messageId,
        messageId: row.messageId,
        memberId: x.memberId,
        at,
        [TTL_ATTRIBUTE]: Math.ceil((at + MSGID_TTL_MS) / 1000),
      };
      items.push({ Put: { TableName: s.table, Item: item } });
    }
    await s.db.send(new TransactWriteCommand({ TransactItems: items }));
  },

  /** Status `suppressed` with its reason, plus the suppression row. */
  suppress(s: Store, f: Fence, x: { row: Row; memberId: string; reason: string; errcode?: string; at: number; retentionDays?: number }): Promise<Fenced> {
    const opt = optionalSets({ errcode: x.errcode });
    const update = `SET ${['#s = :s', 'reason = :reason', 'suppressedAt = :at', 'updatedAt = :at', ...opt.sets].join(', ')} REMOVE ${ATTEMPT_FIELDS}`;
    const values = { ':s': 'suppressed', ':reason': x.reason, ':at': x.at, ...opt.values };
    return fenced(
      s.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: fencedUpdate(s, f, update, values, STATUS) },
            { Put: { TableName: s.table, Item: suppressionItem({ row: x.row, memberId: x.memberId, reason: x.reason, at: x.at, retentionDays: x.retentionDays ?? MESSAGE_RETENTION_DAYS, ...(x.errcode !== undefined && { errcode: x.errcode }) }) } },
          ],
        }),
      ),
    );
  },

  /**
   * Forgets the message of an erased member (lib/privacy/erase.ts): the claimed record is deleted
   * (fenced), and no suppression row is written, so nothing names the person again.
   */
  discard(s: Store, f: Fence): Promise<Fenced> {
    return fenced(s.db.send(new DeleteCommand({ TableName: s.table, Key: sendKey(f.messageId), ConditionExpression: 'claimToken = :tok', ExpressionAttributeValues: { ':tok': f.token } })));
  },

  /** Status `failed` (not retried) with its reason and errcode. */
  fail(s: Store, f: Fence, x: { reason: string; errcode?: string; at: number }): Promise<Fenced> {
    const opt = optionalSets({ errcode: x.errcode });
    const update = `SET ${['#s = :s', 'reason = :reason', 'updatedAt = :at', 'finishedAt = :at', ...opt.sets].join(', ')} REMOVE ${ATTEMPT_FIELDS}`;
    return fenced(s.db.send(new UpdateCommand(fencedUpdate(s, f, update, { ':s': 'failed', ':at': x.at, ':reason': x.reason, ...opt.values }, STATUS))));
  },

  /** Status `unknown` (never sent again) plus a sent-log row: the caps count it, conservatively. */
  markUnknown(s: Store, f: Fence, x: { row: Row; memberId: string; reason: string; at: number }): Promise<Fenced> {
    const update = 'SET #s = :s, reason = :reason, updatedAt = :at REMOVE claimToken, leaseUntil';
    return fenced(
      s.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: fencedUpdate(s, f, update, { ':s': 'unknown', ':reason': x.reason, ':at': x.at }, STATUS) },
            { Put: { TableName: s.table, Item: sentLogItem({ row: x.row, memberId: x.memberId, at: x.at, outcome: 'unknown' }) } },
          ],
        }),
      ),
    );
  },

  /** A queue message whose body is not an OutboxRow (never retried). Idempotent per SQS message id. */
  async recordMalformed(s: Store, sqsMessageId: string, body: string, issues: string, at: number): Promise<void> {
    await s.db.send(
      new UpdateCommand({
        TableName: s.table,
        Key: sendKey(`malformed#${sqsMessageId}`),
        UpdateExpression: 'SET #s = :s, reason = :r, issues = :i, body = :b, sqsMessageId = :id, createdAt = if_not_exists(createdAt, :at), updatedAt = :at',
        ExpressionAttributeNames: STATUS,
        ExpressionAttributeValues: { ':s': 'failed', ':r': 'malformed_body', ':i': issues.slice(0, 2000), ':b': body.slice(0, 4000), ':id': sqsMessageId, ':at': at },
      }),
    );
  },

  /** Adds a delivery receipt to an existing send record (tag `receipt`). */
  recordReceipt(tx: Tx, idempotencyKey: string, status: string, at: number): void {
    tx.update('receipt', sendKey(idempotencyKey), { update: 'SET receipt = :r, receiptAt = :t', values: { ':r': status, ':t': at } }, { expr: 'attribute_exists(pk)' });
  },

  /** A mass send's MASSSENDJOBFINISH result (status and WeChat's counts) on the send that issued it. */
  recordMassReceipt(tx: Tx, idempotencyKey: string, result: MassSendResult, at: number): void {
    tx.update('mass receipt', sendKey(idempotencyKey), { update: 'SET receipt = :r, massResult = :m, receiptAt = :t', values: { ':r': result.status, ':m': result, ':t': at } }, { expr: 'attribute_exists(pk)' });
  },
};
