/**
 * Admin API: members, channels, code batches. Bearer token locally, JWT authorizer in AWS.
 *   GET  /members/{id}
 *   GET  /members/{id}/export?reason=      POST /members/{id}/erase {reason}   (lib/privacy/requests.ts, audited)
 *   POST /channels                         GET /channels
 *   POST /codes/batches                    POST /codes/batches/{id}/status {active}
 *   GET  /codes/batches/{id}/codes.csv?offset&limit   (pages of ≤ 50,000 rows; `npm run codes` for files)
 *   POST /rewards                          GET /rewards                (lib/loyalty/rewards.ts)
 *   POST /redemptions/{id}/reverse         POST /coupons/{code}/redeem (lib/loyalty/redeem.ts, coupons.ts)
 */
import { BadRequestError, NotFoundError } from '../lib/errors.ts';
import { adminSubject, json, jsonBody, query, type HttpEvent, type HttpResult } from '../lib/runtime/http.ts';
import { adminErase, adminExport } from '../lib/privacy/requests.ts';
import { routes } from '../lib/runtime/lambda.ts';
import type { Runtime } from '../lib/runtime/runtime.ts';
import { memberProfile } from '../lib/members/profile.ts';
import { createChannel, listChannels, type ChannelAccounts } from '../lib/attribution/channels.ts';
import { wechatApp } from '../lib/config/index.ts';
import { wecomContactApi } from '../lib/wecom/client.ts';
import { createBatch, getBatch, setBatchActive } from '../lib/codes/batches.ts';
import { codesCsv } from '../lib/codes/csv.ts';
import { codecFor } from '../lib/codes/codec.ts';
import { createReward, listRewards } from '../lib/loyalty/rewards.ts';
import { reverseRedemption } from '../lib/loyalty/redeem.ts';
import { redeemAtTill } from '../lib/loyalty/coupons.ts';

const CSV_PAGE_MAX = 50_000;

const id = (event: HttpEvent) => event.pathParameters?.id ?? '';

async function codesCsvPage(event: HttpEvent, rt: Runtime): Promise<HttpResult> {
  const batch = await getBatch(rt.store, id(event));
  const q = query(event);
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  const limit = q.limit === undefined ? Math.min(batch.count, CSV_PAGE_MAX) : Number(q.limit);
  if (!Number.isInteger(offset) || offset < 0 || offset > batch.count) throw new BadRequestError('offset must be an integer within the batch');
  if (!Number.isInteger(limit) || limit < 1 || limit > CSV_PAGE_MAX) throw new BadRequestError(`limit must be 1..${CSV_PAGE_MAX}`);
  const count = Math.min(limit, batch.count - offset);
  let body = '';
  for await (const chunk of codesCsv(codecFor(rt.cfg), { batchId: batch.batchId, sku: batch.sku, firstSerial: batch.firstSerial + offset, count })) body += chunk;
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

const privacyDeps = (rt: Runtime) => ({ cfg: rt.cfg, store: rt.store, now: rt.now() });
const loyalty = (rt: Runtime) => ({ store: rt.store, now: () => rt.now() });

/** The configured official accounts a channel may belong to. */
const channelAccounts = (rt: Runtime): ChannelAccounts => ({
  defaultAppId: rt.cfg.WECHAT_APP_ID,
  official: (appId) => (wechatApp(rt.cfg, appId)?.kind === 'official' ? rt.wechat(appId) : undefined),
  wecom: rt.cfg.WECOM_CORP_ID !== undefined && rt.cfg.WECOM_CONTACT_SECRET !== undefined ? wecomContactApi(rt.cfg) : undefined,
});

export const handler = routes(
  { name: 'admin', admin: true },
  {
    'GET /members/{id}': async (event, rt) => json(200, await memberProfile(rt.store, id(event))),
    'GET /members/{id}/export': async (event, rt) => json(200, await adminExport(id(event), query(event).reason, adminSubject(event), privacyDeps(rt)), { 'cache-control': 'no-store' }),
    'POST /members/{id}/erase': async (event, rt) => json(202, await adminErase(id(event), jsonBody(event, 2048), adminSubject(event), privacyDeps(rt))),
    'POST /channels': async (event, rt) => json(201, await createChannel(rt.store, rt.wechat(), jsonBody(event), rt.now(), channelAccounts(rt))),
    'GET /channels': async (_event, rt) => json(200, { channels: await listChannels(rt.store) }),
    'POST /codes/batches': async (event, rt) => json(201, await createBatch(rt.store, jsonBody(event), rt.now())),
    'POST /codes/batches/{id}/status': async (event, rt) => {
      const body = jsonBody(event) as { active?: unknown };
      if (typeof body?.active !== 'boolean') throw new BadRequestError('body must be {"active": true|false}');
      return json(200, await setBatchActive(rt.store, id(event), body.active));
    },
    'GET /codes/batches/{id}/codes.csv': codesCsvPage,
    'POST /rewards': async (event, rt) => json(201, await createReward(loyalty(rt), jsonBody(event))),
    'GET /rewards': async (_event, rt) => json(200, { rewards: await listRewards(loyalty(rt)) }),
    'POST /redemptions/{id}/reverse': async (event, rt) => json(200, await reverseRedemption({ ...loyalty(rt), cfg: rt.cfg }, id(event))),
    'POST /coupons/{code}/redeem': async (event, rt) => json(200, await redeemAtTill(loyalty(rt), event.pathParameters?.code ?? '', jsonBody(event))),
  },
  async () => {
    throw new NotFoundError('no such admin route');
  },
);
