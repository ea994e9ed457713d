/**
 * The engagement sender's record handling (functions/engagement-sender.ts, an SQS consumer built
 * with lib/runtime/lambda.ts `consumer()`). Per record:
 *   - malformed body (not JSON, or not an OutboxRow) → recorded as a failed send record
 *     `SEND#malformed#<sqs message id>` and deleted: retrying cannot fix it;
 *   - sent / suppressed / failed / unknown / duplicate → done (deleted); a sent one counts in
 *     MessagesSent, a suppressed one in MessagesSuppressed by its reason (a deferral is neither:
 *     it is counted when its final outcome comes);
 *   - retry (retryable WeChat error, account problem, another delivery holds the claim) and
 *     defer (quiet hours) → retried after the defer delay, or after an exponential backoff on
 *     ApproximateReceiveCount (guardrails.retryDelaySeconds), capped under 12 h. After
 *     maxReceiveCount receives SQS moves it to the dead-letter queue (`npm run redrive`).
 */
import type { SQSRecord } from 'aws-lambda';
import { MAX_VISIBILITY_SECONDS } from '../../config/engagement.ts';
import { wechatApp, type HubConfig } from '../../config/index.ts';
import type { OutboxRow } from '../../events/messages.ts';
import { logger } from '../../log.ts';
import type { MetricsSink } from '../../metrics.ts';
import type { Store } from '../../store/client.ts';
import type { WechatApi } from '../../wechat/wire.ts';
import { retryDelaySeconds } from '../guardrails.ts';
import { recordMalformed, sendOne, type SendOutcome, type SenderDeps } from './flow.ts';

/** What the sender needs of the runtime (lib/runtime/runtime.ts satisfies it). */
export interface SenderRuntime {
  readonly cfg: HubConfig;
  readonly store: Store;
  readonly now: () => number;
  wechat(appId?: string): WechatApi;
  readonly sender: { readonly leaseMs: number };
  /** MessagesSent / MessagesSuppressed (lib/metrics.ts); none: not recorded. */
  readonly metrics?: MetricsSink;
}

/** One record's result, as the consumer factory takes it. */
export type SendRecordOutcome =
  | { kind: 'done'; outcome: SendOutcome | { status: 'malformed' } | { status: 'lookup'; result: string } }
  | { kind: 'retry'; delaySeconds: number; reason: string };

/** A retry delay is kept a little under SQS's 12-hour visibility ceiling. */
const VISIBILITY_CEILING_SECONDS = MAX_VISIBILITY_SECONDS - 60;

const receiveCount = (record: SQSRecord) => Number(record.attributes?.ApproximateReceiveCount ?? '1');

/** The client of the row's account when it is configured (else the default account's: the send then fails `unknown_app`). */
function senderDeps(rt: SenderRuntime, row: OutboxRow): SenderDeps {
  const appId = row.appId !== undefined && wechatApp(rt.cfg, row.appId) ? row.appId : undefined;
  const wechatFor = (id: string) => (wechatApp(rt.cfg, id)?.kind === 'official' ? rt.wechat(id) : undefined);
  return { ...rt.store, now: rt.now, wechat: rt.wechat(appId), wechatFor, policy: rt.cfg.policy, templates: rt.cfg.rules.templates, tz: rt.cfg.HUB_TIMEZONE, leaseMs: rt.sender.leaseMs, messageRetentionDays: rt.cfg.HUB_MESSAGE_RETENTION_DAYS };
}

export async function sendRecord(row: OutboxRow, rt: SenderRuntime, record: SQSRecord): Promise<SendRecordOutcome> {
  try {
    const outcome = await sendOne(row, senderDeps(rt, row));
    logger.info('engagement message', { messageId: row.messageId, ruleId: row.ruleId, memberId: row.memberId, ...outcome });
    if (outcome.status === 'sent') rt.metrics?.add('MessagesSent', {});
    else if (outcome.status === 'suppressed') rt.metrics?.add('MessagesSuppressed', { reason: outcome.reason });
    // A deferral for a platform limit is done here: the outbox sweep enqueues it again later.
    if (outcome.status !== 'retry') return { kind: 'done', outcome };
    const delay = outcome.delaySeconds ?? retryDelaySeconds(receiveCount(record), rt.cfg.policy);
    return { kind: 'retry', delaySeconds: Math.min(delay, VISIBILITY_CEILING_SECONDS), reason: outcome.reason };
  } catch (err) {
    logger.error('engagement send failed', { messageId: row.messageId, error: (err as Error).message });
    return { kind: 'retry', delaySeconds: retryDelaySeconds(receiveCount(record), rt.cfg.policy), reason: 'error' };
  }
}

export async function recordMalformedMessage(rt: SenderRuntime, record: SQSRecord, issues: string): Promise<SendRecordOutcome> {
  try {
    await recordMalformed({ ...rt.store, now: rt.now }, record.messageId, record.body, issues);
    logger.error('malformed engagement message dropped', { sqsMessageId: record.messageId, issues });
    return { kind: 'done', outcome: { status: 'malformed' } };
  } catch (err) {
    logger.error('could not record a malformed message', { sqsMessageId: record.messageId, error: (err as Error).message });
    return { kind: 'retry', delaySeconds: retryDelaySeconds(receiveCount(record), rt.cfg.policy), reason: 'store_error' };
  }
}
