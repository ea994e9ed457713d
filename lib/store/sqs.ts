/**
 * The SQS commands the hub issues on its own queues (the dead-letter redrive is in
 * sqs-redrive.ts). Nothing outside lib/store builds an SQS command.
 */
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutboxRow } from '../events/messages.ts';

/** What these helpers need of an SQS client (tests pass a wrapped one). */
export type QueueClient = Pick<SQSClient, 'send'>;

/** Sends one outbox row as an engagement queue message (JSON body; class and rule as attributes). */
export async function sendOutboxRow(sqs: QueueClient, row: OutboxRow, queueUrl: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(row),
      MessageAttributes: {
        class: { DataType: 'String', StringValue: row.class },
        ruleId: { DataType: 'String', StringValue: row.ruleId },
      },
    }),
  );
}

/** Hides a received message for `seconds` more (0 makes it visible again at once). */
export async function changeVisibility(sqs: QueueClient, queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
}

/**
 * The URL of the queue an event source ARN (`arn:aws:sqs:<region>:<account>:<name>`) names:
 * `configuredUrl` when its last path segment is that name, else GetQueueUrl (with the owner
 * account when the ARN has one). Undefined when the ARN has no name or the queue is unknown.
 */
export async function queueUrlOfArn(sqs: QueueClient, arn: string, configuredUrl: string | undefined): Promise<string | undefined> {
  const parts = arn.split(':');
  const name = parts[5];
  const account = parts[4];
  if (!name) return undefined;
  if (configuredUrl && configuredUrl.split('/').pop() === name) return configuredUrl;
  const res = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, ...(account && /^\d{12}$/.test(account) && { QueueOwnerAWSAccountId: account }) }),
  );
  return res.QueueUrl;
}
