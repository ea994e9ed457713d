/**
 * SQS consumer of the engagement queue (event source mapping with ReportBatchItemFailures).
 * Each record's body is an OutboxRow (lib/events/messages.ts); what becomes of it is in
 * lib/engagement/send/batch.ts. A record to retry is listed in `batchItemFailures` and its
 * visibility is changed so SQS delivers it again after the delay. The handler never throws for
 * the batch. Records of one member are processed one after the other (the caps count what the
 * previous one sent); different members run concurrently. Staff-destination rows belong to the
 * staff queue (functions/staff-alerts-sender.ts): seen here, they are suppressed `wrong_queue`.
 * A `unionid_lookup` row asks WeChat for a new follower's unionid instead of sending anything
 * (lib/apply/unionid.ts); a
 * `tmall_detail_lookup` row asks TOP for a Tmall trade's `ouid` (lib/apply/tmall-detail.ts); a
 * `wecom_welcome` row sends a WeCom add's welcome at once (lib/wecom/welcome.ts).
 *
 * Every deferral and retry also counts as a receive, so a message deferred by quiet hours has
 * one receive fewer left for failures.
 */
import { recordMalformedMessage } from '../lib/engagement/send/batch.ts';
import { engagementRecord } from '../lib/apply/unionid.ts';
import type * as z from 'zod';
import { OutboxRowSchema, type OutboxRow } from '../lib/events/messages.ts';
import { consumer } from '../lib/runtime/lambda.ts';

export const handler = consumer(
  { name: 'engagement-sender', body: OutboxRowSchema as z.ZodType<OutboxRow>, groupBy: (row) => row.memberId, onMalformed: recordMalformedMessage },
  engagementRecord,
);
