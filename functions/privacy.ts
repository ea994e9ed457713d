/**
 * Scheduled privacy work (docs/privacy.md#erasure): runs the erasures that are not done yet
 * (lib/privacy/erase.ts), oldest request first, each resumed where its last run stopped, while
 * the invocation has time left. Locally `POST /_local/run/privacy` runs it now.
 */
import { runErasures } from '../lib/privacy/erase.ts';
import { logger } from '../lib/log.ts';
import { schedule } from '../lib/runtime/lambda.ts';

export const handler = schedule({ name: 'privacy' }, async (rt, ctx) => {
  const out = await runErasures({ store: rt.store, cfg: rt.cfg, now: rt.now, archive: rt.archive, ...(ctx.remainingMs ? { remainingMs: ctx.remainingMs } : {}) });
  if (out.running) logger.info('erasures run', { ...out });
  return out;
});
