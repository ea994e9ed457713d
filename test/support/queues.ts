/** Reads of a test file's local SQS queues. */
import { sqs } from './env.ts';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toRecord } from '../../local/poller.ts';


/**
 * Receives and deletes until a receive comes back empty (at most `maxRounds` receives of 10);
 * returns the message bodies parsed as JSON, in the order received.
 */
export async function drainQueue(url: string, client: Pick<SQSClient, 'send'> = sqs(), maxRounds = 100): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < maxRounds; i++) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const ms = r.Messages ?? [];
    if (!ms.length) break;
    out.push(...ms.map((m) => JSON.parse(m.Body!) as Record<string, unknown>));
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ms.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return out;
}

/** Messages in a queue: waiting (ApproximateNumberOfMessages), in flight (NotVisible) and delayed. */
export async function queueDepth(url: string, client: Pick<SQSClient, 'send'> = sqs()): Promise<{ waiting: number; inFlight: number; delayed: number }> {
  const { Attributes: a } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return { waiting: Number(a?.ApproximateNumberOfMessages), inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible), delayed: Number(a?.ApproximateNumberOfMessagesDelayed) };
}

/**
 * Resolves once the queue holds no message at all (none waiting, in flight or delayed): every
 * message sent to it has been received and deleted, so its consumer has finished with it.
 * Polls every `everyMs`; throws after `timeoutMs`.
 */
export async function untilQueueEmpty(url: string, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const d = await queueDepth(url);
    if (d.waiting === 0 && d.inFlight === 0 && d.delayed === 0) return;
    if (Date.now() > end) throw new Error(`queue ${url} still holds messages after ${timeoutMs} ms: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Receives every message waiting in the queue at `url` (not yet handled) as Lambda SQS records. */
export async function receiveRecords(client: Pick<SQSClient, 'send'>, url: string): Promise<ReturnType<typeof toRecord>[]> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn ?? 'arn:aws:sqs:local:000000000000:engagement';
  const out = [];
  for (;;) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    if (!r.Messages?.length) break;
    out.push(...r.Messages.map((m) => toRecord(m, arn)));
  }
  return out;
}
