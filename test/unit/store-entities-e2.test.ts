/**
 * Keys of the member-side entities (identity, member, lot, ledger, merge, due, order, refund,
 * TMC confirm): each builder against a key written out by hand, and each parser back to the
 * fields that built it — padding, and ids that contain `:` or `#`.
 */
import { describe, expect, it } from 'vitest';
import { Tx } from '../../lib/store/tx.ts';
import { ForeignKeyError } from '../../lib/store/keys.ts';
import { identities, identityKey, memberIdentitiesIndex, parseIdentityKey } from '../../lib/store/entities/identity.ts';
import { memberKey, memberReviewIndex, parseMemberPartition, parseReviewDay, parseReviewPartition, setReviewIndex } from '../../lib/store/entities/member.ts';
import { lotExpiryIndex, lotExpiryPartition, lotKey, parseLotKey } from '../../lib/store/entities/lot.ts';
import { ledgerKey, parseLedgerKey } from '../../lib/store/entities/ledger.ts';
import { mergeKey, parseMergeKey } from '../../lib/store/entities/merge.ts';
import { dueIndex, dueKey, duePartition, dues, parseDueIndexSk, parseDueKey } from '../../lib/store/entities/due.ts';
import { memberOrdersIndex, orderKey, orders, parseOrderKey } from '../../lib/store/entities/order.ts';
import { parseRefundKey, refundKey } from '../../lib/store/entities/refund.ts';
import { parseTmcMessageKey, tmcMessageKey } from '../../lib/store/entities/tmc.ts';

describe('identity keys', () => {
  it('builds and parses a wechat_openid whose value holds a colon', () => {
    const k = identityKey('wechat_openid', 'wx8a1b2c3d4e5f6a7b:oE2E_follow_1');
    expect(k).toEqual({ pk: 'IDENT#wechat_openid#wx8a1b2c3d4e5f6a7b:oE2E_follow_1', sk: '#' });
    expect(parseIdentityKey(k)).toEqual({ kind: 'wechat_openid', value: 'wx8a1b2c3d4e5f6a7b:oE2E_follow_1' });
  });
  it('keeps a # inside the value (the last field)', () => {
    expect(parseIdentityKey({ pk: 'IDENT#jd_xid#o*ab#cd' })).toEqual({ kind: 'jd_xid', value: 'o*ab#cd' });
  });
  it('writes the member index', () => {
    expect(memberIdentitiesIndex('m1', 'phone', 'h:abc')).toEqual({ gsi1pk: 'MIDENT#m1', gsi1sk: 'phone#h:abc' });
  });
  it('refuses a key of another type', () => {
    expect(() => parseIdentityKey({ pk: 'MEMBER#m1' })).toThrow(ForeignKeyError);
    expect(() => parseIdentityKey({ pk: 'IDENT#phone' })).toThrow(ForeignKeyError);
  });
  it('binds through one conditional create carrying the index', () => {
    const tx = new Tx('t');
    identities.bind(tx, { kind: 'unionid', value: 'u1' }, 'm9', 1_700_000_000_000);
    expect(tx.build().items).toEqual([
      {
        Put: {
          TableName: 't',
          Item: { memberId: 'm9', kind: 'unionid', value: 'u1', at: 1_700_000_000_000, gsi1pk: 'MIDENT#m9', gsi1sk: 'unionid#u1', pk: 'IDENT#unionid#u1', sk: '#' },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ]);
  });
});

describe('member keys', () => {
  it('builds the profile key and parses the partition', () => {
    expect(memberKey('01HZX')).toEqual({ pk: 'MEMBER#01HZX', sk: '#PROFILE' });
    expect(parseMemberPartition('MEMBER#01HZX')).toBe('01HZX');
    expect(() => parseMemberPartition('ORDER#x')).toThrow(ForeignKeyError);
  });
  it('builds and parses the review index', () => {
    expect(memberReviewIndex('2026-03-15', 7, 'm1')).toEqual({ gsi1pk: 'REVIEW#2026-03-15#7', gsi1sk: 'm1' });
    expect(parseReviewPartition('REVIEW#2026-03-15#7')).toEqual({ day: '2026-03-15', shard: 7 });
    expect(parseReviewDay({ gsi1pk: 'REVIEW#2026-03-15#7' })).toBe('2026-03-15');
    expect(parseReviewDay({})).toBeUndefined();
  });
  it('files and unfiles a profile', () => {
    const m: Record<string, unknown> = { memberId: 'm1' };
    setReviewIndex(m, { localDay: '2026-01-02', shard: 3 }, 'm1');
    expect(m).toEqual({ memberId: 'm1', gsi1pk: 'REVIEW#2026-01-02#3', gsi1sk: 'm1' });
    setReviewIndex(m, undefined, 'm1');
    expect(m).toEqual({ memberId: 'm1' });
  });
});

describe('member partition rows', () => {
  it('lot: padded earnedAt, round trip', () => {
    const k = lotKey('m1', 1_731_254_400_000, 'lot_ab');
    expect(k).toEqual({ pk: 'MEMBER#m1', sk: 'LOT#0001731254400000#lot_ab' });
    expect(parseLotKey(k)).toEqual({ memberId: 'm1', earnedAt: 1_731_254_400_000, lotId: 'lot_ab' });
    expect(lotExpiryIndex('2027-11-30', 'm1')).toEqual({ gsi1pk: 'LOTEXP#2027-11-30#1', gsi1sk: 'm1' }); // bucketOf('m1', 8) = 1, as in the due index below
    expect(lotExpiryPartition('2027-11-30')).toBe('LOTEXP#2027-11-30');
  });
  it('ledger and merge: padded times, round trip', () => {
    expect(ledgerKey('m1', 5, 'e1')).toEqual({ pk: 'MEMBER#m1', sk: 'LEDGER#0000000000000005#e1' });
    expect(parseLedgerKey({ pk: 'MEMBER#m1', sk: 'LEDGER#0000000000000005#e1' })).toEqual({ memberId: 'm1', at: 5, entryId: 'e1' });
    expect(mergeKey('s1', 42, 'l1')).toEqual({ pk: 'MEMBER#s1', sk: 'MERGE#0000000000000042#l1' });
    expect(parseMergeKey({ pk: 'MEMBER#s1', sk: 'MERGE#0000000000000042#l1' })).toEqual({ survivorId: 's1', at: 42, loserId: 'l1' });
  });
  it('refuses an unpadded time and a row of another prefix', () => {
    expect(() => parseLedgerKey({ pk: 'MEMBER#m1', sk: 'LEDGER#5#e1' })).toThrow(ForeignKeyError);
    expect(() => parseLotKey({ pk: 'MEMBER#m1', sk: 'LEDGER#0000000000000005#e1' })).toThrow(ForeignKeyError);
  });
  it('due: key, index, round trip', () => {
    expect(dueKey('m1', 'repurchase', '0')).toEqual({ pk: 'MEMBER#m1', sk: 'DUE#repurchase#0' });
    expect(parseDueKey({ pk: 'MEMBER#m1', sk: 'DUE#birthday#2027' })).toEqual({ memberId: 'm1', kind: 'birthday', key: '2027' });
    // Shard of m1: the first 4 bytes of SHA-256("m1") as a big-endian integer, mod 8 = 1 (computed with node:crypto by hand).
    expect(dueIndex('2026-03-15', 1_773_540_000_000, 'm1')).toEqual({ gsi1pk: 'DUE#2026-03-15#1', gsi1sk: '0001773540000000#m1' });
    expect(duePartition('2026-03-15')).toBe('DUE#2026-03-15');
    expect(parseDueIndexSk('0001773540000000#m1')).toEqual({ dueAt: 1_773_540_000_000, memberId: 'm1' });
  });
  it('due: written with its index, marked done out of it', () => {
    const tx = new Tx('t');
    const row = { memberId: 'm1', kind: 'lapse', key: 'current', dueAt: 1_000 };
    dues.write(tx, 'due:lapse:current', row, 'Asia/Shanghai');
    const built = tx.build();
    expect(built.items[0]).toEqual({
      Put: {
        TableName: 't',
        Item: { ...row, gsi1pk: 'DUE#1970-01-01#1', gsi1sk: '0000000000001000#m1', pk: 'MEMBER#m1', sk: 'DUE#lapse#current' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    const done = new Tx('t');
    dues.markDone(done, row, 'planned', 2_000);
    expect(done.build().items[0]).toMatchObject({
      Update: {
        Key: { pk: 'MEMBER#m1', sk: 'DUE#lapse#current' },
        UpdateExpression: 'SET doneAt = :t, outcome = :o REMOVE gsi1pk, gsi1sk',
        ConditionExpression: 'attribute_exists(gsi1pk) AND dueAt = :d',
        ExpressionAttributeValues: { ':t': 2_000, ':o': 'planned', ':d': 1_000 },
      },
    });
  });
});

describe('orders, refunds, TMC confirm rows', () => {
  it('order: key, parse, member index', () => {
    const k = orderKey('tmall', '57301234', '3872941520738430003');
    expect(k).toEqual({ pk: 'ORDER#tmall#57301234#3872941520738430003', sk: '#' });
    expect(parseOrderKey(k)).toEqual({ platform: 'tmall', shopId: '57301234', orderId: '3872941520738430003' });
    expect(parseOrderKey({ pk: 'ORDER#youzan#1#E2024#1' })).toEqual({ platform: 'youzan', shopId: '1', orderId: 'E2024#1' });
    expect(memberOrdersIndex('m1', 1_700_000_000_000)).toEqual({ gsi1pk: 'MORDERS#m1', gsi1sk: '0001700000000000' });
    expect(() => parseOrderKey({ pk: 'ORDER#tmall#57301234' })).toThrow(ForeignKeyError);
  });
  it('order write: indexed once a member is known, version-guarded after creation', () => {
    const tx = new Tx('t');
    orders.write(tx, { platform: 'jd', shopId: 's', orderId: 'o', firstSeenAt: 7, version: 2, memberId: 'm1' }, { isNew: false, prevVersion: 1 });
    orders.write(tx, { platform: 'jd', shopId: 's', orderId: 'p', firstSeenAt: 7, version: 1 }, { isNew: true, prevVersion: 0 });
    const [a, b] = tx.build().items;
    expect(a).toEqual({
      Put: {
        TableName: 't',
        Item: { platform: 'jd', shopId: 's', orderId: 'o', firstSeenAt: 7, version: 2, memberId: 'm1', gsi1pk: 'MORDERS#m1', gsi1sk: '0000000000000007', pk: 'ORDER#jd#s#o', sk: '#' },
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': 1 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(b).toEqual({
      Put: {
        TableName: 't',
        Item: { platform: 'jd', shopId: 's', orderId: 'p', firstSeenAt: 7, version: 1, pk: 'ORDER#jd#s#p', sk: '#' },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  });
  it('refund and TMC keys round trip', () => {
    expect(refundKey('tmall', '241123882211234567')).toEqual({ pk: 'REFUND#tmall#241123882211234567', sk: '#' });
    expect(parseRefundKey({ pk: 'REFUND#tmall#241123882211234567' })).toEqual({ platform: 'tmall', refundId: '241123882211234567' });
    expect(tmcMessageKey('7338450211:1')).toEqual({ pk: 'TMCMSG#7338450211:1', sk: '#' });
    expect(parseTmcMessageKey({ pk: 'TMCMSG#7338450211:1' })).toEqual({ messageId: '7338450211:1' });
    expect(() => parseTmcMessageKey({ pk: 'REFUND#tmall#1' })).toThrow(ForeignKeyError);
  });
});
