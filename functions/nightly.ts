/**
 * Scheduled nightly: the member review (lib/members/nightly.ts) — tier downgrades, lifecycle
 * stages and RFM scores for the members due today, found through the review index.
 */
import { runNightly } from '../lib/members/nightly.ts';
import { logger } from '../lib/log.ts';
import { schedule } from '../lib/runtime/lambda.ts';

export const handler = schedule({ name: 'nightly' }, async (rt, ctx) => {
  const out = await runNightly({ db: rt.db, table: rt.table, cfg: rt.cfg, now: rt.now }, ctx.remainingMs ? { remainingMs: ctx.remainingMs } : {});
  logger.info('nightly member review', { ...out });
  return out;
});
