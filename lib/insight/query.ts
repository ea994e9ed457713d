/**
 * The reads of the menus and keywords routes (docs/design.md#menus-and-keywords):
 *   menuInsight     menu CLICK / VIEW counts by account and menu key / URL
 *   keywordInsight  text messages by matched keyword rule (count, replies given) and the top
 *                   unanswered terms
 * Each reads one Query per counter shard over the day range (lib/store/entities/insight.ts),
 * never a Scan, and sums in memory. Also the keyword-rule routes (read, replace).
 */
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import type { HubConfig } from '../config/schema.ts';
import { wechatApp } from '../config/wechat-apps.ts';
import type { Store } from '../store/client.ts';
import { insightCounters, keywordRules, type InsightRow } from '../store/entities/insight.ts';
import { parseAppIdFilter, validateChannelId, validateRange } from '../attribution/query.ts';
import { compileRules, type KeywordRule } from './keywords.ts';

/** Pages read per counter shard at most; past it the answer says `truncated`. */
const MAX_PAGES_PER_SHARD = 20;
export const DEFAULT_TOP_WORDS = 50;
export const MAX_TOP_WORDS = 500;

export interface InsightQuery {
  from: string;
  to: string;
  appId?: string;
  channel?: string;
}

/**
 * Checks a query string: `from`, `to` (local days, inclusive, at most 366 days), optional `appId`
 * and `channel` (the sender's first-touch channel) and, where `extra` allows, `limit`; any other
 * parameter is a 400 naming it.
 */
export function parseInsightQuery(q: Record<string, string>, extra: readonly string[] = []): InsightQuery & { limit?: number } {
  const allowed = new Set(['from', 'to', 'appId', 'channel', ...extra]);
  const unknown = Object.keys(q).filter((k) => !allowed.has(k));
  if (unknown.length) throw new BadRequestError(`unknown query parameter ${JSON.stringify(unknown[0]!.slice(0, 40))}; allowed: ${[...allowed].join(', ')}`, undefined, 'bad_query');
  validateRange(q.from, q.to);
  const appId = parseAppIdFilter(q.appId);
  const channel = q.channel === undefined ? undefined : validateChannelId(q.channel);
  let limit: number | undefined;
  if (q.limit !== undefined) {
    limit = /^\d{1,4}$/.test(q.limit) ? Number(q.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_TOP_WORDS)) throw new BadRequestError(`limit must be an integer 1..${MAX_TOP_WORDS}`, undefined, 'bad_limit');
  }
  return { from: q.from!, to: q.to!, ...(appId !== undefined ? { appId } : {}), ...(channel !== undefined ? { channel } : {}), ...(limit !== undefined ? { limit } : {}) };
}

const wanted = (q: InsightQuery) => (r: InsightRow) => (q.appId === undefined || r.appId === q.appId) && (q.channel === undefined || r.channel === q.channel);
const byCount = <T extends { count: number }>(key: (x: T) => string) => (a: T, b: T) => b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** Sums rows by `keyOf`, keeping the first row's fields. */
function sum<T>(rows: readonly InsightRow[], keyOf: (r: InsightRow) => string, make: (r: InsightRow) => T, addTo: (acc: T, r: InsightRow) => void): T[] {
  const out = new Map<string, T>();
  for (const r of rows) {
    const k = keyOf(r);
    let acc = out.get(k);
    if (!acc) out.set(k, (acc = make(r)));
    addTo(acc, r);
  }
  return [...out.values()];
}

export interface MenuRow {
  appId: string;
  event: 'CLICK' | 'VIEW';
  key: string;
  count: number;
}

/** Menu events in the range by account, event and key / URL, most counted first. */
export async function menuInsight(s: Store, q: InsightQuery, now: number): Promise<{ from: string; to: string; rows: MenuRow[]; truncated?: true }> {
  const { rows, complete } = await insightCounters.readRange(s, 'menu', q.from, q.to, { maxPages: MAX_PAGES_PER_SHARD, now });
  const out = sum(
    rows.filter(wanted(q)),
    (r) => JSON.stringify([r.appId, r.event, r.key]),
    (r): MenuRow => ({ appId: r.appId, event: r.event === 'VIEW' ? 'VIEW' : 'CLICK', key: r.key ?? '', count: 0 }),
    (acc, r) => void (acc.count += r.n),
  ).sort(byCount((m) => JSON.stringify([m.appId, m.event, m.key])));
  return { from: q.from, to: q.to, rows: out, ...(complete ? {} : { truncated: true as const }) };
}

export interface KeywordRow {
  appId: string;
  keyword: string;
  replies: number;
  count: number;
}

/** Matched keywords (messages, replies given) and the `limit` most frequent unanswered terms. */
export async function keywordInsight(
  s: Store,
  q: InsightQuery & { limit?: number },
  now: number,
): Promise<{ from: string; to: string; matched: KeywordRow[]; unmatched: { word: string; count: number }[]; truncated?: true }> {
  const [kw, words] = await Promise.all([insightCounters.readRange(s, 'kw', q.from, q.to, { maxPages: MAX_PAGES_PER_SHARD, now }), insightCounters.readRange(s, 'word', q.from, q.to, { maxPages: MAX_PAGES_PER_SHARD, now })]);
  const matched = sum(
    kw.rows.filter(wanted(q)),
    (r) => JSON.stringify([r.appId, r.key]),
    (r): KeywordRow => ({ appId: r.appId, keyword: r.key ?? '', replies: 0, count: 0 }),
    (acc, r) => {
      acc.count += r.n;
      acc.replies += r.replies ?? 0;
    },
  ).sort(byCount((k) => JSON.stringify([k.appId, k.keyword])));
  // Terms carry no channel: a channel filter applies to the matched keywords only.
  const unmatched = sum(
    words.rows.filter((r) => q.appId === undefined || r.appId === q.appId),
    (r) => r.key ?? '',
    (r) => ({ word: r.key ?? '', count: 0 }),
    (acc, r) => void (acc.count += r.n),
  )
    .sort(byCount((w) => w.word))
    .slice(0, q.limit ?? DEFAULT_TOP_WORDS);
  return { from: q.from, to: q.to, matched, unmatched, ...(kw.complete && words.complete ? {} : { truncated: true as const }) };
}

/** The official account a keyword-rule route names; 404 for anything else. */
function officialAccount(cfg: HubConfig, appId: string): string {
  if (wechatApp(cfg, appId)?.kind !== 'official') throw new NotFoundError(`unknown official account ${appId.slice(0, 64)}`);
  return appId;
}

export interface KeywordRulesView {
  appId: string;
  rules: KeywordRule[];
  /** 0 before the first write. */
  version: number;
  updatedAt: string | null;
}

const view = (appId: string, rules: KeywordRule[], version: number, updatedAt: number | undefined): KeywordRulesView => ({
  appId,
  rules,
  version,
  updatedAt: updatedAt ? new Date(updatedAt).toISOString() : null,
});

/** GET /keywords/{appId}: the account's rules in their order (none yet: an empty list, version 0). */
export async function getKeywordRules(s: Store, cfg: HubConfig, appId: string): Promise<KeywordRulesView> {
  officialAccount(cfg, appId);
  const stored = await keywordRules.get(s, appId);
  return view(appId, (stored?.rules ?? []) as KeywordRule[], stored?.version ?? 0, stored?.updatedAt);
}

/**
 * PUT /keywords/{appId} `{rules, version?}`: replaces the account's rules after validating every
 * entry (400 `bad_keyword_rules` naming each bad one). `version`, when given, must be the
 * version the editor read (409 `version_conflict` otherwise, nothing written); a concurrent write
 * between the read and this write is a 409 too.
 */
export async function putKeywordRules(s: Store, cfg: HubConfig, appId: string, body: unknown, now: number): Promise<KeywordRulesView> {
  officialAccount(cfg, appId);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be {"rules": [...], "version"?: n}', undefined, 'bad_body');
  const { version, ...rest } = body as Record<string, unknown>;
  if (version !== undefined && !(typeof version === 'number' && Number.isSafeInteger(version) && version >= 0)) {
    throw new BadRequestError('version must be a non-negative integer', undefined, 'bad_version');
  }
  const { rules } = compileRules(rest);
  const current = (await keywordRules.get(s, appId, { consistent: true }))?.version ?? 0;
  if (version !== undefined && version !== current) throw new ConflictError(`the rules are at version ${current}, not ${version}: read them again`, undefined, 'version_conflict');
  if (!(await keywordRules.put(s, appId, rules, current, now))) throw new ConflictError('the rules were changed meanwhile: read them again', undefined, 'version_conflict');
  return view(appId, rules, current + 1, now);
}
