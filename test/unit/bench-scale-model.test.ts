/**
 * The arithmetic of the partition model (bench/lib/scale-model.ts), against values computed by
 * hand from DynamoDB's published rules: 1 WCU per started KB (×2 in a transaction), 1 RCU per
 * started 4 KB strongly consistent (×0.5 eventual, ×2 transactional), P(conflict) = 1 − e^(−λ·d).
 */
import { describe, expect, it } from 'vitest';
import {
  classify,
  conflictProbability,
  itemSize,
  monthlyCost,
  readUnits,
  runShape,
  writeUnits,
  type EventMix,
  type ModelParams,
  type Prices,
  type TrafficShape,
} from '../../bench/lib/scale-model.ts';

describe('capacity units', () => {
  it.each([
    [1536, true, 4], // 1.5 KB → 2 KB × 2 (transaction)
    [1536, false, 2],
    [1024, false, 1],
    [1025, false, 2],
    [0, false, 1], // a write of a missing item still costs 1
    [200, true, 2],
  ])('a write of %i bytes (transaction %s) costs %i WCU', (bytes, tx, wcu) => {
    expect(writeUnits(bytes, tx)).toBe(wcu);
  });

  it.each([
    [4096, 'strong', 1],
    [4097, 'strong', 2],
    [3500, 'eventual', 0.5],
    [8192, 'transactional', 4],
    [0, 'strong', 1],
  ] as const)('a read of %i bytes (%s) costs %d RCU', (bytes, kind, rcu) => {
    expect(readUnits(bytes, kind)).toBe(rcu);
  });

  it('conflict probability: λ = 100/s, d = 20 ms → 1 − e^(−2)', () => {
    expect(conflictProbability(100, 0.02)).toBeCloseTo(0.8646647167633873, 12);
    expect(conflictProbability(0, 0.02)).toBe(0);
  });
});

describe('item size by the DynamoDB rule', () => {
  it.each([
    [{ pk: 'ab', n: 123 }, 2 + 2 + 1 + 3], // 3 significant digits → 2 bytes + 1
    [{ n: 1000 }, 1 + 2], // trailing zeros trimmed: 1 digit → 1 + 1
    [{ n: 0.0012 }, 1 + 2], // leading zeros trimmed: "12" → 1 + 1
    [{ s: '示例' }, 1 + 6], // UTF-8 bytes
    [{ m: { a: 'x' } }, 1 + 3 + (1 + 1 + 1)], // map: 3 + per entry 1 + name + value
    [{ l: [true, 'ab'] }, 1 + 3 + (1 + 1) + (1 + 2)], // list: 3 + per element 1 + value
    [{ b: null, t: false }, 2 + 2],
  ])('%j is %i bytes', (item, bytes) => {
    expect(itemSize(item)).toBe(bytes);
  });
});

describe('scope of a key', () => {
  it.each([
    [undefined, 'COUNT#ch#0', 'shared'],
    [undefined, 'CHANNEL#ch', 'shared'],
    [undefined, 'SEQ#codes', 'shared'],
    [undefined, 'TOKEN#wechat#wx1', 'shared'],
    [undefined, 'MEMBER#01H', 'member'],
    [undefined, 'IDENT#wechat_openid#x', 'member'],
    [undefined, 'DEDUPE#e1', 'event'],
    [undefined, 'OUTBOX#m1', 'event'],
    ['gsi1', 'OUTBOX#2', 'shared'],
    ['gsi1', 'MORDERS#01H', 'member'],
    [undefined, 'SOMETHINGNEW#x', 'shared'],
  ] as const)('%s %s is %s', (index, pk, scope) => {
    expect(classify({ ...(index ? { index } : {}), pk }).scope).toBe(scope);
  });
});

const follow: EventMix = {
  event: 'follow',
  requests: [
    { op: 'GetItem', touches: [{ pk: 'CHANNEL#ch', sk: '#', rw: 'read', op: 'GetItem', bytes: 500, tx: false, consistent: true }] },
    {
      op: 'TransactWriteItems',
      touches: [
        { pk: 'COUNT#ch#0', sk: 'first#2026-03-02', rw: 'write', op: 'UpdateItem', bytes: 200, tx: true, consistent: true },
        { pk: 'MEMBER#m', sk: '#PROFILE', rw: 'write', op: 'PutItem', bytes: 1536, tx: true, consistent: true },
      ],
    },
    { op: 'UpdateItem', touches: [{ index: 'gsi1', pk: 'OUTBOX#2', sk: '0001', rw: 'write', op: 'index put', bytes: 300, tx: false, consistent: true }] },
  ],
};
const today: ModelParams = { counterShards: 4, countersInTransaction: true, foldBatch: 25, txDurationSeconds: 0.02, spread: { 'gsi1:OUTBOX': 4 } };
const viral: TrafficShape = { name: 'viral', description: '', rates: { follow: 5_000 }, windowSeconds: 600 };
const usd: Prices = { region: 'us-east-1', currency: 'USD', perMillionWru: 0.625, perMillionRru: 0.125, perGbMonth: 0.25, source: '', asOf: '' };

describe('runShape', () => {
  it('5,000 follows/s on one channel, 4 shards, counters in the transaction', () => {
    const r = runShape([follow], viral, today, [usd]);
    // Counter shard: 5,000 / 4 = 1,250 tx/s × 2 WCU = 2,500 WCU/s → 2.5× the limit.
    expect(r.hottestItem.pk).toBe('COUNT#ch#*');
    expect(r.hottestItem.wcuPerSecond).toBe(2_500);
    expect(r.hottestItem.txPerSecond).toBe(1_250);
    expect(r.hottestItem.conflictProbability).toBeCloseTo(1 - Math.exp(-25), 12);
    expect(r.limitCrossed).toBe(true);
    // Channel item: 5,000 strongly consistent reads × 1 RCU = 5,000 RCU/s.
    const channel = r.items.find((i) => i.pk === 'CHANNEL#ch')!;
    expect(channel.rcuPerSecond).toBe(5_000);
    expect(channel.utilisation).toBeCloseTo(5_000 / 3_000, 12);
    // A member's own item sees at most one event per second: 1 × 4 WCU.
    expect(r.items.find((i) => i.pk === 'MEMBER#m')!.wcuPerSecond).toBe(4);
    // GSI entries: one partition (per outbox shard), many items → a collection row, 1,250 × 1 WCU.
    const outbox = r.items.find((i) => i.index === 'gsi1')!;
    expect(outbox).toMatchObject({ pk: 'OUTBOX#*', sk: '*', level: 'collection', wcuPerSecond: 1_250 });
    // Every shard is as hot as the one shown: 4 × 1,250 × (1 − e^(−25)) cancelled per second.
    expect(r.cancelledTotalPerSecond).toBeCloseTo(5_000 * (1 - Math.exp(-25)), 6);
    // Bill: writes 5,000 × (2 + 4 + 1) = 35,000 WRU/s, reads 5,000 RRU/s.
    expect(r.wruPerSecond).toBe(35_000);
    expect(r.rruPerSecond).toBe(5_000);
    // 600 s: 21 M WRU × $0.625/M = $13.125; 3 M RRU × $0.125/M = $0.375.
    expect(r.cost[0]!.writes).toBeCloseTo(13.125, 9);
    expect(r.cost[0]!.reads).toBeCloseTo(0.375, 9);
    expect(r.cost[0]!.total).toBeCloseTo(13.5, 9);
  });

  it('more shards lower the counter load and the conflicts', () => {
    const r = runShape([follow], viral, { ...today, counterShards: 16 }, [usd]);
    const counter = r.items.find((i) => i.group === 'table:COUNT')!;
    expect(counter.wcuPerSecond).toBe(625); // 5,000 / 16 × 2
    expect(counter.conflictProbability).toBeCloseTo(1 - Math.exp(-6.25), 12);
  });

  it('counters folded outside the transaction: plain writes, one per 25 events, no conflict', () => {
    const r = runShape([follow], viral, { ...today, countersInTransaction: false }, [usd]);
    const counter = r.items.find((i) => i.group === 'table:COUNT')!;
    expect(counter.wcuPerSecond).toBe(50); // 1,250 / 25 × 1
    expect(counter.txPerSecond).toBe(0);
    expect(r.cancelledTotalPerSecond).toBe(0);
    // The channel item is now the hottest fixed item: 5,000 RCU/s.
    expect(r.hottestItem.pk).toBe('CHANNEL#ch');
    expect(r.wruPerSecond).toBe(5_000 / 25 + 5_000 * 4 + 5_000);
  });

  it('a hot share and a peak factor scale the per-item rates, not the bill', () => {
    const r = runShape([follow], { ...viral, hotShare: { 'table:COUNT': 0.1 }, peakFactor: 3 }, today, [usd]);
    expect(r.items.find((i) => i.group === 'table:COUNT')!.wcuPerSecond).toBeCloseTo(((5_000 * 0.1) / 4) * 2 * 3, 9); // 750
    expect(r.wruPerSecond).toBe(35_000);
  });
});

describe('monthlyCost', () => {
  it('prices writes, reads and storage; an open price leaves the total open', () => {
    // 100 WRU/s and 400 RRU/s for 30 days, 50 GB.
    const s = 30 * 86_400;
    const c = monthlyCost(100, 400, s, 50, usd);
    expect(c.writes).toBeCloseTo(259.2 * 0.625, 9); // 259.2 M WRU
    expect(c.reads).toBeCloseTo(1_036.8 * 0.125, 9); // 1,036.8 M RRU
    expect(c.storage).toBe(12.5);
    expect(monthlyCost(100, 400, s, 50, { ...usd, perMillionRru: null }).total).toBeNull();
  });
});
