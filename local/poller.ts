/**
 * Local stand-in for the Lambda SQS event source mapping: long-polls a queue, invokes the
 * consumer with a real batch (SQSEvent records with receive counts), deletes what succeeded and
 * leaves the `batchItemFailures` to reappear after the visibility timeout, so SQS's own redrive
 * moves a message to the DLQ after maxReceiveCount, exactly as in AWS.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { lambdaContext } from './gateway.ts';

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  name: string;
  handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse | void>;
  batchSize?: number;
  waitSeconds?: number;
  timeoutSeconds?: number;
  /** The context of an invocation (the local hub adds its runtime); default: lambdaContext. */
  context?: (name: string, timeoutSeconds?: number) => ReturnType<typeof lambdaContext>;
}

export function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { stringValue: v.StringValue, dataType: v.DataType ?? 'String', stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** One receive → invoke → delete cycle; returns how many messages it handled. */
export async function pollOnce(o: PollerOptions): Promise<{ received: number; failed: number }> {
  const res = await o.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: o.queueUrl,
      MaxNumberOfMessages: o.batchSize ?? 10,
      WaitTimeSeconds: o.waitSeconds ?? 1,
      // The emulator ignores MessageSystemAttributeNames; AttributeNames carries the receive count.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = res.Messages ?? [];
  if (!messages.length) return { received: 0, failed: 0 };
  const records = messages.map((m) => toRecord(m, o.queueArn));
  let failedIds: Set<string>;
  try {
    const out = await o.handler({ Records: records }, (o.context ?? lambdaContext)(o.name, o.timeoutSeconds));
    failedIds = new Set((out?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch (err) {
    console.error(`[poller ${o.name}] invocation failed; the whole batch will be retried`, err);
    failedIds = new Set(records.map((r) => r.messageId));
  }
  const done = records.filter((r) => !failedIds.has(r.messageId));
  if (done.length) {
    await o.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: o.queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
  return { received: records.length, failed: failedIds.size };
}

/** Polls until stopped. */
export function startPoller(o: PollerOptions): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await pollOnce(o);
      } catch (err) {
        if (running) {
          console.error(`[poller ${o.name}]`, (err as Error).message);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
