/**
 * Keyword auto-replies of one official account: the rule set marketing edits with
 * `PUT /keywords/{appId}` (stored as one item, lib/store/entities/insight.ts), validated when it
 * is written and compiled once per version when a text message is planned (docs/design.md#menus-and-keywords).
 *
 * A rule is `{keyword, match, pattern?, reply?}`:
 * - `keyword`: the label the message is counted under (`GET /insight/keywords`), unique in the set;
 * - `match`: `exact` (the whole message), `contains` (anywhere in it) or `regex`;
 * - `pattern`: what is matched (default: the keyword itself; required for `regex`);
 * - `reply`: the text of the passive reply; without it the message is counted, answered `success`.
 * The rules are tried in their order; the FIRST that matches wins.
 *
 * Text is compared after `normaliseText` (Unicode NFKC — full-width letters, digits and
 * punctuation become their ASCII forms —, whitespace runs as one space, trimmed); `exact` and
 * `contains` also ignore case. A `regex` runs on the normalised text as it is (use `(?i)` for
 * case-insensitive) through re2js, a JavaScript port of RE2: matching is linear in the input
 * (no backtracking, so no pattern can hang the push), and RE2 refuses what it cannot do in
 * linear time (backreferences, lookaround) when the rule set is written.
 */
import * as z from 'zod';
import { RE2JS } from 're2js';
import { BadRequestError } from '../errors.ts';

/** Limits of one account's rule set (the item stays far below DynamoDB's 400 KB). */
export const KEYWORD_LIMITS = {
  rules: 100,
  keyword: 64,
  pattern: 200,
  /** A chat-bubble length: ≤ 1,800 bytes in UTF-8 (docs/platforms.md#wechat-passive-replies). */
  reply: 600,
} as const;

export const MATCH_KINDS = ['exact', 'contains', 'regex'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

const noControl = (s: string) => !/\p{Cc}/u.test(s);

export const KeywordRuleInput = z
  .object({
    keyword: z.string().trim().min(1).max(KEYWORD_LIMITS.keyword).refine(noControl, 'no control characters'),
    match: z.enum(MATCH_KINDS),
    pattern: z.string().min(1).max(KEYWORD_LIMITS.pattern).refine(noControl, 'no control characters').optional(),
    reply: z.string().trim().min(1).max(KEYWORD_LIMITS.reply).refine((r) => noControl(r.replace(/\n/g, '')), 'no control characters but line breaks').optional(),
  })
  .strict();
export type KeywordRule = z.infer<typeof KeywordRuleInput>;

export const KeywordRulesInput = z.object({ rules: z.array(KeywordRuleInput).max(KEYWORD_LIMITS.rules) }).strict();

/** A rule ready to test messages. */
export interface CompiledRule {
  keyword: string;
  match: MatchKind;
  reply?: string;
  test(normalisedText: string): boolean;
}

/** NFKC, whitespace runs as one space, trimmed: how messages and patterns are compared. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

/** A rule set that cannot be used: `problems` name each entry (`rules[2] "会员" pattern: …`). */
export class KeywordRulesError extends BadRequestError {
  constructor(readonly problems: string[]) {
    super(`invalid keyword rules: ${problems.join('; ')}`, { problems }, 'bad_keyword_rules');
    this.name = 'KeywordRulesError';
  }
}

function compileOne(rule: KeywordRule): CompiledRule {
  const base = { keyword: rule.keyword, match: rule.match, ...(rule.reply !== undefined ? { reply: rule.reply } : {}) };
  if (rule.match === 'regex') {
    const re = RE2JS.compile(rule.pattern!);
    return { ...base, test: (text) => re.matcher(text).find() };
  }
  const needle = normaliseText(rule.pattern ?? rule.keyword).toLowerCase();
  if (rule.match === 'exact') return { ...base, test: (text) => text.toLowerCase() === needle };
  return { ...base, test: (text) => text.toLowerCase().includes(needle) };
}

/**
 * Validates and compiles a rule set (the body of `PUT /keywords/{appId}`, or the stored item):
 * KeywordRulesError naming every bad entry — a schema problem, a regex without a pattern, a
 * pattern RE2 refuses, a keyword used twice, a pattern that normalises to nothing.
 */
export function compileRules(input: unknown): { rules: KeywordRule[]; compiled: CompiledRule[] } {
  const parsed = KeywordRulesInput.safeParse(input);
  if (!parsed.success) {
    throw new KeywordRulesError(parsed.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || 'body'}: ${i.message}`));
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const compiled: CompiledRule[] = [];
  parsed.data.rules.forEach((rule, i) => {
    const name = `rules[${i}] ${JSON.stringify(rule.keyword)}`;
    if (seen.has(rule.keyword)) problems.push(`${name}: keyword used by an earlier rule`);
    seen.add(rule.keyword);
    if (rule.match === 'regex' && rule.pattern === undefined) {
      problems.push(`${name}: a regex rule needs a pattern`);
      return;
    }
    if (rule.match !== 'regex' && normaliseText(rule.pattern ?? rule.keyword) === '') {
      problems.push(`${name}: the pattern is empty once normalised`);
      return;
    }
    try {
      compiled.push(compileOne(rule));
    } catch (err) {
      problems.push(`${name} pattern: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (problems.length) throw new KeywordRulesError(problems);
  return { rules: parsed.data.rules, compiled };
}

/** The first rule that matches `text` (a raw message; normalised here), else undefined. */
export function matchKeyword(rules: readonly CompiledRule[], text: string): CompiledRule | undefined {
  const normalised = normaliseText(text);
  if (normalised === '') return undefined;
  return rules.find((r) => r.test(normalised));
}
