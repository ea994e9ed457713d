import { describe, expect, it } from 'vitest';
import { outboxKey, outboxPendingIndex, outboxPendingPartition, parseOutboxKey } from '../../lib/store/entities/outbox.ts';
import { parseSendByMsgIdKey, parseSendKey, sendByMsgIdKey, sendKey } from '../../lib/store/entities/send.ts';
import { parseSentLogKey, sentLogItem, sentLogKey } from '../../lib/store/entities/sent-log.ts';
import { parseSuppressionKey, suppressionItem, suppressionKey } from '../../lib/store/entities/suppression.ts';
import { parseWechatTokenKey, wechatTokenKey } from '../../lib/store/entities/token.ts';

describe('outbox, send, sent-log, suppression and token keys', () => {
  it('build the stored keys and parse them back', () => {
    expect(outboxKey('m1')).toEqual({ pk: 'OUTBOX#m1', sk: '#' });
    expect(parseOutboxKey({ pk: 'OUTBOX#m1', sk: '#' })).toEqual({ messageId: 'm1' });
    expect(outboxPendingIndex(3, 1_700_000_000_000)).toEqual({ gsi1pk: 'OUTBOX#3', gsi1sk: '0001700000000000' });
    expect(outboxPendingPartition(0)).toBe('OUTBOX#0');

    expect(sendKey('abc')).toEqual({ pk: 'SEND#abc', sk: '#' });
    expect(sendKey('malformed#q-1')).toEqual({ pk: 'SEND#malformed#q-1', sk: '#' });
    expect(parseSendKey({ pk: 'SEND#malformed#q-1', sk: '#' })).toEqual({ idempotencyKey: 'malformed#q-1' });
    expect(sendByMsgIdKey('wx1', '2000000001')).toEqual({ pk: 'SENDMSG#wx1#2000000001', sk: '#' });
    expect(parseSendByMsgIdKey({ pk: 'SENDMSG#wx1#2000000001', sk: '#' })).toEqual({ appId: 'wx1', msgId: '2000000001' });

    expect(sentLogKey('mem', 42, 'm9')).toEqual({ pk: 'MEMBER#mem', sk: 'SENT#0000000000000042#m9' });
    expect(parseSentLogKey({ pk: 'MEMBER#mem', sk: 'SENT#0000000000000042#m9' })).toEqual({ memberId: 'mem', at: 42, messageId: 'm9' });
    expect(suppressionKey('mem', 7, 'm2')).toEqual({ pk: 'MEMBER#mem', sk: 'SUPPRESS#0000000000000007#m2' });
    expect(parseSuppressionKey({ pk: 'MEMBER#mem', sk: 'SUPPRESS#0000000000000007#m2' })).toEqual({ memberId: 'mem', at: 7, messageId: 'm2' });

    expect(wechatTokenKey('wx1')).toEqual({ pk: 'TOKEN#wechat#wx1', sk: '#' });
    expect(parseWechatTokenKey({ pk: 'TOKEN#wechat#wx1', sk: '#' })).toEqual({ appId: 'wx1' });
  });

  it('refuse keys of other item types', () => {
    expect(() => parseOutboxKey({ pk: 'SEND#m1', sk: '#' })).toThrow(/not an outbox key/);
    expect(() => parseOutboxKey({ pk: 'OUTBOX#', sk: '#' })).toThrow(/not an outbox key/);
    expect(() => parseSendKey({ pk: 'SENDMSG#wx1#1', sk: 'x' })).toThrow(/not a send key/);
    expect(() => parseSendByMsgIdKey({ pk: 'SEND#a', sk: '#' })).toThrow(/not a msgid key/);
    expect(() => parseSentLogKey({ pk: 'MEMBER#mem', sk: 'SUPPRESS#0000000000000007#m2' })).toThrow(/not a sent-log key/);
    expect(() => parseSuppressionKey({ pk: 'MEMBER#mem', sk: 'SENT#0000000000000042#m9' })).toThrow(/not a suppression key/);
    expect(() => parseWechatTokenKey({ pk: 'TOKEN#tmall#x', sk: '#' })).toThrow(/not a token key/);
  });

  it('store sent-log and suppression rows with their fields and TTL', () => {
    const row = { messageId: 'm9', ruleId: 'r', step: 's', class: 'marketing' as const, destination: 'member' as const };
    // TTL: ceil((86_400_000 + 35 days) / 1000) = 86_400 + 3_024_000
    expect(sentLogItem({ row, memberId: 'mem', at: 86_400_000, via: 'template' })).toEqual({
      pk: 'MEMBER#mem', sk: 'SENT#0000000086400000#m9', messageId: 'm9', memberId: 'mem', ruleId: 'r', class: 'marketing', via: 'template', at: 86_400_000, expiresAt: 3_110_400,
    });
    expect(sentLogItem({ row, memberId: 'mem', at: 1, outcome: 'unknown' })).toEqual({
      pk: 'MEMBER#mem', sk: 'SENT#0000000000000001#m9', messageId: 'm9', memberId: 'mem', ruleId: 'r', class: 'marketing', outcome: 'unknown', at: 1, expiresAt: 3_024_001,
    });
    // TTL: ceil(5 / 1000) = 1, plus 180 days = 15_552_000 s
    expect(suppressionItem({ row, memberId: 'mem', reason: 'outside_window', errcode: '45015', at: 5, retentionDays: 180 })).toEqual({
      pk: 'MEMBER#mem', sk: 'SUPPRESS#0000000000000005#m9', messageId: 'm9', memberId: 'mem', ruleId: 'r', step: 's', class: 'marketing', destination: 'member', reason: 'outside_window', errcode: '45015', at: 5, expiresAt: 15_552_001,
    });
  });
});
