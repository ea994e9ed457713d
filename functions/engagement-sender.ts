/**
 * SQS consumer of the engagement queue (event source mapping with ReportBatchItemFailures).
 *
 * Each record's body is an OutboxRow (lib/events/messages.ts). Per record:
 *   - malformed body (not JSON, or not an OutboxRow) → recorded as a failed send record
 *     `SEND#malformed#<sqs message id>` and deleted: retrying cannot fix it;
 *   - sent / suppressed / failed / unknown / duplicate → done (deleted);
 *   - retry (retryable WeChat error, account problem, another delivery holds the claim) and
 *     defer (quiet hours) → listed in `batchItemFailures`, and its visibility is changed so SQS
 *     delivers it again after the defer delay, or after an exponential backoff on
 *     ApproximateReceiveCount (guardrails.retryDelaySeconds), capped at 12 h. After
 *     maxReceiveCount receives SQS moves it to the dead-letter queue (`npm run redrive`).
 * The handler never throws for the batch. Records of one member are processed one after the
 * other (the caps count what the previous one sent); different members run concurrently.
 * Staff-destination rows belong to the staff queue: seen here, they are suppressed `wrong_queue`.
 *
 * Every deferral and retry also counts as a receive, so a message deferred by quiet hours has
 * one receive fewer left for failures.
 */
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { config, type HubConfig } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { MAX_VISIBILITY_SECONDS, type EngagementPolicy } from '../lib/config/engagement.ts';
import { retryDelaySeconds } from '../lib/engagement/guardrails.ts';
import { recordMalformed, sendOne, type SendOutcome, type SenderDeps } from '../lib/engagement/send/flow.ts';
import { OutboxRowSchema, type OutboxRow } from '../lib/events/messages.ts';
import { logger } from '../lib/log.ts';
import { ddb, sqs as defaultSqs, type Store } from '../lib/store/client.ts';
import { dynamoTokenCache } from '../lib/store/entities/token.ts';
import { changeVisibility, queueUrlOfArn, type QueueClient } from '../lib/store/sqs.ts';
import { createWechatApi } from '../lib/wechat/client.ts';
import type { WechatApi } from '../lib/wechat/wire.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

/** Visibility is set a little under SQS's 12-hour ceiling, which counts from the receive. */
const VISIBILITY_CEILING_SECONDS = MAX_VISIBILITY_SECONDS - 60;

export interface EngagementSenderOptions {
  db?: Store['db'];
  table?: string;
  now?: () => number;
  wechat?: WechatApi;
  policy?: EngagementPolicy;
  tz?: string;
  leaseMs?: number;
  /** The client for ChangeMessageVisibility. */
  sqs?: QueueClient;
}

export type RecordResult =
  | { messageId: string; kind: 'done'; outcome: SendOutcome | { status: 'malformed' } }
  | { messageId: string; kind: 'retry'; delaySeconds: number; reason: string };

/** A handler with injectable dependencies (tests); unset ones come from the configuration. */
export function createEngagementSenderHandler(options: EngagementSenderOptions = {}) {
  let apiFor: { cfg: HubConfig; api: WechatApi } | undefined;
  const queueUrls = new Map<string, string>();

  function deps(): SenderDeps {
    const cfg = config();
    let wechat = options.wechat;
    if (!wechat) {
      if (apiFor?.cfg !== cfg) {
        apiFor = {
          cfg,
          api: createWechatApi({
            appId: cfg.WECHAT_APP_ID,
            appSecret: cfg.WECHAT_APP_SECRET,
            baseUrl: cfg.WECHAT_API_BASE,
            tokenCache: dynamoTokenCache({ db: options.db ?? ddb(), table: options.table ?? cfg.HUB_TABLE }),
          }),
        };
      }
      wechat = apiFor.api;
    }
    const d: SenderDeps = {
      db: options.db ?? ddb(),
      table: options.table ?? cfg.HUB_TABLE,
      now: options.now ?? Date.now,
      wechat,
      policy: options.policy ?? cfg.policy,
      tz: options.tz ?? cfg.HUB_TIMEZONE,
    };
    if (options.leaseMs !== undefined) d.leaseMs = options.leaseMs;
    return d;
  }

  async function queueUrlOf(arn: string): Promise<string | undefined> {
    const hit = queueUrls.get(arn);
    if (hit) return hit;
    const url = await queueUrlOfArn(options.sqs ?? defaultSqs(), arn, config().ENGAGEMENT_QUEUE_URL);
    if (url) queueUrls.set(arn, url);
    return url;
  }

  async function setVisibility(record: SQSRecord, seconds: number): Promise<void> {
    try {
      const url = await queueUrlOf(record.eventSourceARN);
      if (!url) return;
      const visibility = Math.max(0, Math.min(Math.round(seconds), VISIBILITY_CEILING_SECONDS));
      await changeVisibility(options.sqs ?? defaultSqs(), url, record.receiptHandle, visibility);
    } catch (err) {
      // The message still comes back, after the queue's own visibility timeout.
      logger.warn('ChangeMessageVisibility failed', { messageId: record.messageId, error: (err as Error).message });
    }
  }

  async function processRecord(record: SQSRecord, row: OutboxRow | undefined, parseError: string | undefined, d: SenderDeps): Promise<RecordResult> {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    if (!row) {
      try {
        await recordMalformed(d, record.messageId, record.body, parseError ?? 'invalid body');
        logger.error('malformed engagement message dropped', { sqsMessageId: record.messageId, issues: parseError });
        return { messageId: record.messageId, kind: 'done', outcome: { status: 'malformed' } };
      } catch (err) {
        logger.error('could not record a malformed message', { sqsMessageId: record.messageId, error: (err as Error).message });
        return { messageId: record.messageId, kind: 'retry', delaySeconds: retryDelaySeconds(receiveCount, d.policy), reason: 'store_error' };
      }
    }
    try {
      const outcome = await sendOne(row, d);
      logger.info('engagement message', { messageId: row.messageId, ruleId: row.ruleId, memberId: row.memberId, ...outcome });
      if (outcome.status !== 'retry') return { messageId: record.messageId, kind: 'done', outcome };
      const delay = outcome.delaySeconds ?? retryDelaySeconds(receiveCount, d.policy);
      return { messageId: record.messageId, kind: 'retry', delaySeconds: Math.min(delay, VISIBILITY_CEILING_SECONDS), reason: outcome.reason };
    } catch (err) {
      logger.error('engagement send failed', { messageId: row.messageId, error: (err as Error).message });
      return { messageId: record.messageId, kind: 'retry', delaySeconds: retryDelaySeconds(receiveCount, d.policy), reason: 'error' };
    }
  }

  /** Processes a batch; returns each record's result (the handler maps it to batchItemFailures). */
  async function processBatch(event: SQSEvent): Promise<RecordResult[]> {
    let d: SenderDeps;
    try {
      await loadSecrets();
      d = deps();
    } catch (err) {
      // Configuration or secrets unavailable: every record comes back after its visibility timeout.
      logger.error('engagement sender cannot start', { error: (err as Error).message });
      return event.Records.map((r) => ({ messageId: r.messageId, kind: 'retry', delaySeconds: 0, reason: 'startup' }));
    }
    const parsed = event.Records.map((record) => ({ record, ...parseBody(record.body) }));
    const groups = new Map<string, typeof parsed>();
    for (const p of parsed) {
      const key = p.row ? `m:${p.row.memberId}` : `x:${p.record.messageId}`;
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    }
    const results = new Map<string, RecordResult>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const p of group) {
          const r = await processRecord(p.record, p.row, p.error, d);
          if (r.kind === 'retry') await setVisibility(p.record, r.delaySeconds);
          results.set(p.record.messageId, r);
        }
      }),
    );
    return event.Records.map((r) => results.get(r.messageId)!);
  }

  const handler = async (event: SQSEvent, _context?: Context): Promise<SQSBatchResponse> => {
    const results = await processBatch(event);
    const batchItemFailures: SQSBatchItemFailure[] = results.filter((r) => r.kind === 'retry').map((r) => ({ itemIdentifier: r.messageId }));
    return { batchItemFailures };
  };
  return Object.assign(handler, { processBatch });
}

function parseBody(body: string): { row?: OutboxRow; error?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'body is not JSON' };
  }
  const r = OutboxRowSchema.safeParse(json);
  if (!r.success) return { error: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  return { row: r.data as OutboxRow };
}

export const handler = createEngagementSenderHandler();
