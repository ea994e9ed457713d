/**
 * GET /attribution/channels?from&to[&model][&scope][&appId]  metrics per channel (JSON); scope
 *                                                         brand (default) | account, appId: one official account's channels
 * GET /attribution/channels/{id}/daily?from&to[&model]   one channel per local day (JSON)
 * GET /attribution/channels.csv?from&to[&model]          the channel table as CSV
 * GET /attribution/accounts                              the configured official accounts (the dashboard's account switcher)
 * GET /insight/lift?from&to[&rule]                       treated vs holdout conversion of marketing rules
 *                                                         and campaigns (lib/insight/lift.ts; scope insight:read)
 * GET /attribution/cohorts?from&to[&granularity][&horizon]  value by acquisition channel per cohort (JSON);
 *                                                         granularity week | month (default), horizon 30 | 90 (default) | 180 days
 * GET /attribution/cohorts.csv?same                       the cohort table as CSV
 *
 * Admin only (bearer token locally, the JWT authorizer in AWS). `from`/`to` are local days
 * (YYYY-MM-DD, inclusive, at most 366 days); `model` is first_touch (default) or last_touch.
 * Bad input is a 400 with the reason.
 */
import { NotFoundError } from '../lib/errors.ts';
import { json, query, type HttpEvent } from '../lib/runtime/http.ts';
import { http } from '../lib/runtime/lambda.ts';
import { channelDaily, channelMetrics, parseAppIdFilter, parseModel, parseScope, validateRange } from '../lib/attribution/query.ts';
import { attributionCsv, attributionCsvFilename, cohortCsv, cohortCsvFilename } from '../lib/attribution/csv.ts';
import { cohortMetrics, parseCohortQuery } from '../lib/attribution/cohort-query.ts';
import { liftReport } from '../lib/insight/lift.ts';

type Route = { name: 'channels' } | { name: 'csv' } | { name: 'accounts' } | { name: 'lift' } | { name: 'cohorts' } | { name: 'cohortsCsv' } | { name: 'daily'; id: string };

/** The route from the API Gateway route key, else from the raw path. */
export function routeOf(event: HttpEvent): Route {
  const method = event.requestContext?.http?.method ?? 'GET';
  if (method !== 'GET') throw new NotFoundError(`no route ${method} ${event.rawPath}`);
  switch (event.routeKey) {
    case 'GET /attribution/channels':
      return { name: 'channels' };
    case 'GET /attribution/channels.csv':
      return { name: 'csv' };
    case 'GET /attribution/accounts':
      return { name: 'accounts' };
    case 'GET /insight/lift':
      return { name: 'lift' };
    case 'GET /attribution/cohorts':
      return { name: 'cohorts' };
    case 'GET /attribution/cohorts.csv':
      return { name: 'cohortsCsv' };
    case 'GET /attribution/channels/{id}/daily':
      if (event.pathParameters?.id) return { name: 'daily', id: event.pathParameters.id };
  }
  const path = (event.rawPath ?? '').replace(/\/+$/, '');
  if (/\/attribution\/channels$/.test(path)) return { name: 'channels' };
  if (/\/attribution\/channels\.csv$/.test(path)) return { name: 'csv' };
  if (/\/attribution\/accounts$/.test(path)) return { name: 'accounts' };
  if (/\/insight\/lift$/.test(path)) return { name: 'lift' };
  if (/\/attribution\/cohorts$/.test(path)) return { name: 'cohorts' };
  if (/\/attribution\/cohorts\.csv$/.test(path)) return { name: 'cohortsCsv' };
  const m = /\/attribution\/channels\/([^/]+)\/daily$/.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      id = m[1]!;
    }
    return { name: 'daily', id };
  }
  throw new NotFoundError(`no route GET ${event.rawPath}`);
}

/** The official accounts as the dashboard lists them: `{appId, name, default}`, the default account first. */
export function accountList(apps: readonly { appId: string; kind: string; name: string }[], defaultAppId: string): { appId: string; name: string; default: boolean }[] {
  const official = apps.filter((a) => a.kind === 'official').map((a) => ({ appId: a.appId, name: a.name, default: a.appId === defaultAppId }));
  return [...official.filter((a) => a.default), ...official.filter((a) => !a.default)];
}

export const handler = http({ name: 'attribution-api', admin: true }, async (event, rt) => {
  const route = routeOf(event);
  const noStore = { 'cache-control': 'no-store' };
  // The accounts channels belong to (docs/design.md#wechat-accounts): official accounts only, the default first.
  if (route.name === 'accounts') return json(200, { accounts: accountList(rt.cfg.wechatApps, rt.cfg.WECHAT_APP_ID) }, noStore);
  const q = query(event);
  if (route.name === 'lift') return json(200, await liftReport({ store: rt.store, rules: rt.cfg.rules, now: rt.now() }, q), noStore);
  if (route.name === 'cohorts' || route.name === 'cohortsCsv') {
    const cq = parseCohortQuery(q);
    const r = await cohortMetrics(rt, cq);
    if (route.name === 'cohortsCsv') {
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${cohortCsvFilename(cq)}"`, ...noStore },
        body: cohortCsv(r.rows),
      };
    }
    const { requests: _requests, ...body } = r;
    return json(200, body, noStore);
  }
  const model = parseModel(q.model);
  validateRange(q.from, q.to);
  const from = q.from!;
  const to = q.to!;

  if (route.name === 'daily') {
    const r = await channelDaily(rt, route.id, { from, to, model });
    return json(200, { channel: r.channel, from: r.from, to: r.to, model: r.model, days: r.days }, noStore);
  }
  const scope = parseScope(q.scope);
  const appId = parseAppIdFilter(q.appId);
  const r = await channelMetrics(rt, { from, to, model, scope, ...(appId !== undefined ? { appId } : {}) });
  if (route.name === 'csv') {
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${attributionCsvFilename(from, to, model)}"`,
        ...noStore,
      },
      // The account column once the brand has several accounts (or the table is one account's).
      body: attributionCsv(r.channels, rt.cfg.wechatApps.length > 1 || appId !== undefined ? { defaultAppId: rt.cfg.WECHAT_APP_ID } : undefined),
    };
  }
  // The scope is stated once it can matter: several accounts, or asked for.
  const stated = q.scope !== undefined || appId !== undefined || rt.cfg.wechatApps.length > 1;
  return json(200, { from: r.from, to: r.to, model: r.model, ...(stated ? { scope: r.scope } : {}), ...(r.appId !== undefined ? { appId: r.appId } : {}), channels: r.channels, ...(r.truncated ? { truncated: true } : {}) }, noStore);
});
