/**
 * Pure helpers of the dashboard page: number formatting, column definitions, sorting, date
 * defaults. No DOM here, so they run under node as well as in the browser.
 */
import type { ChannelRow } from '../attribution/query.ts';

const intFormat = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 });

/** Integer with grouping: 12,345. */
export function formatInt(n: number): string {
  return intFormat.format(n);
}

/** Integer fen as ¥ with grouping and exactly 2 decimals: 123456 → ¥1,234.56 (no float rounding). */
export function formatYuan(fen: number): string {
  const f = Math.trunc(fen);
  const sign = f < 0 ? '-' : '';
  const abs = Math.abs(f);
  const yuan = Math.floor(abs / 100);
  const cents = abs - yuan * 100;
  return `${sign}¥${intFormat.format(yuan)}.${String(cents).padStart(2, '0')}`;
}

/** A 0..1 ratio as a percentage with one decimal: 0.4567 → 45.7%. */
export function formatRate(r: number): string {
  return `${(Math.round(r * 1000) / 10).toFixed(1)}%`;
}

/** Hours to convert, friendly: null → —, under an hour in minutes, else hours with 2 decimals. */
export function formatHours(h: number | null): string {
  if (h === null) return '—';
  if (h < 1) return `${Math.round(h * 60)} min`;
  return `${h.toFixed(2)} h`;
}

export type ColumnKey = keyof Pick<
  ChannelRow,
  | 'name'
  | 'newFans'
  | 'unfollows'
  | 'convertedFans'
  | 'conversionRate'
  | 'sameDayConversions'
  | 'medianHoursToConvert'
  | 'newMembers'
  | 'scans'
  | 'orders'
  | 'gmvFen'
  | 'newContacts'
  | 'lostContacts'
  | 'referredMembers'
  | 'kFactor'
>;

export interface Column {
  key: ColumnKey;
  zh: string;
  en: string;
  format: (row: ChannelRow) => string;
}

export const COLUMNS: readonly Column[] = [
  { key: 'name', zh: '渠道', en: 'Channel', format: (r) => r.name },
  { key: 'newFans', zh: '新增粉丝', en: 'New fans', format: (r) => formatInt(r.newFans) },
  { key: 'unfollows', zh: '取关', en: 'Unfollows', format: (r) => formatInt(r.unfollows) },
  { key: 'convertedFans', zh: '转化粉丝', en: 'Converted', format: (r) => formatInt(r.convertedFans) },
  { key: 'conversionRate', zh: '转化率', en: 'Conv. rate', format: (r) => formatRate(r.conversionRate) },
  { key: 'sameDayConversions', zh: '当日转化', en: 'Same day', format: (r) => formatInt(r.sameDayConversions) },
  { key: 'medianHoursToConvert', zh: '转化时长中位数', en: 'Median to convert', format: (r) => formatHours(r.medianHoursToConvert) },
  { key: 'newMembers', zh: '新会员', en: 'New members', format: (r) => formatInt(r.newMembers) },
  { key: 'scans', zh: '扫码', en: 'Code scans', format: (r) => formatInt(r.scans) },
  { key: 'orders', zh: '订单', en: 'Orders', format: (r) => formatInt(r.orders) },
  { key: 'gmvFen', zh: '成交额', en: 'GMV', format: (r) => formatYuan(r.gmvFen) },
  { key: 'newContacts', zh: '新增企微客户', en: 'New WeCom contacts', format: (r) => formatInt(r.newContacts) },
  { key: 'lostContacts', zh: '流失企微客户', en: 'Lost WeCom contacts', format: (r) => formatInt(r.lostContacts) },
  // Referrals (老带新) by the channel's own members, and referred members per referrer.
  { key: 'referredMembers', zh: '老带新', en: 'Referred', format: (r) => formatInt(r.referredMembers) },
  { key: 'kFactor', zh: 'K 值', en: 'K-factor', format: (r) => (r.kFactor === null ? '—' : r.kFactor.toFixed(2)) },
];

export type SortDir = 'asc' | 'desc';

const collator = new Intl.Collator('zh-CN', { numeric: true, sensitivity: 'base' });

/** Sorted copy: numbers numerically, names by Chinese collation, nulls last either way, channel id breaks ties. */
export function sortRows(rows: readonly ChannelRow[], key: ColumnKey, dir: SortDir): ChannelRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    let c: number;
    if (x === null || y === null) c = x === y ? 0 : x === null ? 1 : -1;
    else if (typeof x === 'string' || typeof y === 'string') c = sign * collator.compare(String(x), String(y));
    else c = sign * (x - y);
    return c || collator.compare(a.channel, b.channel);
  });
}

/** Today's date (YYYY-MM-DD) in a time zone. */
export function todayIn(tz: string, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** Adds calendar days to YYYY-MM-DD. */
export function shiftDay(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Inclusive day count of a range. */
export function spanDays(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

/** A difference of rates in percentage points with its sign, 2 decimals: 0.0234 → +2.34 pp; null → —. */
export function formatPoints(d: number | null): string {
  if (d === null) return '—';
  const v = Math.round(d * 10_000) / 100;
  return `${v > 0 ? '+' : ''}${v.toFixed(2)} pp`;
}

/** A 95 % interval of a difference of rates, in percentage points: [-0.52, +5.21] pp; null → —. */
export function formatInterval(ci: { low: number; high: number } | null): string {
  if (ci === null) return '—';
  const p = (x: number) => formatPoints(x).replace(' pp', '');
  return `[${p(ci.low)}, ${p(ci.high)}] pp`;
}

/** A rate of an arm: 12.3% (4/33); no eligible members → —. */
export function formatArm(a: { eligible: number; converted: number; rate: number | null }): string {
  if (a.rate === null) return '—';
  return `${formatRate(a.rate)} (${formatInt(a.converted)}/${formatInt(a.eligible)})`;
}

/** The lift report's verdicts as the dashboard names them. */
export const VERDICT_LABELS: Record<'positive' | 'negative' | 'no_effect_yet', string> = {
  positive: '有效 Positive',
  negative: '负面 Negative',
  no_effect_yet: '尚无结论 No effect yet',
};
/** Cohorts the heatmap shows: the last 6 months or the last 12 weeks up to `to`. */
export const COHORT_SPAN = { month: 6, week: 12 } as const;

/** The `from` of the heatmap's query: the first day of the month 5 months before `to`'s, or 11 weeks before `to`. */
export function cohortFrom(to: string, granularity: 'week' | 'month'): string {
  if (granularity === 'week') return shiftDay(to, -7 * (COHORT_SPAN.week - 1));
  const [y, m] = to.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - (COHORT_SPAN.month - 1), 1)).toISOString().slice(0, 10);
}

/** A heatmap cell's shade: 0 for nothing, else 0.08 … 0.85 in proportion to `value / max`. */
export function heatShade(value: number, max: number): number {
  if (!(value > 0) || !(max > 0)) return 0;
  return Math.round((0.08 + 0.77 * Math.min(1, value / max)) * 100) / 100;
}
