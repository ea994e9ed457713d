/**
 * The dedupe marker as the transaction writes it, what a redelivery reads back from it, and the
 * transaction's size and condition parts. Expected TransactItems are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { dedupe, markerFromItem } from '../../lib/store/entities/dedupe.ts';
import { Tx } from '../../lib/store/tx.ts';

const TABLE = 'hub-test';
const putOf = (tx: Tx) => (tx.build().items[0] as { Put: { Item: Record<string, unknown> } }).Put.Item;

describe('dedupe marker', () => {
  it('writes only the fields it has: no member, no empty outbox, no result', () => {
    const tx = new Tx(TABLE);
    dedupe.create(tx, { eventId: 'e1', type: 'wechat.follow', at: 3, expiresAt: 10 });
    expect(putOf(tx)).toEqual({ pk: 'DEDUPE#e1', sk: '#', eventId: 'e1', type: 'wechat.follow', at: 3, expiresAt: 10 });
    const empty = new Tx(TABLE);
    dedupe.create(empty, { eventId: 'e2', type: 't', at: 3, outbox: [], expiresAt: 10 });
    expect(putOf(empty)).toEqual({ pk: 'DEDUPE#e2', sk: '#', eventId: 'e2', type: 't', at: 3, expiresAt: 10 });
  });

  it('writes member, outbox and result when given', () => {
    const tx = new Tx(TABLE);
    dedupe.create(tx, { eventId: 'e1', type: 't', at: 3, memberId: 'M1', outbox: ['m1'], result: { result: 'ok' }, expiresAt: 10 });
    expect(putOf(tx)).toEqual({ pk: 'DEDUPE#e1', sk: '#', eventId: 'e1', type: 't', at: 3, memberId: 'M1', outbox: ['m1'], result: { result: 'ok' }, expiresAt: 10 });
    expect(tx.build().tags).toEqual(['dedupe']);
  });

  it('a stored result that is not an object is not handed back', () => {
    expect(markerFromItem({ result: 'done' })).toEqual({ outbox: [] });
    expect(markerFromItem({ result: null, memberId: 'M' })).toEqual({ outbox: [], memberId: 'M' });
  });
});

describe('Tx size and conditions', () => {
  it('counts items and counter keys', () => {
    const tx = new Tx(TABLE).create('a', { pk: 'A', sk: '#' }, {}).create('b', { pk: 'B', sk: '#' }, {});
    tx.add({ pk: 'CTR', sk: 'd' }, { n: 1 }).add({ pk: 'CTR', sk: 'd' }, { n: 1 });
    expect(tx.size).toBe(3);
  });

  it('leaves out empty value maps of a condition', () => {
    const { items } = new Tx(TABLE).put('p', { pk: 'P', sk: '#' }, { v: 1 }, { expr: 'attribute_exists(pk)', names: {}, values: {} }).build();
    expect(items).toEqual([
      { Put: { TableName: TABLE, Item: { v: 1, pk: 'P', sk: '#' }, ConditionExpression: 'attribute_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
    ]);
  });
});
