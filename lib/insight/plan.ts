/**
 * What a WeChat menu event or text message adds to the push's own transaction
 * (docs/design.md#menus-and-keywords): the menu counter (CLICK / VIEW by menu key or URL), or
 * for a text message the first keyword rule that matches it — its counter and its reply, the
 * passive reply to the push — or, when no rule matches, the counters of its words. Counted per
 * local day of the push, account and the sender's first-touch channel; the event's dedupe
 * marker is in the same transaction, so a retried push counts nothing twice.
 */
import type { WechatEvent } from '../events/hub-event.ts';
import type { Port } from '../port.ts';
import { localDay } from '../time.ts';
import { logger } from '../log.ts';
import { clip } from '../sources/wechat/normalise.ts';
import { insightCounters, MAX_MENU_KEY, type InsightSubject, type StoredKeywordRules } from '../store/entities/insight.ts';
import { compileRules, matchKeyword, type CompiledRule } from './keywords.ts';
import { unmatchedTerms } from './words.ts';

type Interaction = Extract<WechatEvent, { type: 'wechat.interaction' }>;

/** Compiled rule sets by account, for the stored version they were compiled from. */
const compiledCache = new Map<string, { version: number; rules: CompiledRule[] }>();

/** The account's compiled rules: compiled once per stored version; a set that no longer compiles is logged and answers nothing. */
export function compiledRulesOf(stored: StoredKeywordRules | undefined): CompiledRule[] {
  if (!stored) return [];
  const hit = compiledCache.get(stored.appId);
  if (hit?.version === stored.version) return hit.rules;
  let rules: CompiledRule[] = [];
  try {
    rules = compileRules({ rules: stored.rules }).compiled;
  } catch (err) {
    logger.error('stored keyword rules do not compile; no keyword replies for this account', { appId: stored.appId, version: stored.version, error: err instanceof Error ? err.message : String(err) });
  }
  compiledCache.set(stored.appId, { version: stored.version, rules });
  return rules;
}

/** The menu event's counter subject (CLICK: the button's key, VIEW: its URL), or undefined. */
function menuSubject(event: Interaction, channel: string): InsightSubject | undefined {
  if ((event.kind !== 'click' && event.kind !== 'view') || event.detail === undefined) return undefined;
  return { kind: 'menu', channel, event: event.kind === 'click' ? 'CLICK' : 'VIEW', key: clip(event.detail, MAX_MENU_KEY) };
}

/**
 * Adds the interaction's counters to `p.tx`; answers the passive reply text of a matched keyword
 * rule (undefined: `success`). `channel` is the sender's first-touch channel.
 */
export async function planInsight(p: Port, event: Interaction, channel: string): Promise<string | undefined> {
  const base = { eventId: event.eventId, day: localDay(event.occurredAt, p.tz), appId: event.appId, at: event.occurredAt };
  const menu = menuSubject(event, channel);
  if (menu) {
    insightCounters.add(p.tx, { ...base, subject: menu, adds: { n: 1 } });
    return undefined;
  }
  if (event.kind !== 'message' || event.msgType.toLowerCase() !== 'text' || event.detail === undefined) return undefined;
  const rule = matchKeyword(compiledRulesOf(await p.reads.keywordRules(event.appId)), event.detail);
  if (rule) {
    insightCounters.add(p.tx, { ...base, subject: { kind: 'kw', channel, key: rule.keyword }, adds: { n: 1, replies: rule.reply !== undefined ? 1 : 0 } });
    return rule.reply;
  }
  for (const term of unmatchedTerms(event.detail)) insightCounters.add(p.tx, { ...base, subject: { kind: 'word', key: term }, adds: { n: 1 } });
  return undefined;
}
