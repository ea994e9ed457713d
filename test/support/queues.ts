/** Reads of a test file's local SQS queues. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqs } from '../../lib/store/client.ts';

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
