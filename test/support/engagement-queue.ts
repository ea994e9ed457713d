/** The test hub's engagement queue read as the sender's event source mapping would, and handed to the sender. */
import { expect } from 'vitest';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { toRecord } from '../../local/poller.ts';
import type { TestHub } from './hub.ts';

/** Receives every message waiting in the engagement queue (not yet handled). */
export async function receiveEngagement(hub: TestHub): Promise<SQSRecord[]> {
  const url = hub.queues.engagement.url;
  const { Attributes } = await hub.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn ?? 'arn:aws:sqs:local:000000000000:engagement';
  const out: SQSRecord[] = [];
  for (;;) {
    const r = await hub.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    if (!r.Messages?.length) break;
    out.push(...r.Messages.map((m) => toRecord(m, arn)));
  }
  return out;
}

/** Hands the records to the engagement sender (in this order, one batch each), expects each handled and deletes it. */
export async function consumeEngagement(hub: TestHub, records: readonly SQSRecord[]): Promise<void> {
  for (const record of records) {
    const res = await hub.invokeConsumer('engagement-sender', { Records: [record] });
    expect(res && 'batchItemFailures' in res ? res.batchItemFailures : []).toEqual([]);
    await hub.aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: hub.queues.engagement.url, Entries: [{ Id: '0', ReceiptHandle: record.receiptHandle }] }));
  }
}
