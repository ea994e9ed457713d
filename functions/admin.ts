/**
 * Admin API: members, channels, code batches. Bearer token locally, JWT authorizer in AWS.
 *   GET  /members/{id}
 *   POST /channels                         GET /channels
 *   POST /codes/batches                    POST /codes/batches/{id}/status {active}
 *   GET  /codes/batches/{id}/codes.csv?offset&limit   (pages of ≤ 50,000 rows; `npm run codes` for files)
 */
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { BadRequestError, NotFoundError } from '../lib/errors.ts';
import { httpHandler, json, jsonBody, query, requireAdmin, type HttpEvent } from '../lib/http/index.ts';
import { routeScope } from '../lib/manifest.ts';
import { ddb, tableName } from '../lib/store/client.ts';
import { memberProfile } from '../lib/members/profile.ts';
import { createChannel, listChannels } from '../lib/attribution/channels.ts';
import { createBatch, getBatch, setBatchActive } from '../lib/codes/batches.ts';
import { codesCsv } from '../lib/codes/csv.ts';
import { codecFor } from '../lib/codes/codec.ts';
import { wechatApi } from '../lib/wechat/process-client.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

const CSV_PAGE_MAX = 50_000;

export const handler = httpHandler(async (event: HttpEvent) => {
  await loadSecrets();
  const cfg = config();
  requireAdmin(event, cfg.HUB_ADMIN_TOKEN, routeScope(event.routeKey));
  const store = { db: ddb(), table: tableName() };
  const p = event.pathParameters ?? {};
  switch (event.routeKey) {
    case 'GET /members/{id}':
      return json(200, await memberProfile(store, p.id ?? ''));
    case 'POST /channels':
      return json(201, await createChannel(store, wechatApi(), jsonBody(event)));
    case 'GET /channels':
      return json(200, { channels: await listChannels(store) });
    case 'POST /codes/batches':
      return json(201, await createBatch(store, jsonBody(event)));
    case 'POST /codes/batches/{id}/status': {
      const body = jsonBody(event) as { active?: unknown };
      if (typeof body?.active !== 'boolean') throw new BadRequestError('body must be {"active": true|false}');
      return json(200, await setBatchActive(store, p.id ?? '', body.active));
    }
    case 'GET /codes/batches/{id}/codes.csv': {
      const batch = await getBatch(store, p.id ?? '');
      const q = query(event);
      const offset = q.offset === undefined ? 0 : Number(q.offset);
      const limit = q.limit === undefined ? Math.min(batch.count, CSV_PAGE_MAX) : Number(q.limit);
      if (!Number.isInteger(offset) || offset < 0 || offset > batch.count) throw new BadRequestError('offset must be an integer within the batch');
      if (!Number.isInteger(limit) || limit < 1 || limit > CSV_PAGE_MAX) throw new BadRequestError(`limit must be 1..${CSV_PAGE_MAX}`);
      const count = Math.min(limit, batch.count - offset);
      let body = '';
      for await (const chunk of codesCsv(codecFor(cfg), { batchId: batch.batchId, sku: batch.sku, firstSerial: batch.firstSerial + offset, count })) body += chunk;
      const next = offset + count < batch.count ? `</codes/batches/${batch.batchId}/codes.csv?offset=${offset + count}&limit=${limit}>; rel="next"` : undefined;
      return {
        statusCode: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="codes-${batch.batchId}-${offset}.csv"`,
          ...(next ? { link: next } : {}),
        },
        body,
      };
    }
  }
  throw new NotFoundError('no such admin route');
});
