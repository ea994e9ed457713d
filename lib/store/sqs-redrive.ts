/**
 * Moves messages from a dead-letter queue back to its source queue: receive a batch, send each
 * message (body and message attributes) to the source, delete from the dead-letter queue only
 * what was sent. Bounded by `max`; stops at the first empty receive. A message whose send fails
 * stays in the dead-letter queue (invisible until its visibility timeout ends, so one run never
 * picks it up twice) and is counted as failed.
 *
 * Works against any SQS endpoint (the local runtime's local-aws-sqs, or AWS). In AWS the native
 * alternative moves everything server-side:
 *   aws sqs start-message-move-task --source-arn <dlq arn> [--destination-arn <queue arn>]
 * (without a destination it returns messages to the queues they came from).
 * Re-sent messages are new SQS messages (new message id, receive count 0); the sender
 * deduplicates on the OutboxRow's messageId, so a message already sent is not sent again.
 * Standard queues only (FIFO would need MessageGroupId / deduplication ids).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: Pick<SQSClient, 'send'>;
  /** Source queue: a name or a URL. */
  queue: string;
  /** Dead-letter queue: a name or a URL. Default: `<source queue name>-dlq`. */
  dlq?: string;
  /** At most this many messages are moved (default 1000). */
  max?: number;
  /** Long-poll seconds per receive (default 1). */
  waitSeconds?: number;
  /** How long a received message stays hidden in the dead-letter queue while it is moved (default 30). */
  visibilityTimeoutSeconds?: number;
}

export interface RedriveResult {
  sourceUrl: string;
  dlqUrl: string;
  received: number;
  /** Sent to the source queue. */
  moved: number;
  /** Could not be sent; still in the dead-letter queue. */
  failed: number;
  /** Sent, but the delete from the dead-letter queue failed: it will be found there again. */
  notDeleted: number;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);
const nameOf = (queue: string) => (isUrl(queue) ? (new URL(queue).pathname.split('/').filter(Boolean).pop() ?? queue) : queue);

async function resolveUrl(sqs: Pick<SQSClient, 'send'>, queue: string): Promise<string> {
  if (isUrl(queue)) return queue;
  const res = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
  if (!res.QueueUrl) throw new Error(`queue ${queue} not found`);
  return res.QueueUrl;
}

function attributesOf(m: Message): Record<string, MessageAttributeValue> | undefined {
  const src = m.MessageAttributes;
  if (!src || Object.keys(src).length === 0) return undefined;
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(src)) {
    if (!v.DataType) continue;
    const a: MessageAttributeValue = { DataType: v.DataType };
    if (v.StringValue !== undefined) a.StringValue = v.StringValue;
    if (v.BinaryValue !== undefined) a.BinaryValue = v.BinaryValue;
    out[k] = a;
  }
  return out;
}

export async function redrive(o: RedriveOptions): Promise<RedriveResult> {
  const max = Math.max(0, Math.floor(o.max ?? 1000));
  const sourceUrl = await resolveUrl(o.sqs, o.queue);
  const dlqUrl = await resolveUrl(o.sqs, o.dlq ?? `${nameOf(o.queue)}-dlq`);
  const result: RedriveResult = { sourceUrl, dlqUrl, received: 0, moved: 0, failed: 0, notDeleted: 0 };

  while (result.received < max) {
    const res = await o.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - result.received),
        WaitTimeSeconds: o.waitSeconds ?? 1,
        VisibilityTimeout: o.visibilityTimeoutSeconds ?? 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (res.Messages ?? []).filter((m) => m.ReceiptHandle && m.Body !== undefined);
    if (messages.length === 0) break;
    result.received += messages.length;

    const sent = await o.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: sourceUrl,
        Entries: messages.map((m, i) => {
          const attrs = attributesOf(m);
          return { Id: String(i), MessageBody: m.Body!, ...(attrs && { MessageAttributes: attrs }) };
        }),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const moved = messages.filter((_, i) => ok.has(String(i)));
    result.failed += messages.length - moved.length;
    if (moved.length === 0) continue;

    const deleted = await o.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: moved.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    // Sent but not deleted: the copy is back on the source queue (the sender deduplicates it),
    // the original reappears in the dead-letter queue.
    result.moved += moved.length;
    result.notDeleted += deleted.Failed?.length ?? 0;
  }
  return result;
}
