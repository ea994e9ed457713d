/**
 * POST /codes/scan: the OAuth code gives the caller (identifyCaller: a snapshot-page virtual
 * user → 403 `snapshot_user`); a caller or source IP with HUB_SCAN_INVALID_LIMIT invalid
 * attempts today is answered `limited` (the refusal recorded for review); then the code is
 * checked by its signature (no database read for a forged or mistyped code) and its batch; an
 * invalid one counts against both the openid and the IP; a valid one is applied as `code.scan`.
 */
import * as z from 'zod';
import { BatchGetCommand, QueryCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { BadRequestError } from '../errors.ts';
import { Tx } from '../store/tx.ts';
import { newId } from '../ids.ts';
import { localDay } from '../time.ts';
import type { HubConfig } from '../config/index.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { codecFromSecret, type Codec } from './codec.ts';
import { apply, defaultDeps, type ApplyDeps } from '../apply/index.ts';
import { identifyCaller, issues, type Caller } from '../members/caller.ts';
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

const INVALID_TTL_SECONDS = 3 * 86_400;

/** The subjects invalid attempts are counted for: the WeChat user and the source address. */
function invalidSubjects(caller: Caller, sourceIp: string): string[] {
  return [`wechat#${caller.appId}:${caller.openid}`, `ip#${sourceIp.slice(0, 64)}`];
}

async function invalidCounts(deps: ApplyDeps, subjects: string[], day: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const res: BatchGetCommandOutput = await deps.db.send(
    new BatchGetCommand({ RequestItems: { [deps.table]: { Keys: subjects.map((s) => keys.scanInvalid(s, day)), ConsistentRead: true } } }),
  );
  for (const item of res.Responses?.[deps.table] ?? []) out.set(String(item.pk).slice('SCANBAD#'.length), Number(item.n ?? 0));
  return out;
}

export async function scan(body: unknown, deps: { cfg: HubConfig; api: WechatApi; requestId: string; sourceIp: string; apply?: ApplyDeps }) {
  const parsed = ScanRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid scan request', issues(parsed.error));
  const req = parsed.data;
  const caller = await identifyCaller(req, deps);
  const applyDeps = deps.apply ?? defaultDeps();
  const now = applyDeps.now();
  const day = localDay(now, deps.cfg.HUB_TIMEZONE);
  const subjects = invalidSubjects(caller, deps.sourceIp);
  const counts = await invalidCounts(applyDeps, subjects, day);
  const over = subjects.find((s) => (counts.get(s) ?? 0) >= deps.cfg.HUB_SCAN_INVALID_LIMIT);
  if (over) {
    const tx = new Tx(applyDeps.table).create('refusal', keys.refusal(day, now, newId(now)), {
      kind: 'scan',
      reason: 'invalid_attempts',
      subject: over,
      openid: `${caller.appId}:${caller.openid}`,
      code: req.code,
      at: now,
      expiresAt: Math.floor(now / 1000) + 180 * 86_400,
    });
    await tx.commit(applyDeps.db);
    return { result: 'limited' as const, reason: 'invalid_attempts' };
  }
  const verified = hubCodec(deps.cfg).verify(req.code);
  const batch = verified.ok ? await batchOfSerial(applyDeps, verified.serial) : undefined;
  if (!verified.ok || !batch) {
    const tx = new Tx(applyDeps.table);
    for (const s of subjects) tx.add(keys.scanInvalid(s, day), { n: 1 }, { expiresAt: Math.floor(now / 1000) + INVALID_TTL_SECONDS });
    await tx.commit(applyDeps.db);
    return { result: 'invalid' as const };
  }
  const out = await apply(
    {
      type: 'code.scan',
      source: 'codes',
      eventId: `codes:scan:${verified.canonical}:${caller.appId}:${caller.openid}:${deps.requestId}`,
      occurredAt: now,
      appId: caller.appId,
      openid: caller.openid,
      code: verified.canonical,
      batchId: batch.batchId,
      serial: verified.serial,
    },
    applyDeps,
  );
  return out.result as { result: string };
}
