/**
 * Entity keys (lib/store/entities/): every builder against a hand-written key, every parser back
 * to the fields, and the stored-field mapping of the operations that write through a Tx.
 */
import { describe, expect, it } from 'vitest';
import { Tx } from '../../lib/store/tx.ts';
import { channelFromItem, channelKey, channelListIndex, channels, channelToItem, parseChannelKey } from '../../lib/store/entities/channel.ts';
import { counterFromItem, counterKey, counterPartition, counters, parseCounterKey, parseCounterPartition, parseCounterSk } from '../../lib/store/entities/counter.ts';
import { batchFromItem, batchKey, batchSerialIndex, batchToItem, parseBatchKey, serialSequenceKey, type Batch } from '../../lib/store/entities/batch.ts';
import { codeKey, codes, parseCodeKey } from '../../lib/store/entities/code.ts';
import { invalidScanKey, invalidScanSubject, invalidScans, parseInvalidScanKey, parseScanLimitKey, scanLimitKey, scanLimits } from '../../lib/store/entities/scan-limit.ts';
import { parseRefusalKey, refusalKey, refusalPartition, refusals } from '../../lib/store/entities/refusal.ts';
import { dedupe, dedupeKey, markerFromItem, parseDedupeKey } from '../../lib/store/entities/dedupe.ts';
import { parsePushNonceKey, pushNonceKey, pushNonces } from '../../lib/store/entities/push-nonce.ts';
import { otpKey, otps, otpSendLimitKey, otpSendSubject, parseOtpKey, parseOtpSendLimitKey } from '../../lib/store/entities/otp.ts';

const T = 'hub-table';
/** The single item a Tx built, as DynamoDB receives it. */
const only = (tx: Tx) => {
  const { tags, items } = tx.build();
  expect(items).toHaveLength(1);
  return { tag: tags[0], item: items[0]! as Record<string, Record<string, unknown>> };
};

describe('channel', () => {
  it('builds and parses its key and list index', () => {
    expect(channelKey('qr-bj-mall')).toEqual({ pk: 'CHANNEL#qr-bj-mall', sk: '#' });
    expect(channelListIndex('qr-bj-mall')).toEqual({ gsi1pk: 'CHANNELS', gsi1sk: 'qr-bj-mall' });
    expect(parseChannelKey({ pk: 'CHANNEL#store_01.sh:a-b', sk: '#' })).toEqual({ channelId: 'store_01.sh:a-b' });
    expect(() => parseChannelKey({ pk: 'BATCH#x', sk: '#' })).toThrow(/not a channel key/);
    expect(() => parseChannelKey({ pk: 'CHANNEL#', sk: '#' })).toThrow(/not a channel key/);
    expect(() => parseChannelKey({ pk: 'CHANNEL#x', sk: '#PROFILE' })).toThrow(/not a channel key/);
  });

  it('maps a channel to its stored item and back', () => {
    const c = { channelId: 'ad-1', name: 'Ad', kind: 'ad', createdAt: 5 };
    expect(channelToItem(c)).toEqual({ pk: 'CHANNEL#ad-1', sk: '#', gsi1pk: 'CHANNELS', gsi1sk: 'ad-1', channelId: 'ad-1', name: 'Ad', kind: 'ad', createdAt: 5 });
    expect(channelFromItem({ pk: 'CHANNEL#ad-1', sk: '#', gsi1pk: 'CHANNELS', gsi1sk: 'ad-1', channelId: 'ad-1', name: 'Ad', kind: 'ad', createdAt: 5 })).toEqual(c);
    // The summary projection of an old item without channelId: the id comes from the index.
    expect(channelFromItem({ gsi1sk: 'organic', name: 'x' })).toEqual({ channelId: 'organic', name: 'x' });
  });

  it('lists an unseen scene with kind unknown, index attributes included', () => {
    const tx = new Tx(T);
    channels.ensureListed(tx, 'qrscene_7', 1_700_000_000_000);
    const { tag, item } = only(tx);
    expect(tag).toBe('channel:qrscene_7');
    expect(item.Update!.Key).toEqual({ pk: 'CHANNEL#qrscene_7', sk: '#' });
    expect(item.Update!.UpdateExpression).toContain('gsi1pk = :gp, gsi1sk = :gs');
    expect(item.Update!.ExpressionAttributeValues).toEqual({ ':id': 'qrscene_7', ':k': 'unknown', ':c': 1_700_000_000_000, ':gp': 'CHANNELS', ':gs': 'qrscene_7' });
  });
});

describe('counter', () => {
  it('builds and parses partition and sort key', () => {
    expect(counterKey('qr-bj-mall', 3, 'first', '2025-12-01')).toEqual({ pk: 'COUNT#qr-bj-mall#3', sk: 'first#2025-12-01' });
    expect(counterPartition('organic', 0)).toBe('COUNT#organic#0');
    expect(parseCounterKey({ pk: 'COUNT#qr-bj-mall#12', sk: 'last#2026-01-31' })).toEqual({ channelId: 'qr-bj-mall', shard: 12, model: 'last', day: '2026-01-31' });
    expect(parseCounterPartition('COUNT#a:b.c#0')).toEqual({ channelId: 'a:b.c', shard: 0 });
    expect(parseCounterSk('first#2025-02-28')).toEqual({ model: 'first', day: '2025-02-28' });
    for (const bad of ['COUNT#x', 'COUNT#x#', 'COUNT##1', 'COUNT#x#1a', 'CHANNEL#x#1']) expect(() => parseCounterPartition(bad), bad).toThrow();
    for (const bad of ['first', '#2025-01-01', 'first#']) expect(() => parseCounterSk(bad), bad).toThrow();
  });

  it('reads an item into fields and numeric values', () => {
    const row = counterFromItem({ pk: 'COUNT#jd#1', sk: 'first#2025-12-02', channel: 'jd', model: 'first', day: '2025-12-02', orders: 2, gmvFen: 39_900, ttc_m37: 1 });
    expect(row).toEqual({ channelId: 'jd', shard: 1, model: 'first', day: '2025-12-02', values: { orders: 2, gmvFen: 39_900, ttc_m37: 1 } });
  });

  it('adds metrics with the set-if-missing fields channel, day and model', () => {
    const tx = new Tx(T);
    counters.add(tx, { channelId: 'tmall', shard: 2, model: 'last', day: '2025-12-03' }, { orders: 1 });
    counters.add(tx, { channelId: 'tmall', shard: 2, model: 'last', day: '2025-12-03' }, { orders: 1, gmvFen: 100 });
    const { item } = only(tx);
    expect(item.Update!.Key).toEqual({ pk: 'COUNT#tmall#2', sk: 'last#2025-12-03' });
    expect(Object.values(item.Update!.ExpressionAttributeValues as Record<string, unknown>).sort()).toEqual([100, 2, '2025-12-03', 'last', 'tmall'].sort());
  });
});

describe('batch and code', () => {
  const b: Batch = { batchId: '01JB', sku: 'S', name: 'N', points: 10, channel: 'c', active: true, firstSerial: 1_000, count: 5, createdAt: 7 };
  it('builds and parses keys; the serial index is 16-digit padded', () => {
    expect(batchKey('01JBX_y-z')).toEqual({ pk: 'BATCH#01JBX_y-z', sk: '#' });
    expect(parseBatchKey({ pk: 'BATCH#01JBX_y-z', sk: '#' })).toEqual({ batchId: '01JBX_y-z' });
    expect(batchSerialIndex(1_000)).toEqual({ gsi1pk: 'BATCHES', gsi1sk: '0000000000001000' });
    expect(batchSerialIndex(0)).toEqual({ gsi1pk: 'BATCHES', gsi1sk: '0000000000000000' });
    expect(batchSerialIndex(9_007_199_254_740_991)).toEqual({ gsi1pk: 'BATCHES', gsi1sk: '9007199254740991' });
    expect(serialSequenceKey()).toEqual({ pk: 'SEQ#codes', sk: '#' });
    expect(codeKey('K7Q2-ABCD')).toEqual({ pk: 'CODE#K7Q2-ABCD', sk: '#' });
    expect(parseCodeKey({ pk: 'CODE#K7Q2-ABCD', sk: '#' })).toEqual({ code: 'K7Q2-ABCD' });
    expect(() => parseCodeKey({ pk: 'CODEK7', sk: '#' })).toThrow();
  });
  it('maps a batch to its item and back', () => {
    expect(batchToItem(b)).toEqual({ ...b, pk: 'BATCH#01JB', sk: '#', gsi1pk: 'BATCHES', gsi1sk: '0000000000001000' });
    expect(batchFromItem({ ...b, pk: 'BATCH#01JB', sk: '#', gsi1pk: 'BATCHES', gsi1sk: '0000000000001000' })).toEqual(b);
  });
  it('redeems a code with a create (tag code)', () => {
    const tx = new Tx(T);
    codes.redeem(tx, { code: 'C1', batchId: 'B', serial: 1_001, memberId: 'M', openid: 'wx1:o1', at: 9 });
    const { tag, item } = only(tx);
    expect(tag).toBe('code');
    expect(item.Put).toMatchObject({ Item: { pk: 'CODE#C1', sk: '#', code: 'C1', batchId: 'B', serial: 1_001, memberId: 'M', openid: 'wx1:o1', at: 9 }, ConditionExpression: 'attribute_not_exists(pk)' });
  });
});

describe('scan limits, invalid scans, refusals', () => {
  it('builds and parses the scan limit key (openid after the first colon)', () => {
    expect(scanLimitKey('wx123', 'oAbc_-9', '2025-12-01')).toEqual({ pk: 'SCANLIMIT#wx123:oAbc_-9', sk: '2025-12-01' });
    expect(parseScanLimitKey({ pk: 'SCANLIMIT#wx123:oAbc_-9', sk: '2025-12-01' })).toEqual({ appId: 'wx123', openid: 'oAbc_-9', day: '2025-12-01' });
    expect(() => parseScanLimitKey({ pk: 'SCANLIMIT#wx123', sk: '2025-12-01' })).toThrow();
  });
  it('builds and parses invalid-scan subjects holding #', () => {
    expect(invalidScanSubject.wechat('wx1', 'oX')).toBe('wechat#wx1:oX');
    expect(invalidScanSubject.ip('203.0.113.9')).toBe('ip#203.0.113.9');
    expect(invalidScanKey('wechat#wx1:oX', '2025-12-01')).toEqual({ pk: 'SCANBAD#wechat#wx1:oX', sk: '2025-12-01' });
    expect(parseInvalidScanKey({ pk: 'SCANBAD#ip#2001:db8::1', sk: '2025-12-01' })).toEqual({ subject: 'ip#2001:db8::1', day: '2025-12-01' });
  });
  it('writes a scan limit: create without a version, version-guarded put with one', () => {
    const key = scanLimitKey('wx1', 'o1', '2025-12-01');
    const create = new Tx(T);
    scanLimits.write(create, key, { count: 1, recent: [[5, 1_001]], version: 1 }, undefined, 99);
    expect(only(create).item.Put).toMatchObject({ Item: { pk: 'SCANLIMIT#wx1:o1', sk: '2025-12-01', count: 1, recent: [[5, 1_001]], version: 1, expiresAt: 99 }, ConditionExpression: 'attribute_not_exists(pk)' });
    const put = new Tx(T);
    scanLimits.write(put, key, { count: 2, recent: [], version: 4 }, 3, 99);
    expect(only(put).item.Put).toMatchObject({ ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': 3 } });
  });
  it('counts invalid attempts per subject', () => {
    const tx = new Tx(T);
    invalidScans.count(tx, ['wechat#wx1:o1', 'ip#1.2.3.4'], '2025-12-01', 50);
    const { items } = tx.build();
    expect(items.map((i) => (i as { Update: { Key: unknown } }).Update.Key)).toEqual([
      { pk: 'SCANBAD#wechat#wx1:o1', sk: '2025-12-01' },
      { pk: 'SCANBAD#ip#1.2.3.4', sk: '2025-12-01' },
    ]);
  });
  it('keys refusals by day and padded time; 180 days of TTL', () => {
    expect(refusalKey('2025-12-01', 1_764_547_200_000, 'evt#1')).toEqual({ pk: 'REFUSAL#2025-12-01', sk: '0001764547200000#evt#1' });
    expect(refusalPartition('2025-12-01')).toBe('REFUSAL#2025-12-01');
    expect(parseRefusalKey({ pk: 'REFUSAL#2025-12-01', sk: '0001764547200000#evt#1' })).toEqual({ day: '2025-12-01', at: 1_764_547_200_000, id: 'evt#1' });
    expect(() => parseRefusalKey({ pk: 'REFUSAL#2025-12-01', sk: '1764547200000#x' })).toThrow();
    const tx = new Tx(T);
    refusals.record(tx, '2025-12-01', 'r1', { kind: 'scan', reason: 'burst', at: 1_000 }, 2_000_000);
    const { tag, item } = only(tx);
    expect(tag).toBe('refusal');
    expect(item.Put!.Item).toEqual({ pk: 'REFUSAL#2025-12-01', sk: '0000000000001000#r1', kind: 'scan', reason: 'burst', at: 1_000, expiresAt: 2_000 + 15_552_000 });
  });
});

describe('dedupe and push nonce', () => {
  it('builds and parses the marker key; event ids may hold # and |', () => {
    expect(dedupeKey('wechat:evt:gh_hub|o1|1763000000|subscribe|qrscene_store_01')).toEqual({ pk: 'DEDUPE#wechat:evt:gh_hub|o1|1763000000|subscribe|qrscene_store_01', sk: '#' });
    expect(parseDedupeKey({ pk: 'DEDUPE#tmall:7338450211904421101', sk: '#' })).toEqual({ eventId: 'tmall:7338450211904421101' });
    expect(parseDedupeKey({ pk: 'DEDUPE#a#b', sk: '#' })).toEqual({ eventId: 'a#b' });
  });
  it('creates a marker without empty fields and reads it back tolerantly', () => {
    const tx = new Tx(T);
    dedupe.create(tx, { eventId: 'e1', type: 'order', at: 3, outbox: [], expiresAt: 10 });
    const { tag, item } = only(tx);
    expect(tag).toBe('dedupe');
    expect(item.Put!.Item).toEqual({ pk: 'DEDUPE#e1', sk: '#', eventId: 'e1', type: 'order', at: 3, expiresAt: 10 });
    expect(markerFromItem({ outbox: ['m1', 'm2'], memberId: 'M', result: { result: 'redeemed' } })).toEqual({ outbox: ['m1', 'm2'], memberId: 'M', result: { result: 'redeemed' } });
    expect(markerFromItem({ outbox: 'x', memberId: 5 })).toEqual({ outbox: [] });
  });
  it('guards a push nonce: created, or the same body digest', () => {
    expect(pushNonceKey('ab12')).toEqual({ pk: 'NONCE#wechat#ab12', sk: '#' });
    expect(parsePushNonceKey({ pk: 'NONCE#wechat#ab12', sk: '#' })).toEqual({ digest: 'ab12' });
    expect(() => parsePushNonceKey({ pk: 'NONCE#jd#ab12', sk: '#' })).toThrow();
    const tx = new Tx(T);
    pushNonces.guard(tx, { digest: 'ab12', bodyHash: 'h', at: 1, expiresAt: 2 });
    const { tag, item } = only(tx);
    expect(tag).toBe('replay');
    expect(item.Put).toMatchObject({ Item: { pk: 'NONCE#wechat#ab12', sk: '#', bodyHash: 'h', at: 1, expiresAt: 2 }, ConditionExpression: 'attribute_not_exists(pk) OR bodyHash = :h', ExpressionAttributeValues: { ':h': 'h' } });
  });
});

describe('otp', () => {
  const owner = { phoneHash: 'f00d', appId: 'wxmp1', openid: 'oP:q' };
  it('builds and parses the code key (the openid may hold a colon) and the send-limit key', () => {
    expect(otpKey(owner)).toEqual({ pk: 'OTP#f00d', sk: 'wxmp1:oP:q' });
    expect(parseOtpKey({ pk: 'OTP#f00d', sk: 'wxmp1:oP:q' })).toEqual(owner);
    expect(otpSendSubject.phone('f00d')).toBe('phone#f00d');
    expect(otpSendSubject.wechat('wxmp1', 'o1')).toBe('wechat#wxmp1:o1');
    expect(otpSendLimitKey('phone#f00d', '2025-12-01')).toEqual({ pk: 'OTPLIMIT#phone#f00d', sk: '2025-12-01' });
    expect(parseOtpSendLimitKey({ pk: 'OTPLIMIT#wechat#wxmp1:o1', sk: '2025-12-01' })).toEqual({ subject: 'wechat#wxmp1:o1', day: '2025-12-01' });
  });
  it('counts a send under the daily and resend condition, and consumes under the hash', () => {
    const tx = new Tx(T);
    otps.countSend(tx, 'phone#f00d', '2025-12-01', { max: 5, now: 100, resendAfter: 40, expiresAt: 9 });
    const send = only(tx);
    expect(send.tag).toBe('limit:phone#f00d');
    expect(send.item.Update).toMatchObject({
      Key: { pk: 'OTPLIMIT#phone#f00d', sk: '2025-12-01' },
      ConditionExpression: 'attribute_not_exists(pk) OR (n < :max AND lastAt <= :cut)',
      ExpressionAttributeValues: { ':now': 100, ':exp': 9, ':one': 1, ':max': 5, ':cut': 40 },
    });
    const use = new Tx(T);
    otps.consume(use, owner, 'hmac');
    expect(only(use).item.Delete).toMatchObject({ Key: { pk: 'OTP#f00d', sk: 'wxmp1:oP:q' }, ConditionExpression: 'codeHash = :h', ExpressionAttributeValues: { ':h': 'hmac' } });
  });
});
