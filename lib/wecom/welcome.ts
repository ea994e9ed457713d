/**
 * The welcome of a WeCom add (docs/platforms.md#wecom-welcome-messages): a `wecom_welcome` engagement row
 * (planned by lib/apply/planners/wecom.ts when the add carries a WelcomeCode) becomes one
 * `externalcontact/send_welcome_msg` call. WeCom takes the code within 20 s of the event and
 * only once, so the row is sent at once, outside the caps, quiet hours and holdout, and at most
 * once, through the same send record as every message (lib/store/entities/send.ts):
 *
 * - a duplicate delivery of a finished row sends nothing (`duplicate`);
 * - an attempt that finds an earlier call without an answer marks the row `unknown` and never
 *   calls again (the code may be used up: WeCom would answer 41051);
 * - a code older than 20 s is not sent: `failed` `welcome_code_expired`;
 * - 41051 (the code is used: the customer already chatted, or another app sent first), a
 *   configuration error, any permanent errcode → `failed` with the errcode; a retryable answer
 *   (-1, 41096, 45009, 45033) → released and retried while the code is still valid; no answer
 *   (network, timeout) → `unknown`.
 * Every outcome is on the row's send record (`SEND#<messageId>`: status, reason, errcode).
 */
import type { SQSRecord } from 'aws-lambda';
import { UpstreamApiError } from '../errors.ts';
import type { OutboxRow } from '../events/messages.ts';
import { logger } from '../log.ts';
import { sends, type Fence } from '../store/entities/send.ts';
import type { SenderRuntime, SendRecordOutcome } from '../engagement/send/batch.ts';
import { DEFAULT_LEASE_MS } from '../engagement/send/flow.ts';
import { wecomContactApi, type WecomApi } from './client.ts';

/** How long WeCom accepts a WelcomeCode after the event (docs/platforms.md#wecom-welcome-messages). */
export const WELCOME_CODE_TTL_MS = 20_000;
/** Errcodes of an answer that never arrived: WeCom may have sent the welcome. */
const AMBIGUOUS = new Set(['network', 'timeout', 'bad_response']);

export type WelcomeOutcome =
  | { status: 'sent' }
  | { status: 'duplicate'; existing: string }
  | { status: 'failed'; reason: string; errcode?: string }
  | { status: 'unknown'; reason: string }
  | { status: 'retry'; reason: string; delaySeconds: number };

/** Sends one welcome row at most once. `api` defaults to the customer-contact client of the configuration. */
export async function sendWelcome(row: OutboxRow, rt: Pick<SenderRuntime, 'cfg' | 'store' | 'now' | 'sender'>, api?: WecomApi): Promise<WelcomeOutcome> {
  const store = rt.store;
  const now = rt.now();
  const claim = await sends.claim(store, row, now, rt.sender.leaseMs ?? DEFAULT_LEASE_MS);
  if (claim.kind === 'done') return { status: 'duplicate', existing: claim.status };
  if (claim.kind === 'busy') return { status: 'retry', reason: 'in_flight', delaySeconds: claim.delaySeconds };
  const fence: Fence = claim.fence;
  const fail = async (reason: string, errcode?: string): Promise<WelcomeOutcome> => {
    await sends.fail(store, fence, { reason, at: rt.now(), ...(errcode !== undefined && { errcode }) });
    return errcode === undefined ? { status: 'failed', reason } : { status: 'failed', reason, errcode };
  };
  const unknown = async (reason: string): Promise<WelcomeOutcome> => {
    await sends.markUnknown(store, fence, { row, memberId: row.memberId, reason, at: rt.now() });
    return { status: 'unknown', reason };
  };
  if (claim.previous?.callVia) return unknown('wecom_welcome_send_outcome_unknown');
  const { welcomeCode, text } = row.payload;
  if (typeof welcomeCode !== 'string' || !welcomeCode || typeof text !== 'string' || !text || !row.appId || !row.openid) return fail('invalid_message');
  if (now - row.triggeredAt > WELCOME_CODE_TTL_MS) return fail('welcome_code_expired');
  let client: WecomApi;
  try {
    client = api ?? wecomContactApi(rt.cfg, 'externalcontact/send_welcome_msg');
  } catch (err) {
    return fail('not_configured', err instanceof UpstreamApiError ? String(err.errcode) : undefined);
  }
  if ((await sends.markCall(store, fence, { via: 'wecom_welcome', at: now, appId: row.appId, openid: row.openid, clientMsgId: row.messageId, resumed: false })) === 'superseded') {
    return { status: 'duplicate', existing: 'taken_over' };
  }
  try {
    await client.sendWelcome(welcomeCode, text);
  } catch (err) {
    if (!(err instanceof UpstreamApiError)) {
      await sends.release(store, fence, 'retry', rt.now(), { lastError: (err as Error).message.slice(0, 500) });
      throw err;
    }
    const errcode = String(err.errcode);
    if (AMBIGUOUS.has(errcode)) return unknown(`wecom_welcome_${errcode}`);
    const left = WELCOME_CODE_TTL_MS - (rt.now() - row.triggeredAt);
    if (err.retryable && left > 1000) {
      await sends.release(store, fence, 'retry', rt.now(), { lastErrcode: errcode, clearCall: true });
      return { status: 'retry', reason: 'wecom_retryable', delaySeconds: 1 };
    }
    return fail(errcode === '41051' ? 'welcome_code_used' : 'wecom_error', errcode);
  }
  await sends.recordSent(store, { row, memberId: row.memberId, via: 'wecom_welcome', appId: row.appId, fallback: false, at: rt.now() });
  return { status: 'sent' };
}

/** The engagement sender's handling of a welcome row (lib/apply/unionid.ts engagementRecord). */
export async function welcomeRecord(row: OutboxRow, rt: SenderRuntime, _record: SQSRecord): Promise<SendRecordOutcome> {
  const outcome = await sendWelcome(row, rt);
  logger.info('wecom welcome', { messageId: row.messageId, memberId: row.memberId, ...outcome });
  if (outcome.status === 'sent') rt.metrics?.add('MessagesSent', {});
  if (outcome.status === 'retry') return { kind: 'retry', delaySeconds: outcome.delaySeconds, reason: outcome.reason };
  return { kind: 'done', outcome: { status: 'lookup', result: outcome.status } };
}
