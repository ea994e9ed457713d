/**
 * The table definition rendered in DynamoDB's CreateTable shape (lib/store/table.ts), which both
 * the emulator's createTable and the stack test use: checked against the schema written out by
 * hand, and the queue list helpers of lib/queues.ts.
 */
import { describe, expect, it } from 'vitest';
import { isQueueName, queueEntries, queueName } from '../../lib/queues.ts';
import { tableSchema, type TableDefinition } from '../../lib/store/table.ts';

describe('tableSchema', () => {
  it('is the hub table: pk/sk, gsi1 on gsi1pk/gsi1sk projecting ALL, on demand', () => {
    expect(tableSchema()).toEqual({
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  const base = {
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    timeToLiveAttribute: 'ttl',
    billingMode: 'PAY_PER_REQUEST',
  } as const;

  it('defines an attribute shared by table and index once', () => {
    const table: TableDefinition = {
      ...base,
      globalSecondaryIndexes: [{ indexName: 'inverted', partitionKey: { name: 'sk', type: 'S' }, sortKey: { name: 'pk', type: 'S' }, projection: 'ALL' }],
    };
    expect(tableSchema(table).AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });

  it('refuses one attribute declared with two types', () => {
    const table: TableDefinition = {
      ...base,
      globalSecondaryIndexes: [{ indexName: 'bad', partitionKey: { name: 'sk', type: 'N' }, sortKey: { name: 'at', type: 'N' }, projection: 'ALL' }],
    };
    expect(() => tableSchema(table)).toThrow('key attribute sk declared as S and N');
  });
});

describe('queues', () => {
  it('lists the engagement and staff-alerts queues in order', () => {
    expect(queueEntries().map(([logical, spec]) => [logical, spec.name])).toEqual([
      ['engagement', 'engagement'],
      ['staff-alerts', 'staff-alerts'],
    ]);
  });
  it('knows its own logical names only', () => {
    expect(isQueueName('engagement')).toBe(true);
    expect(isQueueName('staff-alerts')).toBe(true);
    expect(isQueueName('toString')).toBe(false);
    expect(isQueueName('engagement-dlq')).toBe(false);
  });
  it('prefixes names when a prefix is given', () => {
    expect(queueName('scrm-hub-dev', 'engagement')).toBe('scrm-hub-dev-engagement');
    expect(queueName(undefined, 'engagement')).toBe('engagement');
    expect(queueName('', 'engagement')).toBe('engagement');
  });
});
