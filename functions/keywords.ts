/**
 * Menus and keywords (docs/design.md#menus-and-keywords). Admin only (bearer token locally, the
 * JWT authorizer in AWS):
 *   GET /insight/menus?from&to[&appId][&channel]           menu CLICK / VIEW counts by key / URL   (insight:read)
 *   GET /insight/keywords?from&to[&appId][&channel][&limit] matched keywords, top unanswered terms (insight:read)
 *   GET /keywords/{appId}                                   an official account's auto-reply rules  (insight:read)
 *   PUT /keywords/{appId} {rules, version?}                 replaces them, validated               (keywords:write)
 * Bad input is a 400 with the reason.
 */
import { NotFoundError } from '../lib/errors.ts';
import { json, jsonBody, query } from '../lib/runtime/http.ts';
import { routes } from '../lib/runtime/lambda.ts';
import { getKeywordRules, keywordInsight, menuInsight, parseInsightQuery, putKeywordRules } from '../lib/insight/query.ts';

const noStore = { 'cache-control': 'no-store' };
/** A rule set of 100 rules with 600-character replies fits well within this. */
const MAX_RULES_BODY = 256 * 1024;

export const handler = routes(
  { name: 'keywords', admin: true, maxBodyBytes: MAX_RULES_BODY },
  {
    'GET /insight/menus': async (event, rt) => json(200, await menuInsight(rt.store, parseInsightQuery(query(event)), rt.now()), noStore),
    'GET /insight/keywords': async (event, rt) => json(200, await keywordInsight(rt.store, parseInsightQuery(query(event), ['limit']), rt.now()), noStore),
    'GET /keywords/{appId}': async (event, rt) => json(200, await getKeywordRules(rt.store, rt.cfg, event.pathParameters?.appId ?? ''), noStore),
    'PUT /keywords/{appId}': async (event, rt) => json(200, await putKeywordRules(rt.store, rt.cfg, event.pathParameters?.appId ?? '', jsonBody(event, MAX_RULES_BODY), rt.now())),
  },
  async () => {
    throw new NotFoundError('no such route');
  },
);
