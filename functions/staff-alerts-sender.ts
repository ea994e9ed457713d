/**
 * SQS consumer of the staff-alerts queue (event source mapping with ReportBatchItemFailures):
 * each record's body is an OutboxRow with destination `staff` (the lapse alert); the batch is
 * sent as WeCom app messages to each member's guide (lib/wecom/staff-alerts.ts). A malformed body
 * is recorded and dropped, as on the engagement queue.
 */
import type * as z from 'zod';
import { recordMalformedMessage } from '../lib/engagement/send/batch.ts';
import { OutboxRowSchema, type OutboxRow } from '../lib/events/messages.ts';
import { batchConsumer } from '../lib/runtime/lambda.ts';
import { sendStaffAlerts } from '../lib/wecom/staff-alerts.ts';

export const handler = batchConsumer({ name: 'staff-alerts-sender', body: OutboxRowSchema as z.ZodType<OutboxRow>, onMalformed: recordMalformedMessage }, (items, rt) => sendStaffAlerts(items, rt));
