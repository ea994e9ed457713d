/**
 * Menus and keywords (docs/design.md#menus-and-keywords).
 *
 * Insight counters: `INSIGHT#<kind>#<shard 0..15>` | `<local day>#<appId>#<rest>`, added to in the
 * WeChat push's own transaction (the one that creates its dedupe marker, so WeChat's retry
 * counts nothing twice). The shard is a hash of the event id: one hot menu item or keyword is
 * spread over INSIGHT_SHARDS items a day instead of one hot item. Kinds and the rest of the key:
 *   menu   `<channel>#<CLICK|VIEW>#<menu key or URL>`   n: menu events
 *   kw     `<channel>#<keyword>`                        n: text messages the rule matched, replies: answered
 *   word   `<term>`                                     n: unanswered messages with the term (lib/insight/words.ts)
 * `channel` is the sender's first-touch channel. The fields are also stored as attributes (set
 * with the first add). No item names a person. TTL: menu and keyword counters
 * INSIGHT_RETENTION_DAYS, unanswered terms WORD_RETENTION_DAYS after their day.
 *
 * Keyword rules: `KEYWORDS#<appId>` | `#`, one official account's auto-reply rules
 * (`PUT /keywords/{appId}`, lib/insight/keywords.ts), with `version` and `updatedAt`.
 */
import { parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { getItem, putIf, queryPages } from '../item-ops.ts';
import { bucketOf } from '../../ids.ts';

export const INSIGHT_SHARDS = 16;
export const INSIGHT_KINDS = ['menu', 'kw', 'word'] as const;
export type InsightKind = (typeof INSIGHT_KINDS)[number];
/** Days a menu or keyword counter is kept after its day (13 months: a year back from any day). */
export const INSIGHT_RETENTION_DAYS = 400;
/** Days an unanswered term's counter is kept after its day. */
export const WORD_RETENTION_DAYS = 90;
/** Longest menu key or URL kept in a key (WeChat allows 128-byte keys and 1,024-byte URLs). */
export const MAX_MENU_KEY = 256;

const PREFIX = 'INSIGHT';
const RULES_PREFIX = 'KEYWORDS';

export const insightPartition = (kind: InsightKind, shard: number): string => `${PREFIX}#${kind}#${shard}`;
export const insightShardOf = (eventId: string): number => bucketOf(eventId, INSIGHT_SHARDS);

/** One counter as read back: the day, account and what it counts. */
export interface InsightRow {
  day: string;
  appId: string;
  channel?: string;
  event?: string;
  key?: string;
  n: number;
  replies?: number;
  /** TTL (epoch s): DynamoDB deletes lazily, readers skip an expired counter. */
  expiresAt?: number;
}

/** What a counter counts: the sort key after `<day>#<appId>#`, and its descriptive fields. */
export type InsightSubject =
  | { kind: 'menu'; channel: string; event: 'CLICK' | 'VIEW'; key: string }
  | { kind: 'kw'; channel: string; key: string }
  | { kind: 'word'; key: string };

function restOf(s: InsightSubject): string {
  if (s.kind === 'menu') return `${s.channel}#${s.event}#${s.key}`;
  if (s.kind === 'kw') return `${s.channel}#${s.key}`;
  return s.key;
}

export const insightKey = (shard: number, day: string, appId: string, s: InsightSubject): Key => ({
  pk: insightPartition(s.kind, shard),
  sk: `${day}#${appId}#${restOf(s)}`,
});

const expiry = (at: number, days: number) => Math.floor(at / 1000) + days * 86_400;

export function rowFromItem(item: Record<string, unknown>): InsightRow {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const channel = str(item.channel);
  const event = str(item.event);
  return {
    day: String(item.day),
    appId: String(item.appId),
    ...(channel !== undefined ? { channel } : {}),
    ...(event !== undefined ? { event } : {}),
    key: String(item.key),
    n: typeof item.n === 'number' ? item.n : 0,
    ...(typeof item.replies === 'number' ? { replies: item.replies } : {}),
    ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
  };
}

export const insightCounters = {
  /** Adds `adds` (n, replies) to one counter in the event's transaction `tx`. */
  add(tx: Tx, o: { eventId: string; day: string; appId: string; at: number; subject: InsightSubject; adds: Record<string, number> }): void {
    const { subject } = o;
    const retention = subject.kind === 'word' ? WORD_RETENTION_DAYS : INSIGHT_RETENTION_DAYS;
    tx.add(insightKey(insightShardOf(o.eventId), o.day, o.appId, subject), o.adds, {
      day: o.day,
      appId: o.appId,
      key: subject.key,
      ...(subject.kind !== 'word' ? { channel: subject.channel } : {}),
      ...(subject.kind === 'menu' ? { event: subject.event } : {}),
      expiresAt: expiry(o.at, retention),
    });
  },

  /**
   * Every counter of `kind` for local days from..to (inclusive) not expired at `now` (epoch ms):
   * one Query per shard (in parallel), at most `maxPages` pages each; `complete` false when a
   * shard had more.
   */
  async readRange(s: Store, kind: InsightKind, from: string, to: string, o: { maxPages: number; now: number }): Promise<{ rows: InsightRow[]; complete: boolean }> {
    const shards = await Promise.all(
      Array.from({ length: INSIGHT_SHARDS }, (_, shard) =>
        queryPages(
          s,
          {
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: { ':pk': insightPartition(kind, shard), ':a': `${from}#`, ':b': `${to}#\uffff` },
          },
          o.maxPages,
        ),
      ),
    );
    const live = (r: InsightRow) => r.expiresAt === undefined || r.expiresAt * 1000 > o.now;
    return { rows: shards.flatMap((p) => p.items.map(rowFromItem)).filter(live), complete: shards.every((p) => p.complete) };
  },
};

/** One account's stored keyword rules. */
export interface StoredKeywordRules {
  appId: string;
  rules: unknown[];
  version: number;
  updatedAt: number;
}

export const keywordRulesKey = (appId: string): Key => ({ pk: `${RULES_PREFIX}#${appId}`, sk: ROOT });
export const parseKeywordRulesKey = (k: Key): string => parseRootKey(k, RULES_PREFIX, 'keyword rules');

export const keywordRules = {
  /** The account's rules as stored; eventually consistent (a change is seen within about a second) unless `consistent`. */
  async get(s: Store, appId: string, o: { consistent?: boolean } = {}): Promise<StoredKeywordRules | undefined> {
    const item = await getItem<Record<string, unknown>>(s, keywordRulesKey(appId), o.consistent ? { consistent: true } : {});
    if (!item) return undefined;
    return { appId, rules: Array.isArray(item.rules) ? item.rules : [], version: Number(item.version ?? 0), updatedAt: Number(item.updatedAt ?? 0) };
  },

  /** Replaces the account's rules if the stored version is still `prevVersion` (0: none yet); false when another write came first. */
  put(s: Store, appId: string, rules: readonly unknown[], prevVersion: number, now: number): Promise<boolean> {
    return putIf(s, {
      Item: { ...keywordRulesKey(appId), appId, rules, version: prevVersion + 1, updatedAt: now },
      ConditionExpression: prevVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
      ...(prevVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': prevVersion } }),
    });
  },
};
