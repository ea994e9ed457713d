/** Scheduled: enqueues outbox rows left pending after a commit (SQS failed, the process died). */
import { sweepOutbox } from '../lib/engagement/outbox.ts';
import { logger } from '../lib/log.ts';
import { schedule } from '../lib/runtime/lambda.ts';

export const handler = schedule({ name: 'outbox-sweep' }, async (rt) => {
  const out = await sweepOutbox(rt);
  if (out.drained || out.failed) logger.info('outbox sweep', out);
  return out;
});
