/**
 * Audience filters: validation (what a 400 names) and evaluation against hand-written member
 * records, each expected set worked out by hand from the records' facts below.
 */
import { describe, expect, it } from 'vitest';
import { AudienceFilterSchema, birthdayMonthOf, channelFamily, matches, parseAudience, type FilterContext, type FilterMember } from '../../lib/audiences/filter.ts';
import { scaleEstimate, tallySends, decodeCursor, encodeCursor } from '../../lib/audiences/api.ts';
import { pageJobOf, pageRow, campaignRow } from '../../lib/audiences/pages.ts';
import { paidSkus } from '../../lib/audiences/context.ts';
import { BadRequestError } from '../../lib/errors.ts';

const T = (iso: string) => Date.parse(iso);
const APP_A = 'wxa1a1a1a1a1a1a1a1';
const APP_B = 'wxb2b2b2b2b2b2b2b2';

const base = (id: string, over: Partial<FilterMember>): FilterMember => ({
  memberId: id,
  tier: 'normal',
  lifecycle: 'new',
  firstTouch: { channel: 'organic', at: T('2026-01-01T00:00:00Z') },
  points: 0,
  ...over,
});

/** The records (facts chosen so each filter below picks a different set). */
const M: FilterMember[] = [
  base('m1', { tier: 'gold', lifecycle: 'at_risk', rfm: { r: 2, f: 3, m: 4 }, firstTouch: { channel: 'store-sh-01', at: 1 }, points: 500, birthday: '1990-07-15', apps: { [APP_A]: { openid: 'oa1', followed: true } }, lastInteractionAt: T('2026-03-01T10:00:00Z'), wechatTags: [`${APP_A}:101`], history: { orders: [{ platform: 'tmall', paidAt: 1 }] } }),
  base('m2', { tier: 'gold', lifecycle: 'at_risk', rfm: { r: 2, f: 1, m: 4 }, firstTouch: { channel: 'qr-summer', at: 1 }, points: 50, birthday: '07-01', apps: { [APP_A]: { openid: 'oa2', followed: false }, [APP_B]: { openid: 'ob2', followed: true } }, lastInteractionAt: T('2026-01-15T00:00:00Z'), history: { orders: [{ platform: 'jd', paidAt: 1 }] } }),
  base('m3', { tier: 'silver', lifecycle: 'at_risk', rfm: { r: 5, f: 5, m: 5 }, firstTouch: { channel: 'store-bj-02', at: 1 }, points: 1000, birthday: '1985-12-31', wechat: { appId: APP_A, openid: 'oa3', followed: true }, wechatTags: [`${APP_B}:7`] }),
  base('m4', { tier: 'gold', lifecycle: 'repeat', firstTouch: { channel: 'store-sh-01', at: 1 }, points: 0, lastInteractionAt: T('2026-02-01T00:00:00Z'), history: { orders: [{ platform: 'youzan', paidAt: 1 }] } }),
  base('m5', { tier: 'gold', lifecycle: 'at_risk', firstTouch: { channel: 'tmall', at: 1 }, points: 499 }),
  base('m6', { tier: 'gold', lifecycle: 'at_risk', firstTouch: { channel: 'store-sh-01', at: 1 }, mergedInto: 'm1' }),
  base('m7', { tier: 'diamond', lifecycle: 'lapsed', firstTouch: { channel: 'never-created', at: 1 }, points: 20 }),
];

const KINDS: Record<string, string> = { 'store-sh-01': 'store', 'store-bj-02': 'store', 'qr-summer': 'wechat_qr', 'never-created': 'unknown' };
const SKUS: Record<string, string[]> = { m1: ['SKU-DOG-1'], m2: ['SKU-CAT-9', 'SKU-DOG-1'], m4: ['SKU-CAT-9'] };
const asked: string[] = [];
const ctx: FilterContext = {
  channelKind: (id) => KINDS[id],
  platforms: ['tmall', 'jd', 'youzan'],
  purchasedSkus: async (id) => {
    asked.push(id);
    return new Set(SKUS[id] ?? []);
  },
};

async function selected(filter: unknown): Promise<string[]> {
  const f = AudienceFilterSchema.parse(filter);
  const out: string[] = [];
  for (const m of M) if (await matches(f, m, ctx)) out.push(m.memberId);
  return out;
}

describe('evaluation (AND across fields, OR within one)', () => {
  const table: [string, unknown, string[]][] = [
    ['at-risk gold from store channels', { lifecycle: ['at_risk'], tier: ['gold'], firstTouchFamily: ['store'] }, ['m1']],
    ['at-risk of any tier', { lifecycle: ['at_risk'] }, ['m1', 'm2', 'm3', 'm5']],
    ['gold or diamond', { tier: ['gold', 'diamond'] }, ['m1', 'm2', 'm4', 'm5', 'm7']],
    ['one first-touch channel', { firstTouchChannel: ['store-sh-01'] }, ['m1', 'm4']],
    ['platform family', { firstTouchFamily: ['platform'] }, ['m5']],
    ['organic or unknown family', { firstTouchFamily: ['organic', 'unknown'] }, ['m7']],
    ['wechat_qr family', { firstTouchFamily: ['wechat_qr'] }, ['m2']],
    ['RFM cell with a wildcard', { rfm: ['2x4'] }, ['m1', 'm2']],
    ['RFM exact cell', { rfm: ['555', '111'] }, ['m3']],
    ['follows app A now (apps or the legacy address)', { followedAppId: [APP_A] }, ['m1', 'm3']],
    ['follows app B now', { followedAppId: [APP_B] }, ['m2']],
    ['interaction on or after 1 Feb', { lastInteractionAfter: '2026-02-01T00:00:00Z' }, ['m1', 'm4']],
    ['interaction before 1 Feb (members without one never match)', { lastInteractionBefore: '2026-02-01T00:00:00+00:00' }, ['m2']],
    ['points 50..500 inclusive', { pointsMin: 50, pointsMax: 500 }, ['m1', 'm2', 'm5']],
    ['points at least 1000', { pointsMin: 1000 }, ['m3']],
    ['birthday in July (both birthday forms)', { birthdayMonth: [7] }, ['m1', 'm2']],
    ['birthday in December', { birthdayMonth: [12] }, ['m3']],
    ['bought on jd or youzan', { purchasedPlatform: ['jd', 'youzan'] }, ['m2', 'm4']],
    ['bought a SKU', { purchasedSku: ['SKU-CAT-9'] }, ['m2', 'm4']],
    ['tag by full name', { tags: [`${APP_A}:101`] }, ['m1']],
    ['tag by tag id', { tags: ['7'] }, ['m3']],
    ['nothing matches', { tier: ['diamond'], lifecycle: ['at_risk'] }, []],
  ];
  it.each(table)('%s', async (_name, filter, expected) => {
    expect(await selected(filter)).toEqual(expected);
  });

  it('a merged-away record is never in an audience, whatever its facts', async () => {
    expect(await selected({ firstTouchChannel: ['store-sh-01'], tier: ['gold'], lifecycle: ['at_risk'] })).toEqual(['m1']);
  });

  it('orders are read only for members whose profile facts already match', async () => {
    asked.length = 0;
    expect(await selected({ tier: ['gold'], lifecycle: ['repeat'], purchasedSku: ['SKU-CAT-9'] })).toEqual(['m4']);
    expect(asked).toEqual(['m4']);
  });
});

describe('validation', () => {
  const bad: [string, unknown, string][] = [
    ['an empty filter', {}, 'at least one field'],
    ['an unknown field', { colour: ['red'] }, 'colour'],
    ['an unknown lifecycle', { lifecycle: ['sleepy'] }, 'lifecycle'],
    ['an unknown tier', { tier: ['platinum'] }, 'tier'],
    ['an RFM cell of four scores', { rfm: ['1234'] }, 'RFM cell'],
    ['an RFM score of 6', { rfm: ['6x1'] }, 'RFM cell'],
    ['month 13', { birthdayMonth: [13] }, 'birthdayMonth'],
    ['an empty list', { tier: [] }, 'tier'],
    ['negative points', { pointsMin: -1 }, 'pointsMin'],
    ['min above max', { pointsMin: 10, pointsMax: 5 }, 'pointsMin is above pointsMax'],
    ['a date without a time', { lastInteractionAfter: '2026-02-01' }, 'lastInteractionAfter'],
    ['after not before before', { lastInteractionAfter: '2026-02-02T00:00:00Z', lastInteractionBefore: '2026-02-01T00:00:00Z' }, 'not before'],
    ['an unknown family', { firstTouchFamily: ['billboard'] }, 'firstTouchFamily'],
  ];
  it.each(bad)('%s → 400 invalid_filter naming it', (_name, filter, reason) => {
    let err: unknown;
    try {
      parseAudience({ name: 'x', filter });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('invalid_filter');
    expect(JSON.stringify((err as BadRequestError).details)).toContain(reason);
  });

  it('a name is required and trimmed', () => {
    expect(() => parseAudience({ name: '  ', filter: { tier: ['gold'] } })).toThrow(BadRequestError);
    expect(parseAudience({ name: ' VIP ', filter: { tier: ['gold'] } })).toEqual({ name: 'VIP', filter: { tier: ['gold'] } });
  });
});

describe('helpers', () => {
  it('birthday months', () => {
    expect([birthdayMonthOf('1990-07-15'), birthdayMonthOf('02-29'), birthdayMonthOf(undefined), birthdayMonthOf('July')]).toEqual([7, 2, undefined, undefined]);
  });

  it('channel families', () => {
    expect(['organic', 'jd', 'store-sh-01', 'qr-summer', 'never-created', 'not-listed'].map((c) => channelFamily(c, ctx))).toEqual(['organic', 'platform', 'store', 'wechat_qr', 'unknown', 'unknown']);
  });

  it('SKUs of paid orders only', () => {
    expect(paidSkus({ paidAt: 5, lines: [{ sku: 'A' }, { sku: '' }, {}, { sku: 'B' }] })).toEqual(['A', 'B']);
    expect(paidSkus({ lines: [{ sku: 'A' }] })).toEqual([]);
  });

  it('estimates scale the segments read to all of them', () => {
    expect(scaleEstimate(30, 64, 64)).toBe(30);
    expect(scaleEstimate(3, 2, 64)).toBe(96);
    expect(scaleEstimate(0, 0, 64, { matched: 2 })).toBe(128);
    expect(scaleEstimate(7, 3, 16)).toBe(37); // 7 × 16 / 3 = 37.33
  });

  it('send states tally into the report; what has no outcome yet is pending', () => {
    const states = [
      { status: 'sent' },
      { status: 'sent' },
      { status: 'suppressed', reason: 'holdout' },
      { status: 'suppressed', reason: 'cap_daily' },
      { status: 'suppressed', reason: 'cap_daily' },
      { status: 'deferred' },
      { status: 'failed' },
      { status: 'unknown' },
      { status: 'sending' },
    ];
    expect(tallySends(11, states)).toEqual({ sent: 2, suppressed: { holdout: 1, cap_daily: 2 }, deferred: 1, failed: 1, unknown: 1, pending: 3 });
  });

  it('CSV cursors round-trip; anything else is 400 bad_cursor', () => {
    const c = { pk: 'MEMBER#m1', sk: '#PROFILE' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(undefined)).toBeUndefined();
    // A scan stops on any item type: such a key is a cursor too.
    expect(decodeCursor(encodeCursor({ pk: 'SEND#abc', sk: '#' }))).toEqual({ pk: 'SEND#abc', sk: '#' });
    for (const bad of ['%%%', Buffer.from('{"pk":"","sk":"#"}').toString('base64url'), Buffer.from('{"pk":"MEMBER#x","sk":"#","x":1}').toString('base64url'), Buffer.from('["MEMBER#x"]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'bad_cursor' }));
    }
  });

  it('page rows carry their job and a stable message id; a broken payload is no job', () => {
    const job = { kind: 'campaign' as const, id: 'C1', run: 'C1', segment: 3, segments: 16, cursor: { pk: 'MEMBER#m9', sk: '#PROFILE' } };
    const row = pageRow(job, 1000);
    expect(pageRow(job, 2000).messageId).toBe(row.messageId);
    expect(pageJobOf(row)).toEqual(job);
    expect(pageRow({ ...job, segment: 4 }, 1000).messageId).not.toBe(row.messageId);
    expect(pageJobOf({ payload: { ...job, segment: 16 } })).toBeUndefined();
    expect(pageJobOf({ payload: { ...job, kind: 'other' } })).toBeUndefined();
    expect(pageJobOf({ payload: { ...job, cursor: { pk: 'OUTBOX#x' } } })).toBeUndefined();
    expect(pageJobOf({ payload: { ...job, pageSize: 0 } })).toBeUndefined();
  });

  it('a campaign row is marketing, ruleId campaign:<id>, addressed to the followed app, one id per (campaign, member)', () => {
    const c = { campaignId: 'C1', message: { templateId: 'TPL' }, createdAt: 5 };
    const m = { memberId: 'm2', apps: { [APP_A]: { openid: 'oa2', followed: false }, [APP_B]: { openid: 'ob2', followed: true } } };
    const r = campaignRow(c, m, 9);
    expect(r).toMatchObject({ memberId: 'm2', ruleId: 'campaign:C1', step: 'C1', class: 'marketing', destination: 'member', appId: APP_B, openid: 'ob2', payload: { templateId: 'TPL' }, triggeredAt: 5 });
    expect(campaignRow(c, m, 99).messageId).toBe(r.messageId);
    expect(campaignRow({ ...c, campaignId: 'C2' }, m, 9).messageId).not.toBe(r.messageId);
  });
});
