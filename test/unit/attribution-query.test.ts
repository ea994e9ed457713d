/**
 * The attribution read side's pure parts: median and rate math, date and model validation,
 * counter summing, the CSV, and the dashboard's formatting and sorting.
 */
import { describe, expect, it } from 'vitest';
import {
  kFactor,
  addCounterItem,
  channelRow,
  conversionRate,
  deriveMetrics,
  emptyTotals,
  mapLimit,
  MAX_RANGE_DAYS,
  medianFromHistogram,
  mergeTotals,
  normaliseModel,
  parseModel,
  validateChannelId,
  validateRange,
  type ChannelRow,
} from '../../lib/attribution/query.ts';
import { ATTRIBUTION_CSV_COLUMNS, attributionCsv, fenToYuan, UTF8_BOM } from '../../lib/attribution/csv.ts';
import { csvText } from '../../lib/csv.ts';
import { ttcBucket } from '../../lib/attribution/credits.ts';
import { BadRequestError } from '../../lib/errors.ts';
import { formatHours, formatRate, formatYuan, sortRows } from '../../lib/dashboard/format.ts';

/** The textbook median of a plain list. */
function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const v = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return Math.round(v * 100) / 100;
}

const histogramOf = (xs: number[]) => {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

const badRequest = (fn: () => unknown, code?: string) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    if (code) expect((err as BadRequestError).code).toBe(code);
    return (err as Error).message;
  }
  throw new Error('expected a BadRequestError');
};

describe('medianFromHistogram', () => {
  it('is null for no conversions', () => {
    expect(medianFromHistogram([])).toBeNull();
    expect(medianFromHistogram([[3, 0]])).toBeNull();
  });

  it('takes the middle value for an odd count and the mean of the two middle values for an even count', () => {
    expect(medianFromHistogram([[5, 1]])).toBe(5);
    expect(medianFromHistogram([[1, 1], [2, 1], [10, 1]])).toBe(2);
    expect(medianFromHistogram([[1, 1], [3, 1]])).toBe(2);
    expect(medianFromHistogram([[1, 2], [4, 2]])).toBe(2.5);
    // both middle values inside one bucket
    expect(medianFromHistogram([[1, 1], [6, 4], [100, 1]])).toBe(6);
    // the two middle values straddle two buckets
    expect(medianFromHistogram([[0.5, 3], [48, 3]])).toBe(24.25);
  });

  it('ignores input order and non-positive counts', () => {
    expect(medianFromHistogram([[10, 1], [1, 1], [2, 1], [7, 0], [9, -2]])).toBe(2);
  });

  it('rounds to 2 decimals', () => {
    expect(medianFromHistogram([[7 / 60, 1]])).toBe(0.12);
    expect(medianFromHistogram([[1 / 60, 1], [2 / 60, 1]])).toBe(0.03); // 0.025 rounds half up
  });

  it('equals the plain median of the expanded multiset (random cases)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(rnd() * 40);
      const minutes = Array.from({ length: n }, () => Math.floor(rnd() * 3000));
      // Exact reference in integer minutes: twice the median, then hours × 100 rounded half up.
      const s = [...minutes].sort((a, b) => a - b);
      const twice = s[Math.floor((n - 1) / 2)]! + s[Math.floor(n / 2)]!;
      const expected = Math.floor((10 * twice + 6) / 12) / 100;
      expect(medianFromHistogram(histogramOf(minutes.map((m) => m / 60)))).toBe(expected);
      expect(Math.abs(medianFromHistogram(histogramOf(minutes))! - median(minutes)!)).toBeLessThan(1e-9);
    }
  });
});

describe('conversionRate', () => {
  it('is 0 without new fans and rounds to 4 decimals', () => {
    expect(conversionRate(0, 0)).toBe(0);
    expect(conversionRate(3, 0)).toBe(0);
    expect(conversionRate(1, 3)).toBe(0.3333);
    expect(conversionRate(2, 3)).toBe(0.6667);
    expect(conversionRate(5, 5)).toBe(1);
    expect(conversionRate(1, 8)).toBe(0.125);
  });
});

describe('summing counter items', () => {
  it('adds the metrics across shards and days and merges the ttc histogram by hours', () => {
    const t = emptyTotals();
    addCounterItem(t, { pk: 'COUNT#qr1#0', sk: 'first#2024-05-01', channel: 'qr1', newFans: 3, convertedFans: 2, sameDayConversions: 1, [ttcBucket(30 * 60_000)]: 1, [ttcBucket(50 * 3_600_000)]: 1 });
    addCounterItem(t, { pk: 'COUNT#qr1#1', sk: 'first#2024-05-01', newFans: 1, convertedFans: 1, ttc_m30: 1, gmvFen: 1999, orders: 1 });
    addCounterItem(t, { pk: 'COUNT#qr1#1', sk: 'first#2024-05-02', newMembers: 2, scans: 4, qrScans: 1, unfollows: 1, ttc_x: 5, bogus: 'x' });
    expect(t).toMatchObject({ newFans: 4, convertedFans: 3, sameDayConversions: 1, newMembers: 2, scans: 4, qrScans: 1, unfollows: 1, orders: 1, gmvFen: 1999 });
    expect([...t.ttc].sort((a, b) => a[0] - b[0])).toEqual([[0.5, 2], [50, 1]]);
    const m = deriveMetrics(t);
    expect(m.conversionRate).toBe(0.75);
    expect(m.medianHoursToConvert).toBe(0.5);

    const u = mergeTotals(emptyTotals(), t);
    mergeTotals(u, t);
    expect(u.newFans).toBe(8);
    expect(u.ttc.get(0.5)).toBe(4);
  });

  it('builds rows with the contract fields first, in order', () => {
    const row = channelRow({ channel: 'qr1', name: '门店 A', kind: 'wechat_qr' }, emptyTotals());
    expect(Object.keys(row)).toEqual([
      'channel', 'name', 'newFans', 'unfollows', 'convertedFans', 'conversionRate', 'sameDayConversions',
      'medianHoursToConvert', 'newMembers', 'scans', 'orders', 'gmvFen', 'kind', 'qrScans', 'newContacts', 'lostContacts',
      'referredMembers', 'referringMembers', 'kFactor',
    ]);
    expect(row.medianHoursToConvert).toBeNull();
    expect(row.conversionRate).toBe(0);
    expect(row.kFactor).toBeNull();
  });

  it('K-factor: referred members per referring member, 2 decimals', () => {
    // 7 referred by 3 referrers → 2.333… → 2.33; 5 by 2 → 2.5; none → null.
    const t = addCounterItem(emptyTotals(), { referredMembers: 7, referringMembers: 3 });
    expect(channelRow({ channel: 'qr1', name: 'A', kind: 'wechat_qr' }, t)).toMatchObject({ referredMembers: 7, referringMembers: 3, kFactor: 2.33 });
    expect(kFactor(5, 2)).toBe(2.5);
    expect(kFactor(4, 0)).toBeNull();
  });
});

describe('validateRange', () => {
  it('accepts calendar dates, from ≤ to, up to 366 days inclusive', () => {
    expect(validateRange('2024-05-01', '2024-05-01')).toEqual(['2024-05-01']);
    expect(validateRange('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    expect(validateRange('2024-01-01', '2024-12-31')).toHaveLength(MAX_RANGE_DAYS);
    expect(validateRange('2023-01-01', '2024-01-01')).toHaveLength(366);
  });

  it('refuses 367 days', () => {
    expect(badRequest(() => validateRange('2024-01-01', '2025-01-01'), 'range_too_long')).toMatch(/367 days/);
  });

  it('refuses from after to', () => {
    badRequest(() => validateRange('2024-05-02', '2024-05-01'), 'bad_range');
  });

  it.each([
    ['2024-02-30', '2024-03-01'],
    ['2023-02-29', '2023-03-01'],
    ['2024-5-01', '2024-05-02'],
    ['20240501', '2024-05-02'],
    ['2024-05-01T00:00', '2024-05-02'],
    ['2024-05-01', ' 2024-05-02'],
    ['2024-13-01', '2024-12-02'],
    ['', '2024-05-02'],
    [undefined, '2024-05-02'],
    ['2024-05-01', null],
  ])('refuses %j .. %j', (from, to) => {
    badRequest(() => validateRange(from, to), 'bad_date');
  });
});

describe('models and channel ids', () => {
  it('maps the API names, defaulting to first_touch', () => {
    expect(parseModel(undefined)).toBe('first_touch');
    expect(parseModel('')).toBe('first_touch');
    expect(parseModel('first_touch')).toBe('first_touch');
    expect(parseModel('last_touch')).toBe('last_touch');
    expect(normaliseModel('last_touch')).toEqual({ api: 'last_touch', counter: 'last' });
    expect(normaliseModel('first')).toEqual({ api: 'first_touch', counter: 'first' });
  });

  it.each(['first', 'LAST_TOUCH', 'linear', '__proto__', 'toString', 'first_touch '])('refuses model %j', (m) => {
    badRequest(() => parseModel(m), 'bad_model');
  });

  it('refuses channel ids that would break the key', () => {
    expect(validateChannelId('store-sh.01:a_b')).toBe('store-sh.01:a_b');
    expect(validateChannelId('x'.repeat(64))).toBe('x'.repeat(64));
    // The one channel-id rule of POST /channels, webhook scenes and batches: no #, spaces, control
    // or formatting characters, nothing beyond the ASCII set, at most 64.
    for (const bad of ['', 'a#b', 'x'.repeat(65), 'a\nb', 'a b', 'store-上海-01', 'a\u202eb', '=cmd']) badRequest(() => validateChannelId(bad), 'bad_channel');
  });
});

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit(Array.from({ length: 25 }, (_, i) => i), 4, async (x) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 1 + (x % 3)));
      active--;
      return x * 2;
    });
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(peak).toBeLessThanOrEqual(4);
    expect(await mapLimit([], 4, async (x) => x)).toEqual([]);
  });
});

const row = (over: Partial<ChannelRow>): ChannelRow => ({
  ...channelRow({ channel: 'c', name: 'c', kind: 'unknown' }, emptyTotals()),
  ...over,
});

describe('attribution CSV', () => {
  it('has a BOM, a header, CRLF lines and RFC 4180 quoting', () => {
    const csv = attributionCsv([
      row({ channel: 'qr1', name: '上海门店, "旗舰"', newFans: 3, convertedFans: 1, conversionRate: 0.3333, medianHoursToConvert: 1.5, gmvFen: 123456, newContacts: 4, lostContacts: 1 }),
      row({ channel: 'qr2', name: '=HYPERLINK("x")', gmvFen: 5 }),
    ]);
    expect(csv.startsWith(UTF8_BOM)).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[0]).toBe(ATTRIBUTION_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe('qr1,"上海门店, ""旗舰""",unknown,3,0,1,0.3333,0,1.5,0,0,0,0,123456,1234.56,4,1');
    expect(lines[2]).toBe(`qr2,"'=HYPERLINK(""x"")",unknown,0,0,0,0,0,,0,0,0,0,5,0.05,0,0`);
    expect(lines[3]).toBe('');
    expect(Buffer.from(csv, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('formats fen as yuan exactly', () => {
    expect(fenToYuan(0)).toBe('0.00');
    expect(fenToYuan(7)).toBe('0.07');
    expect(fenToYuan(100)).toBe('1.00');
    expect(fenToYuan(9_007_199_254_740_991)).toBe('90071992547409.91');
    expect(fenToYuan(-250)).toBe('-2.50');
    expect(csvText('-1')).toBe("'-1");
    expect(csvText('plain')).toBe('plain');
  });
});

describe('dashboard formatting', () => {
  it('shows fen as ¥ with 2 decimals and grouping', () => {
    expect(formatYuan(0)).toBe('¥0.00');
    expect(formatYuan(5)).toBe('¥0.05');
    expect(formatYuan(123456789)).toBe('¥1,234,567.89');
    expect(formatYuan(-1999)).toBe('-¥19.99');
    expect(formatRate(0.3333)).toBe('33.3%');
    expect(formatHours(null)).toBe('—');
    expect(formatHours(0.5)).toBe('30 min');
    expect(formatHours(26.25)).toBe('26.25 h');
  });

  it('sorts numbers numerically with nulls last and names by collation', () => {
    const rows = [
      row({ channel: 'a', name: '乙', newFans: 2, medianHoursToConvert: null }),
      row({ channel: 'b', name: '甲', newFans: 10, medianHoursToConvert: 3 }),
      row({ channel: 'c', name: 'Alpha', newFans: 2, medianHoursToConvert: 1 }),
    ];
    expect(sortRows(rows, 'newFans', 'desc').map((r) => r.channel)).toEqual(['b', 'a', 'c']);
    expect(sortRows(rows, 'newFans', 'asc').map((r) => r.channel)).toEqual(['a', 'c', 'b']);
    expect(sortRows(rows, 'medianHoursToConvert', 'asc').map((r) => r.channel)).toEqual(['c', 'b', 'a']);
    expect(sortRows(rows, 'medianHoursToConvert', 'desc').map((r) => r.channel)).toEqual(['b', 'c', 'a']);
    // pinyin order: 甲 (jiǎ) before 乙 (yǐ)
    const byName = sortRows(rows, 'name', 'asc').map((r) => r.channel);
    expect(byName.indexOf('b')).toBeLessThan(byName.indexOf('a'));
    expect(sortRows(rows, 'name', 'desc').map((r) => r.channel)).toEqual([...byName].reverse());
  });
});
