/**
 * POST /audiences                     {name, filter} → 201 the saved audience (400 with the reasons)
 * GET  /audiences/{id}                the audience
 * GET  /audiences/{id}/count[?refresh=true]   {audienceId, estimate, exact|null, method, countedAt, run}
 * GET  /audiences/{id}/members.csv[?cursor=]  one page of the members as CSV; `x-next-cursor`
 *                                     (and a `link` rel=next) name the next page, absent on the last
 * POST /campaigns                     {name, audienceId, message} → 202 {id, status}
 * GET  /campaigns/{id}                planned, sent, suppressed by reason, deferred, failed, lift
 *
 * Admin only; writes need `audiences:write` / `campaigns:write`, reads `insight:read`. The work
 * is in lib/audiences/ (api.ts; the paged jobs in pages.ts).
 */
import { NotFoundError } from '../lib/errors.ts';
import { json, jsonBody, query, type HttpEvent } from '../lib/runtime/http.ts';
import { routes } from '../lib/runtime/lambda.ts';
import { audienceCount, campaignReport, createAudience, createCampaign, getAudience, membersCsvPage } from '../lib/audiences/api.ts';

const noStore = { 'cache-control': 'no-store' };
const idOf = (event: HttpEvent): string => {
  const id = event.pathParameters?.id;
  if (!id) throw new NotFoundError('no id');
  return id;
};

export const handler = routes(
  { name: 'audiences', admin: true },
  {
    'POST /audiences': async (event, rt) => json(201, await createAudience(rt, jsonBody(event)), noStore),
    'GET /audiences/{id}': async (event, rt) => json(200, await getAudience(rt, idOf(event)), noStore),
    'GET /audiences/{id}/count': async (event, rt) => json(200, await audienceCount(rt, idOf(event), { refresh: query(event).refresh === 'true' }), noStore),
    'GET /audiences/{id}/members.csv': async (event, rt) => {
      const id = idOf(event);
      const page = await membersCsvPage(rt, id, query(event).cursor);
      const next: Record<string, string> = page.next === undefined ? {} : { 'x-next-cursor': page.next, link: `</audiences/${encodeURIComponent(id)}/members.csv?cursor=${page.next}>; rel="next"` };
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="audience-${id}.csv"`, ...noStore, ...next },
        body: page.csv,
      };
    },
    'POST /campaigns': async (event, rt) => json(202, await createCampaign(rt, jsonBody(event)), noStore),
    'GET /campaigns/{id}': async (event, rt) => json(200, await campaignReport(rt, idOf(event)), noStore),
  },
);
