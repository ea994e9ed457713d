/**
 * The transaction builder and the store's error classification, without a database.
 *
 * `build()` is checked against TransactItems written out by hand; `commit()` runs on a real
 * DynamoDB document client whose request is stopped by SDK middleware before it leaves (the
 * middleware records what would have been sent, or throws what DynamoDB would have answered).
 * SDK errors are built with the SDK's own exception classes, as its deserialiser builds them.
 */
import { describe, expect, it } from 'vitest';
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { makeDynamo } from '../../lib/store/client.ts';
import { classifyStoreError, isConditionFailed, TxConditionFailed, TxTooLargeError } from '../../lib/store/errors.ts';
import { MAX_TX_ITEMS, Tx } from '../../lib/store/tx.ts';
import { TransientError } from '../../lib/errors.ts';

const TABLE = 'hub-test';
const RV = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'REQ1', attempts: 1, totalRetryDelay: 0 });

describe('Tx.build: one item per call, in call order', () => {
  it('create is a Put guarded by attribute_not_exists(pk); the key wins over attributes of the same name', () => {
    const { tags, items } = new Tx(TABLE).create('dedupe', { pk: 'DEDUPE#wechat:e1', sk: '#' }, { pk: 'ignored', eventId: 'wechat:e1', at: 5 }).build();
    expect(tags).toEqual(['dedupe']);
    expect(items).toEqual([
      {
        Put: {
          TableName: TABLE,
          Item: { pk: 'DEDUPE#wechat:e1', sk: '#', eventId: 'wechat:e1', at: 5 },
          ConditionExpression: 'attribute_not_exists(pk)',
          ...RV,
        },
      },
    ]);
  });

  it('put without a condition, and with one (empty names are left out)', () => {
    const tx = new Tx(TABLE)
      .put('order', { pk: 'ORDER#t1', sk: '#' }, { fen: 1200 })
      .put('member', { pk: 'MEMBER#m1', sk: '#' }, { version: 3 }, { expr: 'version = :v', names: {}, values: { ':v': 2 } });
    expect(tx.size).toBe(2);
    expect(tx.build()).toEqual({
      tags: ['order', 'member'],
      items: [
        { Put: { TableName: TABLE, Item: { pk: 'ORDER#t1', sk: '#', fen: 1200 }, ...RV } },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: 'MEMBER#m1', sk: '#', version: 3 },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': 2 },
            ...RV,
          },
        },
      ],
    });
  });

  it("update merges the expression's and the condition's names and values", () => {
    const { items } = new Tx(TABLE)
      .update(
        'lot',
        { pk: 'MEMBER#m1', sk: 'LOT#o1' },
        { update: 'SET #r = #r - :n', names: { '#r': 'remaining' }, values: { ':n': 3 } },
        { expr: '#r >= :n AND #s = :open', names: { '#s': 'state' }, values: { ':open': 'open' } },
      )
      .update('plain', { pk: 'MEMBER#m2', sk: '#' }, { update: 'REMOVE gsi1pk' })
      .build();
    expect(items).toEqual([
      {
        Update: {
          TableName: TABLE,
          Key: { pk: 'MEMBER#m1', sk: 'LOT#o1' },
          UpdateExpression: 'SET #r = #r - :n',
          ConditionExpression: '#r >= :n AND #s = :open',
          ExpressionAttributeNames: { '#r': 'remaining', '#s': 'state' },
          ExpressionAttributeValues: { ':n': 3, ':open': 'open' },
          ...RV,
        },
      },
      { Update: { TableName: TABLE, Key: { pk: 'MEMBER#m2', sk: '#' }, UpdateExpression: 'REMOVE gsi1pk', ...RV } },
    ]);
  });

  it('delete and check', () => {
    const { tags, items } = new Tx(TABLE)
      .delete('otp', { pk: 'OTP#h', sk: 'wx1#o1' })
      .delete('due', { pk: 'DUE#2026-01-02', sk: 'r1' }, { expr: 'attribute_exists(pk)' })
      .check('version', { pk: 'MEMBER#m1', sk: '#' }, { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': 7 } })
      .build();
    expect(tags).toEqual(['otp', 'due', 'version']);
    expect(items).toEqual([
      { Delete: { TableName: TABLE, Key: { pk: 'OTP#h', sk: 'wx1#o1' }, ...RV } },
      { Delete: { TableName: TABLE, Key: { pk: 'DUE#2026-01-02', sk: 'r1' }, ConditionExpression: 'attribute_exists(pk)', ...RV } },
      {
        ConditionCheck: {
          TableName: TABLE,
          Key: { pk: 'MEMBER#m1', sk: '#' },
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': 7 },
          ...RV,
        },
      },
    ]);
  });
});

describe('Tx.add: counters merge per key and come last', () => {
  it('two adds to one key become one update: sums, zero sums dropped, set-if-missing merged', () => {
    const day = { pk: 'CTR#c1', sk: '2026-01-01' };
    const { tags, items } = new Tx(TABLE)
      .add(day, { orders: 1, gmvFen: 500, refunds: 1 }, { channelId: 'c1', model: 'first' })
      .create('dedupe', { pk: 'DEDUPE#e1', sk: '#' }, {})
      .add(day, { orders: 1, gmvFen: -200, refunds: -1 }, { day: '2026-01-01', model: 'last' })
      .build();
    // orders 1+1 = 2, gmvFen 500-200 = 300, refunds 1-1 = 0 (left out); the later set-if-missing
    // value of one attribute wins (`model`), the others are kept in first-seen order.
    expect(tags).toEqual(['dedupe', 'counter:CTR#c1:2026-01-01']);
    expect(items[1]).toEqual({
      Update: {
        TableName: TABLE,
        Key: day,
        UpdateExpression: 'SET #s2 = if_not_exists(#s2, :s2), #s3 = if_not_exists(#s3, :s3), #s4 = if_not_exists(#s4, :s4) ADD #a0 :a0, #a1 :a1',
        ExpressionAttributeNames: { '#a0': 'orders', '#a1': 'gmvFen', '#s2': 'channelId', '#s3': 'model', '#s4': 'day' },
        ExpressionAttributeValues: { ':a0': 2, ':a1': 300, ':s2': 'c1', ':s3': 'last', ':s4': '2026-01-01' },
      },
    });
  });

  it('different keys stay separate updates, in first-seen order; a counter whose adds cancel out and sets nothing is dropped', () => {
    const { tags, items } = new Tx(TABLE)
      .add({ pk: 'CTR#a', sk: 'd1' }, { follows: 1 })
      .add({ pk: 'CTR#b', sk: 'd1' }, { follows: 2 })
      .add({ pk: 'CTR#z', sk: 'd1' }, { follows: 1 })
      .add({ pk: 'CTR#a', sk: 'd1' }, { follows: 4 })
      .add({ pk: 'CTR#z', sk: 'd1' }, { follows: -1 })
      .build();
    expect(tags).toEqual(['counter:CTR#a:d1', 'counter:CTR#b:d1']);
    expect(items.map((i) => i.Update?.ExpressionAttributeValues)).toEqual([{ ':a0': 5 }, { ':a0': 2 }]);
    expect(items.map((i) => i.Update?.UpdateExpression)).toEqual(['ADD #a0 :a0', 'ADD #a0 :a0']);
  });

  it('only set-if-missing values give a SET without ADD', () => {
    const { items } = new Tx(TABLE).add({ pk: 'CTR#a', sk: 'meta' }, {}, { createdAt: 9 }).build();
    expect(items).toEqual([
      {
        Update: {
          TableName: TABLE,
          Key: { pk: 'CTR#a', sk: 'meta' },
          UpdateExpression: 'SET #s0 = if_not_exists(#s0, :s0)',
          ExpressionAttributeNames: { '#s0': 'createdAt' },
          ExpressionAttributeValues: { ':s0': 9 },
        },
      },
    ]);
  });
});

describe('Tx: two writes to one item are refused when planned', () => {
  const k = { pk: 'MEMBER#m1', sk: '#' };
  it.each([
    ['create then put', (tx: Tx) => tx.create('a', k, {}).put('b', k, {}), /two writes to one item.*MEMBER#m1 # \(b\)/],
    ['put then delete', (tx: Tx) => tx.put('a', k, {}).delete('b', k), /two writes to one item/],
    ['update then check', (tx: Tx) => tx.update('a', k, { update: 'SET x = :x', values: { ':x': 1 } }).check('b', k, { expr: 'attribute_exists(pk)' }), /two writes to one item/],
    ['counter then create', (tx: Tx) => tx.add(k, { n: 1 }).create('b', k, {}), /two writes to one item/],
    ['create then counter', (tx: Tx) => tx.create('a', k, {}).add(k, { n: 1 }), /counter key also written otherwise/],
  ])('%s', (_name, plan, message) => {
    expect(() => plan(new Tx(TABLE))).toThrow(message);
  });

  it('same partition, other sort key, and same sort key, other partition, are different items', () => {
    const tx = new Tx(TABLE)
      .create('a', { pk: 'MEMBER#m1', sk: '#' }, {})
      .create('b', { pk: 'MEMBER#m1', sk: 'LOT#1' }, {})
      .create('c', { pk: 'MEMBER#m2', sk: '#' }, {});
    expect(tx.build().tags).toEqual(['a', 'b', 'c']);
  });

  it('a key whose parts would join to the same text is still another item', () => {
    const tx = new Tx(TABLE).create('a', { pk: 'A#1', sk: 'B' }, {}).create('b', { pk: 'A', sk: '1#B' }, {});
    expect(tx.size).toBe(2);
  });
});

/** A real document client whose TransactWriteItems stops before the network (region, credentials and endpoint explicit). */
function stoppedClient(answer: (input: { TransactItems: unknown[] }) => unknown) {
  const sent: { TransactItems: Record<string, Record<string, Record<string, unknown>>>[]; ReturnConsumedCapacity?: string }[] = [];
  const db = makeDynamo({
    endpoint: 'http://127.0.0.1:9',
    region: 'cn-north-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
  });
  db.middlewareStack.add(
    () => async (args: { input: object }) => {
      const input = structuredClone(args.input) as (typeof sent)[number];
      sent.push(input);
      return { output: answer(input) as never, response: {} };
    },
    { step: 'build', name: 'stopBeforeNetwork' },
  );
  return { db, sent };
}

describe('Tx.commit', () => {
  const creates = (tx: Tx, n: number) => {
    for (let i = 0; i < n; i++) tx.create(`t${i}`, { pk: `X#${i}`, sk: '#' }, { i });
    return tx;
  };
  const ok = () => ({ $metadata: meta(200) });

  it(`sends ${MAX_TX_ITEMS} items, marshalled by the document client`, async () => {
    const { db, sent } = stoppedClient(ok);
    const info = await creates(new Tx(TABLE), 100).commit(db);
    expect(info).toEqual({ items: 100, consumedWcu: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.TransactItems).toHaveLength(100);
    expect(sent[0]!.TransactItems[7]!.Put!.Item).toEqual({ pk: { S: 'X#7' }, sk: { S: '#' }, i: { N: '7' } });
    expect(sent[0]!.ReturnConsumedCapacity).toBeUndefined();
  });

  it('refuses 101 items before sending anything; counters count once per key', async () => {
    const { db, sent } = stoppedClient(ok);
    await expect(creates(new Tx(TABLE), 101).commit(db)).rejects.toMatchObject({ name: 'TxTooLargeError', items: 101, limit: 100 });
    const twoCounters = creates(new Tx(TABLE), 99).add({ pk: 'CTR#a', sk: 'd' }, { n: 1 }).add({ pk: 'CTR#b', sk: 'd' }, { n: 1 });
    await expect(twoCounters.commit(db)).rejects.toBeInstanceOf(TxTooLargeError);
    expect(sent).toHaveLength(0);
    const oneCounterTwice = creates(new Tx(TABLE), 99).add({ pk: 'CTR#a', sk: 'd' }, { n: 1 }).add({ pk: 'CTR#a', sk: 'd' }, { n: 1 });
    expect(await oneCounterTwice.commit(db)).toEqual({ items: 100, consumedWcu: 0 });
    expect(sent).toHaveLength(1);
  });

  it('an empty transaction sends nothing', async () => {
    const { db, sent } = stoppedClient(ok);
    expect(await new Tx(TABLE).add({ pk: 'CTR#a', sk: 'd' }, { n: 0 }).commit(db)).toEqual({ items: 0, consumedWcu: 0 });
    expect(sent).toHaveLength(0);
  });

  it('asks for and sums the consumed capacity when measuring', async () => {
    const { db, sent } = stoppedClient(() => ({
      ConsumedCapacity: [
        { TableName: TABLE, CapacityUnits: 4 },
        { TableName: `${TABLE}-other`, CapacityUnits: 2.5 },
      ],
      $metadata: meta(200),
    }));
    expect(await creates(new Tx(TABLE), 3).commit(db, { returnConsumedCapacity: true })).toEqual({ items: 3, consumedWcu: 6.5 });
    expect(sent[0]!.ReturnConsumedCapacity).toBe('TOTAL');
  });

  it("maps a cancellation's failed items back to the planners' tags with the old items decoded", async () => {
    const { db } = stoppedClient(() => {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'X#1' }, sk: { S: '#' }, i: { N: '1' } } }],
        $metadata: meta(400),
      });
    });
    const err = await creates(new Tx(TABLE), 2).commit(db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TxConditionFailed);
    expect(err).toMatchObject({ tags: ['t1'], oldItems: [{ pk: 'X#1', sk: '#', i: 1 }] });
  });

  it('a throttled transaction is transient', async () => {
    const { db } = stoppedClient(() => {
      throw new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) });
    });
    await expect(creates(new Tx(TABLE), 1).commit(db)).rejects.toBeInstanceOf(TransientError);
  });
});

const cancelled = (reasons: { Code: string; Message?: string; Item?: Record<string, unknown> }[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons as never,
    $metadata: meta(400),
  });

describe('classifyStoreError', () => {
  it('a cancellation with condition failures: tags by index, old items as plain values, missing tags named by index', () => {
    const err = cancelled([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: {
          pk: { S: 'DEDUPE#wechat:e1' },
          sk: { S: '#' },
          at: { N: '1763000000000' },
          fen: { N: '-12.5' },
          outbox: { L: [{ S: 'm1' }, { S: 'm2' }] },
          result: { M: { points: { N: '10' }, ok: { BOOL: true }, note: { NULL: true } } },
          tags: { SS: ['a', 'b'] },
        },
      },
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'ConditionalCheckFailed' },
    ]);
    const out = classifyStoreError(err, ['identity', 'dedupe', 'member', 'ledger']);
    expect(out).toBeInstanceOf(TxConditionFailed);
    const failed = out as TxConditionFailed;
    expect(failed.tags).toEqual(['dedupe', 'ledger', 'item4']);
    expect(failed.oldItems).toEqual([
      {
        pk: 'DEDUPE#wechat:e1',
        sk: '#',
        at: 1_763_000_000_000,
        fen: -12.5,
        outbox: ['m1', 'm2'],
        result: { points: 10, ok: true, note: null },
        tags: new Set(['a', 'b']),
      },
      undefined,
      undefined,
    ]);
    expect(failed.message).toBe('transaction condition failed: dedupe, ledger, item4');
  });

  it('a condition failure wins over a conflict in the same cancellation', () => {
    const out = classifyStoreError(cancelled([{ Code: 'TransactionConflict' }, { Code: 'ConditionalCheckFailed' }]), ['a', 'b']);
    expect(out).toMatchObject({ name: 'TxConditionFailed', tags: ['b'] });
  });

  it.each([
    ['TransactionConflict', ['None', 'TransactionConflict']],
    ['ThrottlingError', ['ThrottlingError', 'None']],
    ['ProvisionedThroughputExceeded', ['ProvisionedThroughputExceeded']],
  ])('a cancellation for %s is transient (503) and lists the reasons', (_name, codes) => {
    const out = classifyStoreError(cancelled(codes.map((Code) => ({ Code }))), ['a', 'b']);
    expect(out).toBeInstanceOf(TransientError);
    expect(out).toMatchObject({ status: 503, code: 'transient', details: { reasons: codes } });
  });

  const timeout = Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
  it.each([
    ['ThrottlingException', new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) })],
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: meta(400) })],
    ['InternalServerError', new InternalServerError({ message: 'Internal server error', $metadata: meta(500) })],
    ['an unknown name with HTTP 503', new DynamoDBServiceException({ name: 'SomethingNew', $fault: 'server', message: 'unavailable', $metadata: meta(503) })],
    ['a socket timeout', timeout],
    ['a refused connection', refused],
  ])('%s is transient (503)', (_name, err) => {
    const out = classifyStoreError(err);
    expect(out).toBeInstanceOf(TransientError);
    expect(out).toMatchObject({ status: 503 });
  });

  it('anything else is returned as it is', () => {
    const ccf = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: meta(400) });
    const validation = new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message: 'One or more parameter values were invalid', $metadata: meta(400) });
    const plain = new RangeError('bad');
    expect(classifyStoreError(ccf)).toBe(ccf);
    expect(classifyStoreError(validation)).toBe(validation);
    expect(classifyStoreError(plain, ['a'])).toBe(plain);
    const wrapped = classifyStoreError('not an error');
    expect(wrapped).toBeInstanceOf(Error);
    expect(wrapped.message).toBe('not an error');
  });
});

describe('isConditionFailed', () => {
  it.each([
    ['a single write', true, new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: meta(400) })],
    ['a cancellation with a condition reason', true, cancelled([{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }])],
    ['an already classified transaction', true, new TxConditionFailed(['member'], [undefined])],
    ['a cancellation for a conflict', false, cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }])],
    ['a cancellation without reasons', false, new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: meta(400) })],
    ['throttling', false, new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) })],
    ['a plain error', false, new Error('ConditionalCheckFailedException')],
    ['not an error', false, undefined],
    ['a string', false, 'ConditionalCheckFailedException'],
  ])('%s → %s', (_name, expected, err) => {
    expect(isConditionFailed(err)).toBe(expected);
  });
});
