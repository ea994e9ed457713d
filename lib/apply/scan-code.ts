/**
 * POST /codes/scan: the OAuth code gives the caller (identifyCaller: a snapshot-page virtual
 * user → 403 `snapshot_user`); a caller or source IP with HUB_SCAN_INVALID_LIMIT invalid
 * attempts today is answered `limited` (the refusal recorded for review); then the code is
 * checked by its signature (no database read for a forged or mistyped code) and its batch; an
 * invalid one counts against both the openid and the IP; a valid one is applied as `code.scan`
 * (its batch found by one bounded Query on the batch index). Every answered scan counts in the
 * CodeScans metric by its result (applyDeps.metrics).
 */
import * as z from 'zod';
import { BadRequestError } from '../errors.ts';
import { Tx } from '../store/tx.ts';
import { newId } from '../ids.ts';
import { localDay } from '../time.ts';
import type { HubConfig } from '../config/index.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { codecFor } from '../codes/codec.ts';
import { applyWith } from './apply-with.ts';
import { CODE_SCAN_PLANNERS } from './planners/code-scan.ts';
import type { ApplyDeps } from '../port.ts';
import { identifyCaller, issues, type Caller } from '../members/caller.ts';
import { batches } from '../store/entities/batch.ts';
import { invalidScanSubject, invalidScans } from '../store/entities/scan-limit.ts';
import { refusals } from '../store/entities/refusal.ts';

export const ScanRequest = z.strictObject({
  appId: z.string().min(1).max(64),
  oauthCode: z.string().min(1).max(512),
  code: z.string().min(1).max(128),
});

const INVALID_TTL_SECONDS = 3 * 86_400;

/** The subjects invalid attempts are counted for: the WeChat user and the source address. */
function invalidSubjects(caller: Caller, sourceIp: string): string[] {
  return [invalidScanSubject.wechat(caller.appId, caller.openid), invalidScanSubject.ip(sourceIp.slice(0, 64))];
}

export async function scan(body: unknown, deps: { cfg: HubConfig; api: WechatApi; requestId: string; sourceIp: string; apply: ApplyDeps }) {
  const parsed = ScanRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid scan request', issues(parsed.error));
  const req = parsed.data;
  const caller = await identifyCaller(req, deps);
  const applyDeps = deps.apply;
  const now = applyDeps.now();
  const day = localDay(now, deps.cfg.HUB_TIMEZONE);
  const subjects = invalidSubjects(caller, deps.sourceIp);
  const counts = await invalidScans.counts(applyDeps, subjects, day);
  const over = subjects.find((s) => (counts.get(s) ?? 0) >= deps.cfg.HUB_SCAN_INVALID_LIMIT);
  if (over) {
    const tx = new Tx(applyDeps.table);
    refusals.record(tx, day, newId(now), { kind: 'scan', reason: 'invalid_attempts', subject: over, openid: `${caller.appId}:${caller.openid}`, code: req.code, at: now }, now, deps.cfg.HUB_REFUSAL_RETENTION_DAYS);
    await tx.commit(applyDeps.db);
    applyDeps.metrics?.add('CodeScans', { result: 'limited' });
    return { result: 'limited' as const, reason: 'invalid_attempts' };
  }
  const verified = codecFor(deps.cfg).verify(req.code);
  const batch = verified.ok ? await batches.ofSerial(applyDeps, verified.serial) : undefined;
  if (!verified.ok || !batch) {
    const tx = new Tx(applyDeps.table);
    invalidScans.count(tx, subjects, day, Math.floor(now / 1000) + INVALID_TTL_SECONDS);
    await tx.commit(applyDeps.db);
    applyDeps.metrics?.add('CodeScans', { result: 'invalid' });
    return { result: 'invalid' as const };
  }
  const out = await applyWith(
    CODE_SCAN_PLANNERS,
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
  const result = out.result as { result: string };
  applyDeps.metrics?.add('CodeScans', { result: result.result });
  return result;
}
