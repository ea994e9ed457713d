/** Scheduled: enqueues outbox rows left pending after a commit (SQS failed, the process died). */
import { sweepOutbox } from '../lib/engagement/outbox.ts';
import { defaultDeps } from '../lib/apply/apply.ts';
import { logger } from '../lib/log.ts';
import { coldStart } from '../lib/config/secrets.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = async () => {
  const out = await sweepOutbox(defaultDeps());
  if (out.drained || out.failed) logger.info('outbox sweep', out);
  return out;
};
