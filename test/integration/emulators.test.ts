/**
 * The local stand-ins behave the way the hub relies on: atomic transactions, conditional
 * writes, the sparse GSI, TTL settings, and SQS visibility plus dead-letter redrive.
 */
import { describe, expect, it } from 'vitest';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { useLocalAws, ddb, hubConfig, sqs } from '../support/env.ts';
import { createTable, LOCAL_AWS } from '../../local/emulators.ts';
import { queueEntries, QUEUES } from '../../lib/queues.ts';


import { GSI1, TTL_ATTRIBUTE } from '../../lib/store/keys.ts';
import { dedupeKey } from '../../lib/store/entities/dedupe.ts';
import { memberKey } from '../../lib/store/entities/member.ts';
import { memberOrdersIndex, orderKey } from '../../lib/store/entities/order.ts';

const aws = await useLocalAws();

/** Receives at most one message, reading the receive count the way the emulator supports. */
async function receiveOne(queueUrl: string, visibilityTimeout?: number): Promise<Message | undefined> {
  const res = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibilityTimeout,
      // local-aws-sqs ignores MessageSystemAttributeNames; AWS honours both.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return res.Messages?.[0];
}

const receiveCount = (m: Message | undefined) => Number(m?.Attributes?.ApproximateReceiveCount ?? NaN);

describe('environment wiring', () => {
  it('points the runtime and its clients at this file’s table and queues', async () => {
    expect(aws.table).toMatch(/^hub-[0-9a-f]{10}$/);
    expect(aws.runtime.cfg.HUB_TABLE).toBe(aws.table);
    expect(aws.runtime.store.table).toBe(aws.table);
    expect(hubConfig().ENGAGEMENT_QUEUE_URL).toBe(aws.queues.engagement.url);
    expect(hubConfig().STAFF_QUEUE_URL).toBe(aws.queues['staff-alerts'].url);
    expect(aws.runtime.store.db).toBe(ddb());
    expect(aws.runtime.queues).toBe(sqs());
    const endpoint = async (c: { config: { endpoint?: () => Promise<{ hostname: string; port?: number }> } }) => {
      const e = await c.config.endpoint!();
      return `http://${e.hostname}:${e.port}`;
    };
    expect(await endpoint(ddb())).toBe(aws.dynamoEndpoint);
    expect(await endpoint(sqs())).toBe(aws.sqsEndpoint);
  });

  it('creates the table from the key schema, idempotently', async () => {
    const raw = new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint });
    try {
      await createTable(raw, aws.table); // second call: no error
      const { Table } = await raw.send(new DescribeTableCommand({ TableName: aws.table }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      const gsi = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === GSI1);
      expect(gsi?.KeySchema).toEqual([
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ]);
      expect(gsi?.Projection?.ProjectionType).toBe('ALL');
      const ttl = await raw.send(new DescribeTimeToLiveCommand({ TableName: aws.table }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: TTL_ATTRIBUTE });

      // Also through a document client.
      const other = `${aws.table}-doc`;
      await createTable(ddb(), other);
      const described = await raw.send(new DescribeTableCommand({ TableName: other }));
      expect(described.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe(GSI1);
    } finally {
      raw.destroy();
    }
  });
});

describe('DynamoDB Local', () => {
  it('TransactWriteItems with a failing ConditionCheck writes nothing', async () => {
    const dedupe = dedupeKey('evt-tx-1');
    const member = memberKey('m-does-not-exist');
    const err = await ddb()
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: aws.table, Item: { ...dedupe, at: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { ConditionCheck: { TableName: aws.table, Key: member, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      )
      .catch((e: unknown) => e as { name: string; CancellationReasons?: { Code?: string }[] });
    expect(err).toMatchObject({ name: 'TransactionCanceledException' });
    expect((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    const after = await ddb().send(new GetCommand({ TableName: aws.table, Key: dedupe, ConsistentRead: true }));
    expect(after.Item).toBeUndefined();

    // The same transaction commits once the checked item exists.
    await ddb().send(new PutCommand({ TableName: aws.table, Item: { ...member, name: 'x' } }));
    await ddb().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: aws.table, Item: { ...dedupe, at: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { ConditionCheck: { TableName: aws.table, Key: member, ConditionExpression: 'attribute_exists(pk)' } },
        ],
      }),
    );
    const committed = await ddb().send(new GetCommand({ TableName: aws.table, Key: dedupe, ConsistentRead: true }));
    expect(committed.Item).toMatchObject({ ...dedupe, at: 1 });
  });

  it('a conditional put of a duplicate fails and can return the old item', async () => {
    const key = dedupeKey('evt-dup-1');
    const put = (n: number) =>
      ddb().send(
        new PutCommand({
          TableName: aws.table,
          Item: { ...key, n },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    await put(1);
    const err = await put(2).catch((e: unknown) => e as { name: string; Item?: Record<string, unknown> });
    expect(err).toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((err as { Item?: Record<string, unknown> }).Item).toBeDefined();
    const stored = await ddb().send(new GetCommand({ TableName: aws.table, Key: key }));
    expect(stored.Item?.n).toBe(1);
  });

  it('queries the sparse gsi1 index in sort order', async () => {
    const memberId = 'm-gsi';
    const orders = [3000, 1000, 2000].map((t, i) => ({
      ...orderKey('tmall', 'shop1', `o${i}`),
      ...memberOrdersIndex(memberId, t),
      firstSeenAt: t,
    }));
    for (const item of orders) await ddb().send(new PutCommand({ TableName: aws.table, Item: item }));
    // Not in the index: no gsi1 attributes.
    await ddb().send(new PutCommand({ TableName: aws.table, Item: { ...orderKey('tmall', 'shop1', 'o-unindexed'), firstSeenAt: 4000 } }));

    const res = await ddb().send(
      new QueryCommand({
        TableName: aws.table,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :z)',
        ExpressionAttributeValues: { ':p': `MORDERS#${memberId}`, ':z': '0' },
        ScanIndexForward: false,
      }),
    );
    expect(res.Items?.map((i) => i.firstSeenAt)).toEqual([3000, 2000, 1000]);

    const page = await ddb().send(
      new QueryCommand({
        TableName: aws.table,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `MORDERS#${memberId}` },
        Limit: 1,
      }),
    );
    expect(page.Items?.[0]?.firstSeenAt).toBe(1000);
    expect(page.LastEvaluatedKey).toBeDefined();
  });
});

describe('local SQS', () => {
  it('creates each queue with its DLQ and redrive policy', async () => {
    for (const [logical, spec] of queueEntries()) {
      const refs = aws.queues[logical];
      const { Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl: refs.url, AttributeNames: ['All'] }));
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: refs.dlqArn });
      expect(Number(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount)).toBe(spec.maxReceiveCount);
      expect(Attributes?.QueueArn).toBe(refs.arn);
      expect(Attributes?.VisibilityTimeout).toBe(String('visibilityTimeoutSeconds' in spec ? spec.visibilityTimeoutSeconds : 30));
      expect(refs.dlqUrl).toMatch(new RegExp(`${spec.name}-dlq$`));
    }
  });

  it('ChangeMessageVisibility extends and releases a received message', async () => {
    const { url } = aws.queues['staff-alerts'];
    await sqs().send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'vis' }));

    const first = await receiveOne(url, 1);
    expect(first?.Body).toBe('vis');
    expect(receiveCount(first)).toBe(1);
    expect(await receiveOne(url)).toBeUndefined(); // in flight

    // Extend the 1 s visibility: still hidden after it would have expired.
    await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 30 }));
    await new Promise((r) => setTimeout(r, 1_300));
    expect(await receiveOne(url)).toBeUndefined();

    // Release it at once.
    await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await receiveOne(url);
    expect(second?.Body).toBe('vis');
    // AWS: 2. local-aws-sqs also counts each ChangeMessageVisibility (see the next test).
    expect(receiveCount(second)).toBeGreaterThanOrEqual(2);
  });

  it('known deviation: local-aws-sqs 2.0.2 counts ChangeMessageVisibility as a receive', async () => {
    // On AWS the second receive reports ApproximateReceiveCount 2. The emulator reports 3, so
    // code that backs off with ChangeMessageVisibility reaches maxReceiveCount (and the DLQ)
    // in fewer attempts locally. If this starts failing, the emulator was fixed: drop the test.
    const { url } = aws.queues['staff-alerts'];
    await sqs().send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'count' }));
    const first = await receiveOne(url);
    await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await receiveOne(url, 0);
    expect(second?.Body).toBe('count');
    expect(receiveCount(second)).toBe(3);
  });

  it('moves a message to the DLQ after maxReceiveCount receives', async () => {
    const { url, dlqUrl } = aws.queues.engagement;
    const max = QUEUES.engagement.maxReceiveCount;
    await sqs().send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    // Visibility 0 on receive: a failed handler's message is due again at once.
    const counts: number[] = [];
    for (let i = 0; i < max; i++) {
      const m = await receiveOne(url, 0);
      expect(m?.Body).toBe('poison');
      counts.push(receiveCount(m));
    }
    expect(counts).toEqual([1, 2, 3, 4, 5]);

    // AWS moves it on the next receive, the emulator when the visibility expires: either way
    // the source queue no longer returns it and the DLQ does.
    expect(await receiveOne(url)).toBeUndefined();
    const dead = await receiveOne(dlqUrl);
    expect(dead?.Body).toBe('poison');
    const { Attributes } = await sqs().send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});
