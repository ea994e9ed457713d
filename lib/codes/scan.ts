/**
 * POST /codes/scan: the code is checked by its signature first (no database read, no WeChat
 * call for a forged or mistyped code), then the OAuth code gives the openid, then `code.scan`
 * is applied and its result returned.
 */
import * as z from 'zod';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadRequestError } from '../errors.ts';
import type { HubConfig } from '../config/index.ts';
import type { WechatApi } from '../wechat/api.ts';
import { codecFromSecret, type Codec } from './codec.ts';
import { apply, defaultDeps, type ApplyDeps } from '../apply/index.ts';
import { openidFromOauth } from '../members/register.ts';
import { GSI1, keys, pad } from '../store/keys.ts';
import type { BatchItem } from '../apply/code-scan.ts';

export const ScanRequest = z.strictObject({
  appId: z.string().min(1).max(64),
  oauthCode: z.string().min(1).max(512),
  code: z.string().min(1).max(128),
});

let codec: { secret: string; codec: Codec } | undefined;
export function hubCodec(cfg: HubConfig): Codec {
  if (codec?.secret !== cfg.CODE_SIGNING_SECRET) codec = { secret: cfg.CODE_SIGNING_SECRET, codec: codecFromSecret(cfg.CODE_SIGNING_SECRET) };
  return codec.codec;
}

/** The batch a serial belongs to: one bounded Query on the batch index. */
export async function batchOfSerial(deps: ApplyDeps, serial: number): Promise<BatchItem | undefined> {
  const res = await deps.db.send(
    new QueryCommand({
      TableName: deps.table,
      IndexName: GSI1,
      KeyConditionExpression: 'gsi1pk = :p AND gsi1sk <= :s',
      ExpressionAttributeValues: { ':p': keys.batchSerialIndex(0).gsi1pk, ':s': pad(serial) },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const b = res.Items?.[0] as BatchItem | undefined;
  return b && serial < b.firstSerial + b.count ? b : undefined;
}

export async function scan(body: unknown, deps: { cfg: HubConfig; api: WechatApi; requestId: string; apply?: ApplyDeps }) {
  const parsed = ScanRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid scan request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const req = parsed.data;
  if (req.appId !== deps.cfg.WECHAT_APP_ID) throw new BadRequestError(`unknown appId ${req.appId}`, undefined, 'unknown_app');
  const verified = hubCodec(deps.cfg).verify(req.code);
  if (!verified.ok) return { result: 'invalid' as const };
  const applyDeps = deps.apply ?? defaultDeps();
  const batch = await batchOfSerial(applyDeps, verified.serial);
  if (!batch) return { result: 'invalid' as const };
  const openid = await openidFromOauth(deps.api, req.oauthCode);
  const out = await apply(
    {
      type: 'code.scan',
      source: 'codes',
      eventId: `codes:scan:${verified.canonical}:${req.appId}:${openid}:${deps.requestId}`,
      occurredAt: Date.now(),
      appId: req.appId,
      openid,
      code: verified.canonical,
      batchId: batch.batchId,
      serial: verified.serial,
    },
    applyDeps,
  );
  return out.result as { result: string };
}
