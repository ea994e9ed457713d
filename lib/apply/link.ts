/**
 * The last step of every lookup made after a platform's reply (a WeChat or WeCom unionid, a
 * Tmall trade's ouid: lib/apply/unionid.ts, lib/apply/tmall-detail.ts): apply the link as its own
 * idempotent event. Two records that cannot be one person (ConflictError) are left apart and
 * logged; anything else propagates (the queue retries it).
 */
import { ConflictError } from '../errors.ts';
import type { HubEvent } from '../events/hub-event.ts';
import { logger } from '../log.ts';
import type { ApplyDeps } from '../port.ts';
import { apply } from './apply.ts';

export type LinkOutcome = { status: 'linked'; memberId?: string; duplicate: boolean } | { status: 'conflict' };

export async function applyLink(event: HubEvent, deps: ApplyDeps, conflictLog: { message: string; fields: Record<string, string> }): Promise<LinkOutcome> {
  try {
    const r = await apply(event, deps);
    return { status: 'linked', ...(r.memberId ? { memberId: r.memberId } : {}), duplicate: r.status === 'duplicate' };
  } catch (err) {
    if (err instanceof ConflictError) {
      logger.warn(conflictLog.message, { ...conflictLog.fields, code: err.code });
      return { status: 'conflict' };
    }
    throw err;
  }
}
