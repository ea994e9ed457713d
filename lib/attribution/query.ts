/**
 * The attribution read side: channel metrics over a local-day range, summed from the sharded
 * channel-day counters that lib/attribution/credits.ts keeps.
 *
 * Reads are bounded and never scan: the channel list is one paginated Query on gsi1
 * (`CHANNELS`), and each channel costs one Query per counter shard over
 * `sk BETWEEN '<model>#<from>' AND '<model>#<to>'` (at most 366 small items, so normally one
 * page). The per-shard queries run with limited concurrency. Every result reports how many
 * DynamoDB requests it took.
 *
 * Derived metrics:
 *   conversionRate        convertedFans / newFans, 4 decimals, 0 when there are no new fans
 *   medianHoursToConvert  median of the merged time-to-convert histogram (`ttc_m<minutes>`,
 *                         `ttc_h<hours>`), the mean of the two middle values for an even count,
 *                         2 decimals, null when nothing converted
 */
import { ChannelId } from '../events/hub-event.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { HubConfig } from '../config/index.ts';
import type { Store } from '../store/client.ts';
import { channels as channelItems, type ListedChannel } from '../store/entities/channel.ts';
import { counters, type CounterRow } from '../store/entities/counter.ts';
import { monthOf, rollups } from '../store/entities/rollup.ts';
import type { RequestCounter } from '../store/item-ops.ts';
import type { ChannelInfo } from './channels.ts';
import { BUILTIN_CHANNELS } from '../sources/platforms.ts';
import { daysBetween, isIsoDay } from '../time.ts';
import { ttcBucketHours, type Model } from './credits.ts';
import { logger } from '../log.ts';

// ---------------------------------------------------------------------------------------------
// Models and dates

/** Model names on the API, and the counter model each one reads. */
export const API_MODELS = { first_touch: 'first', last_touch: 'last' } as const satisfies Record<string, Model>;
export type ApiModel = keyof typeof API_MODELS;
export const DEFAULT_API_MODEL: ApiModel = 'first_touch';

/** Longest range one request may cover, in days (inclusive). */
export const MAX_RANGE_DAYS = 366;
/** Most channels one request reads; more are left off and the result says so. */
export const MAX_CHANNELS = 2000;
/** Parallel DynamoDB requests per call. */
export const READ_CONCURRENCY = 16;
/** Safety bound on pages per shard query (a 366-day range is at most 366 items). */
const MAX_PAGES_PER_QUERY = 20;
const CHANNEL_PAGE_SIZE = 500;
/** Safety bound on pages per rollup period (MAX_CHANNELS × 64 shards of small items). */
const MAX_PAGES_PER_PERIOD = 40;

/** The API model for an API value (`first_touch` when absent or empty); BadRequestError otherwise. */
export function parseModel(value: string | undefined | null): ApiModel {
  if (value === undefined || value === null || value === '') return DEFAULT_API_MODEL;
  if (Object.hasOwn(API_MODELS, value)) return value as ApiModel;
  throw new BadRequestError(`model must be first_touch or last_touch, got ${JSON.stringify(value.slice(0, 40))}`, undefined, 'bad_model');
}

/** Accepts either the API name (`first_touch`) or the counter name (`first`). */
export function normaliseModel(value: ApiModel | Model): { api: ApiModel; counter: Model } {
  if (value === 'first' || value === 'last') return { api: `${value}_touch`, counter: value };
  const api = parseModel(value);
  return { api, counter: API_MODELS[api] };
}

/**
 * Checks a `from`..`to` range of local days: both `YYYY-MM-DD` calendar dates, from ≤ to, at most
 * MAX_RANGE_DAYS days inclusive. Returns the days; throws BadRequestError with the reason.
 */
export function validateRange(from: string | undefined | null, to: string | undefined | null): string[] {
  if (!from || !to) throw new BadRequestError('from and to are required (YYYY-MM-DD)', undefined, 'bad_date');
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    if (!isIsoDay(v)) throw new BadRequestError(`${name} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(v.slice(0, 40))}`, undefined, 'bad_date');
  }
  if (from > to) throw new BadRequestError(`from (${from}) is after to (${to})`, undefined, 'bad_range');
  const span = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
  if (span > MAX_RANGE_DAYS) {
    throw new BadRequestError(`the range covers ${span} days; at most ${MAX_RANGE_DAYS} are allowed`, undefined, 'range_too_long');
  }
  return daysBetween(from, to);
}

/** Channel ids are key parts: non-empty, no `#`, bounded. */
export function validateChannelId(id: string | undefined | null): string {
  const r = ChannelId.safeParse(id);
  if (!r.success) throw new BadRequestError('channel id must be 1-64 letters, digits and _ . : - (no #, spaces or control characters)', undefined, 'bad_channel');
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Sums and derived metrics

/** The counter attributes summed as they are. */
export const SUMMED = ['newFans', 'unfollows', 'convertedFans', 'sameDayConversions', 'newMembers', 'scans', 'qrScans', 'orders', 'gmvFen', 'newContacts', 'lostContacts', 'referredMembers', 'referringMembers'] as const;
export type Summed = (typeof SUMMED)[number];

export interface Totals extends Record<Summed, number> {
  /** First follows of a further account (credits.ts): account scope adds them to newFans. */
  laterAccountFans: number;
  /** time-to-convert histogram: hours → count */
  ttc: Map<number, number>;
}

export const emptyTotals = (): Totals => ({
  newFans: 0,
  unfollows: 0,
  convertedFans: 0,
  sameDayConversions: 0,
  newMembers: 0,
  scans: 0,
  qrScans: 0,
  orders: 0,
  gmvFen: 0,
  newContacts: 0,
  lostContacts: 0,
  referredMembers: 0,
  referringMembers: 0,
  laterAccountFans: 0,
  ttc: new Map(),
});

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Adds one counter or rollup item's values (any shard, any period) into `into`; `sign` -1 subtracts them. */
export function addCounterItem(into: Totals, values: Record<string, unknown>, sign: 1 | -1 = 1): Totals {
  for (const m of SUMMED) into[m] += sign * num(values[m]);
  into.laterAccountFans += sign * num(values.laterAccountFans);
  for (const [attr, v] of Object.entries(values)) {
    const hours = ttcBucketHours(attr);
    if (hours === undefined) continue;
    const n = sign * num(v);
    if (n === 0) continue;
    const sum = (into.ttc.get(hours) ?? 0) + n;
    if (sum === 0) into.ttc.delete(hours);
    else into.ttc.set(hours, sum);
  }
  return into;
}

/** Adds totals `b` into `a`. */
export function mergeTotals(a: Totals, b: Totals): Totals {
  for (const m of SUMMED) a[m] += b[m];
  a.laterAccountFans += b.laterAccountFans;
  for (const [h, n] of b.ttc) a.ttc.set(h, (a.ttc.get(h) ?? 0) + n);
  return a;
}

const roundTo = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round((x + Math.sign(x) * Number.EPSILON * Math.abs(x)) * f) / f;
};

/** convertedFans / newFans rounded to 4 decimals; 0 when there are no new fans. */
export function conversionRate(convertedFans: number, newFans: number): number {
  if (!(newFans > 0)) return 0;
  return roundTo(convertedFans / newFans, 4);
}

/**
 * Median of the multiset a histogram describes (value → count; counts ≤ 0 ignored). An even
 * count gives the mean of the two middle values. 2 decimals; null when empty.
 */
export function medianFromHistogram(hist: Iterable<readonly [number, number]>): number | null {
  const entries = [...hist].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const lowIndex = Math.floor((total - 1) / 2);
  const highIndex = Math.floor(total / 2);
  let low: number | undefined;
  let high: number | undefined;
  let seen = 0;
  for (const [value, n] of entries) {
    const next = seen + n;
    if (low === undefined && lowIndex < next) low = value;
    if (highIndex < next) {
      high = value;
      break;
    }
    seen = next;
  }
  return roundTo(((low ?? 0) + (high ?? 0)) / 2, 2);
}

/** The metrics of one channel (or one day) in response order. */
export interface Metrics {
  newFans: number;
  unfollows: number;
  convertedFans: number;
  conversionRate: number;
  sameDayConversions: number;
  medianHoursToConvert: number | null;
  newMembers: number;
  scans: number;
  orders: number;
  gmvFen: number;
  qrScans: number;
  /** WeCom contacts begun through the channel's contact way (credits.ts). */
  newContacts: number;
  /** Of those, contacts ended by the staff member or the customer (credits.ts). */
  lostContacts: number;
  /** Referrals (老带新) credited to the channel's own members: people they referred who registered, and the referrers. */
  referredMembers: number;
  referringMembers: number;
  /** referredMembers ÷ referringMembers, 2 decimals; null without referrers. */
  kFactor: number | null;
}

export function deriveMetrics(t: Totals): Metrics {
  return {
    newFans: t.newFans,
    unfollows: t.unfollows,
    convertedFans: t.convertedFans,
    conversionRate: conversionRate(t.convertedFans, t.newFans),
    sameDayConversions: t.sameDayConversions,
    medianHoursToConvert: medianFromHistogram(t.ttc),
    newMembers: t.newMembers,
    scans: t.scans,
    orders: t.orders,
    gmvFen: t.gmvFen,
    qrScans: t.qrScans,
    newContacts: t.newContacts,
    lostContacts: t.lostContacts,
    referredMembers: t.referredMembers,
    referringMembers: t.referringMembers,
    kFactor: kFactor(t.referredMembers, t.referringMembers),
  };
}

/** Referred members per referring member (2 decimals); null when nobody referred anyone. */
export function kFactor(referred: number, referring: number): number | null {
  return referring > 0 ? roundTo(referred / referring, 2) : null;
}

/** One row of the channel table: the channel, its name and kind, and its metrics (the response writes the contract's fields first). */
export interface ChannelRow extends Metrics {
  channel: string;
  name: string;
  kind: string;
  /** The official account of the channel (absent: the default account's, or no account's). */
  appId?: string;
}

export function channelRow(channel: ChannelInfo, t: Totals): ChannelRow {
  const m = deriveMetrics(t);
  return {
    channel: channel.channel,
    name: channel.name,
    newFans: m.newFans,
    unfollows: m.unfollows,
    convertedFans: m.convertedFans,
    conversionRate: m.conversionRate,
    sameDayConversions: m.sameDayConversions,
    medianHoursToConvert: m.medianHoursToConvert,
    newMembers: m.newMembers,
    scans: m.scans,
    orders: m.orders,
    gmvFen: m.gmvFen,
    kind: channel.kind,
    qrScans: m.qrScans,
    newContacts: m.newContacts,
    lostContacts: m.lostContacts,
    referredMembers: m.referredMembers,
    referringMembers: m.referringMembers,
    kFactor: m.kFactor,
    ...(channel.appId !== undefined ? { appId: channel.appId } : {}),
  };
}

/**
 * How new fans are counted (docs/design.md#wechat-accounts): `brand` (default) counts each
 * person once, on the channel of their first follow of any account; `account` counts the first
 * follow of each account, so a person who follows A and later B is a new fan of both.
 */
export const SCOPES = ['brand', 'account'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope for an API value (`brand` when absent or empty); BadRequestError otherwise. */
export function parseScope(value: string | undefined | null): Scope {
  if (value === undefined || value === null || value === '') return 'brand';
  if ((SCOPES as readonly string[]).includes(value)) return value as Scope;
  throw new BadRequestError(`scope must be brand or account, got ${JSON.stringify(value.slice(0, 40))}`, undefined, 'bad_scope');
}

/** An appId filter value (as configured appids are written), or undefined; BadRequestError otherwise. */
export function parseAppIdFilter(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!/^[A-Za-z0-9_-]{2,32}$/.test(value)) throw new BadRequestError('appId must be 2-32 letters, digits, _ or -', undefined, 'bad_app_id');
  return value;
}

/** The totals as `scope` counts them. */
function scoped(t: Totals, scope: Scope): Totals {
  return scope === 'account' ? { ...t, newFans: t.newFans + t.laterAccountFans } : t;
}

const isEmpty = (t: Totals): boolean => SUMMED.every((m) => t[m] === 0) && t.laterAccountFans === 0 && t.ttc.size === 0;

// ---------------------------------------------------------------------------------------------
// Channels

export type { ChannelInfo };
const builtinById = new Map(BUILTIN_CHANNELS.map((c) => [c.channel, c]));

/** The store and the DynamoDB requests one call makes. */
class Reader implements RequestCounter {
  requests = 0;
  constructor(readonly store: Store) {}
}

/** What an attribution read needs: the table and the number of counter shards (a Runtime has both). */
export interface AttributionSource {
  readonly store: Store;
  readonly cfg: Pick<HubConfig, 'HUB_COUNTER_SHARDS'> & { readonly WECHAT_APP_ID?: string };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Display facts of a channel; a built-in channel's item named after its id keeps the built-in name. */
const info = (item: ListedChannel | undefined, id: string): ChannelInfo => {
  const builtin = builtinById.get(id);
  let name = str(item?.name);
  if (!name || (builtin && name === id)) name = builtin?.name ?? name ?? id;
  let kind = str(item?.kind);
  if (!kind || (builtin && kind === 'unknown')) kind = builtin?.kind ?? kind ?? 'unknown';
  const appId = str(item?.appId);
  return { channel: id, name, kind, ...(appId ? { appId } : {}) };
};

/** WeChat channels without an appId are the default account's: its QR channels, its scenes and organic follows. */
const WECHAT_KINDS = new Set(['wechat_qr', 'unknown']);
function belongsTo(c: ChannelInfo, appId: string, defaultAppId: string | undefined): boolean {
  if (c.appId !== undefined) return c.appId === appId;
  return appId === defaultAppId && (WECHAT_KINDS.has(c.kind) || c.channel === 'organic');
}

/** Lists channel items through gsi1 (`CHANNELS`), page by page, at most MAX_CHANNELS. */
async function listChannels(r: Reader): Promise<{ channels: ChannelInfo[]; truncated: boolean }> {
  const { items, complete } = await channelItems.list(r.store, { max: MAX_CHANNELS, pageSize: CHANNEL_PAGE_SIZE, projection: 'summary', counter: r });
  const channels: ChannelInfo[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const id = item.channelId;
    if (!id || seen.has(id)) continue;
    seen.add(id);
    channels.push(info(item, id));
  }
  const truncated = !complete || channels.length > MAX_CHANNELS;
  if (truncated) logger.warn('channel list truncated', { limit: MAX_CHANNELS });
  return { channels: channels.slice(0, MAX_CHANNELS), truncated };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** One channel shard's counter items over the range (bounded pages; a stop at the bound is logged). */
async function readShard(r: Reader, channelId: string, shard: number, model: Model, from: string, to: string): Promise<CounterRow[]> {
  const { items, complete } = await counters.readRange(r.store, channelId, shard, model, from, to, { maxPages: MAX_PAGES_PER_QUERY, counter: r });
  if (!complete) logger.warn('counter query stopped at the page bound', { channelId, shard });
  return items;
}

/** The counter items of one channel over the range, all shards. */
function readCounters(r: Reader, channelId: string, model: Model, from: string, to: string, shards: number): Promise<CounterRow[][]> {
  return mapLimit(Array.from({ length: shards }, (_, s) => s), READ_CONCURRENCY, (shard) => readShard(r, channelId, shard, model, from, to));
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface MetricsQuery {
  from: string;
  to: string;
  /** `first_touch` / `last_touch` (or `first` / `last`); default first_touch. */
  model?: ApiModel | Model;
  /** Only these channels (each listed even without a channel item). */
  channelIds?: string[];
  /** `brand` (default) or `account`: how newFans count (parseScope). */
  scope?: Scope;
  /** Only the channels of this official account. */
  appId?: string;
}

export interface ChannelMetricsResult {
  from: string;
  to: string;
  model: ApiModel;
  scope: Scope;
  appId?: string;
  channels: ChannelRow[];
  /** DynamoDB requests made (Query pages and Gets). */
  requests: number;
  /** True when the channel list exceeded MAX_CHANNELS and some were left off. */
  truncated: boolean;
}

/**
 * The rollup periods that sum to from..to: each month the range covers whole, and for a month it
 * covers in part either its days in the range (added) or the whole month less its days outside
 * the range (subtracted), whichever takes fewer Queries. A 90-day range is at most 36 periods.
 */
export function periodPlan(from: string, to: string): { period: string; sign: 1 | -1 }[] {
  const out: { period: string; sign: 1 | -1 }[] = [];
  const byMonth = new Map<string, string[]>();
  for (const day of daysBetween(from, to)) {
    const m = monthOf(day);
    const days = byMonth.get(m) ?? [];
    days.push(day);
    byMonth.set(m, days);
  }
  for (const [month, inRange] of byMonth) {
    const all = daysBetween(`${month}-01`, lastDayOf(month));
    if (inRange.length === all.length) out.push({ period: month, sign: 1 });
    else if (inRange.length <= 1 + all.length - inRange.length) for (const d of inRange) out.push({ period: d, sign: 1 });
    else {
      out.push({ period: month, sign: 1 });
      const wanted = new Set(inRange);
      for (const d of all) if (!wanted.has(d)) out.push({ period: d, sign: -1 });
    }
  }
  return out;
}

/** The last day of a month `YYYY-MM`. */
function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/**
 * Metrics per channel over from..to (inclusive local days), from the rollups the fold keeps
 * (lib/attribution/fold.ts): one channel-list Query plus the periods of periodPlan. Channels with
 * a channel item are always listed (zeros included); built-in channels only when they have
 * activity. Rows come in channel id order. Figures include every credit folded so far: the fold
 * lag of docs/design.md.
 */
export async function channelMetrics(src: AttributionSource, q: MetricsQuery): Promise<ChannelMetricsResult> {
  validateRange(q.from, q.to);
  const model = normaliseModel(q.model ?? DEFAULT_API_MODEL);
  const r = new Reader(src.store);

  const listed = await listChannels(r);
  const targets = new Map<string, { info: ChannelInfo; always: boolean }>();
  for (const c of listed.channels) targets.set(c.channel, { info: c, always: true });
  for (const c of BUILTIN_CHANNELS) if (!targets.has(c.channel)) targets.set(c.channel, { info: c, always: false });
  if (q.channelIds) {
    const wanted = new Set(q.channelIds.map(validateChannelId));
    for (const id of targets.keys()) if (!wanted.has(id)) targets.delete(id);
    for (const id of wanted) if (!targets.has(id)) targets.set(id, { info: info(undefined, id), always: true });
  }
  const appId = q.appId;
  if (appId !== undefined) for (const [id, t] of targets) if (!belongsTo(t.info, appId, src.cfg.WECHAT_APP_ID)) targets.delete(id);
  const scope = q.scope ?? 'brand';

  const list = [...targets.values()];
  const index = new Map(list.map((t, i) => [t.info.channel, i]));
  const totals = list.map(() => emptyTotals());
  // Every channel's rollups of a period are one partition: a few Queries cover the whole range.
  await mapLimit(periodPlan(q.from, q.to), READ_CONCURRENCY, async ({ period, sign }) => {
    const { items, complete } = await rollups.readPeriod(r.store, model.counter, period, { maxPages: MAX_PAGES_PER_PERIOD, counter: r });
    if (!complete) logger.warn('rollup query stopped at the page bound', { period });
    for (const item of items) {
      const i = index.get(item.channelId);
      if (i !== undefined) addCounterItem(totals[i]!, item.values, sign);
    }
  });

  const channels = list
    .map((t, i) => ({ t, totals: totals[i]! }))
    .filter(({ t, totals: tot }) => t.always || !isEmpty(tot))
    .map(({ t, totals: tot }) => channelRow(t.info, scoped(tot, scope)))
    .sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  return { from: q.from, to: q.to, model: model.api, scope, ...(appId !== undefined ? { appId } : {}), channels, requests: r.requests, truncated: listed.truncated };
}

export interface DayRow extends Metrics {
  day: string;
}

export interface ChannelDailyResult {
  channel: string;
  name: string;
  kind: string;
  from: string;
  to: string;
  model: ApiModel;
  /** Every day of the range, zeros included. */
  days: DayRow[];
  requests: number;
}

/**
 * One channel's metrics per local day over from..to. NotFoundError for a channel that has no
 * channel item, is not built in, and has no counters in the range.
 */
export async function channelDaily(src: AttributionSource, channelId: string, q: Omit<MetricsQuery, 'channelIds'>): Promise<ChannelDailyResult> {
  const id = validateChannelId(channelId);
  const days = validateRange(q.from, q.to);
  const model = normaliseModel(q.model ?? DEFAULT_API_MODEL);
  const shards = src.cfg.HUB_COUNTER_SHARDS;
  const r = new Reader(src.store);

  const [item, perShard] = await Promise.all([channelItems.get(r.store, id, { counter: r }), readCounters(r, id, model.counter, q.from, q.to, shards)]);
  const byDay = new Map(days.map((d) => [d, emptyTotals()]));
  let any = false;
  for (const items of perShard) {
    for (const it of items) {
      const t = byDay.get(it.day);
      if (!t) continue;
      addCounterItem(t, it.values);
      any = true;
    }
  }
  if (!item && !builtinById.has(id) && !any) throw new NotFoundError(`unknown channel ${id}`);
  const ch = info(item, id);
  return {
    channel: id,
    name: ch.name,
    kind: ch.kind,
    from: q.from,
    to: q.to,
    model: model.api,
    days: days.map((day) => ({ day, ...deriveMetrics(byDay.get(day)!) })),
    requests: r.requests,
  };
}
